// The services planes on IPVS, end to end through one agent (`--lb ipvs`), INSIDE a run-in-vm.sh VM
// (a kernel with ip_vs), from the repository root after `tsc`:
//   ../shared/tools/run-in-vm.sh 'ip netns add vxm-cl && nsenter --net=/run/netns/vxm-cl node test/vm/mesh-ipvs-scenario.mjs'
// This process runs in the client namespace vxm-cl: on the underlay (198.51.100.60, not a member) and
// also attached to the overlay as a workload (for the VIP). Task servers are sockets made in their
// namespaces by the native addon (one process: under TCG every process start costs seconds).
// Prints `RESULT <json>`: what the VIP and the published port reached, and `ipvsadm -Ln` per namespace,
// after scale 2 -> 1, after an agent crash and restart, and after service rm.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const sh = (cmd, args, input) => {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
};
const log = (m) => process.stderr.write(`[${new Date().toISOString()}] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, fn, ms = 120_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(300);
  }
}
function once(host, port) {
  return new Promise((res) => {
    const s = net.connect({ host, port, timeout: 5000 });
    let buf = '';
    s.on('data', (b) => {
      buf += b;
      if (buf.includes('\n')) {
        s.destroy();
        res(buf.split('\n')[0]);
      }
    });
    s.on('timeout', () => (s.destroy(), res('ERR timeout')));
    s.on('error', (e) => res(`ERR ${e.code}`));
  });
}
async function burst(host, port, n) {
  const got = {};
  for (let i = 0; i < n; i++) {
    const r = await once(host, port);
    got[r] = (got[r] ?? 0) + 1;
  }
  return got;
}

const out = {};
const tmp = mkdtempSync(join(tmpdir(), 'vxm-'));
// underlay: a switch namespace, host h1 (198.51.100.1) and this client namespace (198.51.100.60)
sh('ip', ['netns', 'add', 'vxm-sw']);
sh('ip', ['netns', 'add', 'vxm-h1']);
sh('ip', ['-n', 'vxm-sw', '-batch', '-'], 'link set lo up\nlink add sw0 type bridge\nlink set sw0 up\nlink add p1 type veth peer name ul0 netns vxm-h1\nlink set p1 master sw0\nlink set p1 up\nlink add p60 type veth peer name ul0 netns vxm-cl\nlink set p60 master sw0\nlink set p60 up\n');
sh('ip', ['-n', 'vxm-h1', '-batch', '-'], 'link set lo up\naddr add 198.51.100.1/24 dev ul0\nlink set ul0 up\n');
sh('ip', ['-n', 'vxm-cl', '-batch', '-'], 'link set lo up\naddr add 198.51.100.60/24 dev ul0\nlink set ul0 up\n');
const sock = join(tmp, 'api.sock');
log('starting the agent');
let agentLog = '';
function startAgent() {
  const p = spawn('nsenter', ['--net=/run/netns/vxm-h1', process.execPath, join(ROOT, 'dist/cli/main.js'), 'agent', '--data-dir', join(tmp, 'data'), '--socket', sock,
    '--netns-prefix', 'vxm', '--no-plugin', '--advertise-addr', '198.51.100.1', '--lb', 'ipvs'], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.on('data', (b) => (agentLog += b));
  p.stderr.on('data', (b) => (agentLog += b));
  return p;
}
let agent = startAgent();
try {
  await waitFor('agent ready', async () => agentLog.includes('vxmesh agent ready') || (agent.exitCode !== null && Promise.reject(new Error(agentLog))), 300_000);
  const { connectApi } = await import(join(ROOT, 'dist/api/client.js'));
  const { tcpServerInNetns } = await import(join(ROOT, 'dist/kernel/native.js'));
  const api = connectApi(sock, { timeoutMs: 120_000 });
  out.loadBalancer = (await api.status()).loadBalancer;
  await api.createNetwork({ name: 'web', subnet: '10.83.0.0/24' });
  const svc = await api.createService({ name: 'web', networks: ['web'], publish: [{ publishedPort: 8080, targetPort: 80 }] });
  const vip = svc.vips.find((v) => v.network === 'web').ipv4.split('/')[0];
  const eps = {};
  for (const name of ['t1', 't2']) {
    sh('ip', ['netns', 'add', `vxm-${name}`]);
    const srv = await tcpServerInNetns(`/run/netns/vxm-${name}`, 'tcp4', '0.0.0.0', 80);
    srv.on('connection', (s) => (s.on('error', () => undefined), s.end(`${name}\n`)));
    eps[name] = await api.attach({ network: 'web', netns: `/run/netns/vxm-${name}`, service: 'web' });
  }
  await api.attach({ network: 'web', netns: '/run/netns/vxm-cl' });
  log('attached; waiting for the VIP and the published port');
  await waitFor('VIP reaching both tasks', async () => Object.keys(await burst(vip, 80, 10)).sort().join() === 't1,t2');
  out.vip = await burst(vip, 80, 40);
  await waitFor('published port reaching both tasks', async () => Object.keys(await burst('198.51.100.1', 8080, 10)).sort().join() === 't1,t2');
  out.published = await burst('198.51.100.1', 8080, 40);
  out.ipvsClient = sh('nsenter', ['--net=/run/netns/vxm-cl', 'ipvsadm', '-Ln']);
  out.ipvsSandbox = sh('nsenter', ['--net=/run/netns/vxmingress-sbox', 'ipvsadm', '-Ln']);
  out.hostTable = sh('nsenter', ['--net=/run/netns/vxm-h1', 'nft', 'list', 'table', 'inet', 'vxmesh_ingress']);
  // Scale 2 -> 1: t2 takes no new connection (IPVS drains it at weight 0, then deletes it).
  await api.detach(eps.t2.id);
  await waitFor('VIP reaching t1 only', async () => Object.keys(await burst(vip, 80, 10)).join() === 't1');
  out.vipAfterScale = await burst(vip, 80, 20);
  out.ipvsClientAfterScale = sh('nsenter', ['--net=/run/netns/vxm-cl', 'ipvsadm', '-Ln']);
  // Agent crash and restart: reconciled from the store, nothing duplicated.
  agent.kill('SIGKILL');
  await new Promise((r) => (agent.exitCode !== null || agent.signalCode !== null ? r() : agent.once('exit', r)));
  agentLog = '';
  agent = startAgent();
  await waitFor('agent ready again', async () => agentLog.includes('vxmesh agent ready'), 300_000);
  await sleep(3000); // its first passes
  out.vipAfterRestart = await burst(vip, 80, 20);
  out.ipvsClientAfterRestart = sh('nsenter', ['--net=/run/netns/vxm-cl', 'ipvsadm', '-Ln']);
  out.ipvsSandboxAfterRestart = sh('nsenter', ['--net=/run/netns/vxmingress-sbox', 'ipvsadm', '-Ln']);
  await api.removeService('web');
  await waitFor('ingress sandbox gone', async () => !sh('ip', ['netns', 'list']).includes('vxmingress-sbox'));
  out.ipvsClientAfterRm = sh('nsenter', ['--net=/run/netns/vxm-cl', 'ipvsadm', '-Ln']);
} catch (e) {
  out.error = String(e);
  out.agentLogTail = agentLog.split('\n').slice(-15).join('\n');
} finally {
  agent.kill('SIGKILL');
}
process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
process.exit(0);
