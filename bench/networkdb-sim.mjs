#!/usr/bin/env node
// Entry propagation through one NetworkDB network of N in-process nodes with Docker's 200 ms
// gossip interval: time from createEntry on one node until every node has it.
//
//   npx vite-node bench/networkdb-sim.mjs -- [--nodes 1000] [--cluster sim|memberlist] [--runs 3] [--seed 1] [--latency 0.5]
//
// --cluster sim        : SimHub (memberlist stand-in that routes user messages in-process);
//                        real time (wall-clock timers).
// Also reported: how long network membership takes to converge once the cluster formed (by
// NetworkDB's own broadcasts and push/pull; nothing forced).
// --cluster memberlist : vxmesh's real memberlist (LAN defaults) over its in-memory transport
//                        (MemNetwork, fixed one-way latency, no loss). Every memberlist node, the
//                        transport and every NetworkDB run on one VirtualClock (a discrete-event
//                        scheduler), so times are simulated ms, independent of CPU speed; the
//                        protocols and codecs (memberlist msgpack/LZW, NetworkDB protobuf) are real.
// Runs under vite-node (shipped with vitest) so it can import the TypeScript sources and the test
// stand-in SimHub (test/support/, not part of the shipped package) without a build step.

import { parseArgs } from 'node:util';
import { NetworkDB } from '../src/gossip/networkdb/index.ts';
import { SimHub } from '../test/support/sim-hub.ts';
import { reportProgress, seededRandom } from './gossip-common.mjs';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    cluster: { type: 'string', default: 'sim' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    latency: { type: 'string', default: '0.5' },
  },
});
const N = Number(values.nodes);
const RUNS = Number(values.runs);
const LATENCY_MS = Number(values.latency);
if (!(N >= 2) || !(RUNS >= 1) || !['sim', 'memberlist'].includes(values.cluster)) {
  throw new Error('usage: networkdb-sim.mjs [--nodes N>=2] [--cluster sim|memberlist] [--runs R>=1]');
}
const random = seededRandom(Number(values.seed));
const GOSSIP_MS = 200;
const NID = 'bench-net';
const TABLE = 'overlay_peer_table';

/** Real time: timers and polling. */
const realTime = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  async waitFor(cond, timeoutMs, what) {
    const start = Date.now();
    while (!cond()) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what()}`);
      await realTime.sleep(20);
    }
  },
};

/** Simulated time: `cond` is checked after every event, `slowCond` only every 100 simulated ms. */
function virtualTime(clock) {
  return {
    now: () => clock.now(),
    sleep: (ms) => clock.advance(ms),
    async waitFor(cond, timeoutMs, what, slowCond = false) {
      let nextCheck = clock.now();
      const check = slowCond
        ? () => clock.now() >= nextCheck && ((nextCheck = clock.now() + 100), cond())
        : cond;
      if (!(await clock.runUntil(check, clock.now() + timeoutMs)) && !cond()) throw new Error(`timed out waiting for ${what()}`);
    },
  };
}

function makeDbs(extra = {}) {
  const dbs = [];
  for (let i = 0; i < N; i++) dbs.push(new NetworkDB({ nodeName: `node${i}`, gossipIntervalMs: GOSSIP_MS, random, ...extra }));
  return dbs;
}

/** Every node joins the network first, so membership travels with the cluster join push/pulls. */
async function joinNetworkEverywhere(dbs) {
  for (const db of dbs) await db.joinNetwork(NID);
}

async function setupSim() {
  const hub = new SimHub({ gossipIntervalMs: GOSSIP_MS });
  const dbs = makeDbs();
  await joinNetworkEverywhere(dbs);
  dbs.forEach((db, i) => {
    db.attach(hub.add(db.nodeName, db, db));
    hub.join(db.nodeName, i > 0 ? 'node0' : undefined);
  });
  hub.start();
  return {
    dbs,
    stats: () => ({ ...hub.stats }),
    close: async () => {
      hub.close();
      for (const db of dbs) db.close();
    },
  };
}

async function setupMemberlist() {
  const { createMemberlist, defaultLanConfig, MemNetwork, VirtualClock } = await import('../src/gossip/memberlist/index.ts');
  const clock = new VirtualClock();
  reportProgress(clock, `networkdb-sim ${N}`);
  const time = virtualTime(clock);
  const net = new MemNetwork({ clock, latencyMs: LATENCY_MS, random });
  const dbs = makeDbs({ clock });
  await joinNetworkEverywhere(dbs);
  const mls = [];
  const joins = [];
  for (let i = 0; i < N; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    // memberlist LAN defaults: probe 1 s, gossip 200 ms to 3 nodes, push/pull 30 s (scaled with N).
    const cfg = defaultLanConfig({ name: dbs[i].nodeName, bindAddr: ip, bindPort: 7946 });
    const ml = await createMemberlist(cfg, { transport: net.transport(), delegate: dbs[i], events: dbs[i], random, clock });
    dbs[i].attach(ml);
    mls.push({ ml, addr: `${ip}:7946` });
    // A node starts every 20 simulated ms and joins through the seed node0.
    if (i > 0) joins.push(ml.join([mls[0].addr]));
    await clock.advance(20);
  }
  await Promise.all(joins);
  await time.waitFor(
    () => mls.every((m) => m.ml.numMembers() === N),
    600_000,
    () => `memberlist membership (${mls.filter((m) => m.ml.numMembers() === N).length}/${N} complete)`,
    true,
  );
  return {
    dbs,
    time,
    stats: () => ({ timerEvents: clock.fired }),
    close: async () => {
      for (const db of dbs) db.close();
      for (const m of mls) await m.ml.shutdown();
    },
  };
}

const wallStart = performance.now();
const world = values.cluster === 'memberlist' ? await setupMemberlist() : { ...(await setupSim()), time: realTime };
const { dbs, time } = world;
const clockNote = values.cluster === 'memberlist' ? `simulated ms (one-way latency ${LATENCY_MS} ms), seed ${values.seed}` : 'wall-clock ms';
// Network membership travels by NetworkDB's network-event broadcasts (piggybacked on memberlist
// gossip) and memberlist push/pull; nothing is forced. Measured from the moment every node is a
// cluster member until every node lists all N in the network.
const t0 = time.now();
await time.waitFor(
  () => dbs.every((db) => db.peers(NID).length === N),
  600_000,
  () => `network membership (${dbs.filter((db) => db.peers(NID).length === N).length}/${N} complete)`,
  true,
);
console.log(`networkdb-sim: ${N} nodes on ${values.cluster}, gossip ${GOSSIP_MS} ms, times in ${clockNote}`);
console.log(`network membership: every node lists all ${N} nodes in the network ${(time.now() - t0).toFixed(0)} ms after the cluster formed`);
await time.sleep(10_000); // let the join broadcasts finish their retransmits

const results = [];
for (let run = 0; run < RUNS; run++) {
  const writer = dbs[Math.floor(random() * N)];
  const key = `ep-${run}`;
  let have = 0;
  let lastAt = 0;
  const unsubs = dbs.map((db) =>
    db.watch(TABLE, NID, (c) => {
      if (c.key === key && c.type === 'create') {
        have++;
        lastAt = time.now();
      }
    }),
  );
  const before = world.stats();
  const start = time.now();
  writer.createEntry(TABLE, NID, key, Buffer.from(`10.0.${run}.1`));
  await time.waitFor(() => have === N, 30_000, () => `entry ${key} on all nodes (have ${have})`);
  const ms = lastAt - start;
  results.push(ms);
  await time.sleep(4_000); // retransmits drain before the next run
  const after = world.stats();
  const msgs = after.userMessages !== undefined ? after.userMessages - before.userMessages : undefined;
  console.log(
    `run ${run + 1}: entry on all ${N} nodes after ${ms.toFixed(0)} ms (~${(ms / GOSSIP_MS).toFixed(1)} gossip intervals)` +
      (msgs !== undefined ? `, ${msgs} gossip packets` : ''),
  );
  for (const u of unsubs) u();
}
const sorted = [...results].sort((a, b) => a - b);
console.log(`median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms (goal < 2000 ms); wall ${((performance.now() - wallStart) / 1000).toFixed(0)} s`);
await world.close();
process.exit(0);
