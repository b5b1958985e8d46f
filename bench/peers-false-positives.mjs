#!/usr/bin/env node
// No false positives under CPU load (issue 9 §4): N netns hosts (default 5), one agent each at the
// default gossip timing (probe 400 ms / timeout 200 ms / gossip 100 ms / suspicion x3), one network
// with an endpoint on every host, every core kept busy by spin loops for the whole run. A false
// positive is what a user would see: a live host's neighbour entry deleted from another host's
// sandbox (`ip -ts monitor neigh` on every sandbox; nothing detaches during the run). As a second
// witness every agent's `status` is polled each second: a poll that shows fewer alive members
// than hosts is counted too (`alive` leaves out suspects, so this counts suspicions that were
// refuted as well as deaths: the entries only go on a death). Detection speed (the other side of the trade) is bench/peers-failure.mjs.
// Usage: node bench/peers-false-positives.mjs [SECONDS=600] [HOSTS=5] [SPINNERS=nproc]   (root; build first)
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { cluster, sh, sleep, until } from './peers-common.mjs';

const SECS = Number(process.argv[2] ?? 600);
const HOSTS = Number(process.argv[3] ?? 5);
const SPINNERS = Number(process.argv[4] ?? availableParallelism());
const c = await cluster('p', HOSTS);
const net = await c.apis[0].createNetwork({ name: `${c.P}net`, subnet: '10.75.0.0/24' });
const ks = Array.from({ length: HOSTS }, (_, i) => i + 1);
const ips = new Map();
for (const k of ks) {
  await until(`network on ${k}`, async () => (await c.api(k).listNetworks()).some((n) => n.id === net.id));
  sh('ip', ['netns', 'add', `${c.P}-w${k}`]);
  const ep = await c.api(k).attach({ network: net.name, netns: `/run/netns/${c.P}-w${k}` });
  ips.set(ep.ipv4.split('/')[0], k);
}
const neighs = (k) => sh('nsenter', [`--net=${c.sandbox(k, net.id)}`, 'ip', 'neigh', 'show', 'dev', 'vxlan0', 'nud', 'permanent']);
await until('every host has every other host\'s entry', () => ks.every((k) => [...ips].filter(([, o]) => o !== k).every(([ip]) => neighs(k).includes(`${ip} `))), 30_000);

const falseDeletes = [];
for (const k of ks) {
  const mon = c.track(spawn('nsenter', [`--net=${c.sandbox(k, net.id)}`, 'ip', '-ts', 'monitor', 'neigh'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  mon.stdout.on('data', (b) => {
    for (const line of b.toString().split('\n')) {
      const m = /^\[([^\]]+)\]\s+Deleted (\S+) dev vxlan0/.exec(line);
      if (m && ips.has(m[2])) falseDeletes.push({ at: m[1], on: k, lost: ips.get(m[2]) });
    }
  });
}
const spinners = Array.from({ length: SPINNERS }, () => c.track(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' })));

const t0 = Date.now();
let polls = 0;
let lowPolls = 0;
const loads = [];
while (Date.now() - t0 < SECS * 1000) {
  const started = Date.now();
  const alive = await Promise.all(ks.map((k) => c.api(k).status().then((s) => s.gossip?.alive ?? 0, () => -1)));
  polls++;
  if (alive.some((a) => a !== -1 && a < HOSTS)) {
    lowPolls++;
    process.stderr.write(`${new Date().toISOString()} alive counts ${alive.join(',')}\n`);
  }
  if (polls % 10 === 0) loads.push(loadavg()[0]);
  if (polls % 60 === 0) {
    process.stderr.write(`${Math.round((Date.now() - t0) / 1000)} s: load ${loadavg()[0].toFixed(1)}, false deletions ${falseDeletes.length}, low polls ${lowPolls}\n`);
  }
  await sleep(Math.max(0, 1000 - (Date.now() - started)));
}
for (const s of spinners) s.kill('SIGKILL');
loads.push(loadavg()[0]);
const loadText = `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`;
console.log(`\n${HOSTS} hosts, ${SECS} s, ${SPINNERS} spin loops (every core busy), load average ${loadText}, default timing`);
console.log('| live host\'s entry deleted on a peer (false positive) | status polls with a member suspect or dead | polls |\n|---|---|---|');
console.log(`| ${falseDeletes.length} | ${lowPolls} | ${polls} |`);
for (const d of falseDeletes) console.log(`false positive: ${d.at} host ${d.on} deleted host ${d.lost}'s entry`);
process.exit(0);
