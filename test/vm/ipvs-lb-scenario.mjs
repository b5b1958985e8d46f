// Runs INSIDE the run-in-vm.sh VM (a kernel with ip_vs), from the repository root, after `tsc` and the
// native addon build, in the client namespace:
//   ip netns add vxi-cl && nsenter --net=/run/netns/vxi-cl node test/vm/ipvs-lb-scenario.mjs
// prints `RESULT <json>` for test/vm/ipvs-lb.test.ts. ONE node process (under TCG every process start
// costs seconds): its own connections come from the client namespace, backends are servers in their
// namespaces through the native addon, connections made inside the LB namespace are a bash loop.
// Topology: namespace LB routes between a client namespace and 3 backend namespaces. A VIP frontend
// (10.77.100.10, no local address anywhere) and a published-port frontend (LB:8080 -> backends:9000,
// SNAT to 10.77.200.1) are programmed by IpvsLoadBalancer; the assertions live in the .test.ts.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';

/** A backend: greets with its name and the peer address it sees, then echoes lines until the client ends. */
function serve(server, name) {
  server.on('connection', (sock) => {
    sock.on('error', () => undefined);
    sock.write(`${name} ${sock.remoteAddress}\n`);
    sock.on('data', (b) => sock.write(b));
    sock.on('end', () => sock.end());
  });
}

// ---- the scenario (VM root namespace drives; everything it makes dies with the VM anyway)

function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}
const inNs = (ns, cmd, args) => sh('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args]);
const ipb = (ns, lines) => sh('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');

const T0 = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(1)}s] ${msg}\n`);

async function waitFor(what, probe, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const BURST = `H=$1; P=$2; N=$3
for i in $(seq "$N"); do
  if exec 3<>"/dev/tcp/$H/$P"; then
    if read -r -t 3 line <&3; then echo "ok $line"; else echo "err read$?"; fi
    exec 3<&- 3>&-
  else echo "err connect"; fi
done 2>/dev/null`;

/** N connections from namespace ns (bash, one after another): counts per backend, per peer address seen, errors. */
function runBurstIn(ns, host, port, n) {
  const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, 'timeout', '120', 'bash', '-c', BURST, 'burst', host, String(port), String(n)], { encoding: 'utf8' });
  const backends = {};
  const peers = {};
  const errors = {};
  for (const l of r.stdout.split('\n').filter(Boolean)) {
    const [st, a, b] = l.split(' ');
    if (st === 'ok') {
      backends[a] = (backends[a] ?? 0) + 1;
      peers[b] = (peers[b] ?? 0) + 1;
    } else errors[a] = (errors[a] ?? 0) + 1;
  }
  return { backends, peers, errors };
}

/** One connection from this process (the client namespace): the backend's greeting line, or the error. */
function connectOnce(host, port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, timeout: 10_000 });
    let buf = '';
    sock.on('data', (b) => {
      buf += b.toString();
      if (buf.includes('\n')) {
        sock.end();
        resolve({ ok: true, line: buf.split('\n')[0] });
      }
    });
    sock.on('timeout', () => sock.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    sock.on('error', (e) => resolve({ ok: false, error: e.code ?? e.message }));
  });
}

/** N connections from the client namespace, 16 at a time. */
async function runBurst(host, port, n) {
  const backends = {};
  const peers = {};
  const errors = {};
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      const r = await connectOnce(host, port);
      if (!r.ok) errors[r.error] = (errors[r.error] ?? 0) + 1;
      else {
        const [name, peer] = r.line.split(' ');
        backends[name] = (backends[name] ?? 0) + 1;
        peers[peer] = (peers[peer] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { backends, peers, errors };
}

/** One long-lived connection from the client namespace. */
class Holder {
  constructor(host, port) {
    this.lines = [];
    this.sock = net.connect({ host, port });
    this.sock.on('error', (e) => this.lines.push(`error ${e.code ?? e.message}`));
    createInterface({ input: this.sock }).on('line', (l) => this.lines.push(l));
  }
  async first() {
    return waitFor('hold connection greeting', () => this.lines[0], 30_000);
  }
  /** Sends a word and waits for it to come back over the same connection. */
  async echo(word) {
    this.sock.write(word + '\n');
    return waitFor(`echo of ${word}`, () => this.lines.find((l) => l === word || l.startsWith('error')), 30_000).catch((e) => String(e));
  }
  close() {
    this.sock.end();
    return new Promise((r) => (this.sock.closed ? r() : this.sock.on('close', r)));
  }
}

async function scenario() {
  const { IpvsLoadBalancer } = await import('../../dist/ingress/lb/ipvs.js');
  const { ipvsAvailable } = await import('../../dist/kernel/ipvs.js');
  const { parseIpvsSave } = await import('../../dist/kernel/ipvs-model.js');
  const { tcpServerInNetns } = await import('../../dist/kernel/native.js');
  const out = {};
  const LB = 'vxi-lb';
  const CL = 'vxi-cl';
  const BE = ['vxi-be1', 'vxi-be2', 'vxi-be3'];
  const lbNs = { kind: 'named', name: LB };
  const VIP = '10.77.100.10';
  const SNAT = '10.77.200.1';
  const backendIp = (i) => `10.77.${i + 1}.2`;

  out.moduleLoadedBefore = sh('sh', ['-c', 'grep -c "^ip_vs " /proc/modules || true']).trim() !== '0';
  for (const ns of [LB, ...BE]) sh('ip', ['netns', 'add', ns]); // CL: made by the caller, this process runs in it
  log('out.probeLb = await ipvsAvailable(lbNs);');
  out.probeLb = await ipvsAvailable(lbNs);
  // The route to the VIP's subnet stands for a task namespace's overlay route (a local connect needs one).
  ipb(LB, ['link set lo up', `address add ${SNAT}/32 dev lo`, 'link add lbc type veth peer name cl0 netns ' + CL, 'address add 10.77.0.1/24 dev lbc', 'link set lbc up', 'route add 10.77.100.0/24 dev lbc']);
  inNs(LB, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  ipb(CL, ['link set lo up', 'address add 10.77.0.2/24 dev cl0', 'link set cl0 up', 'route add default via 10.77.0.1']);
  const servers = [];
  for (const [i, be] of BE.entries()) {
    ipb(LB, [`link add lb${i} type veth peer name eth0 netns ${be}`, `address add 10.77.${i + 1}.1/24 dev lb${i}`, `link set lb${i} up`]);
    ipb(be, ['link set lo up', `address add ${backendIp(i)}/24 dev eth0`, 'link set eth0 up', `route add default via 10.77.${i + 1}.1`]);
    for (const port of [80, 9000]) {
      const srv = await tcpServerInNetns(`/run/netns/${be}`, 'tcp4', '0.0.0.0', port);
      serve(srv, be);
      servers.push(srv);
    }
  }
  try {
    out.direct = await Promise.all([0, 1, 2].map((i) => runBurst(backendIp(i), 80, 1)));

    // Someone else's IPVS services in the same namespace: never touched.
    inNs(LB, 'ipvsadm', ['-A', '-f', '257', '-s', 'rr']);
    inNs(LB, 'ipvsadm', ['-A', '-t', '10.77.0.1:5555', '-s', 'wlc']);
    const foreign = inNs(LB, 'ipvsadm', ['-S', '-n']);

    const all = BE.map((_, i) => backendIp(i));
    const frontends = (backends) => [
      { id: 'svc-web/net1', match: { kind: 'vip', vip: VIP }, backends, affinity: 'none' },
      { id: 'svc-web/tcp/8080', match: { kind: 'port', protocol: 'tcp', port: 8080, family: 4 }, targetPort: 9000, backends, affinity: 'none', snatTo: SNAT },
    ];
    log('const lb = new IpvsLoadBalancer(');
    const lb = new IpvsLoadBalancer({ quiesceMs: 60_000, drainCheckMs: 200 });
    let t = Date.now();
    await lb.sync(lbNs, frontends(all));
    out.firstSyncMs = Date.now() - t;
    out.save1 = inNs(LB, 'ipvsadm', ['-S', '-n']);
    out.services1 = parseIpvsSave(out.save1);
    log('out.vip300 = await');
    out.vip300 = await runBurst(VIP, 80, 300);
    log('out.port60 = await');
    out.port60 = await runBurst('10.77.0.1', 8080, 60);
    log('out.local6');
    out.local6 = runBurstIn(LB, VIP, 80, 6); // made in the LB namespace itself (output path)
    out.localCt = spawnSync('nsenter', [`--net=/run/netns/${LB}`, 'cat', '/proc/net/nf_conntrack'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('src=10.77.0.1 dst=10.77.100.10')).join('\n');
    t = Date.now();
    await lb.sync(lbNs, frontends(all));
    out.noopSyncMs = Date.now() - t;
    out.save1again = inNs(LB, 'ipvsadm', ['-S', '-n']);

    // Long-lived connections until two different backends hold one: the first is scaled away.
    log('const holders = [];');
    const holders = [];
    for (let k = 0; k < 6 && new Set(await Promise.all(holders.map((h) => h.first()))).size < 2; k++) holders.push(new Holder(VIP, 80));
    const greet = await Promise.all(holders.map((h) => h.first()));
    const leaving = holders[0];
    const leavingName = greet[0].split(' ')[0];
    const staying = holders[greet.findIndex((g) => g.split(' ')[0] !== leavingName)];
    const leavingIp = backendIp(BE.indexOf(leavingName));
    out.leavingName = leavingName;
    out.leavingIp = leavingIp;
    const remaining = all.filter((ip) => ip !== leavingIp);
    log('await lb.sync(lbNs, frontends(remaining)');
    await lb.sync(lbNs, frontends(remaining));
    out.saveDraining = inNs(LB, 'ipvsadm', ['-S', '-n']);
    out.vipAfterScale = await runBurst(VIP, 80, 60);
    out.portAfterScale = await runBurst('10.77.0.1', 8080, 60);
    out.leavingEcho = await leaving.echo('still-there');
    out.stayingEcho = await staying.echo('still-here');
    out.saveWhileHeld = inNs(LB, 'ipvsadm', ['-S', '-n']);
    for (const h of holders) await h.close();
    t = Date.now();
    log('out.saveDrained = await');
    out.saveDrained = await waitFor('drained backend deleted', () => {
      const s = inNs(LB, 'ipvsadm', ['-S', '-n']);
      return s.includes(`${leavingIp}:`) ? undefined : s;
    });
    out.drainedAfterMs = Date.now() - t;

    // A new instance (agent restart) reconciles from the kernel: same marks, nothing doubled.
    const nftBefore = inNs(LB, 'nft', ['list', 'table', 'inet', 'vxmesh_ipvs']);
    log('const lb2 = new');
    const lb2 = new IpvsLoadBalancer({ quiesceMs: 60_000, drainCheckMs: 200 });
    await lb2.sync(lbNs, frontends(remaining));
    out.saveRestart = inNs(LB, 'ipvsadm', ['-S', '-n']);
    out.nftSameAfterRestart = inNs(LB, 'nft', ['list', 'table', 'inet', 'vxmesh_ipvs']) === nftBefore;
    out.nftTable = nftBefore;
    await lb2.sync(lbNs, frontends(all)); // scale back up through the new instance
    out.saveScaledUp = inNs(LB, 'ipvsadm', ['-S', '-n']);
    out.vipAfterRestart = await runBurst(VIP, 80, 60);
    // Service rm of the VIP frontend: its service goes at once, the other stays.
    await lb2.sync(lbNs, frontends(all).slice(1));
    out.saveOneLeft = inNs(LB, 'ipvsadm', ['-S', '-n']);
    out.vipAfterRm = await runBurst(VIP, 80, 5);

    log('await lb2.clear(lbNs);');
    await lb2.clear(lbNs);
    out.saveCleared = inNs(LB, 'ipvsadm', ['-S', '-n']);
    out.foreign = foreign;
    out.nftAfterClear = spawnSync('nsenter', [`--net=/run/netns/${LB}`, 'nft', 'list', 'table', 'inet', 'vxmesh_ipvs'], { encoding: 'utf8' }).status;
    out.rulesAfterClear = inNs(LB, 'ip', ['rule', 'list']);
    out.portAfterClear = await runBurst('10.77.0.1', 8080, 5);
    await lb2.clear({ kind: 'named', name: 'vxi-gone' }); // a namespace that is gone: nothing to do, no error
  } finally {
    for (const srv of servers) srv.close();
    for (const ns of [LB, CL, ...BE]) spawnSync('ip', ['netns', 'del', ns]);
  }
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
}

// Last: the helpers above must be initialised first.
await scenario();
process.exit(0); // the servers' sockets would keep the loop alive
