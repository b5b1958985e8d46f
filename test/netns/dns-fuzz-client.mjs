// Fuzzes a DNS server with random and mutated queries over UDP and TCP and checks each answer
// against RFC 1035's rules: silence for fewer than 12 bytes or a response (QR set); otherwise one
// well-formed response with the query's ID and QR set (FORMERR/NOTIMP/REFUSED/... are fine).
// argv[2]: JSON {server, port, count, seed?, tcpShare?}. Prints one JSON summary line.
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { decodeMessage } from '../../dist/dns/wire/decode.js';

const cfg = JSON.parse(process.argv[2]);
let seed = cfg.seed ?? 1;
const rnd = () => {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (n) => Math.floor(rnd() * n);

function query(name, qtype, edns, options = Buffer.alloc(0)) {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0x0100, 2); h.writeUInt16BE(1, 4); h.writeUInt16BE(edns ? 1 : 0, 10);
  const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const opt = edns ? Buffer.concat([Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, options.length >> 8, options.length & 0xff]), options]) : Buffer.alloc(0);
  return Buffer.concat([h, ...labels, Buffer.from([0, qtype >> 8, qtype & 0xff, 0, 1]), opt]);
}
const SEEDS = [
  query('api', 1, false), query('API', 28, true), query('tasks.api', 1, true), query('_80._tcp.api', 33, true),
  query('2.0.1.10.in-addr.arpa', 12, false), query('nope.api', 1, true), query('example.test', 1, true),
  query('x'.repeat(63) + '.' + 'y'.repeat(63), 16, true, Buffer.from([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8])),
  query('api', 255, true), query('api', 252, false),
];

function mutate(base) {
  let b = Buffer.from(base);
  for (let n = 1 + int(4); n > 0; n--) {
    switch (int(7)) {
      case 0: b[int(b.length)] ^= 1 << int(8); break;
      case 1: b[int(b.length)] = int(256); break;
      case 2: b = b.subarray(0, int(b.length + 1)); break;
      case 3: b = Buffer.concat([b, Buffer.from(Array.from({ length: int(40) }, () => int(256)))]); break;
      case 4: if (b.length >= 12) b.writeUInt16BE(int(4) === 0 ? int(0x10000) : int(3), 4 + 2 * int(4)); break;
      case 5: if (b.length > 13) { const at = 12 + int(b.length - 12); b[at] = 0xc0 | int(4); if (at + 1 < b.length) b[at + 1] = int(256); } break;
      default: if (b.length >= 4) b[2] = int(256); break;
    }
    if (b.length === 0) break;
  }
  return b;
}
const message = () => (rnd() < 0.3 ? Buffer.from(Array.from({ length: int(300) }, () => int(256))) : mutate(SEEDS[int(SEEDS.length)]));
const mustAnswer = (m) => m.length >= 12 && !(m[2] & 0x80);

function wellFormedReply(resp, id) {
  if (resp.length < 12 || resp.readUInt16BE(0) !== id || !(resp[2] & 0x80)) return false;
  try { decodeMessage(resp); return true; } catch { return false; }
}

let mustOutstanding = 0;
let wake;
const summary = { sent: 0, expected: 0, answered: 0, missing: 0, unexpected: 0, malformed: 0, tcpSent: 0, tcpAnswered: 0, tcpMissing: 0, garbageConnections: 0 };

async function udpPhase(count) {
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, r));
  const waiting = new Map(); // id -> {deadline, must}
  let nextId = 0;
  sock.on('message', (resp) => {
    const id = resp.length >= 2 ? resp.readUInt16BE(0) : -1;
    const w = waiting.get(id);
    if (!w) { summary.unexpected++; return; }
    waiting.delete(id);
    if (w.must) mustOutstanding--;
    if (wake) { const w2 = wake; wake = undefined; w2(); }
    if (!w.must) summary.unexpected++;
    else if (wellFormedReply(resp, id)) summary.answered++;
    else summary.malformed++;
  });
  const window = 128;
  for (let i = 0; i < count; i++) {
    while (mustOutstanding >= window) {
      await new Promise((r) => { wake = r; setTimeout(r, 10); });
      expire(waiting);
    }
    let m = message();
    const id = nextId; nextId = (nextId + 1) & 0xffff;
    while (waiting.has(id)) { await new Promise((r) => setTimeout(r, 10)); expire(waiting); }
    if (m.length >= 2) { m = Buffer.from(m); m.writeUInt16BE(id, 0); }
    const must = mustAnswer(m);
    if (m.length >= 2) waiting.set(id, { deadline: Date.now() + (must ? 2000 : 300), must, m });
    if (must && m.length >= 2) mustOutstanding++;
    if (must) summary.expected++;
    summary.sent++;
    sock.send(m, cfg.port, cfg.server);
    if (i % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  const end = Date.now() + 2500;
  while (waiting.size > 0 && Date.now() < end) { await new Promise((r) => setTimeout(r, 20)); expire(waiting); }
  expire(waiting, true);
  sock.close();
}

function expire(waiting, all = false) {
  const now = Date.now();
  for (const [id, w] of waiting) {
    if (all || w.deadline < now) { waiting.delete(id); if (w.must) { summary.missing++; mustOutstanding--; if (process.env.FUZZ_DEBUG) console.error('missing', w.m.toString('hex')); } }
  }
}

async function tcpConnection(n) {
  const sock = net.connect(cfg.port, cfg.server);
  await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
  const expected = new Set();
  let buf = Buffer.alloc(0);
  const done = new Promise((resolve) => {
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const resp = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + resp.length);
        const id = resp.readUInt16BE(0);
        if (expected.delete(id) && wellFormedReply(resp, id)) summary.tcpAnswered++;
        else summary.malformed++;
        if (expected.size === 0) resolve();
      }
    });
    sock.on('close', resolve);
    setTimeout(resolve, 5000);
  });
  const frames = [];
  for (let i = 0; i < n; i++) {
    const m = Buffer.from(message());
    if (m.length >= 2) m.writeUInt16BE(i, 0);
    if (mustAnswer(m)) expected.add(i);
    const len = Buffer.alloc(2); len.writeUInt16BE(m.length, 0);
    frames.push(len, m);
    summary.tcpSent++;
  }
  const total = expected.size;
  sock.write(Buffer.concat(frames));
  if (total > 0) await done;
  summary.tcpMissing += expected.size;
  sock.destroy();
}

async function garbageConnection() {
  const sock = net.connect(cfg.port, cfg.server);
  await new Promise((r) => { sock.once('connect', r); sock.once('error', r); });
  sock.on('error', () => {});
  sock.write(Buffer.from(Array.from({ length: 1 + int(2000) }, () => int(256))));
  await new Promise((r) => setTimeout(r, 5));
  sock.destroy();
  summary.garbageConnections++;
}

// UDP datagrams the kernel dropped for a full receive buffer in this namespace (the only allowed
// reason for a missing answer: it is load, not the server).
function rcvbufErrors() {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  return Number(lines[1].split(/\s+/)[names.indexOf('RcvbufErrors')]);
}
const rcvbuf0 = rcvbufErrors();
const tcpCount = Math.floor(cfg.count * (cfg.tcpShare ?? 0.1));
const t0 = Date.now();
await udpPhase(cfg.count - tcpCount);
const t1 = Date.now();
for (let sent = 0; sent < tcpCount; sent += 200) await tcpConnection(Math.min(200, tcpCount - sent));
for (let i = 0; i < 20; i++) await garbageConnection();
summary.udpMs = t1 - t0;
summary.tcpMs = Date.now() - t1;
summary.rcvbufErrors = rcvbufErrors() - rcvbuf0;
console.log(JSON.stringify(summary));
process.exit(0);
