#!/usr/bin/env node
// Attach latency on etcd vs on the embedded store, in the same run: two netns hosts on an underlay switch,
// one agent on the embedded file store, one on `--store etcd://` (a real etcd in a third namespace on the
// underlay), attaches interleaved one after another (A, B, A, B...) so both see the same machine load.
// Usage: node bench/attach-etcd.mjs [N=50]   (root; run `npx tsc -p tsconfig.json` first)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, pct, sh, until } from './peers-common.mjs';

const N = Number(process.argv[2] ?? 50);
const P = `e${randomBytes(2).toString('hex')}`;
const tmp = mkdtempSync(join(tmpdir(), 'vxmesh-bench-'));
const procs = [];

const fmt = (x) => x.toFixed(1);

function cleanup() {
  for (const p of procs) try { p.kill('SIGKILL'); } catch {}
  const ns = readdirSync('/run/netns').filter((n) => n.startsWith(P));
  if (ns.length) spawnSync('ip', ['-batch', '-'], { input: ns.map((n) => `netns del ${n}`).join('\n') + '\n' });
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

// underlay: a bridge in its own namespace, hosts 198.51.100.1 (file store), .2 (etcd store), .9 (etcd)
const SW = `${P}sw`;
sh('ip', ['netns', 'add', SW]);
sh('ip', ['-n', SW, '-batch', '-'], 'link set lo up\nlink add sw0 type bridge\nlink set sw0 up\n');
const host = (k) => {
  const h = `${P}h${k}`;
  sh('ip', ['netns', 'add', h]);
  sh('ip', ['-n', SW, '-batch', '-'], `link add p${k} type veth peer name ul0 netns ${h}\nlink set p${k} master sw0\nlink set p${k} up\n`);
  sh('ip', ['-n', h, '-batch', '-'], `link set lo up\naddr add 198.51.100.${k}/24 dev ul0\nlink set ul0 up\nroute add default via 198.51.100.254 dev ul0\n`);
  return h;
};
const [hFile, hEtcd, hStore] = [host(1), host(2), host(9)];

const url = 'http://198.51.100.9:2379';
procs.push(spawn('nsenter', [`--net=/run/netns/${hStore}`, '/usr/bin/etcd', '--name', 'bench', '--data-dir', join(tmp, 'etcd'),
  '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', 'http://198.51.100.9:2380',
  '--initial-advertise-peer-urls', 'http://198.51.100.9:2380', '--initial-cluster', 'bench=http://198.51.100.9:2380', '--log-level', 'warn'], { stdio: 'ignore' }));
const probe = `fetch('${url}/health', { signal: AbortSignal.timeout(1000) }).then(async (r) => process.stdout.write(await r.text()), () => {})`;
await until('etcd healthy', () => spawnSync('nsenter', [`--net=/run/netns/${hStore}`, process.execPath, '-e', probe], { encoding: 'utf8' }).stdout.includes('"true"'));

const { connectApi } = await import(join(ROOT, 'dist/api/client.js'));
async function startAgent(h, tag, extra) {
  const sock = join(tmp, `${tag}.sock`);
  const p = spawn('nsenter', [`--net=/run/netns/${h}`, process.execPath, join(ROOT, 'dist/cli/main.js'), 'agent', '--data-dir', join(tmp, tag),
    '--socket', sock, '--netns-prefix', `${P}${tag}`, '--no-plugin', '--log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(p);
  const agent = { log: '', api: connectApi(sock) };
  p.stdout.on('data', (b) => (agent.log += b));
  await until(`agent ${tag} ready`, () => agent.log.includes('vxmesh agent ready'));
  return agent;
}
const file = await startAgent(hFile, 'f', []);
const etcd = await startAgent(hEtcd, 'e', ['--store', 'etcd://198.51.100.9:2379', '--store-prefix', `/${P}/`]);
for (const a of [file, etcd]) await a.api.createNetwork({ name: 'bench', subnet: '10.77.0.0/16' });

const workloads = (tag) => {
  const names = Array.from({ length: N + 5 }, (_, i) => `${P}w${tag}${i}`);
  sh('ip', ['-batch', '-'], names.map((n) => `netns add ${n}`).join('\n') + '\n');
  return names.map((n) => `/run/netns/${n}`);
};
const wf = workloads('f');
const we = workloads('e');
const times = { f: [], e: [] };
for (let i = 0; i < N + 5; i++) {
  for (const [tag, a, ws] of [['f', file, wf], ['e', etcd, we]]) {
    const t = performance.now();
    await a.api.attach({ network: 'bench', netns: ws[i] });
    if (i >= 5) times[tag].push(performance.now() - t); // the first 5 warm up connections and caches
  }
}
const phases = (a) => a.log.split('\n').filter((l) => l.includes('endpoint attached')).slice(5).map((l) => JSON.parse(l).ms);
const med = (a, k) => pct(phases(a).map((p) => (typeof k === 'function' ? k(p) : p[k])), 50);
// ms.reserve: the store transaction (addresses + pending record); ms.ahead (newer agents): the links made while it
// ran; ms.reserveWait: what attach waited for the transaction beyond them (older agents: all of it).
const reserveWait = (p) => p.reserveWait ?? p.reserve;
const onPath = (p) => reserveWait(p) + p.commit;
const kernelAll = (p) => p.kernel + (p.ahead ?? 0);
console.log(`attach on etcd vs the embedded store, ${N} sequential attaches each (interleaved), ${new Date().toISOString()}, load ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.split(' ')[0]}, agent ${ROOT}`);
console.log('| metric | embedded store | etcd | etcd - embedded |');
console.log('|---|---|---|---|');
for (const [m, f, e] of [
  ['attach p50 (ms)', pct(times.f, 50), pct(times.e, 50)],
  ['attach p99 (ms)', pct(times.f, 99), pct(times.e, 99)],
  ['checks + reservation p50 (ms, agent log)', med(file, 'allocate'), med(etcd, 'allocate')],
  ['store transaction (addresses + pending record, read-your-writes) p50 (ms, agent log)', med(file, 'reserve'), med(etcd, 'reserve')],
  ['of it, waited beyond the links made meanwhile p50 (ms, agent log)', med(file, reserveWait), med(etcd, reserveWait)],
  ['kernel p50 (ms, agent log; with the links made during the transaction)', med(file, kernelAll), med(etcd, kernelAll)],
  ['ready record p50 (ms, agent log)', med(file, 'commit'), med(etcd, 'commit')],
  ['store on the critical path (that wait + ready record) p50 (ms, agent log)', med(file, onPath), med(etcd, onPath)],
]) console.log(`| ${m} | ${fmt(f)} | ${fmt(e)} | ${fmt(e - f)} |`);
for (const [tag, a] of [['embedded', file], ['etcd', etcd]]) {
  const keys = Object.keys(phases(a)[0] ?? {});
  console.log(`phases p50 (${tag}): ${keys.map((k) => `${k} ${fmt(med(a, k))}`).join(', ')}`);
}
for (const a of [file, etcd]) a.api.close();
process.exit(0);
