#!/usr/bin/env node
// Attach latency: vxmesh (agent in a netns host, gRPC client in-process) vs a hand-written baseline
// that does the same kernel work with one `ip -batch` per namespace per endpoint, in the same run.
// Also what the embedded DNS adds: a second agent with it (the first runs with --no-embedded-dns), same run.
// Usage: node bench/attach.mjs [N=100]   (root; run `npm run build` first)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
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
  for (const a of agents) try { a.kill('SIGKILL'); } catch {}
  const ns = readdirSync('/run/netns').filter((n) => n.startsWith(P));
  if (ns.length) spawnSync('ip', ['-batch', '-'], { input: ns.map((n) => `netns del ${n}`).join('\n') + '\n' });
  rmSync(tmp, { recursive: true, force: true });
}
const agents = [];
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

sh('ip', ['netns', 'add', HOST]);
sh('ip', ['-n', HOST, '-batch', '-'], 'link set lo up\nlink add ul0 type veth peer name ul1\naddr add 198.51.100.1/24 dev ul0\nlink set ul0 up\nlink set ul1 up\n');
const mkWorkloads = (tag) => {
  const names = Array.from({ length: N }, (_, i) => `${P}${tag}${i}`);
  sh('ip', ['-batch', '-'], names.map((n) => `netns add ${n}`).join('\n') + '\n');
  return names;
};

// ---- vxmesh: two agents side by side, one with the embedded DNS (the default) and one with
// --no-embedded-dns, attaches interleaved so load swings hit both alike. The upstream given with --dns is
// never asked (nothing queries), so no real resolver is touched.
const { connectApi } = await import(join(ROOT, 'dist/api/client.js'));
/** Least-squares slope of RSS over attached namespaces (KiB each): steadier than two end points under GC. */
const slope = (pts) => {
  const mx = pts.reduce((s, [x]) => s + x, 0) / pts.length;
  const my = pts.reduce((s, [, y]) => s + y, 0) / pts.length;
  return pts.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / pts.reduce((s, [x]) => s + (x - mx) ** 2, 0);
};
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
async function startAgent(tag, k, extra) {
  const host = `${P}h${k}`;
  if (k !== 1) {
    sh('ip', ['netns', 'add', host]);
    sh('ip', ['-n', host, '-batch', '-'], `link set lo up\nlink add ul0 type veth peer name ul1\naddr add 198.51.100.${k}/24 dev ul0\nlink set ul0 up\nlink set ul1 up\n`);
  }
  const sock = join(tmp, `api-${tag}.sock`);
  const proc = spawn('nsenter', [`--net=/run/netns/${host}`, process.execPath, join(ROOT, 'dist/cli/main.js'), 'agent',
    '--data-dir', join(tmp, `data-${tag}`), '--socket', sock, '--netns-prefix', `${P}${tag}`, '--no-plugin', '--log-level', 'debug', // debug: the resolver's per-namespace setup time
    '--advertise-addr', `198.51.100.${k}`, '--dns', '203.0.113.53', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  agents.push(proc);
  const a = { tag, proc, log: '', api: connectApi(sock), seq: [], conc: 0, rss0: 0, rss1: 0, attached: 0, samples: [] };
  proc.stdout.on('data', (b) => (a.log += b));
  for (let i = 0; ; i++) {
    try { await a.api.status(); break; } catch (e) { if (i > 200 || proc.exitCode !== null) { console.error(a.log); throw e; } await new Promise((r) => setTimeout(r, 50)); }
  }
  await a.api.createNetwork({ name: 'bench', subnet: '10.77.0.0/16' });
  a.rss0 = rssKiB(proc.pid);
  a.samples.push([0, a.rss0]);
  return a;
}
const noDns = await startAgent('n', 1, ['--no-embedded-dns']);
const withDns = await startAgent('d', 2, []);
const both = [noDns, withDns];
const seqW = Object.fromEntries(both.map((a) => [a.tag, mkWorkloads(`s${a.tag}`)]));
for (let i = 0; i < N; i++) {
  for (const a of i % 2 ? [...both].reverse() : both) {
    const t = performance.now();
    await a.api.attach({ network: 'bench', netns: `/run/netns/${seqW[a.tag][i]}`, name: `w${i}` });
    a.seq.push(performance.now() - t);
    if (++a.attached % 10 === 0) a.samples.push([a.attached, rssKiB(a.proc.pid)]);
  }
}
// N at once per agent, as two rounds of N/2 in alternating order (the machine fills with namespaces as it goes).
let t0;
const conW = Object.fromEntries(both.map((a) => [a.tag, mkWorkloads(`c${a.tag}`)]));
for (const [round, order] of [[0, both], [1, [...both].reverse()]]) {
  for (const a of order) {
    const half = conW[a.tag].slice(round * (N >> 1), round ? N : N >> 1);
    t0 = performance.now();
    await Promise.all(half.map((w) => a.api.attach({ network: 'bench', netns: `/run/netns/${w}` })));
    a.conc += performance.now() - t0;
    a.attached += half.length;
    a.samples.push([a.attached, rssKiB(a.proc.pid)]);
  }
}
for (const a of both) {
  a.rss1 = rssKiB(a.proc.pid);
  a.api.close();
}
// The resolver really serves in the DNS agent's workloads, and not in the other's.
const digIn = (ns) => spawnSync('ip', ['netns', 'exec', ns, 'dig', '@127.0.0.11', '+short', '+tries=1', '+time=1', 'w1'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
const served = [digIn(seqW.d[0]), digIn(seqW.n[0])];
const agentLog = noDns.log;
const vxSeq = noDns.seq;
const vxConc = noDns.conc;

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
let baseConc = 0;
for (const half of [baseConW.slice(0, N >> 1), baseConW.slice(N >> 1)]) {
  t0 = performance.now();
  await Promise.all(half.map((w) => baselineAttach(w)));
  baseConc += performance.now() - t0;
}

// Where vxmesh's sequential attach time goes (from the agent's own log).
const phases = agentLog.split('\n').filter((l) => l.includes('endpoint attached')).slice(0, N).map((l) => JSON.parse(l).ms);
const med = (k) => pct(phases.map((p) => p[k]), 50);
console.log(`vxmesh sequential attach phases, p50 ms: allocate ${med('allocate')}, kernel ${med('kernel')}, commit ${med('commit')}`);
const rows = [
  ['sequential p50 (ms)', pct(vxSeq, 50), pct(baseSeq, 50)],
  ['sequential p99 (ms)', pct(vxSeq, 99), pct(baseSeq, 99)],
  [`${N} concurrent (2 x ${N >> 1}), total (ms)`, vxConc, baseConc],
];
console.log(`attach latency, ${N} endpoints, ${new Date().toISOString()}`);
console.log('| metric | vxmesh | baseline (ip -batch per ns) | ratio |');
console.log('|---|---|---|---|');
for (const [m, v, b] of rows) console.log(`| ${m} | ${fmt(v)} | ${fmt(b)} | ${(v / b).toFixed(2)}x |`);

console.log(`\nembedded DNS: what it adds (same run, attaches interleaved; dig w1 in a workload: with DNS "${served[0]}", without "${served[1] || 'no answer'}")`);
console.log('| metric | --no-embedded-dns | embedded DNS | added |');
console.log('|---|---|---|---|');
const dnsRows = [
  ['sequential p50 (ms)', pct(noDns.seq, 50), pct(withDns.seq, 50)],
  ['sequential p99 (ms)', pct(noDns.seq, 99), pct(withDns.seq, 99)],
  ['sequential mean (ms)', noDns.seq.reduce((x, y) => x + y, 0) / N, withDns.seq.reduce((x, y) => x + y, 0) / N],
  [`${N} concurrent (2 x ${N >> 1}), total (ms)`, noDns.conc, withDns.conc],
  ['agent RSS before attaching (MiB)', noDns.rss0 / 1024, withDns.rss0 / 1024],
  [`agent RSS after ${2 * N} attached namespaces (MiB)`, noDns.rss1 / 1024, withDns.rss1 / 1024],
  ['RSS growth per attached namespace, end points (KiB)', (noDns.rss1 - noDns.rss0) / (2 * N), (withDns.rss1 - withDns.rss0) / (2 * N)],
  [`RSS growth per attached namespace, slope over ${noDns.samples.length} samples (KiB)`, slope(noDns.samples), slope(withDns.samples)],
];
for (const [m, a, b] of dnsRows) console.log(`| ${m} | ${fmt(a)} | ${fmt(b)} | ${fmt(b - a)} |`);
const phasesOf = (a, from, to) => a.log.split('\n').filter((l) => l.includes('endpoint attached')).slice(from, to).map((l) => JSON.parse(l).ms);
for (const [what, from, to] of [['sequential', 0, N], ['concurrent', N, 2 * N]]) {
  const line = (a) => ['allocate', 'kernel', 'commit'].map((k) => pct(phasesOf(a, from, to).map((p) => p[k]), 50)).join(' / ');
  console.log(`${what} attach phases in the agent's log, p50 allocate / kernel / commit ms: --no-embedded-dns ${line(noDns)}; embedded DNS ${line(withDns)}`);
}
const setup = withDns.log.split('\n').filter((l) => l.includes('"msg":"dns: serving"')).map((l) => JSON.parse(l).ms);
console.log(`resolver setup per namespace, in the agent (sockets made in the namespace, bound, served): p50 ${pct(setup, 50)} ms, p99 ${pct(setup, 99)} ms, max ${Math.max(...setup)} ms, n ${setup.length}`);
process.exit(0);
