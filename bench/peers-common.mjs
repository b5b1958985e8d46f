// Shared by the multi-host benches: N netns hosts on an underlay switch (scripts/netns-test.sh up),
// etcd in host 1, a vxmesh agent per host (default timing, encrypted gossip, etcd store), and a
// cleanup that removes everything by prefix / PID on exit.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ETCD_HEALTHY = 'fetch("http://198.51.100.1:2379/health").then((r) => r.json()).then((j) => process.exit(j.health === "true" ? 0 : 1), () => process.exit(1))';
export const ROOT = resolve(import.meta.dirname, '..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export async function until(what, fn, ms = 20_000, every = 50) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {}
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(every);
  }
}

/** `agentArgs`: extra flags for every agent (e.g. --lb, --gossip-profile). */
export async function cluster(tag, hosts, agentArgs = []) {
  const P = `${tag}${randomBytes(2).toString('hex')}`;
  const tmp = mkdtempSync(join(tmpdir(), 'vxmesh-bench-'));
  const procs = new Set();
  const agents = new Map();
  const cleanup = () => {
    for (const p of procs) try { p.kill('SIGKILL'); } catch {}
    const ns = readdirSync('/run/netns').filter((n) => n.startsWith(P));
    if (ns.length) spawnSync('ip', ['-batch', '-'], { input: ns.map((n) => `netns del ${n}`).join('\n') + '\n' });
    for (const f of readdirSync('/run/vxmesh').filter((f) => f.startsWith(`prefix-${P}`))) rmSync(join('/run/vxmesh', f), { force: true });
    rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  process.on('SIGINT', () => process.exit(130));
  const track = (p) => {
    procs.add(p);
    p.on('exit', () => procs.delete(p));
    return p;
  };

  sh('bash', [join(ROOT, 'scripts/netns-test.sh'), 'up', P, String(hosts)]);
  track(spawn('nsenter', [`--net=/run/netns/${P}-h1`, '/usr/bin/etcd', '--name', P, '--data-dir', join(tmp, 'etcd'),
    '--listen-client-urls', 'http://198.51.100.1:2379', '--advertise-client-urls', 'http://198.51.100.1:2379',
    '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
    '--initial-cluster', `${P}=http://127.0.0.1:2380`], { stdio: 'ignore' }));
  await until('etcd', () => spawnSync('nsenter', [`--net=/run/netns/${P}-h1`, process.execPath, '-e', ETCD_HEALTHY]).status === 0);
  writeFileSync(join(tmp, 'key'), randomBytes(16).toString('base64') + '\n', { mode: 0o600 });
  const { connectApi } = await import(join(ROOT, 'dist/api/client.js'));

  async function startAgent(k) {
    const sock = join(tmp, `h${k}.sock`);
    const a = track(spawn('nsenter', [`--net=/run/netns/${P}-h${k}`, process.execPath, join(ROOT, 'dist/cli/main.js'), 'agent', '--data-dir', join(tmp, `h${k}`),
      '--socket', sock, '--netns-prefix', `${P}${k}`, '--no-plugin', '--advertise-addr', `198.51.100.${k}`, '--store', 'etcd://198.51.100.1:2379',
      '--gossip-key-file', join(tmp, 'key'), '--join', `198.51.100.${k === 1 ? 2 : 1}`, ...agentArgs], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let log = '';
    a.stdout.on('data', (b) => (log += b));
    await until(`agent ${k}`, () => log.includes('vxmesh agent ready'), 60_000);
    const api = connectApi(sock);
    agents.set(k, { proc: a, api });
    return api;
  }
  function kill9(k) {
    const a = agents.get(k);
    a.proc.kill('SIGKILL');
    return new Promise((r) => (a.proc.exitCode !== null || a.proc.signalCode !== null ? r() : a.proc.once('exit', r)));
  }
  const apis = [];
  for (let k = 1; k <= hosts; k++) apis.push(await startAgent(k));
  await until(`${hosts} members`, async () => (await apis[0].status()).gossip?.alive === hosts, 30_000);
  return { P, tmp, apis, startAgent, kill9, api: (k) => agents.get(k).api, track, sandbox: (k, netId) => `/run/netns/${P}${k}-n-${netId.slice(0, 12)}` };
}
