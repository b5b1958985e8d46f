#!/usr/bin/env node
// Attach latency: vxmesh (agent in a netns host, gRPC client in-process) vs a hand-written baseline
// that does the same kernel work with one `ip -batch` per namespace per endpoint, in the same run.
// Usage: node bench/attach.mjs [N=100]   (root; run `npm run build` first)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(import.meta.dirname, '..');
const N = Number(process.argv[2] ?? 100);
const P = `b${randomBytes(2).toString('hex')}`;
const tmp = mkdtempSync(join(tmpdir(), 'vxmesh-bench-'));
const HOST = `${P}h1`;

const sh = (cmd, args, input) => {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const run = (cmd, args, input) =>
  new Promise((res, rej) => {
    const c = spawn(cmd, args);
    let err = '';
    c.stderr.on('data', (b) => (err += b));
    c.on('close', (code) => (code === 0 ? res() : rej(new Error(`${cmd} ${args.join(' ')}: ${err}`))));
    c.stdin.end(input ?? '');
  });
const batch = (ns, lines) => run('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (x) => x.toFixed(1);

function cleanup() {
  try { agent?.kill('SIGKILL'); } catch {}
  const ns = readdirSync('/run/netns').filter((n) => n.startsWith(P));
  if (ns.length) spawnSync('ip', ['-batch', '-'], { input: ns.map((n) => `netns del ${n}`).join('\n') + '\n' });
  rmSync(tmp, { recursive: true, force: true });
}
let agent;
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

sh('ip', ['netns', 'add', HOST]);
sh('ip', ['-n', HOST, '-batch', '-'], 'link set lo up\nlink add ul0 type veth peer name ul1\naddr add 198.51.100.1/24 dev ul0\nlink set ul0 up\nlink set ul1 up\n');
const mkWorkloads = (tag) => {
  const names = Array.from({ length: N }, (_, i) => `${P}${tag}${i}`);
  sh('ip', ['-batch', '-'], names.map((n) => `netns add ${n}`).join('\n') + '\n');
  return names;
};

// ---- vxmesh
const sock = join(tmp, 'api.sock');
agent = spawn('nsenter', [`--net=/run/netns/${HOST}`, process.execPath, join(ROOT, 'dist/cli/main.js'), 'agent',
  '--data-dir', join(tmp, 'data'), '--socket', sock, '--netns-prefix', P, '--no-plugin', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
let agentLog = '';
agent.stdout.on('data', (b) => (agentLog += b));
const { connectApi } = await import(join(ROOT, 'dist/api/client.js'));
const api = connectApi(sock);
for (let i = 0; ; i++) {
  try { await api.status(); break; } catch (e) { if (i > 200) throw e; await new Promise((r) => setTimeout(r, 50)); }
}
await api.createNetwork({ name: 'bench', subnet: '10.77.0.0/16' });
const seqW = mkWorkloads('s');
const vxSeq = [];
for (const w of seqW) {
  const t = performance.now();
  await api.attach({ network: 'bench', netns: `/run/netns/${w}` });
  vxSeq.push(performance.now() - t);
}
const conW = mkWorkloads('c');
let t0 = performance.now();
await Promise.all(conW.map((w) => api.attach({ network: 'bench', netns: `/run/netns/${w}` })));
const vxConc = performance.now() - t0;
api.close();

// ---- baseline: same objects, one hand-written ip -batch per namespace per endpoint
const SB = `${P}bsb`;
sh('ip', ['netns', 'add', SB]);
sh('ip', ['-n', SB, '-batch', '-'], 'link set lo up\nlink add br0 type bridge\naddr add 10.88.0.1/16 dev br0\nlink set br0 up\n');
sh('ip', ['-n', HOST, '-batch', '-'], 'link add bgw type bridge\naddr add 172.30.0.1/16 dev bgw\nlink set bgw up\n');
let nextIp = 2;
async function baselineAttach(w) {
  const k = nextIp++;
  const id = randomBytes(6).toString('hex');
  const a = `10.88.${k >> 8}.${k & 255}`;
  const g = `172.30.${k >> 8}.${k & 255}`;
  await Promise.all([
    batch(SB, [`link add ve${id} mtu 1450 type veth peer name vt${id} mtu 1450 netns ${w}`, `link set dev ve${id} master br0`, `link set dev ve${id} up`]),
    batch(HOST, [`link add vg${id} type veth peer name vh${id} netns ${w}`, `link set dev vg${id} master bgw`, `link set dev vg${id} up`]),
  ]);
  await batch(w, [
    'link set lo up',
    `link set dev vt${id} name eth0`, `link set dev eth0 address 02:42:0a:58:${(k >> 8).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}`,
    `addr add ${a}/16 dev eth0`, 'link set dev eth0 up',
    `link set dev vh${id} name eth1`, `addr add ${g}/16 dev eth1`, 'link set dev eth1 up',
    'route add default via 172.30.0.1 dev eth1',
  ]);
}
const baseSeqW = mkWorkloads('x');
const baseSeq = [];
for (const w of baseSeqW) {
  const t = performance.now();
  await baselineAttach(w);
  baseSeq.push(performance.now() - t);
}
const baseConW = mkWorkloads('y');
t0 = performance.now();
await Promise.all(baseConW.map((w) => baselineAttach(w)));
const baseConc = performance.now() - t0;

// Where vxmesh's sequential attach time goes (from the agent's own log).
const phases = agentLog.split('\n').filter((l) => l.includes('endpoint attached')).slice(0, N).map((l) => JSON.parse(l).ms);
const med = (k) => pct(phases.map((p) => p[k]), 50);
console.log(`vxmesh sequential attach phases, p50 ms: allocate ${med('allocate')}, kernel ${med('kernel')}, commit ${med('commit')}`);
const rows = [
  ['sequential p50 (ms)', pct(vxSeq, 50), pct(baseSeq, 50)],
  ['sequential p99 (ms)', pct(vxSeq, 99), pct(baseSeq, 99)],
  [`${N} concurrent, total (ms)`, vxConc, baseConc],
];
console.log(`attach latency, ${N} endpoints, ${new Date().toISOString()}`);
console.log('| metric | vxmesh | baseline (ip -batch per ns) | ratio |');
console.log('|---|---|---|---|');
for (const [m, v, b] of rows) console.log(`| ${m} | ${fmt(v)} | ${fmt(b)} | ${(v / b).toFixed(2)}x |`);
process.exit(0);
