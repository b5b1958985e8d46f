#!/usr/bin/env node
// Services (issue 10), two netns hosts with etcd + gossip, same run:
//  1. TCP connections per second from a workload on host 1 through a service VIP vs straight to the
//     task's IP (one task, on host 2: the same path but for the VIP's DNAT), rounds interleaved.
//  2. A task attached on host 2 -> the first connection through the VIP from host 1 that reaches it
//     (the client tries every 100 ms-or-less from before the attach): p50/p99 over the runs.
// Usage: node bench/services-mesh.mjs [ROUNDS=5] [CONNS=2000] [RUNS=20] [--lb nftables|ipvs|auto] [--gossip-profile default|fast]  (root; npm run build first)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, cluster, pct, sh, sleep, until } from './peers-common.mjs';

const CLI = join(ROOT, 'dist/cli/main.js');
const SERVER = join(ROOT, 'test/netns/mesh-server.mjs');
const CLIENT = join(ROOT, 'test/netns/mesh-client.mjs');
const argv = process.argv.slice(2);
const lbAt = argv.indexOf('--lb');
const LB = lbAt >= 0 ? argv.splice(lbAt, 2)[1] : 'nftables';
const profileAt = argv.indexOf('--gossip-profile');
const PROFILE = profileAt >= 0 ? argv.splice(profileAt, 2)[1] : 'default';
const [ROUNDS, CONNS, RUNS] = [Number(argv[0] ?? 5), Number(argv[1] ?? 2000), Number(argv[2] ?? 20)];
// ---- two netns hosts on an underlay switch, etcd on host 1, an agent per host (cleanup on exit)
const { P, tmp, track } = await cluster('b', 2, ['--lb', LB, '--gossip-profile', PROFILE]);

function bg(nsPath, args, onLine) {
  const p = spawn('nsenter', [`--net=${nsPath}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(p);
  let out = '';
  p.stdout.on('data', (b) => {
    out += b.toString();
    if (onLine) for (const l of b.toString().split('\n').filter(Boolean)) onLine(l);
  });
  p.stderr.on('data', (b) => (out += b.toString()));
  const done = new Promise((res, rej) => p.on('close', (c) => (c === 0 ? res(out) : rej(new Error(`${args.join(' ')}: ${c}: ${out}`)))));
  return { p, done };
}
const cli = (k, ...args) => JSON.parse(sh(process.execPath, [CLI, '--socket', join(tmp, `h${k}.sock`), ...args, '--json']));
await until('2 gossip members', () => cli(1, 'status').gossip?.alive === 2 && cli(2, 'status').gossip?.alive === 2);
const lbKind = cli(1, 'status').loadBalancer;
cli(1, 'network', 'create', '--subnet', '10.81.0.0/24', 'web');
const web = cli(1, 'service', 'create', 'web', '--network', 'web');
const lat = cli(1, 'service', 'create', 'lat', '--network', 'web');
const vip = (s) => s.vips.find((v) => v.network === 'web').ipv4.split('/')[0];
const workload = (name) => {
  sh('ip', ['netns', 'add', `${P}w${name}`]);
  return `/run/netns/${P}w${name}`;
};
async function server(name, netns) {
  let ready;
  const up = new Promise((r) => (ready = r));
  const s = bg(netns, [process.execPath, SERVER, name, '80', '7000'], () => ready());
  s.done.catch(() => undefined); // killed at the end of its run
  await up;
  return s.p;
}
const c1 = workload('c1');
cli(1, 'endpoint', 'attach', '--netns', c1, '--network', 'web');
const t1 = workload('t1');
await server('t1', t1);
const task = cli(2, 'endpoint', 'attach', '--netns', t1, '--network', 'web', '--service', 'web');
const taskIp = task.ipv4.split('/')[0];
const burst = async (host, n) => JSON.parse(await bg(c1, [process.execPath, CLIENT, 'burst', 'tcp', host, '80', String(n), '8']).done);
await until('the VIP reaching the task', async () => (await burst(vip(web), 20)).replies.t1 === 20);

// ---- 1. connections per second, VIP vs task IP, interleaved
const rate = { vip: [], direct: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const [kind, host] of r % 2 ? [['direct', taskIp], ['vip', vip(web)]] : [['vip', vip(web)], ['direct', taskIp]]) {
    const b = await burst(host, CONNS);
    if (b.failures.length || b.replies.t1 !== CONNS) throw new Error(`${kind}: ${JSON.stringify(b)}`);
    rate[kind].push(CONNS / (b.ms / 1000)); // timed inside the client: its start-up is not counted
  }
}
const med = (xs) => pct(xs, 50);
console.log(`lb ${lbKind}, gossip profile ${PROFILE}; connections/s (8 concurrent, ${CONNS} per round, ${ROUNDS} rounds, load average ${(await import('node:os')).loadavg()[0].toFixed(1)}): VIP median ${med(rate.vip).toFixed(0)}, task IP median ${med(rate.direct).toFixed(0)}, ratio ${(med(rate.vip) / med(rate.direct)).toFixed(3)}`);
console.log(`  VIP rounds ${rate.vip.map((x) => x.toFixed(0)).join(' ')}; direct rounds ${rate.direct.map((x) => x.toFixed(0)).join(' ')}`);

// ---- 2. attach on host 2 -> first connection through the VIP from host 1 (attach over gRPC in-process)
const { connectApi } = await import(join(ROOT, 'dist/api/client.js'));
const api2 = connectApi(join(tmp, 'h2.sock'));
const ms = [];
const attachMs = [];
for (let i = 0; i < RUNS; i++) {
  const name = `l${i}`;
  const ns = workload(name);
  const srv = await server(name, ns);
  let go;
  const readyToGo = new Promise((r) => (go = r));
  const probe = bg(c1, [process.execPath, CLIENT, 'until', name, vip(lat), '80'], (l) => l === 'ready' && go());
  await readyToGo;
  const t0 = Date.now();
  const ep = await api2.attach({ netns: ns, network: 'web', service: 'lat' });
  attachMs.push(Date.now() - t0);
  const out = await Promise.race([probe.done, sleep(10_000).then(() => { throw new Error(`run ${i}: no connection through the VIP in 10 s`); })]);
  const { at } = JSON.parse(out.trim().split('\n').at(-1));
  ms.push(at - t0);
  await api2.detach(ep.id);
  srv.kill('SIGKILL');
}
console.log(`attach on host 2 -> first connection through the VIP from host 1 (from the gRPC attach call, ${RUNS} runs): p50 ${pct(ms, 50)} ms, p99 ${pct(ms, 99)} ms, max ${Math.max(...ms)} ms`);
console.log(`  runs ${ms.join(' ')}`);
console.log(`  of which the attach call itself: p50 ${pct(attachMs, 50)} ms, p99 ${pct(attachMs, 99)} ms; after it returned: p50 ${pct(ms.map((m, i) => m - attachMs[i]), 50)} ms, p99 ${pct(ms.map((m, i) => m - attachMs[i]), 99)} ms`);
process.exit(0);
