// Failure detection time and bytes sent per node per second: vxmesh memberlist vs the real
// Go hashicorp/memberlist, same (fast) config, 3 and 10 node loopback clusters.
// Run after `npx tsc`: node bench/gossip-failure.mjs
import { createMemberlist, fastTestConfig } from '../dist/gossip/memberlist/index.js';
import { buildGoPeer, GoPeer, sleep, waitFor } from './gossip-common.mjs';

const WINDOW_MS = 4000;
let port = 30000 + Math.floor(Math.random() * 10000);

async function vxmesh(n) {
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const p = port++;
    nodes.push({ ml: await createMemberlist(fastTestConfig({ name: `ts${i}`, bindAddr: '127.0.0.1', bindPort: p })), addr: `127.0.0.1:${p}` });
  }
  for (const x of nodes.slice(1)) await x.ml.join([nodes[0].addr]);
  await waitFor(() => nodes.every((x) => x.ml.numMembers() === n), 10000);
  await sleep(1000);
  const bytes = () => nodes.reduce((s, x) => s + x.ml.stats.udpBytesSent + x.ml.stats.tcpBytesSent, 0);
  const b0 = bytes();
  await sleep(WINDOW_MS);
  const perNodePerSec = (bytes() - b0) / n / (WINDOW_MS / 1000);
  const victim = nodes.at(-1);
  const t0 = Date.now();
  await victim.ml.shutdown();
  const others = nodes.slice(0, -1);
  await waitFor(() => others.every((x) => x.ml.allNodes().some((m) => m.name === victim.ml.localName && m.state === 'dead')), 30000);
  const detect = Date.now() - t0;
  for (const x of others) await x.ml.shutdown();
  return { detect, perNodePerSec };
}

async function go(binary, n) {
  const peers = [];
  const first = port;
  for (let i = 0; i < n; i++) {
    const p = port++;
    const args = ['-name', `go${i}`, '-port', String(p), '-fast'];
    if (i > 0) args.push('-join', `127.0.0.1:${first}`);
    peers.push(new GoPeer(binary, args));
    await peers.at(-1).waitEvent((e) => e.ev === (i > 0 ? 'joined' : 'ready'), 5000);
  }
  try {
    await waitFor(() => peers.every((p) => p.events.filter((e) => e.ev === 'join').length >= n), 10000);
    await sleep(1000);
    const bytes = async () => {
      let s = 0;
      for (const p of peers) {
        const st = await p.stats();
        s += st.udpBytesSent + st.tcpBytesSent;
      }
      return s;
    };
    const b0 = await bytes();
    await sleep(WINDOW_MS);
    const perNodePerSec = ((await bytes()) - b0) / n / (WINDOW_MS / 1000);
    const victim = peers.at(-1);
    const name = `go${n - 1}`;
    const t0 = Date.now();
    victim.kill();
    const others = peers.slice(0, -1);
    await Promise.all(others.map((p) => p.waitEvent((e) => e.ev === 'leave' && e.node.name === name, 30000)));
    const detect = Math.max(...others.map((p) => p.events.find((e) => e.ev === 'leave' && e.node.name === name).at)) - t0;
    return { detect, perNodePerSec };
  } finally {
    for (const p of peers) p.kill();
  }
}

const { binary, cleanup } = buildGoPeer();
const rows = [];
try {
  for (const n of [3, 10]) {
    const runs = 3;
    const ts = [];
    const gs = [];
    for (let r = 0; r < runs; r++) {
      ts.push(await vxmesh(n));
      gs.push(await go(binary, n));
    }
    const avg = (xs, k) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    rows.push({
      nodes: n,
      vxDetectMs: Math.round(avg(ts, 'detect')),
      goDetectMs: Math.round(avg(gs, 'detect')),
      detectRatio: +(avg(ts, 'detect') / avg(gs, 'detect')).toFixed(2),
      vxBytesPerNodeSec: Math.round(avg(ts, 'perNodePerSec')),
      goBytesPerNodeSec: Math.round(avg(gs, 'perNodePerSec')),
      bytesRatio: +(avg(ts, 'perNodePerSec') / avg(gs, 'perNodePerSec')).toFixed(2),
    });
  }
} finally {
  cleanup();
}
console.log('gossip failure detection (probe 200ms / timeout 100ms / gossip 50ms, loopback, mean of 3 runs)');
console.table(rows);
console.log('goal: detectRatio <= 1.0, bytesRatio <= 1.2');
