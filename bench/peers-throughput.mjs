#!/usr/bin/env node
// Throughput across hosts (issue 9): iperf3, one TCP stream, between workloads on two netns hosts
// over the vxmesh overlay vs between the two hosts over the underlay directly, both streams at the same time (see measure()).
// Two overlay configurations, interleaved round by round with the underlay anchor:
//  - "vxmesh": as the agent programs it (sandbox bridges skip br_netfilter, VXLAN UDP untracked);
//  - "before": the same with those two undone by hand (br_netfilter hooks on in both sandboxes,
//    the host table's notrack chains deleted), i.e. what the agent did before.
// Per round: overlay, underlay, ratio; the table gives the median ratio per configuration.
// Usage: node bench/peers-throughput.mjs [SECONDS=3] [ROUNDS=4]   (root; build first)
import { spawn, spawnSync } from 'node:child_process';
import { cluster, pct, sh, until } from './peers-common.mjs';

const SECS = Number(process.argv[2] ?? 3);
const ROUNDS = Number(process.argv[3] ?? 4);
const c = await cluster('t', 2);
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
const brNf = (ns) => inNs(ns, 'sysctl', ['-n', 'net.bridge.bridge-nf-call-iptables']).trim();
const notrackChains = (k) => (inNs(host(k), 'nft', ['list', 'table', 'inet', 'vxmesh']).match(/chain raw-(prerouting|output)/g) ?? []).length;
await until('agent set the sandbox sysctls and notrack chains', () => sandboxes.every((ns) => brNf(ns) === '0') && notrackChains(1) === 2 && notrackChains(2) === 2);

let isBefore = false;
function configure(before) {
  if (before === isBefore) return;
  isBefore = before;
  for (const ns of sandboxes) {
    const v = before ? '1' : '0';
    inNs(ns, 'sysctl', ['-q', '-w', `net.bridge.bridge-nf-call-iptables=${v}`, `net.bridge.bridge-nf-call-ip6tables=${v}`, `net.bridge.bridge-nf-call-arptables=${v}`]);
  }
  for (const k of [1, 2]) {
    const lines = before
      ? ['delete chain inet vxmesh raw-prerouting', 'delete chain inet vxmesh raw-output']
      : [
          'add chain inet vxmesh raw-prerouting { type filter hook prerouting priority raw; policy accept; }',
          'add rule inet vxmesh raw-prerouting udp dport 4789 notrack',
          'add chain inet vxmesh raw-output { type filter hook output priority raw; policy accept; }',
          'add rule inet vxmesh raw-output udp dport 4789 notrack',
        ];
    inNs(host(k), 'nft', ['-f', '-'], lines.join('\n') + '\n');
  }
}

async function iperf(serverNs, clientNs, addr, port) {
  const srv = c.track(spawn('nsenter', [`--net=${serverNs}`, 'iperf3', '-s', '-1', '-B', addr, '-p', String(port)], { stdio: 'ignore' }));
  await until(`iperf3 server on ${addr}`, () => spawnSync('nsenter', [`--net=${serverNs}`, 'ss', '-Htln', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim() !== '', 5_000, 20);
  return async () => {
    const cli = c.track(spawn('nsenter', [`--net=${clientNs}`, 'iperf3', '-c', addr, '-p', String(port), '-t', String(SECS), '-J'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    cli.stdout.on('data', (b) => (out += b));
    cli.stderr.on('data', (b) => (err += b));
    const code = await new Promise((r) => cli.on('exit', r));
    srv.kill('SIGKILL');
    if (code !== 0) throw new Error(`iperf3 -c ${addr}: exit ${code}: ${err}${out.slice(0, 500)}`);
    return JSON.parse(out).end.sum_received.bits_per_second / 1e9;
  };
}
// Both streams at once: they share the CPUs and whatever else the machine is doing, so their
// ratio compares the CPU each path needs per byte (sequential runs on a shared machine drift
// with the background load between the two halves).
async function measure() {
  const [o, u] = [await iperf(w(2), w(1), ip2, 5201), await iperf(host(2), host(1), '198.51.100.2', 5202)];
  const [overlay, underlay] = await Promise.all([o(), u()]);
  return { overlay, underlay };
}

const rows = { vxmesh: [], before: [] };
for (let i = 0; i < ROUNDS; i++) {
  for (const name of i % 2 ? ['before', 'vxmesh'] : ['vxmesh', 'before']) {
    configure(name === 'before');
    const r = await measure();
    rows[name].push(r);
    process.stderr.write(`round ${i + 1} ${name}: overlay ${r.overlay.toFixed(2)} underlay ${r.underlay.toFixed(2)} -> ${(r.overlay / r.underlay).toFixed(3)}x\n`);
  }
}
configure(false);
const load = (await import('node:os')).loadavg()[0].toFixed(1);
console.log(`\niperf3 -t ${SECS}, one TCP stream each, at the same time: workload on host 1 -> workload on host 2 (overlay) and host 1 -> host 2 (underlay); ${ROUNDS} interleaved rounds, load ${load}`);
console.log('| configuration | overlay Gbit/s (median) | underlay Gbit/s (median) | ratio median | ratio min-max |\n|---|---|---|---|---|');
for (const [name, rs] of Object.entries(rows)) {
  const ratios = rs.map((r) => r.overlay / r.underlay);
  const med = (xs) => pct(xs, 50);
  console.log(`| ${name} | ${med(rs.map((r) => r.overlay)).toFixed(1)} | ${med(rs.map((r) => r.underlay)).toFixed(1)} | ${med(ratios).toFixed(2)}x | ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x |`);
}
console.log('| anchor: Docker swarm overlay (issue 9) | | | 0.775x | |');
process.exit(0);
