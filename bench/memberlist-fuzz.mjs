// Memberlist fuzz at full size: 10^6 random and mutated packets and streams (plain and AES-GCM) fed into
// live nodes' packet and stream handlers (the built dist, on the in-memory transport). Nothing may crash,
// membership (names, states, incarnations) must stay identical on every node, every input must be counted
// as rejected or handled, and a fresh node must still be able to join afterwards.
// `npm test` runs the same fuzz with 10^5 inputs (test/unit/memberlist-fuzz.test.ts); this is the 10x run.
//
//   node bench/memberlist-fuzz.mjs [--inputs 1000000] [--seed 12648430]
// Needs `npx tsc -p tsconfig.json` first. Prints one JSON line; exits 1 when an invariant broke.
import { parseArgs } from 'node:util';
import { createMemberlist, defaultLanConfig, Keyring, MemNetwork } from '../dist/gossip/memberlist/index.js';
import {
  encodeAck, encodeAlive, encodeCompound, encodeCompress, encodeDead, encodeErr, encodeIndirectPing, encodeNack,
  encodePing, encodePushPull, encodeStreamUserMsg, encodeSuspect, encodeUdpUserMsg,
} from '../dist/gossip/memberlist/messages.js';
import { lzwCompress } from '../dist/gossip/memberlist/lzw.js';
import { encryptPayload } from '../dist/gossip/memberlist/security.js';
import { addLabelHeader } from '../dist/gossip/memberlist/label.js';
import { crc32 } from '../dist/util/crc32.js';

const { values } = parseArgs({ options: { inputs: { type: 'string', default: '1000000' }, seed: { type: 'string', default: String(0xc0ffee) } } });
const INPUTS = Number(values.inputs);
const SEED = Number(values.seed);
if (!Number.isInteger(INPUTS) || INPUTS < 100) throw new Error(`--inputs must be an integer >= 100, got ${values.inputs}`);
if (!Number.isInteger(SEED)) throw new Error(`--seed must be an integer, got ${values.seed}`);

const KEY = Buffer.alloc(16, 9);
const FROM = '127.9.9.9:7946';
const ip = (i) => Buffer.from([127, 0, 0, i]);
const vsn = Buffer.from([1, 5, 2, 0, 0, 0]);

/** mulberry32, the same generator as test/support/prng.ts: a seed replays a run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(SEED);
const int = (n) => Math.floor(rnd() * n);
const pick = (xs) => xs[int(xs.length)];

function randomBytes(max) {
  const b = Buffer.allocUnsafe(int(max));
  for (let i = 0; i < b.length; i++) b[i] = int(256);
  return b;
}

/** Always changes the input, so an authenticated blob never stays valid. */
function mutate(buf) {
  const out = Buffer.from(buf);
  const kind = int(4);
  if (kind === 0 || out.length < 2) {
    for (let i = 0, flips = 1 + int(4); i < flips; i++) {
      const at = int(out.length);
      out[at] ^= 1 + int(255);
    }
    return out;
  }
  if (kind === 1) return out.subarray(0, int(out.length));
  const at = int(out.length);
  if (kind === 2) return Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
  // inserted inside, and different from the byte it displaces (else an encrypted stream may stay whole)
  return Buffer.concat([out.subarray(0, at), Buffer.of((out[at] + 1 + int(255)) & 0xff), out.subarray(at)]);
}

/** A stream that yields `data` in random chunks, then ends; writes are discarded. */
function fakeStream(data) {
  const chunks = [];
  for (let pos = 0; pos < data.length; ) {
    const n = 1 + int(64);
    chunks.push(data.subarray(pos, pos + n));
    pos += n;
  }
  return { remoteAddr: FROM, read: () => Promise.resolve(chunks.shift() ?? null), write: () => Promise.resolve(), close: () => undefined };
}

function encStream(plain) {
  const header = Buffer.alloc(5);
  header[0] = 10;
  header.writeUInt32BE(29 + plain.length, 1);
  return Buffer.concat([header, encryptPayload(1, KEY, plain, header)]);
}

const alive = () => encodeAlive({ incarnation: 50, node: 'newcomer', addr: ip(50), port: 7946, meta: null, vsn });
const suspect = () => encodeSuspect({ incarnation: 50, node: 'n1', from: 'fz' });
const dead = () => encodeDead({ incarnation: 50, node: 'n2', from: 'fz' });

/** Messages that cannot change membership even if one decodes (fed to the plain node, mutated). */
function harmlessUdp(target) {
  const ping = encodePing({ seqNo: 7, node: target, sourceAddr: ip(99), sourcePort: 7946, sourceNode: 'fz' });
  const ack = encodeAck({ seqNo: 123456, payload: Buffer.from('pp') });
  const withCrc = Buffer.concat([Buffer.of(12, 0, 0, 0, 0), ping]);
  withCrc.writeUInt32BE(crc32(ping), 1);
  return [
    ping, ack, withCrc, encodeNack({ seqNo: 42 }),
    encodeIndirectPing({ seqNo: 9, target: ip(77), port: 7946, node: 'ghost', nack: true, sourceAddr: ip(99), sourcePort: 7946, sourceNode: 'fz' }),
    encodeUdpUserMsg(Buffer.from('hello user message')), encodeErr({ error: 'nope' }),
    encodeCompound([ping, ack, encodeUdpUserMsg(Buffer.from('hi'))]),
    encodeCompress({ algo: 0, buf: lzwCompress(ping) }), addLabelHeader(ping, 'lbl'),
    // state-changing messages cut in half: one mutation cannot make them whole again
    ...[alive(), suspect(), dead()].map((m) => m.subarray(0, m.length >> 1)),
  ];
}

/** Everything, membership changes included: encrypted, then mutated, so none may authenticate. */
function allUdp(target) {
  return [
    ...harmlessUdp(target), alive(), suspect(), dead(),
    encodeCompound([encodeDead({ incarnation: 50, node: 'n1', from: 'n1' }), encodeAlive({ incarnation: 60, node: 'n2', addr: ip(3), port: 7946, meta: Buffer.from('x'), vsn })]),
  ];
}

function streams(target) {
  const pp = encodePushPull([{ name: 'intruder', addr: ip(66), port: 7946, meta: null, incarnation: 9, state: 0, vsn }], Buffer.from('user-state'), true);
  return [
    encodeStreamUserMsg(Buffer.from('stream user message')),
    encodePing({ seqNo: 1, node: target, sourceAddr: null, sourcePort: 0, sourceNode: '' }),
    encodeCompress({ algo: 0, buf: lzwCompress(pp) }),
    pp,
  ];
}

const delegate = (name) => ({
  nodeMeta: () => Buffer.from(name),
  notifyMsg: () => undefined,
  getBroadcasts: () => [],
  localState: () => Buffer.from(`state-of-${name}`),
  mergeRemoteState: () => undefined,
});

async function cluster(keyring) {
  const net = new MemNetwork();
  const nodes = [];
  for (let i = 0; i < 3; i++) {
    const config = defaultLanConfig({ name: `n${i}`, bindAddr: `127.0.0.${i + 1}`, bindPort: 7946, keyring });
    nodes.push(await createMemberlist(config, { transport: net.transport(), delegate: delegate(`n${i}`) }));
  }
  for (const n of nodes.slice(1)) await n.join(['127.0.0.1:7946']);
  const deadline = Date.now() + 10_000;
  while (!nodes.every((n) => n.numMembers() === 3)) {
    if (Date.now() > deadline) throw new Error('the 3-node fuzz cluster did not form in 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
  return { net, nodes };
}

const snapshot = (nodes) => JSON.stringify(nodes.map((m) => m.allNodes().map((n) => `${n.name}/${n.state}/${n.incarnation}`).sort()));
const yieldToTimers = () => new Promise((r) => setImmediate(r));

const plain = await cluster(null);
const enc = await cluster(new Keyring(KEY));
const all = [...plain.nodes, ...enc.nodes];
const before = { plain: snapshot(plain.nodes), enc: snapshot(enc.nodes) };
const [plainTarget, encTarget] = [plain.nodes[0], enc.nodes[0]];
const harmless = harmlessUdp('n0');
const encrypted = allUdp('n0').map((m) => encryptPayload(1, KEY, m, Buffer.alloc(0)));
const plainStreams = streams('n0');
const encStreams = plainStreams.map(encStream);

// Same mix as the test: 90% packets, 10% streams, each a quarter of random / mutated, plain / encrypted.
const udpTotal = Math.round(INPUTS * 0.9);
const tcpTotal = INPUTS - udpTotal;
const t0 = performance.now();
for (let i = 0; i < udpTotal; i++) {
  const mode = i % 4;
  if (mode === 0) plainTarget.ingestPacket(randomBytes(200), FROM);
  else if (mode === 1) plainTarget.ingestPacket(mutate(pick(harmless)), FROM);
  else if (mode === 2) encTarget.ingestPacket(randomBytes(200), FROM);
  else encTarget.ingestPacket(mutate(pick(encrypted)), FROM);
  if (i % 2000 === 0) await yieldToTimers(); // the live cluster keeps probing meanwhile
}
const tUdp = performance.now();
const pending = [];
for (let i = 0; i < tcpTotal; i++) {
  const mode = i % 4;
  let data;
  let target;
  if (mode === 0) [data, target] = [randomBytes(300), plainTarget];
  else if (mode === 1) {
    const s = pick(plainStreams); // plain streams only truncated: a mutated push/pull could be a valid one
    [data, target] = [s.subarray(0, int(s.length)), plainTarget];
  } else if (mode === 2) [data, target] = [randomBytes(300), encTarget];
  else [data, target] = [mutate(pick(encStreams)), encTarget];
  pending.push(target.ingestStream(fakeStream(data)));
  if (pending.length >= 500) {
    await Promise.all(pending.splice(0));
    await yieldToTimers();
  }
}
await Promise.all(pending);
const tEnd = performance.now();

// Let in-flight probes and acks settle before comparing membership.
await new Promise((r) => setTimeout(r, 300));
const after = { plain: snapshot(plain.nodes), enc: snapshot(enc.nodes) };
const late = await createMemberlist(defaultLanConfig({ name: 'late', bindAddr: '127.0.0.9', bindPort: 7946, keyring: new Keyring(KEY) }), {
  transport: enc.net.transport(),
});
const lateJoined = await late.join(['127.0.0.1:7946']);
const result = {
  bench: 'memberlist-fuzz',
  seed: SEED,
  inputs: udpTotal + tcpTotal,
  packets: udpTotal,
  streams: tcpTotal,
  seconds: +((tEnd - t0) / 1000).toFixed(2),
  packetsPerSec: Math.round(udpTotal / ((tUdp - t0) / 1000)),
  streamsPerSec: Math.round(tcpTotal / ((tEnd - tUdp) / 1000)),
  rejectedPlain: plainTarget.stats.rejected,
  rejectedEncrypted: encTarget.stats.rejected,
  membershipUnchanged: after.plain === before.plain && after.enc === before.enc,
  lateJoinOk: lateJoined === 1,
  rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
};
for (const n of [...all, late]) await n.shutdown();
console.log(JSON.stringify(result));
if (!result.membershipUnchanged) console.error(`membership before: ${before.plain} ${before.enc}\nmembership after:  ${after.plain} ${after.enc}`);
// Each target gets ~half the inputs; at least a fifth of all inputs must be counted as rejects per target.
const ok = result.membershipUnchanged && result.lateJoinOk && result.rejectedPlain > INPUTS / 10 && result.rejectedEncrypted > INPUTS / 10;
if (!ok) {
  console.error('memberlist-fuzz: an invariant broke (membership changed, a reject went uncounted, or the fuzzed node cannot be joined)');
  process.exit(1);
}
