// The server's TCP framing, pipelining and idle timeout, and the per-namespace lifecycle.
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Forwarder } from '../../src/dns/forward/forwarder.js';
import { NamespaceResolvers } from '../../src/dns/namespace-resolvers.js';
import { RecordStore, type DnsView } from '../../src/dns/records/record-store.js';
import { DnsServer } from '../../src/dns/server/dns-server.js';
import { decodeMessage } from '../../src/dns/wire/decode.js';
import { query } from './dns-helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('dns server over TCP', () => {
  it('answers pipelined queries split across segments, and closes idle connections', async () => {
    const store = new RecordStore();
    store.upsertEndpoint({ id: 'e', network: 'n', name: 'web', ipv4: '10.0.0.7' });
    const server = new DnsServer({ tcpIdleMs: 300 });
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const served = server.serveTcp(srv, store.view(['n']));
    cleanups.push(() => void served.close());
    const c = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    const frames = [1, 2, 3].map((id) => {
      const q = query('web', 1, { id });
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length, 0);
      return Buffer.concat([len, q]);
    });
    const all = Buffer.concat(frames);
    let got = Buffer.alloc(0);
    c.on('data', (d) => (got = Buffer.concat([got, d])));
    const closed = new Promise<number>((r) => c.on('close', () => r(Date.now())));
    await new Promise<void>((r) => c.on('connect', () => r()));
    c.write(all.subarray(0, 5));
    await new Promise((r) => setTimeout(r, 20));
    c.write(all.subarray(5));
    const t0 = Date.now();
    const closedAt = await closed;
    const ids: number[] = [];
    for (let p = 0; p < got.length; p += 2 + got.readUInt16BE(p)) {
      const m = decodeMessage(got.subarray(p + 2, p + 2 + got.readUInt16BE(p)));
      expect(m.answer[0]?.data).toBe('10.0.0.7');
      ids.push(m.id);
    }
    expect(ids).toEqual([1, 2, 3]);
    expect(closedAt - t0).toBeGreaterThanOrEqual(250); // the idle timeout, not at once
  });
});

describe('namespace resolvers', () => {
  it('serves a namespace once, follows its networks, and releases everything on detach', async () => {
    const store = new RecordStore();
    store.upsertEndpoint({ id: 'a', network: 'front', name: 'web', ipv4: '10.0.0.7' });
    store.upsertEndpoint({ id: 'b', network: 'back', name: 'db', ipv4: '10.0.1.7' });
    const server = new DnsServer({});
    const sockets = new Map<string, dgram.Socket>();
    let listens = 0;
    // Loopback sockets stand in for the addon's in-namespace ones.
    const listen = async (srv: DnsServer, nsPath: string, view: DnsView) => {
      listens++;
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      sockets.set(nsPath, s);
      return srv.serveUdp(s, view);
    };
    const resolvers = new NamespaceResolvers(server, store, listen);
    cleanups.push(() => void resolvers.closeAll());
    const askUdp = async (nsPath: string, name: string): Promise<number> => {
      const c = dgram.createSocket('udp4');
      const got = new Promise<Buffer>((r) => c.on('message', r));
      c.send(query(name, 1), sockets.get(nsPath)!.address().port, '127.0.0.1');
      const m = decodeMessage(await got);
      c.close();
      return m.rcode;
    };
    await resolvers.attach('/run/netns/x', ['front']);
    expect(await askUdp('/run/netns/x', 'db')).toBe(3);
    await resolvers.attach('/run/netns/x', ['front', 'back']); // a second endpoint, on back
    expect(listens).toBe(1);
    expect(await askUdp('/run/netns/x', 'db')).toBe(0);
    expect(resolvers.list()).toEqual([{ nsPath: '/run/netns/x', networks: ['back', 'front'] }]);
    expect(await resolvers.detach('/run/netns/x')).toBe(true);
    expect(store.stats().sharedViews).toBe(0);
    expect(await resolvers.detach('/run/netns/x')).toBe(false);
  });

  it('a failed listen leaves nothing behind', async () => {
    const store = new RecordStore();
    const resolvers = new NamespaceResolvers(new DnsServer({}), store, () => Promise.reject(new Error('EADDRINUSE')));
    await expect(resolvers.attach('/run/netns/y', ['front'])).rejects.toThrow('EADDRINUSE');
    expect([resolvers.list(), store.stats().sharedViews]).toEqual([[], 0]);
  });
});

describe('dns server lifecycle', () => {
  it('a forwarded answer arriving after the namespace was detached is dropped quietly', async () => {
    const upstream = dgram.createSocket('udp4');
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
    cleanups.push(() => upstream.close());
    let answerLater: (() => void) | undefined;
    upstream.on('message', (m, r) => {
      const a = Buffer.from(m);
      a[2]! |= 0x80;
      answerLater = () => upstream.send(a, r.port, r.address);
    });
    const forwarder = new Forwarder({ upstreams: [{ address: '127.0.0.1', port: upstream.address().port, family: 4 }], attemptTimeoutMs: 2000 });
    cleanups.push(() => forwarder.close());
    const server = new DnsServer({ forwarder });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const served = server.serveUdp(sock, new RecordStore().view(['n']));
    const client = dgram.createSocket('udp4');
    cleanups.push(() => client.close());
    client.send(query('elsewhere.test', 1), sock.address().port, '127.0.0.1');
    await waitUntil(() => answerLater !== undefined);
    await served.close();
    answerLater!();
    await waitUntil(() => forwarder.stats.answered === 1);
    expect(server.stats.errors).toBe(1); // counted, not thrown
  });
});

async function waitUntil(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('dns server handler chain', () => {
  it('runs extra handlers before the records, over UDP too', () => {
    const store = new RecordStore();
    store.upsertEndpoint({ id: 'e', network: 'n', name: 'web', ipv4: '10.0.0.7' });
    const seen: string[] = [];
    const server = new DnsServer({ handlers: [{ name: 'log', handle: (req) => (seen.push(req.query.nameKey), false) }] });
    let out: Buffer | undefined;
    server.handle(query('web', 1), store.view(['n']), 'udp', (b) => (out = b));
    expect(seen).toEqual(['\x03web\x00']);
    expect(decodeMessage(out!).answer[0]?.data).toBe('10.0.0.7');
  });
});

describe('dns server observer', () => {
  it('hears every UDP reply with its rcode and a latency: cached owned names and a name nobody answers', async () => {
    const store = new RecordStore();
    store.upsertEndpoint({ id: 'e', network: 'n', name: 'web', ipv4: '10.0.0.7' });
    const heard: [number, number][] = [];
    const server = new DnsServer({ observer: { answered: (rcode, seconds) => heard.push([rcode, seconds]) } });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const served = server.serveUdp(sock, store.view(['n']));
    cleanups.push(() => void served.close());
    const client = dgram.createSocket('udp4');
    cleanups.push(() => client.close());
    const ask = (q: Buffer) => new Promise<Buffer>((resolve) => {
      client.once('message', (m) => resolve(m));
      client.send(q, (sock.address()).port, '127.0.0.1');
    });
    const rcodes = [];
    for (const q of [query('web', 1, { id: 1 }), query('web.n', 1, { id: 2 }), query('nosuch', 1, { id: 3 })]) rcodes.push((await ask(q))[3]! & 0xf);
    expect(heard.map(([r]) => r)).toEqual(rcodes);
    expect(rcodes[0]).toBe(0);
    expect(rcodes[2]).not.toBe(0); // not owned, no upstream: an error rcode
    for (const [, s] of heard) expect(s).toBeGreaterThanOrEqual(0);
    expect(heard.every(([, s]) => s < 1)).toBe(true);
  });
});
