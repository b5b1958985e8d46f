#!/usr/bin/env node
// Attach latency on etcd vs on the embedded store, in the same run: two netns hosts on an underlay switch,
// one agent on the embedded file store, one on `--store etcd://` (a real etcd in a third namespace on the
// underlay), attaches interleaved one after another (A, B, A, B...) so both see the same machine load.
// Usage: node bench/attach-etcd.mjs [N=50] [--compare DIR]   (root; run `npx tsc -p tsconfig.json` first)
// --compare DIR: a second build (e.g. the previous commit, built in a scratch directory) runs its own two
// agents beside this one's, on the same etcd under another prefix; the four attach in turn, so before and
// after see the same load, and the after - before difference is taken attach by attach.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, pct, sh, until } from './peers-common.mjs';

const args = process.argv.slice(2);
const compareAt = args.indexOf('--compare');
const COMPARE = compareAt >= 0 ? args.splice(compareAt, 2)[1] : undefined;
const N = Number(args[0] ?? 50);
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

const builds = [{ name: 'this build', root: ROOT, k: 1 }, ...(COMPARE ? [{ name: 'compared build', root: COMPARE, k: 3 }] : [])];
async function startAgent(root, h, tag, extra) {
  const { connectApi } = await import(join(root, 'dist/api/client.js'));
  const sock = join(tmp, `${tag}.sock`);
  const p = spawn('nsenter', [`--net=/run/netns/${h}`, process.execPath, join(root, 'dist/cli/main.js'), 'agent', '--data-dir', join(tmp, tag),
    '--socket', sock, '--netns-prefix', `${P}${tag}`, '--no-plugin', '--log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(p);
  const agent = { log: '', api: connectApi(sock) };
  p.stdout.on('data', (b) => (agent.log += b));
  await until(`agent ${tag} ready`, () => agent.log.includes('vxmesh agent ready'));
  return agent;
}
const workloads = (tag) => {
  const names = Array.from({ length: N + 5 }, (_, i) => `${P}w${tag}${i}`);
  sh('ip', ['-batch', '-'], names.map((n) => `netns add ${n}`).join('\n') + '\n');
  return names.map((n) => `/run/netns/${n}`);
};
for (const b of builds) {
  // One character per agent: --netns-prefix takes at most 6 (P is 5).
  const [ft, et] = b.k === 1 ? ['f', 'e'] : ['g', 'd'];
  b.file = await startAgent(b.root, b.k === 1 ? hFile : host(b.k), ft, []);
  b.etcd = await startAgent(b.root, b.k === 1 ? hEtcd : host(b.k + 1), et, ['--store', 'etcd://198.51.100.9:2379', '--store-prefix', `/${P}${et}/`]);
  for (const a of [b.file, b.etcd]) await a.api.createNetwork({ name: 'bench', subnet: '10.77.0.0/16' });
  b.wf = workloads(ft);
  b.we = workloads(et);
  b.times = { f: [], e: [] };
}
for (let i = 0; i < N + 5; i++) {
  for (const b of builds) {
    for (const [tag, a, ws] of [['f', b.file, b.wf], ['e', b.etcd, b.we]]) {
      const t = performance.now();
      await a.api.attach({ network: 'bench', netns: ws[i] });
      if (i >= 5) b.times[tag].push(performance.now() - t); // the first 5 warm up connections and caches
    }
  }
}
const phases = (a) => a.log.split('\n').filter((l) => l.includes('endpoint attached')).slice(5).map((l) => JSON.parse(l).ms);
const med = (a, k) => pct(phases(a).map((p) => (typeof k === 'function' ? k(p) : p[k])), 50);
// ms.reserve: the store transaction (addresses + pending record). An agent that makes links while it runs (tried
// in session 4, build 1ab3caf: ms.ahead, ms.reserveWait) waits only for reserveWait of it; kept for --compare.
const reserveWait = (p) => p.reserveWait ?? p.reserve;
const onPath = (p) => reserveWait(p) + p.commit;
const kernelAll = (p) => p.kernel + (p.ahead ?? 0);
const pairedMedian = (xs, ys) => pct(xs.map((x, i) => x - ys[i]), 50);
console.log(`attach on etcd vs the embedded store, ${N} sequential attaches per agent (interleaved), ${new Date().toISOString()}, load ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.split(' ')[0]}`);
for (const { name, root, file, etcd, times } of builds) {
  console.log(`\n${name} (${root}):`);
  console.log('| metric | embedded store | etcd | etcd - embedded |');
  console.log('|---|---|---|---|');
  for (const [m, f, e] of [
    ['attach p50 (ms)', pct(times.f, 50), pct(times.e, 50)],
    ['attach p99 (ms)', pct(times.f, 99), pct(times.e, 99)],
    ['checks + reservation p50 (ms, agent log)', med(file, 'allocate'), med(etcd, 'allocate')],
    ['store transaction (addresses + pending record, read-your-writes) p50 (ms, agent log)', med(file, 'reserve'), med(etcd, 'reserve')],
    ['kernel p50 (ms, agent log)', med(file, kernelAll), med(etcd, kernelAll)],
    ['ready record p50 (ms, agent log)', med(file, 'commit'), med(etcd, 'commit')],
    ['store on the critical path (transaction + ready record) p50 (ms, agent log)', med(file, onPath), med(etcd, onPath)],
  ]) console.log(`| ${m} | ${fmt(f)} | ${fmt(e)} | ${fmt(e - f)} |`);
  // Attach i on etcd ran right after attach i on the embedded store: the median of those pairs' differences
  // follows the machine's load drift less than the difference of the two medians.
  console.log(`attach, median of the paired differences (etcd i - embedded i): ${fmt(pairedMedian(times.e, times.f))} ms`);
  for (const [tag, a] of [['embedded', file], ['etcd', etcd]]) {
    const keys = Object.keys(phases(a)[0] ?? {});
    console.log(`phases p50 (${tag}): ${keys.map((k) => `${k} ${fmt(med(a, k))}`).join(', ')}`);
  }
}
if (builds.length === 2) {
  const [a, b] = builds;
  console.log(`\nthis build - compared build, attach by attach (median of the paired differences): embedded ${fmt(pairedMedian(a.times.f, b.times.f))} ms, etcd ${fmt(pairedMedian(a.times.e, b.times.e))} ms`);
}
for (const b of builds) for (const a of [b.file, b.etcd]) a.api.close();
process.exit(0);
