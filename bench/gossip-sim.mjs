// 1000 memberlist nodes in one process on the mem transport (real codec, compression):
// time until every node knows about a join and about a failure, next to memberlist's
// formulas. Run after `npx tsc`: node bench/gossip-sim.mjs [nodes]
import { createMemberlist, defaultLanConfig, MemNetwork, suspicionTimeoutMs, retransmitLimit } from '../dist/gossip/memberlist/index.js';
import { sleep, waitFor } from './gossip-common.mjs';

const N = Number(process.argv[2] ?? 1000);
const net = new MemNetwork();
// LAN defaults (probe 1 s, gossip 200 ms to 3 nodes); push/pull off so only gossip spreads news.
const cfg = (i) =>
  defaultLanConfig({ name: `n${i}`, bindAddr: `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255 || 0}`, bindPort: 7946 + (i & 255 ? 0 : 1), pushPullIntervalMs: 0 });
const addrOf = (i) => {
  const c = cfg(i);
  return `${c.bindAddr}:${c.bindPort}`;
};
const nodes = [];
const t0 = Date.now();
for (let i = 0; i < N; i++) {
  nodes.push(await createMemberlist(cfg(i), { transport: net.transport() }));
  for (let attempt = 0; i > 0; attempt++) {
    const j = Math.floor(Math.random() * i);
    try {
      await nodes[i].join([addrOf(j)]);
      break;
    } catch (err) {
      console.error(`join n${i} via n${j} failed (${err.message}); server rejects: ${JSON.stringify([...nodes[j].rejectedCounts()])}`);
      if (attempt >= 3) throw err;
    }
  }
}
const knows = (ml, name, state) => ml.allNodes().some((m) => m.name === name && m.state === state);
await waitFor(() => nodes.every((m) => m.numMembers() === N), 300000);
const buildMs = Date.now() - t0;
await sleep(2000);

// join: one more node joins through a random member
const joiner = await createMemberlist(cfg(N), { transport: net.transport() });
const tj = Date.now();
await joiner.join([addrOf(Math.floor(Math.random() * N))]);
await waitFor(() => nodes.every((m) => knows(m, `n${N}`, 'alive')), 120000);
const joinMs = Date.now() - tj;
nodes.push(joiner);

// failure: take a node off the network
const victim = nodes[Math.floor(N / 2)];
const tf = Date.now();
net.setDown(addrOf(Math.floor(N / 2)), true);
const others = nodes.filter((m) => m !== victim);
await waitFor(() => others.every((m) => knows(m, victim.localName, 'dead')), 300000);
const failMs = Date.now() - tf;

const n = N + 1;
const minSusp = suspicionTimeoutMs(4, n, 1000);
const rounds = Math.ceil(Math.log(n) / Math.log(3));
console.log(`memberlist simulation: ${n} nodes on the mem transport (LAN defaults, push/pull off); cluster built in ${buildMs} ms`);
console.table([
  { event: 'join known by all', measuredMs: joinMs, formula: `~log3(N)=${rounds} gossip rounds x 200 ms = ${rounds * 200} ms (retransmit limit ${retransmitLimit(4, n)})` },
  {
    event: 'failure known by all',
    measuredMs: failMs,
    formula: `probe (<= N x 1 s / N probers, ~1-2 s) + suspicion min ${minSusp} ms (with ${4 - 2} confirmations; max ${minSusp * 6} ms) + gossip ~${rounds * 200} ms`,
  },
]);
for (const m of nodes) await m.shutdown();
