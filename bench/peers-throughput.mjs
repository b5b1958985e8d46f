#!/usr/bin/env node
// Throughput across hosts (issue 9): iperf3, one TCP stream, between workloads on two netns hosts
// over the vxmesh overlay vs between the two hosts over the underlay directly, one after the other,
// each also timed in CPU per byte when `perf` is installed (see stream()).
// Three overlay configurations, interleaved round by round with the underlay anchor:
//  - "vxmesh": as the agent programs it (sandbox bridges skip br_netfilter, VXLAN UDP untracked,
//    RPS on the sandboxes' veth ends, the symmetric flow hash on the workloads' eth0);
//  - "rps-socket-hash": the same with the flow-hash program removed by hand (RPS then hashes each
//    direction by its socket's random txhash: session 4's setting);
//  - "no-rps": RPS and the flow hash undone by hand (rps_cpus 0, no program: what `--no-rps` leaves).
// The underlay anchor is never touched (host-to-host over the same underlay veths and switch).
// Per round: overlay, underlay, ratios; the table gives the medians per configuration.
// Usage: [NO_PERF=1] node bench/peers-throughput.mjs [SECONDS=3] [ROUNDS=6]   (root; build first)
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ROOT, cluster, pct, sh, until } from './peers-common.mjs';

const { hasSymmetricFlowHash, setSymmetricFlowHash } = await import(join(ROOT, 'dist/kernel/index.js'));

const SECS = Number(process.argv[2] ?? 3);
const ROUNDS = Number(process.argv[3] ?? 6);
// No periodic resync during the run: it would put the agent's RPS masks back in the middle of a "no-rps" round.
const c = await cluster('t', 2, ['--resync-interval', '3600']);
const net = await c.apis[0].createNetwork({ name: `${c.P}net`, subnet: '10.77.0.0/24' });
await until('network on host 2', async () => (await c.api(2).listNetworks()).some((n) => n.id === net.id));
const w = (k) => `/run/netns/${c.P}-w${k}`;
for (const k of [1, 2]) sh('ip', ['netns', 'add', `${c.P}-w${k}`]);
await c.api(1).attach({ network: net.name, netns: w(1) });
const ep2 = await c.api(2).attach({ network: net.name, netns: w(2) });
const ip2 = ep2.ipv4.split('/')[0];
await until('overlay path', () => spawnSync('nsenter', [`--net=${w(1)}`, 'ping', '-c', '1', '-W', '1', ip2]).status === 0);
const host = (k) => `/run/netns/${c.P}-h${k}`;
const inNs = (ns, cmd, args, input) => sh('nsenter', [`--net=${ns}`, cmd, ...args], input);

// What the agent programmed (checked, so the "vxmesh" rows measure what they claim).
const sandboxes = [c.sandbox(1, net.id), c.sandbox(2, net.id)];
// Without br_netfilter loaded the key does not exist: nothing to turn off.
const brNf = (ns) => spawnSync('nsenter', [`--net=${ns}`, 'cat', '/proc/sys/net/bridge/bridge-nf-call-iptables'], { encoding: 'utf8' }).stdout.trim() || '0';
const notrackChains = (k) => (inNs(host(k), 'nft', ['list', 'table', 'inet', 'vxmesh']).match(/chain raw-(prerouting|output)/g) ?? []).length;
// /sys shows the namespace of whoever mounted it: `ip netns exec` mounts the sandbox's own.
const inSys = (ns, script, ...args) => sh('ip', ['netns', 'exec', ns.split('/').at(-1), 'sh', '-c', script, 'sh', ...args]);
const rpsDevices = (ns) => JSON.parse(inNs(ns, 'ip', ['-j', '-d', 'link'])).filter((l) => l.linkinfo?.info_kind === 'veth').map((l) => l.ifname);
const devices = sandboxes.map(rpsDevices);
const rpsMasks = (i) => inSys(sandboxes[i], 'for d in "$@"; do cat /sys/class/net/$d/queues/rx-0/rps_cpus; done', ...devices[i]).split('\n').filter(Boolean);
const agentMasks = [0, 1].map(() => '');
const wl = [1, 2].map((k) => ({ kind: 'path', path: w(k) }));
await until('agent set the sandbox sysctls, notrack chains, RPS masks and flow hash', async () => {
  for (const i of [0, 1]) agentMasks[i] = rpsMasks(i);
  return sandboxes.every((ns) => brNf(ns) === '0') && notrackChains(1) === 2 && notrackChains(2) === 2 &&
    agentMasks.every((ms, i) => ms.length === devices[i].length && ms.every((m) => /[1-9a-f]/.test(m))) &&
    (await Promise.all(wl.map((ns) => hasSymmetricFlowHash(ns, 'eth0')))).every(Boolean);
});
process.stderr.write(`agent's RPS masks: ${devices.map((ds, i) => ds.map((d, j) => `${d}=${agentMasks[i][j]}`).join(' ')).join(' | ')}; flow hash on both workloads' eth0\n`);

const state = { rps: true, flowHash: true };
async function configure(name) {
  const want = { rps: name !== 'no-rps', flowHash: name === 'vxmesh' };
  if (want.rps !== state.rps) {
    for (const i of [0, 1]) {
      inSys(sandboxes[i], 'm=$1; shift; for d in "$@"; do echo $m > /sys/class/net/$d/queues/rx-0/rps_cpus; done', want.rps ? agentMasks[i][0] : '0', ...devices[i]);
    }
  }
  if (want.flowHash !== state.flowHash) {
    for (const ns of wl) {
      if (want.flowHash) await setSymmetricFlowHash(ns, ['eth0']);
      else inNs(ns.path, 'tc', ['qdisc', 'del', 'dev', 'eth0', 'clsact']);
    }
  }
  Object.assign(state, want);
}

// perf's own writer competes for the CPUs a pipelined stream uses: NO_PERF=1 measures throughput alone.
const PERF = !process.env.NO_PERF && spawnSync('perf', ['--version']).status === 0;
const softirqds = Array.from({ length: availableParallelism() }, (_, i) => `ksoftirqd/${i}`);

/**
 * One iperf3 stream; with perf installed, recorded system-wide: the samples that landed in iperf3
 * and ksoftirqd (where the stack's work for the stream runs: the sender's syscalls carry the softirqs
 * of every hop) per GB received is the stream's CPU cost, which load from other processes inflates
 * far less than throughput. With RPS, the backlog another CPU runs for the stream lands in whatever
 * task was running there (not counted): the "vxmesh" rows' cost ratio understates their cost.
 */
async function stream(serverNs, clientNs, addr) {
  const srv = c.track(spawn('nsenter', [`--net=${serverNs}`, 'iperf3', '-s', '-1', '-B', addr], { stdio: 'ignore' }));
  await until(`iperf3 server on ${addr}`, () => spawnSync('nsenter', [`--net=${serverNs}`, 'ss', '-Htln', 'sport = :5201'], { encoding: 'utf8' }).stdout.trim() !== '', 5_000, 20);
  const client = ['nsenter', `--net=${clientNs}`, 'iperf3', '-c', addr, '-t', String(SECS), '-J'];
  const r = PERF ? spawnSync('perf', ['record', '-a', '-q', '-o', perfData, '--', ...client], { encoding: 'utf8' }) : spawnSync(client[0], client.slice(1), { encoding: 'utf8' });
  srv.kill('SIGKILL');
  if (r.status !== 0) throw new Error(`iperf3 -c ${addr}: exit ${r.status}: ${r.stderr}`);
  const end = JSON.parse(r.stdout).end;
  const gb = end.sum_received.bytes / 1e9;
  let perGb;
  if (PERF) {
    const rep = spawnSync('perf', ['report', '-i', perfData, '--comms', ['iperf3', ...softirqds].join(','), '--sort', 'comm', '--stdio', '-n'], { encoding: 'utf8' }).stdout;
    const samples = rep.split('\n').filter((l) => /^\s+[\d.]+%/.test(l)).reduce((n, l) => n + Number(l.trim().split(/\s+/).at(-2)), 0);
    perGb = samples / gb;
  }
  return { gbps: end.sum_received.bits_per_second / 1e9, perGb };
}
const perfData = join(c.tmp, 'perf.data');

// Sequential (overlay, then underlay): two streams at once share the softirq work unevenly (one
// sender's syscalls process the other's backlog), so they do not compare the paths' costs.
async function measure() {
  const o = await stream(w(2), w(1), ip2);
  const u = await stream(host(2), host(1), '198.51.100.2');
  return { overlay: o.gbps, underlay: u.gbps, costRatio: PERF ? u.perGb / o.perGb : undefined };
}

const rows = { vxmesh: [], 'rps-socket-hash': [], 'no-rps': [] };
const names = Object.keys(rows);
for (let i = 0; i < ROUNDS; i++) {
  // Each configuration in turn, the order rotated per round (none always first or last).
  for (const name of names.map((_, j) => names[(i + j) % names.length])) {
    await configure(name);
    const r = await measure();
    rows[name].push(r);
    process.stderr.write(`round ${i + 1} ${name}: overlay ${r.overlay.toFixed(2)} underlay ${r.underlay.toFixed(2)} -> ${(r.overlay / r.underlay).toFixed(3)}x${r.costRatio ? `, CPU cost ratio ${r.costRatio.toFixed(3)}` : ''}\n`);
  }
}
await configure('vxmesh');
const load = (await import('node:os')).loadavg()[0].toFixed(1);
console.log(`\niperf3 -t ${SECS}, one TCP stream: workload on host 1 -> workload on host 2 (overlay), then host 1 -> host 2 (underlay); ${ROUNDS} interleaved rounds, load ${load}`);
console.log('CPU cost ratio = underlay CPU per GB / overlay CPU per GB (perf samples in iperf3 + ksoftirqd): the throughput ratio when both are CPU-bound on an otherwise idle machine');
console.log('| configuration | overlay Gbit/s (median) | underlay Gbit/s (median) | throughput ratio median (min-max) | rounds < 0.9x | CPU cost ratio median (min-max) |\n|---|---|---|---|---|---|');
const med = (xs) => pct(xs, 50);
const range = (xs) => `${med(xs).toFixed(2)}x (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
for (const [name, rs] of Object.entries(rows)) {
  const cost = PERF ? range(rs.map((r) => r.costRatio)) : 'no perf';
  const ratios = rs.map((r) => r.overlay / r.underlay);
  console.log(`| ${name} | ${med(rs.map((r) => r.overlay)).toFixed(1)} | ${med(rs.map((r) => r.underlay)).toFixed(1)} | ${range(ratios)} | ${ratios.filter((x) => x < 0.9).length} of ${rs.length} | ${cost} |`);
}
console.log('| anchor: Docker swarm overlay (issue 9) | | | 0.775x | | |');
process.exit(0);
