// N memberlist nodes (default 1000) in one process on the mem transport: time until every
// node knows about a join and about a failure, next to memberlist's formulas.
//
//   npx tsc -p tsconfig.json && node bench/gossip-sim.mjs [nodes] [--seed 1] [--latency 0.5] [--join-every 20]
//
// Time is simulated: every node, the mem transport and the suspicion timers run on one
// VirtualClock (a discrete-event scheduler), so results are in simulated milliseconds and do
// not depend on CPU speed. What is real: the whole memberlist state machine, the wire codec
// (msgpack, compound messages, LZW compression, CRC), push/pull joins over mem streams.
// What is simulated: time, and a network with a fixed one-way latency and no loss. CPU time
// spent in the codec costs zero simulated time (as if each node had its own fast CPU).
import { parseArgs } from 'node:util';
import {
  createMemberlist,
  defaultLanConfig,
  MemNetwork,
  retransmitLimit,
  suspicionTimeoutMs,
  VirtualClock,
} from '../dist/gossip/memberlist/index.js';
import { KnowledgeTracker, percentile, reportProgress, seededRandom } from './gossip-common.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string', default: '1' },
    latency: { type: 'string', default: '0.5' },
    'join-every': { type: 'string', default: '20' },
  },
});
const N = Number(positionals[0] ?? 1000);
const LATENCY_MS = Number(values.latency);
const JOIN_EVERY_MS = Number(values['join-every']);
if (!(N >= 3) || !(LATENCY_MS >= 0) || !(JOIN_EVERY_MS > 0)) throw new Error('usage: gossip-sim.mjs [nodes>=3] [--latency ms>=0] [--join-every ms>0]');
const random = seededRandom(Number(values.seed));
const clock = new VirtualClock();
const net = new MemNetwork({ clock, latencyMs: LATENCY_MS, random });
const tracker = new KnowledgeTracker(clock);
const wallStart = performance.now();
reportProgress(clock, `gossip-sim ${N}`);

// LAN defaults (probe 1 s / timeout 500 ms, gossip 200 ms to 3 nodes, suspicion mult 4,
// push/pull 30 s scaled by cluster size: every 180 s per node at 1000 nodes). Push/pull repairs
// the rare node that misses a join broadcast while the cluster is built; the measured join
// and failure spread by gossip (a push/pull in the few seconds measured is rare).
const ipOf = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const addrOf = (i) => `${ipOf(i)}:7946`;
const cfg = (i) => defaultLanConfig({ name: `n${i}`, bindAddr: ipOf(i), bindPort: 7946 });
const spawn = (i) => createMemberlist(cfg(i), { transport: net.transport(), events: tracker.events(`n${i}`), random, clock });

/** Join through random earlier nodes until one push/pull succeeds (failures would be reported). */
async function joinSomewhere(node, i) {
  for (let attempt = 0; ; attempt++) {
    const via = Math.floor(random() * i);
    try {
      await node.join([addrOf(via)]);
      return;
    } catch (err) {
      console.error(`join n${i} via n${via} failed: ${err.message}`);
      if (attempt >= 3) throw err;
    }
  }
}

// Build: a new node every JOIN_EVERY_MS simulated ms, each joining through a random member.
const nodes = [await spawn(0)];
const joins = [];
for (let i = 1; i < N; i++) {
  nodes.push(await spawn(i));
  joins.push(joinSomewhere(nodes[i], i));
  await clock.advance(JOIN_EVERY_MS);
}
await Promise.all(joins);
tracker.setFullSize(N);
if (!(await clock.runUntil(() => tracker.fullObservers() === N, clock.now() + 600_000))) {
  throw new Error(`membership did not converge: ${tracker.fullObservers()}/${N} nodes see all ${N}`);
}
const builtAt = clock.now();
console.error(`built and converged at ${(builtAt / 1000).toFixed(1)} s simulated`);
await clock.advance(10_000); // let the join broadcasts run out of retransmits

// Join: one more node joins through a random member.
const joiner = await spawn(N);
nodes.push(joiner);
tracker.expect(`n${N}`, 'alive');
const joined = joinSomewhere(joiner, N);
if (!(await clock.runUntil(() => tracker.known() === N, clock.now() + 120_000))) throw new Error(`join known by only ${tracker.known()}/${N}`);
await joined;
const joinDelays = tracker.delays();
await clock.advance(10_000);

// Failure: a node crashes (off the network, stops running; no leave message).
const victimIndex = Math.floor(N / 2);
tracker.expect(`n${victimIndex}`, 'dead');
net.setDown(addrOf(victimIndex), true);
await nodes[victimIndex].shutdown();
if (!(await clock.runUntil(() => tracker.known() === N, clock.now() + 300_000))) throw new Error(`failure known by only ${tracker.known()}/${N}`);
const failDelays = tracker.delays();

const n = N + 1;
const rounds = Math.ceil(Math.log(n) / Math.log(3));
const limit = retransmitLimit(4, n);
const minSusp = suspicionTimeoutMs(4, n, 1000);
const maxSusp = 6 * minSusp;
const fmt = (ds) => ({ p50: percentile(ds, 50), p99: percentile(ds, 99), knownByAllMs: Math.max(...ds) });
console.log(
  `memberlist simulation: ${n} nodes, mem transport (one-way latency ${LATENCY_MS} ms, no loss), LAN defaults, seed ${values.seed}\n` +
    `simulated time: cluster of ${N} built (a join every ${JOIN_EVERY_MS} ms) and converged at ${(builtAt / 1000).toFixed(1)} s; ` +
    `whole run ${(clock.now() / 1000).toFixed(1)} s simulated, ${clock.fired} timer events, ${((performance.now() - wallStart) / 1000).toFixed(0)} s wall`,
);
console.table([
  {
    event: 'join (alive) known by all',
    ...fmt(joinDelays),
    formula: `~log3(N)=${rounds} gossip rounds x 200 ms = ${rounds * 200} ms; each node retransmits ${limit}x (3 per round, ${Math.ceil(limit / 3)} rounds)`,
  },
  {
    event: 'failure (dead) known by all',
    ...fmt(failDelays),
    formula: `first probe + probe round (~1-2 s) + suspicion min ${minSusp} ms (2 confirmations) .. max ${maxSusp} ms (none) + gossip ~${rounds * 200} ms; Lifeguard bound ~${(2000 + maxSusp + rounds * 200) / 1000} s`,
  },
]);
for (const m of nodes) await m.shutdown();
