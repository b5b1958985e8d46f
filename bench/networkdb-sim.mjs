#!/usr/bin/env node
// Entry propagation through one NetworkDB network of N in-process nodes with Docker's 200 ms
// gossip interval. Measures wall time from createEntry on one node until every node has it.
//
//   node bench/networkdb-sim.mjs [--nodes 1000] [--cluster sim|memberlist] [--runs 3]
//
// --cluster sim        : SimHub (memberlist stand-in that routes user messages in-process)
// --cluster memberlist : vxmesh's real memberlist over its in-memory transport (MemNetwork);
//                        200 nodes set up in ~20 s, 1000 nodes did not finish setup in 6 min
//                        (memberlist's own joins/push-pulls), so the 1000-node run uses sim.
// Import from dist/: build first with `npx tsc -p tsconfig.json`.

import { parseArgs } from 'node:util';
import { NetworkDB, SimHub } from '../dist/gossip/networkdb/index.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    cluster: { type: 'string', default: 'sim' },
    runs: { type: 'string', default: '3' },
  },
});
const N = Number(values.nodes);
const RUNS = Number(values.runs);
const GOSSIP_MS = 200;
const NID = 'bench-net';
const TABLE = 'overlay_peer_table';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond, timeoutMs, what) {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function makeDbs() {
  const dbs = [];
  for (let i = 0; i < N; i++) dbs.push(new NetworkDB({ nodeName: `node${i}`, gossipIntervalMs: GOSSIP_MS }));
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
  // A second push/pull with the seed (memberlist does these every 30 s) spreads full membership.
  for (const db of dbs.slice(1)) hub.pushPull(db.nodeName, 'node0');
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
  const { createMemberlist, fastTestConfig, MemNetwork } = await import('../dist/gossip/memberlist/index.js');
  const net = new MemNetwork();
  const dbs = makeDbs();
  await joinNetworkEverywhere(dbs);
  const mls = [];
  for (let i = 0; i < N; i++) {
    const ip = `127.${Math.floor(i / 250) + 1}.0.${(i % 250) + 1}`;
    // Docker's LAN gossip interval (200 ms); probes slowed so failure detection does not dominate.
    const cfg = fastTestConfig({ name: dbs[i].nodeName, bindAddr: ip, bindPort: 7946, gossipIntervalMs: GOSSIP_MS, probeIntervalMs: 5_000, probeTimeoutMs: 2_000 });
    const ml = await createMemberlist(cfg, { transport: net.transport(), delegate: dbs[i], events: dbs[i] });
    dbs[i].attach(ml);
    mls.push({ ml, addr: `${ip}:7946` });
  }
  for (const m of mls.slice(1)) await m.ml.join([mls[0].addr]);
  await waitFor(() => mls.every((m) => m.ml.numMembers() === N), 120_000, 'memberlist membership');
  // Join again = one more push/pull with the seed, which by now knows every membership.
  for (const m of mls.slice(1)) await m.ml.join([mls[0].addr]);
  return {
    dbs,
    stats: () => ({}),
    close: async () => {
      for (const db of dbs) db.close();
      for (const m of mls) await m.ml.shutdown();
    },
  };
}

const t0 = Date.now();
const world = values.cluster === 'memberlist' ? await setupMemberlist() : await setupSim();
const { dbs } = world;
await waitFor(() => dbs.every((db) => db.peers(NID).length === N), 120_000, 'network membership');
console.log(`networkdb-sim: ${N} nodes on ${values.cluster}, gossip ${GOSSIP_MS} ms, setup ${Date.now() - t0} ms`);
await sleep(4_000); // let the join broadcasts finish their retransmits

const results = [];
for (let run = 0; run < RUNS; run++) {
  const writer = dbs[Math.floor(Math.random() * N)];
  const key = `ep-${run}`;
  let have = 0;
  let lastAt = 0;
  const unsubs = dbs.map((db) =>
    db.watch(TABLE, NID, (c) => {
      if (c.key === key && c.type === 'create') {
        have++;
        lastAt = performance.now();
      }
    }),
  );
  const before = world.stats();
  const start = performance.now();
  writer.createEntry(TABLE, NID, key, Buffer.from(`10.0.${run}.1`));
  await waitFor(() => have === N, 30_000, `entry ${key} on all nodes (have ${have})`);
  const ms = lastAt - start;
  results.push(ms);
  await sleep(4_000); // retransmits drain before the next run
  const after = world.stats();
  const msgs = after.userMessages !== undefined ? after.userMessages - before.userMessages : undefined;
  console.log(
    `run ${run + 1}: entry on all ${N} nodes after ${ms.toFixed(0)} ms (~${(ms / GOSSIP_MS).toFixed(1)} gossip intervals)` +
      (msgs !== undefined ? `, ${msgs} gossip packets` : ''),
  );
  for (const u of unsubs) u();
}
const sorted = [...results].sort((a, b) => a - b);
console.log(`median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms (goal < 2000 ms)`);
await world.close();
process.exit(0);
