#!/usr/bin/env node
// Throughput across hosts (issue 9): iperf3, one TCP stream, between workloads on two netns hosts
// over the vxmesh overlay vs between the two hosts over the underlay directly, in the same run;
// first with default offloads, then with GRO on every veth end (and UDP GRO forwarding on the
// underlay legs; see reference/platform-notes.md).
// Usage: node bench/peers-throughput.mjs [SECONDS=3]   (root; build first)
import { spawn, spawnSync } from 'node:child_process';
import { cluster, sh, sleep, until } from './peers-common.mjs';

const SECS = Number(process.argv[2] ?? 3);
const c = await cluster('t', 2);
const net = await c.apis[0].createNetwork({ name: `${c.P}net`, subnet: '10.77.0.0/24' });
await until('network on host 2', async () => (await c.api(2).listNetworks()).some((n) => n.id === net.id));
const w = (k) => `/run/netns/${c.P}-w${k}`;
for (const k of [1, 2]) sh('ip', ['netns', 'add', `${c.P}-w${k}`]);
await c.api(1).attach({ network: net.name, netns: w(1) });
const ep2 = await c.api(2).attach({ network: net.name, netns: w(2) });
const ip2 = ep2.ipv4.split('/')[0];
await until('overlay path', () => spawnSync('nsenter', [`--net=${w(1)}`, 'ping', '-c', '1', '-W', '1', ip2]).status === 0);

async function iperf(serverNs, clientNs, addr) {
  const srv = c.track(spawn('nsenter', [`--net=${serverNs}`, 'iperf3', '-s', '-1', '-B', addr], { stdio: 'ignore' }));
  await sleep(300);
  const out = sh('nsenter', [`--net=${clientNs}`, 'iperf3', '-c', addr, '-t', String(SECS), '-J']);
  srv.kill('SIGKILL');
  return JSON.parse(out).end.sum_received.bits_per_second / 1e9;
}
const host = (k) => `/run/netns/${c.P}-h${k}`;
const measure = async () => ({ overlay: await iperf(w(2), w(1), ip2), underlay: await iperf(host(2), host(1), '198.51.100.2') });

const rows = [['default offloads', await measure()]];
// GRO on every veth end on the path, UDP GRO forwarding on the underlay legs.
const veths = (ns) => (JSON.parse(sh('nsenter', [`--net=${ns}`, 'ip', '-j', 'link', 'show', 'type', 'veth'])) ?? []).map((l) => l.ifname);
const all = [host(1), host(2), `/run/netns/${c.P}-sw`, w(1), w(2), c.sandbox(1, net.id), c.sandbox(2, net.id)];
for (const ns of all) {
  for (const dev of veths(ns)) {
    spawnSync('nsenter', [`--net=${ns}`, 'ethtool', '-K', dev, 'gro', 'on']);
    if (dev === 'ul0' || ns.endsWith('-sw')) spawnSync('nsenter', [`--net=${ns}`, 'ethtool', '-K', dev, 'rx-udp-gro-forwarding', 'on']);
  }
}
rows.push(['GRO on veths', await measure()]);
console.log(`\niperf3 -t ${SECS}, one TCP stream, workload on host 1 -> workload on host 2 (overlay) vs host 1 -> host 2 (underlay)`);
console.log('| offloads | overlay Gbit/s | underlay Gbit/s | ratio |\n|---|---|---|---|');
for (const [name, r] of rows) console.log(`| ${name} | ${r.overlay.toFixed(1)} | ${r.underlay.toFixed(1)} | ${(r.overlay / r.underlay).toFixed(2)}x |`);
console.log('| anchor: Docker swarm overlay (issue 9) | | | 0.775x |');
process.exit(0);
