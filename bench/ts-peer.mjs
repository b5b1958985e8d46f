#!/usr/bin/env node
// ts-peer: one vxmesh memberlist node in its own process, speaking gopeer's line protocol
// (test/interop/gopeer/main.go) so benches can SIGKILL either implementation the same way.
// Flags: -name -bind -port -join host:port[,..] -fast -probe-ms -probe-timeout-ms -gossip-ms
// -suspicion-mult, -stall-ms MS -stall-every-ms MS (block the event loop for MS every so often,
// as a busy agent or a GC pause would). Events on stdout: ready, joined, join, leave (node.state "dead"/"left"),
// stats. Commands on stdin: stats, shutdown. Exits when stdin closes (no orphans).
// Imports dist/: build first with `npx tsc -p tsconfig.json`.
import { createInterface } from 'node:readline';
import { createMemberlist, defaultLanConfig } from '../dist/gossip/memberlist/index.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`-${name}`);
  if (i < 0) return fallback;
  return args[i + 1] === undefined || args[i + 1].startsWith('-') ? true : args[i + 1];
};
const emit = (v) => process.stdout.write(`${JSON.stringify(v)}\n`);
const timing = {};
if (flag('fast', false) === true) Object.assign(timing, { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 });
if (flag('probe-ms')) timing.probeIntervalMs = Number(flag('probe-ms'));
if (flag('probe-timeout-ms')) timing.probeTimeoutMs = Number(flag('probe-timeout-ms'));
if (flag('gossip-ms')) timing.gossipIntervalMs = Number(flag('gossip-ms'));
if (flag('suspicion-mult')) timing.suspicionMult = Number(flag('suspicion-mult'));

const name = String(flag('name', 'tspeer'));
const bind = String(flag('bind', '127.0.0.1'));
const port = Number(flag('port', 7946));
const node = (n) => ({ name: n.name, addr: n.addr, port: n.port, state: n.state });
const ml = await createMemberlist(defaultLanConfig({ name, bindAddr: bind, bindPort: port, ...timing }), {
  events: {
    notifyJoin: (n) => emit({ ev: 'join', node: node(n) }),
    notifyLeave: (n) => emit({ ev: 'leave', node: node(n) }),
    notifyUpdate: (n) => emit({ ev: 'update', node: node(n) }),
  },
});
emit({ ev: 'ready', name, port });
const stallMs = Number(flag('stall-ms', 0));
if (stallMs > 0) {
  const every = Number(flag('stall-every-ms', 2000));
  // Random phase, so nodes do not stall in lockstep.
  setTimeout(() => {
    setInterval(() => {
      const until = Date.now() + stallMs;
      while (Date.now() < until);
    }, every).unref();
  }, Math.floor(Math.random() * every)).unref();
}
const join = flag('join', '');
if (join) {
  try {
    emit({ ev: 'joined', n: await ml.join(String(join).split(',')) });
  } catch (err) {
    emit({ ev: 'joined', n: 0, error: err.message });
  }
}
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const cmd = line.trim();
  if (cmd === 'stats') {
    emit({ ev: 'stats', health: ml.healthScore(), members: ml.numMembers(), udpBytesSent: ml.stats.udpBytesSent, tcpBytesSent: ml.stats.tcpBytesSent });
  } else if (cmd === 'shutdown') {
    await ml.shutdown();
    emit({ ev: 'bye' });
    process.exit(0);
  }
});
rl.on('close', async () => {
  await ml.shutdown();
  process.exit(0);
});
