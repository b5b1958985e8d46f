// Run inside a workload namespace: asks 127.0.0.11 for one name every `intervalMs` over UDP and
// prints a JSON line {t, rcode, answers} whenever the answer changes (t: wall-clock ms with sub-ms
// precision, comparable across processes on this machine) and prev (the send time of the last query
// answered the old way). Stops on SIGTERM or stdin end.
// argv: name qtype intervalMs
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

const [name, qtypeText = '1', intervalText = '2'] = process.argv.slice(2);
const qtype = Number(qtypeText);
const now = () => performance.timeOrigin + performance.now();
const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
const sock = dgram.createSocket('udp4');
let id = 0;
let last = '';
/** Send time of the latest query answered with the current state. */
let lastSameAt = 0;
let sentAt = new Map();

function ask() {
  id = (id + 1) & 0xffff;
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0); h.writeUInt16BE(0x0100, 2); h.writeUInt16BE(1, 4);
  sentAt.set(id, now());
  sock.send(Buffer.concat([h, ...labels, Buffer.from([0, qtype >> 8, qtype & 0xff, 0, 1])]), 53, '127.0.0.11');
}

sock.on('message', (m) => {
  const sent = sentAt.get(m.readUInt16BE(0));
  if (sent === undefined) return;
  sentAt.delete(m.readUInt16BE(0));
  const rcode = m[3] & 0xf;
  const ancount = m.readUInt16BE(6);
  // The answer's rdata (A: the last 4 bytes when there is one answer) is enough to tell answers apart.
  const state = `${rcode}/${ancount}/${ancount ? m.subarray(m.length - 4).join('.') : ''}`;
  if (state !== last) {
    last = state;
    // The change happened between `prev` (the last query answered the old way was sent) and `t`.
    process.stdout.write(JSON.stringify({ t: sent, prev: lastSameAt, rcode, answers: ancount, data: ancount ? m.subarray(m.length - 4).join('.') : '' }) + '\n');
  }
  if (sent > lastSameAt) lastSameAt = sent;
});
sock.on('error', () => undefined);
const timer = setInterval(() => {
  if (sentAt.size > 50) sentAt = new Map();
  ask();
}, Number(intervalText));
const stop = () => { clearInterval(timer); sock.close(); };
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
