#!/usr/bin/env node
// Failure detection: vxmesh memberlist vs the real Go hashicorp/memberlist (test/interop/gopeer),
// measured the same way on both sides. Every node is its own process (vxmesh: bench/ts-peer.mjs);
// each trial SIGKILLs one node and times, in this process, from the kill to the moment the LAST
// survivor reports it dead (the leave event read from its stdout). A fresh node (new name) then
// replaces it, so the cluster size stays N. Also: bytes per node per second while idle, and
// false positives (a live node reported dead), optionally with every core kept busy.
//
//   npx tsc -p tsconfig.json && node bench/gossip-failure.mjs [--nodes 5] [--trials 10]
//     [--impl both|vxmesh|go] [--fast | --probe-ms 1000 --probe-timeout-ms 500 --gossip-ms 200
//     --suspicion-mult 4] [--load CORES|all] [--hold-ms 0] [--stall-ms 0 --stall-every-ms 2000]
// --stall-ms blocks each vxmesh node's event loop that long, every --stall-every-ms (random
// phase): what a busy agent or a GC pause does to the failure detector.
// With fewer than 100 trials the tail is reported as max, not p99.
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildGoPeer, GoPeer, percentile, sleep, waitFor } from './gossip-common.mjs';

const { values: opt } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    trials: { type: 'string', default: '10' },
    impl: { type: 'string', default: 'both' },
    fast: { type: 'boolean', default: false },
    'probe-ms': { type: 'string' },
    'probe-timeout-ms': { type: 'string' },
    'gossip-ms': { type: 'string' },
    'suspicion-mult': { type: 'string' },
    load: { type: 'string', default: '0' },
    'hold-ms': { type: 'string', default: '0' },
    'stall-ms': { type: 'string', default: '0' },
    'stall-every-ms': { type: 'string', default: '2000' },
  },
});
const N = Number(opt.nodes);
const TRIALS = Number(opt.trials);
const LOAD = opt.load === 'all' ? availableParallelism() : Number(opt.load);
const HOLD_MS = Number(opt['hold-ms']);
if (!(N >= 3) || !(TRIALS >= 1) || !['both', 'vxmesh', 'go'].includes(opt.impl)) {
  throw new Error('usage: gossip-failure.mjs [--nodes N>=3] [--trials T>=1] [--impl both|vxmesh|go] ...');
}
const timingArgs = [];
if (opt.fast) timingArgs.push('-fast');
for (const k of ['probe-ms', 'probe-timeout-ms', 'gossip-ms', 'suspicion-mult']) if (opt[k]) timingArgs.push(`-${k}`, opt[k]);
const profile = timingArgs.length ? timingArgs.join(' ') : 'LAN defaults';
const WINDOW_MS = 3000;
const tsPeer = fileURLToPath(new URL('./ts-peer.mjs', import.meta.url));
let port = 30000 + Math.floor(Math.random() * 20000);

async function waitUntil(cond, what) {
  try {
    await waitFor(cond, 60000);
  } catch {
    throw new Error(`timed out after 60 s waiting for ${what}`);
  }
}

function spawnPeer(impl, goBinary, name, join) {
  const args = ['-name', name, '-bind', '127.0.0.1', '-port', String(port++), ...timingArgs];
  if (join) args.push('-join', join);
  if (impl === 'go') return new GoPeer(goBinary, args);
  const stall = Number(opt['stall-ms']) > 0 ? ['-stall-ms', opt['stall-ms'], '-stall-every-ms', opt['stall-every-ms']] : [];
  return new GoPeer(process.execPath, [tsPeer, ...args, ...stall]);
}

/** Names each peer currently sees alive, from its join/leave events. */
function aliveSeenBy(p) {
  const alive = new Set();
  for (const e of p.events) {
    if (e.ev === 'join') alive.add(e.node.name);
    else if (e.ev === 'leave') alive.delete(e.node.name);
  }
  return alive;
}

async function runImpl(impl, goBinary) {
  const peers = [];
  let serial = 0;
  const seedName = `${impl}-seed`;
  const seed = spawnPeer(impl, goBinary, seedName, '');
  peers.push({ name: seedName, p: seed });
  await seed.waitEvent((e) => e.ev === 'ready', 10000);
  const seedAddr = `127.0.0.1:${port - 1}`;
  const addPeer = async () => {
    const name = `${impl}-${serial++}`;
    const p = spawnPeer(impl, goBinary, name, seedAddr);
    peers.push({ name, p });
    await p.waitEvent((e) => e.ev === 'joined', 10000);
  };
  for (let i = 1; i < N; i++) await addPeer();
  const fullView = () => peers.every(({ p }) => aliveSeenBy(p).size === N);
  await waitUntil(fullView, 'every node to see all N members');
  await sleep(1000);

  const bytes = async () => {
    let s = 0;
    for (const { p } of peers) {
      const st = await p.stats();
      s += st.udpBytesSent + st.tcpBytesSent;
    }
    return s;
  };
  const b0 = await bytes();
  await sleep(WINDOW_MS);
  const bytesPerNodeSec = ((await bytes()) - b0) / N / (WINDOW_MS / 1000);

  const killed = new Set();
  const falsePositives = () =>
    peers.reduce((s, { p }) => s + p.events.filter((e) => e.ev === 'leave' && !killed.has(e.node.name)).length, 0);
  if (HOLD_MS > 0) await sleep(HOLD_MS);
  const detect = [];
  for (let t = 0; t < TRIALS; t++) {
    const victimIdx = 1 + Math.floor(Math.random() * (peers.length - 1));
    const [{ name, p: victim }] = peers.splice(victimIdx, 1);
    killed.add(name);
    const t0 = Date.now();
    victim.kill();
    const seen = await Promise.all(peers.map(({ p }) => p.waitEvent((e) => e.ev === 'leave' && e.node.name === name, 60000)));
    detect.push(Math.max(...seen.map((e) => e.at)) - t0);
    await addPeer();
    await waitUntil(fullView, `the replacement of ${name} to be seen by all`);
  }
  const fp = falsePositives();
  for (const { p } of peers) p.kill();
  return { detect, bytesPerNodeSec, falsePositives: fp };
}

const loaders = [];
for (let i = 0; i < LOAD; i++) loaders.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
const impls = opt.impl === 'both' ? ['vxmesh', 'go'] : [opt.impl];
const go = impls.includes('go') ? buildGoPeer() : null;
const rows = [];
try {
  for (const impl of impls) {
    const r = await runImpl(impl, go?.binary);
    rows.push({
      impl,
      nodes: N,
      trials: TRIALS,
      'detect p50 ms': percentile(r.detect, 50),
      [TRIALS >= 100 ? 'detect p99 ms' : 'detect max ms']: TRIALS >= 100 ? percentile(r.detect, 99) : Math.max(...r.detect),
      'B/node/s': Math.round(r.bytesPerNodeSec),
      'false positives': r.falsePositives,
    });
  }
} finally {
  for (const l of loaders) l.kill('SIGKILL');
  go?.cleanup();
}
const stall = Number(opt['stall-ms']) > 0 ? `, vxmesh event loop blocked ${opt['stall-ms']} ms every ${opt['stall-every-ms']} ms` : '';
console.log(`gossip failure detection: SIGKILL -> last survivor reports dead; ${profile}; loopback; ${LOAD} busy-loop process(es)${HOLD_MS ? `, ${HOLD_MS} ms idle hold` : ''}${stall}`);
console.table(rows);
