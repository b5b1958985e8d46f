#!/usr/bin/env node
// Failure across hosts (issue 9 §4): kill -9 host 3's agent -> its FDB and neighbour entries are gone
// from hosts 1 and 2's sandboxes (watched with `ip -ts monitor`), at default gossip timing. After each
// trial host 3's agent restarts (same data dir) and republishes; the next trial waits for its entries.
// Usage: node bench/peers-failure.mjs [TRIALS=20]   (root; build first; ~7 s per trial)
import { spawn } from 'node:child_process';
import { cluster, pct, sh, until } from './peers-common.mjs';

const TRIALS = Number(process.argv[2] ?? 20);
const c = await cluster('f', 3);
const net = await c.apis[0].createNetwork({ name: `${c.P}net`, subnet: '10.76.0.0/24' });
for (const k of [1, 2, 3]) {
  await until(`network on ${k}`, async () => (await c.api(k).listNetworks()).some((n) => n.id === net.id));
  sh('ip', ['netns', 'add', `${c.P}-w${k}`]);
}
const ep3 = await c.api(3).attach({ network: net.name, netns: `/run/netns/${c.P}-w3` });
await c.api(1).attach({ network: net.name, netns: `/run/netns/${c.P}-w1` });
await c.api(2).attach({ network: net.name, netns: `/run/netns/${c.P}-w2` });
const ip3 = ep3.ipv4.split('/')[0];

// Watch hosts 1 and 2's sandboxes: the time host 3's neighbour entry appears / is deleted.
const last = { 1: { added: 0, deleted: 0 }, 2: { added: 0, deleted: 0 } };
for (const k of [1, 2]) {
  const mon = c.track(spawn('nsenter', [`--net=${c.sandbox(k, net.id)}`, 'ip', '-ts', 'monitor', 'neigh'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  mon.stdout.on('data', (b) => {
    for (const line of b.toString().split('\n')) {
      const m = /^\[([^\]]+)\]\s+(Deleted )?(\S+) dev vxlan0/.exec(line);
      if (m && m[3] === ip3) last[k][m[2] ? 'deleted' : 'added'] = Date.parse(m[1]);
    }
  });
}
const present = (k) => sh('nsenter', [`--net=${c.sandbox(k, net.id)}`, 'ip', 'neigh', 'show', 'dev', 'vxlan0']).includes(ip3);
await until('host 3 programmed on 1 and 2', () => present(1) && present(2));

const gone = [];
for (let i = 0; i < TRIALS; i++) {
  const t0 = Date.now();
  await c.kill9(3);
  await until('entries gone', () => last[1].deleted > t0 && last[2].deleted > t0, 15_000, 20);
  gone.push(Math.max(last[1].deleted, last[2].deleted) - t0);
  process.stderr.write(`trial ${i + 1}: ${gone.at(-1)} ms\n`);
  await c.startAgent(3);
  await until('host 3 back on 1 and 2', () => present(1) && present(2), 30_000);
}
console.log(`\nkill -9 -> host 3's entries gone from hosts 1 and 2, ${TRIALS} trials (default timing: probe 400 ms, timeout 200 ms, suspicion x3)`);
console.log('| p50 | max | anchor: Docker swarm |\n|---|---|---|');
console.log(`| ${pct(gone, 50)} ms | ${Math.max(...gone)} ms | 5.3-7 s |`);
process.exit(0);
