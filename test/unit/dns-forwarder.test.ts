// The forwarder against fake upstreams on loopback, and resolv.conf handling.
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Forwarder } from '../../src/dns/forward/forwarder.js';
import { parseResolvConf, parseUpstream } from '../../src/dns/forward/upstreams.js';
import { writeResolvConf } from '../../src/dns/resolv-conf.js';
import { decodeMessage } from '../../src/dns/wire/decode.js';
import { QueryParser, type Query } from '../../src/dns/wire/query.js';
import { query } from './dns-helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A reply to `q` with `count` A records of 203.0.113.N (and TC when asked). */
function reply(q: Buffer, count: number, tc = false): Buffer {
  const qEnd = 12 + q.subarray(12).indexOf(0) + 5;
  const head = Buffer.from(q.subarray(0, qEnd));
  head.writeUInt16BE(0x8180 | (tc ? 0x0200 : 0), 2);
  head.writeUInt16BE(tc ? 0 : count, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  if (tc) return head;
  const rrs = Array.from({ length: count }, (_, i) => Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 203, 0, 113, i + 1]));
  return Buffer.concat([head, ...rrs]);
}

type Behaviour = (msg: Buffer, send: (b: Buffer) => void, from: dgram.RemoteInfo) => void;

async function fakeUpstream(behaviour: Behaviour, tcpCount?: number): Promise<{ port: number; seen: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  const seen: Buffer[] = [];
  sock.on('message', (m, r) => {
    seen.push(m);
    behaviour(m, (b) => sock.send(b, r.port, r.address), r);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  cleanups.push(() => sock.close());
  if (tcpCount !== undefined) {
    const srv = net.createServer((c) => c.on('data', (d) => {
      const q = d.subarray(2, 2 + d.readUInt16BE(0));
      const a = reply(q, tcpCount);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(a.length, 0);
      c.end(Buffer.concat([len, a]));
    }));
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    cleanups.push(() => srv.close());
  }
  return { port, seen };
}

function parsed(name: string, opts: { id?: number; edns?: number } = {}): Query {
  const q = new QueryParser().parse(query(name, 1, opts));
  if (q.kind !== 'query') throw new Error('test query did not parse');
  return q;
}

function forwarder(ports: number[], opts: { attemptTimeoutMs?: number; maxInFlight?: number } = {}): Forwarder {
  const f = new Forwarder({ upstreams: ports.map((port) => ({ address: '127.0.0.1', port, family: 4 as const })), attemptTimeoutMs: 300, ...opts });
  cleanups.push(() => f.close());
  return f;
}

describe('dns forwarder', () => {
  it('forwards, and answers with the client\'s ID and letter case', async () => {
    const up = await fakeUpstream((m, send) => {
      const r = reply(m, 1);
      r.write('example', 13, 'latin1'); // an upstream that lowercases the question
      send(r);
    });
    const out = await forwarder([up.port]).forward(parsed('ExAmple.test', { id: 4242 }), 'udp');
    expect(up.seen[0]!.readUInt16BE(0)).not.toBe(4242); // a fresh ID upstream
    const m = decodeMessage(out!);
    expect([m.id, m.answer[0]?.data]).toEqual([4242, '203.0.113.1']);
    expect(out!.subarray(12, 25).toString('latin1')).toContain('ExAmple');
  });

  it('tries the next upstream after a timeout, and gives up (undefined -> SERVFAIL) when none answers', async () => {
    const silent = await fakeUpstream(() => undefined);
    const good = await fakeUpstream((m, send) => send(reply(m, 1)));
    const f = forwarder([silent.port, good.port]);
    expect(decodeMessage((await f.forward(parsed('a.test'), 'udp'))!).answer).toHaveLength(1);
    const t0 = Date.now();
    expect(await forwarder([silent.port, silent.port]).forward(parsed('b.test'), 'udp')).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('retries over TCP when the UDP answer is truncated, and truncates for a small UDP client', async () => {
    const up = await fakeUpstream((m, send) => send(reply(m, 0, true)), 40);
    const f = forwarder([up.port]);
    const tcp = await f.forward(parsed('big.test'), 'tcp');
    expect(decodeMessage(tcp!).answer).toHaveLength(40);
    expect(f.stats.tcpRetries).toBe(1);
    const udp = decodeMessage((await f.forward(parsed('big.test'), 'udp'))!); // 40 x 16 bytes > 512
    expect([udp.flags & 0x0200, udp.answer.length]).toEqual([0x0200, 0]);
    const edns = decodeMessage((await f.forward(parsed('big.test', { edns: 4096 }), 'udp'))!);
    expect(edns.answer).toHaveLength(40);
  });

  it('ignores answers from elsewhere or for another question', async () => {
    const spoofer = dgram.createSocket('udp4');
    await new Promise<void>((r) => spoofer.bind(0, '127.0.0.1', r));
    cleanups.push(() => spoofer.close());
    const up = await fakeUpstream((m, send, from) => {
      const fake = reply(m, 2);
      spoofer.send(fake, from.port, '127.0.0.1'); // right ID, wrong source port
      const other = reply(query('other.test', 1, { id: m.readUInt16BE(0) }), 3);
      send(other); // right source, wrong question
      setTimeout(() => send(reply(m, 1)), 20);
    });
    const f = forwarder([up.port]);
    expect(decodeMessage((await f.forward(parsed('real.test'), 'udp'))!).answer).toHaveLength(1);
  });

  it('caps the queries in flight', async () => {
    const silent = await fakeUpstream(() => undefined);
    const f = forwarder([silent.port], { maxInFlight: 2 });
    const first = [f.forward(parsed('a.test'), 'udp'), f.forward(parsed('b.test'), 'udp')];
    const t0 = Date.now();
    expect(await f.forward(parsed('c.test'), 'udp')).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(100);
    expect(f.stats.overCap).toBe(1);
    await Promise.all(first);
  });
});

describe('resolv.conf', () => {
  it('reads nameservers in order, with ports and IPv6, skipping 127.0.0.11 and comments', () => {
    const text = '# generated\nsearch example.test\nnameserver 127.0.0.11\nnameserver 203.0.113.53 # main\n; x\nnameserver fd00::53\nnameserver [fd00::54]:5353\noptions ndots:0\n';
    expect(parseResolvConf(text, '/etc/resolv.conf')).toEqual([
      { address: '203.0.113.53', port: 53, family: 4 }, { address: 'fd00::53', port: 53, family: 6 }, { address: 'fd00::54', port: 5353, family: 6 },
    ]);
    expect(parseUpstream('203.0.113.1:5300', '--dns')).toEqual({ address: '203.0.113.1', port: 5300, family: 4 });
    expect(() => parseResolvConf('nameserver 1.2.3\n', '/x/resolv.conf')).toThrow(/\/x\/resolv\.conf:1 nameserver: "1\.2\.3" is not an upstream/);
    expect(() => parseUpstream('203.0.113.1:0', '--dns')).toThrow(/--dns/);
  });

  it('writes the workload\'s resolv.conf pointing at 127.0.0.11 with ndots:0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vxmesh-dns-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await writeResolvConf(join(dir, 'resolv.conf'));
    const text = readFileSync(join(dir, 'resolv.conf'), 'utf8');
    expect(text).toMatch(/^nameserver 127\.0\.0\.11$/m);
    expect(text).toMatch(/^options ndots:0$/m);
  });
});
