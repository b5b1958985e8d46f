// Shared by the DNS benches: a throwaway netns, vxmesh's resolver (test/netns/dns-serve.mjs) and
// dnsmasq serving the same names in it, cleanup by name and PID.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

export function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export function makeNetns(tag) {
  const name = `vxb${tag}${randomBytes(2).toString('hex')}`;
  sh('ip', ['netns', 'add', name]);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return { name, path: `/run/netns/${name}`, remove: () => spawnSync('ip', ['netns', 'del', name]) };
}

/** Starts a process in the netns and resolves once `ready` matches its stdout. */
export function startIn(nsPath, cmd, args, ready) {
  const p = spawn('nsenter', [`--net=${nsPath}`, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (b) => (out += b));
  p.stderr.on('data', (b) => (out += b));
  return new Promise((res, rej) => {
    const t = setInterval(() => {
      if (ready(out)) { clearInterval(t); res({ proc: p, log: () => out }); }
      if (p.exitCode !== null) { clearInterval(t); rej(new Error(`${cmd} exited: ${out}`)); }
    }, 20);
    setTimeout(() => { clearInterval(t); rej(new Error(`${cmd} not ready: ${out}`)); }, 15_000);
  });
}

export function startVxmesh(nsPath, address, extra = {}) {
  const cfg = { address, port: 53, networks: ['n1'], ...extra };
  return startIn(nsPath, process.execPath, [join(ROOT, 'test/netns/dns-serve.mjs'), JSON.stringify(cfg)], (o) => o.includes('ready'));
}

export function startDnsmasq(nsPath, address, hostsFile) {
  return startIn(nsPath, 'dnsmasq', ['-k', '--no-resolv', '--no-hosts', `--addn-hosts=${hostsFile}`, `--listen-address=${address}`,
    '--bind-interfaces', '--port=53', '-u', 'root', '--pid-file=', '--log-facility=-'], (o) => o.includes('read ') || o.includes('started'));
}

/** CPU seconds (user+system) a process has used, from /proc. */
export function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The pid of the process nsenter exec'd (nsenter execs in place, so it is the same pid). */
export function stop(p) {
  if (p && p.exitCode === null) p.kill('SIGKILL');
}
