// Fuzz: 10^5 (10^6: npm run bench:memberlist-fuzz) random and mutated packets and streams (plain and encrypted) fed into a live
// node's packet and stream handlers. Nothing may crash and membership (names, states,
// incarnations) must stay identical on every node. A small sample also goes over real
// loopback sockets.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemberlist,
  defaultLanConfig,
  Keyring,
  MemNetwork,
  type Memberlist,
  type StreamConn,
} from '../../src/gossip/memberlist/index.js';
import {
  encodeAck,
  encodeAlive,
  encodeCompound,
  encodeCompress,
  encodeDead,
  encodeErr,
  encodeIndirectPing,
  encodeNack,
  encodePing,
  encodePushPull,
  encodeStreamUserMsg,
  encodeSuspect,
  encodeUdpUserMsg,
} from '../../src/gossip/memberlist/messages.js';
import { lzwCompress } from '../../src/gossip/memberlist/lzw.js';
import { encryptPayload } from '../../src/gossip/memberlist/security.js';
import { crc32 } from '../../src/util/crc32.js';
import { addLabelHeader } from '../../src/gossip/memberlist/label.js';
import { TestDelegate, waitFor } from '../interop/helpers/mem-cluster.js';

const KEY = Buffer.alloc(16, 9);

/** Deterministic PRNG so a failure can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function snapshot(nodes: Memberlist[]): string {
  return JSON.stringify(
    nodes.map((m) =>
      m
        .allNodes()
        .map((n) => `${n.name}/${n.state}/${n.incarnation}`)
        .sort(),
    ),
  );
}

/** Always changes the input (so an authenticated blob never stays valid). */
function mutate(buf: Buffer, rnd: () => number): Buffer {
  const out = Buffer.from(buf);
  const kind = Math.floor(rnd() * 4);
  if (kind === 0 || out.length < 2) {
    const flips = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < flips; i++) {
      const at = Math.floor(rnd() * out.length);
      out[at] = out[at]! ^ (1 + Math.floor(rnd() * 255));
    }
    return out;
  }
  if (kind === 1) return out.subarray(0, Math.floor(rnd() * out.length)); // truncate
  if (kind === 2) {
    const at = Math.floor(rnd() * out.length);
    return Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]); // delete a byte
  }
  // insert inside (not after: trailing bytes after a complete stream message are ignored, as in Go).
  // The inserted byte differs from the one it displaces: otherwise inserting a copy of the last byte
  // leaves the authenticated prefix whole (an encrypted stream then still decrypts; seen in CI).
  const at = Math.floor(rnd() * out.length);
  const x = (out[at]! + 1 + Math.floor(rnd() * 255)) & 0xff;
  return Buffer.concat([out.subarray(0, at), Buffer.of(x), out.subarray(at)]);
}

function randomBytes(rnd: () => number, max: number): Buffer {
  const len = Math.floor(rnd() * max);
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** A stream that yields `data` in random chunks, then ends; writes are discarded. */
function fakeStream(data: Buffer, rnd: () => number): StreamConn {
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < data.length; ) {
    const n = 1 + Math.floor(rnd() * 64);
    chunks.push(data.subarray(pos, pos + n));
    pos += n;
  }
  return {
    remoteAddr: '127.9.9.9:7946',
    read: () => Promise.resolve(chunks.shift() ?? null),
    write: () => Promise.resolve(),
    close: () => undefined,
  };
}

function encStream(plain: Buffer): Buffer {
  const vsn = 1;
  const header = Buffer.alloc(5);
  header[0] = 10;
  header.writeUInt32BE(29 + plain.length, 1);
  return Buffer.concat([header, encryptPayload(vsn, KEY, plain, header)]);
}

const ip = (i: number): Buffer => Buffer.from([127, 0, 0, i]);
const vsn = Buffer.from([1, 5, 2, 0, 0, 0]);

/** Messages that cannot change membership even if they decode (plain node corpus). */
function harmlessUdp(target: string): Buffer[] {
  const ping = encodePing({ seqNo: 7, node: target, sourceAddr: ip(99), sourcePort: 7946, sourceNode: 'fz' });
  const ack = encodeAck({ seqNo: 123456, payload: Buffer.from('pp') });
  const withCrc = Buffer.concat([Buffer.of(12, 0, 0, 0, 0), ping]);
  withCrc.writeUInt32BE(crc32(ping), 1);
  const stateMsgs = [
    encodeAlive({ incarnation: 50, node: 'newcomer', addr: ip(50), port: 7946, meta: null, vsn }),
    encodeSuspect({ incarnation: 50, node: 'n1', from: 'fz' }),
    encodeDead({ incarnation: 50, node: 'n2', from: 'fz' }),
  ];
  return [
    ping,
    ack,
    withCrc,
    encodeNack({ seqNo: 42 }),
    encodeIndirectPing({ seqNo: 9, target: ip(77), port: 7946, node: 'ghost', nack: true, sourceAddr: ip(99), sourcePort: 7946, sourceNode: 'fz' }),
    encodeUdpUserMsg(Buffer.from('hello user message')),
    encodeErr({ error: 'nope' }),
    encodeCompound([ping, ack, encodeUdpUserMsg(Buffer.from('hi'))]),
    encodeCompress({ algo: 0, buf: lzwCompress(ping) }),
    addLabelHeader(ping, 'lbl'),
    // state-changing messages cut in half: one mutation cannot make them whole again
    ...stateMsgs.map((m) => m.subarray(0, m.length >> 1)),
  ];
}

/** Everything, including messages that WOULD change membership, for the encrypted node. */
function allUdp(target: string): Buffer[] {
  return [
    ...harmlessUdp(target),
    encodeAlive({ incarnation: 50, node: 'newcomer', addr: ip(50), port: 7946, meta: null, vsn }),
    encodeSuspect({ incarnation: 50, node: 'n1', from: 'fz' }),
    encodeDead({ incarnation: 50, node: 'n2', from: 'fz' }),
    encodeCompound([encodeDead({ incarnation: 50, node: 'n1', from: 'n1' }), encodeAlive({ incarnation: 60, node: 'n2', addr: ip(3), port: 7946, meta: Buffer.from('x'), vsn })]),
  ];
}

function streams(target: string): Buffer[] {
  const nodes = [{ name: 'intruder', addr: ip(66), port: 7946, meta: null, incarnation: 9, state: 0, vsn }];
  const pp = encodePushPull(nodes, Buffer.from('user-state'), true);
  return [
    encodeStreamUserMsg(Buffer.from('stream user message')),
    encodePing({ seqNo: 1, node: target, sourceAddr: null, sourcePort: 0, sourceNode: '' }),
    encodeCompress({ algo: 0, buf: lzwCompress(pp) }),
    pp,
  ];
}

async function fuzzCluster(keyring: Keyring | null): Promise<{ nodes: Memberlist[]; net: MemNetwork }> {
  const net = new MemNetwork();
  const nodes: Memberlist[] = [];
  for (let i = 1; i <= 3; i++) {
    let ml: Memberlist | null = null;
    const d = new TestDelegate(() => ml?.numMembers() ?? 1, `n${i - 1}`);
    ml = await createMemberlist(defaultLanConfig({ name: `n${i - 1}`, bindAddr: `127.0.0.${i}`, bindPort: 7946, keyring }), {
      transport: net.transport(),
      delegate: d,
    });
    nodes.push(ml);
  }
  for (const n of nodes.slice(1)) await n.join(['127.0.0.1:7946']);
  await waitFor(() => nodes.every((n) => n.numMembers() === 3), 5000, 'fuzz cluster');
  return { nodes, net };
}

const cleanup: Memberlist[] = [];
afterEach(async () => {
  for (const n of cleanup.splice(0)) await n.shutdown();
});

describe('memberlist fuzz', () => {
  it('10^5 random and mutated packets/streams change nothing and crash nothing', async () => {
    const rnd = mulberry32(0xc0ffee);
    const plain = await fuzzCluster(null);
    const enc = await fuzzCluster(new Keyring(KEY));
    cleanup.push(...plain.nodes, ...enc.nodes);
    const before = { plain: snapshot(plain.nodes), enc: snapshot(enc.nodes) };
    const plainTarget = plain.nodes[0]!;
    const encTarget = enc.nodes[0]!;

    const harmless = harmlessUdp('n0');
    const everything = allUdp('n0');
    const encrypted = everything.map((m) => encryptPayload(1, KEY, m, Buffer.alloc(0)));
    const plainStreams = streams('n0');
    const encStreams = plainStreams.map(encStream);

    const UDP_TOTAL = 90_000;
    const TCP_TOTAL = 10_000;
    let fed = 0;
    const pick = <T>(arr: T[]): T => arr[Math.floor(rnd() * arr.length)]!;
    for (let i = 0; i < UDP_TOTAL; i++) {
      const mode = i % 4;
      if (mode === 0) plainTarget.ingestPacket(randomBytes(rnd, 200), '127.9.9.9:7946');
      else if (mode === 1) plainTarget.ingestPacket(mutate(pick(harmless), rnd), '127.9.9.9:7946');
      else if (mode === 2) encTarget.ingestPacket(randomBytes(rnd, 200), '127.9.9.9:7946');
      else encTarget.ingestPacket(mutate(pick(encrypted), rnd), '127.9.9.9:7946');
      fed++;
      // let timers and replies run so the live cluster keeps its normal rhythm
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < TCP_TOTAL; i++) {
      const mode = i % 4;
      let data: Buffer;
      let target: Memberlist;
      if (mode === 0) [data, target] = [randomBytes(rnd, 300), plainTarget];
      else if (mode === 1) {
        // plain streams are only truncated: a mutated push/pull could be a valid one
        const s = pick(plainStreams);
        [data, target] = [s.subarray(0, Math.floor(rnd() * s.length)), plainTarget];
      } else if (mode === 2) [data, target] = [randomBytes(rnd, 300), encTarget];
      else [data, target] = [mutate(pick(encStreams), rnd), encTarget];
      pending.push(target.ingestStream(fakeStream(data, rnd)));
      fed++;
      if (pending.length >= 500) {
        await Promise.all(pending.splice(0));
        // promise-only work never yields to timers; let probes and acks run
        await new Promise((r) => setImmediate(r));
      }
    }
    await Promise.all(pending);
    expect(fed).toBe(100_000);

    await new Promise((r) => setTimeout(r, 300));
    expect(snapshot(plain.nodes)).toBe(before.plain);
    expect(snapshot(enc.nodes)).toBe(before.enc);
    // and the rejects were counted, not silently swallowed
    expect(plainTarget.stats.rejected).toBeGreaterThan(10_000);
    expect(encTarget.stats.rejected).toBeGreaterThan(10_000);
    // the nodes still work: a fresh encrypted node can join the fuzzed one
    const late = await createMemberlist(defaultLanConfig({ name: 'late', bindAddr: '127.0.0.9', bindPort: 7946, keyring: new Keyring(KEY) }), {
      transport: enc.net.transport(),
    });
    cleanup.push(late);
    expect(await late.join(['127.0.0.1:7946'])).toBe(1);
  }, 120_000);

  it('a small sample over real loopback sockets is rejected the same way', async () => {
    const rnd = mulberry32(7);
    const key = new Keyring(KEY);
    const basePort = 40000 + Math.floor(Math.random() * 10000);
    const a = await createMemberlist(defaultLanConfig({ name: 'sa', bindAddr: '127.0.0.1', bindPort: basePort, keyring: key }));
    const b = await createMemberlist(defaultLanConfig({ name: 'sb', bindAddr: '127.0.0.1', bindPort: basePort + 1, keyring: key }));
    cleanup.push(a, b);
    await b.join([`127.0.0.1:${basePort}`]);
    await waitFor(() => a.numMembers() === 2, 3000, 'socket pair');
    const before = snapshot([a, b]);
    const encrypted = allUdp('sa').map((m) => encryptPayload(1, KEY, m, Buffer.alloc(0)));
    const sock = createSocket('udp4');
    for (let i = 0; i < 2000; i++) {
      const pkt = i % 2 === 0 ? randomBytes(rnd, 200) : mutate(encrypted[i % encrypted.length]!, rnd);
      sock.send(pkt, basePort, '127.0.0.1');
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 2)); // stay under the socket buffer
    }
    const encStreams = streams('sa').map(encStream);
    for (let i = 0; i < 40; i++) {
      const data = i % 2 === 0 ? randomBytes(rnd, 300) : mutate(encStreams[i % encStreams.length]!, rnd);
      await new Promise<void>((resolve) => {
        const c = connect(basePort, '127.0.0.1', () => c.end(data));
        c.on('error', () => resolve());
        c.on('close', () => resolve());
        c.resume();
      });
    }
    await new Promise<void>((r) => sock.close(() => r()));
    await waitFor(() => a.stats.rejected >= 1500, 5000, `rejects counted (have ${a.stats.rejected})`);
    expect(snapshot([a, b])).toBe(before);
  });
});
