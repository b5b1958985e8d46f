// A real dockerd (Debian docker.io 20.10) in a network namespace of its own, for end-to-end tests.
//
// Everything is private and named uniquely: netns `<prefix><random>`, data-root, exec-root, pidfile,
// API socket, a private containerd, all under one temp dir. Inside the `ip netns exec` shell the
// cgroup v1 hierarchies are mounted (scripts/docker-netns.sh), so nothing leaks into the root
// namespace's mounts either. close() tears everything down by PID and by name, also after a failure.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, copyFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '../support/wait.js';

export const DOCKER_CLI = '/usr/bin/docker'; // the 20.10 client; a newer one may come first in PATH
const DEFAULT_REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const BUSYBOX_APPLETS = ['sh', 'ip', 'ping', 'nc', 'sleep', 'true', 'cat', 'ls', 'echo', 'hostname', 'ifconfig', 'route', 'arp', 'nslookup', 'wc', 'grep'];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; never throws for a non-zero exit (the caller asserts on it). */
export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolvePromise({ code: 0, stdout: String(stdout), stderr: String(stderr) });
      // a number is the exit code; otherwise spawn failed (ENOENT) or the timeout killed it
      const exit = (err as { code?: unknown }).code;
      const code = typeof exit === 'number' ? exit : 127;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) || err.message });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command and returns stdout; throws with stderr on failure. */
export async function runOk(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Why a real-dockerd test cannot run here, or undefined when it can. */
export function dockerUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of ['/usr/sbin/dockerd', '/usr/bin/containerd', DOCKER_CLI, '/bin/busybox']) {
    if (!existsSync(bin)) return `${bin} missing (apt-get install docker.io containerd runc iptables busybox-static)`;
  }
  return undefined;
}

export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // state is the field after the parenthesised comm; a zombie is dead for our purposes
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** pid and every process below it (by PPid), found through /proc. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // raced with exit
    }
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

async function waitDead(pids: number[], ms: number): Promise<boolean> {
  const dead = () => pids.every((p) => !isAlive(p));
  return waitFor(dead, { what: `pids ${pids.join(',')} to exit`, timeoutMs: ms }).catch(() => dead());
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // already gone
    }
  }
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** A process started by the harness inside the netns (e.g. the vxmesh agent). */
export interface NetnsProcess {
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it and its children are gone. */
  stop(graceMs?: number): Promise<void>;
  exited(): boolean;
}

export interface DockerHost {
  readonly ns: string;
  readonly dir: string;
  readonly socket: string;
  /** Address on the netns's underlay device (198.51.100.0/24), usable as --advertise-addr. */
  readonly underlayAddr: string;
  readonly image: string;
  /** Runs /usr/bin/docker against this dockerd; never throws for a non-zero exit. */
  docker(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  /** Same, but throws with docker's stderr on failure and returns stdout trimmed. */
  dockerOk(args: string[], opts?: { timeoutMs?: number }): Promise<string>;
  /** `ip netns exec NS cmd args` and wait for it. */
  exec(cmd: string, args: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** Starts a long-running process inside the netns (own mount ns, fresh /sys), logging to dir. */
  spawnInNetns(name: string, argv: string[], env?: Record<string, string>): NetnsProcess;
  /** Stops dockerd (containers stop with it) and starts it again on the same state; containerd stays. */
  restartDockerd(): Promise<void>;
  dockerdLog(): string;
  close(): Promise<void>;
}

export interface DockerHostOptions {
  /** netns name prefix; a random suffix is added. */
  prefix?: string;
  underlayAddr?: string;
  dockerdArgs?: string[];
  /** Build the busybox image (default true). */
  buildImage?: boolean;
  /** Where scripts/docker-netns.sh lives (default: this file's repository). */
  repoRoot?: string;
}

export async function startDockerHost(opts: DockerHostOptions = {}): Promise<DockerHost> {
  const ns = uniqueName(opts.prefix ?? 'vxdt');
  const dir = join(tmpdir(), `${ns}.d`);
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'docker.sock');
  const underlayAddr = opts.underlayAddr ?? '198.51.100.10';
  const image = 'vxtest/busybox';
  const dockerdScript = join(opts.repoRoot ?? DEFAULT_REPO_ROOT, 'scripts', 'docker-netns.sh');
  const spawned: NetnsProcess[] = [];
  let dockerdChild: ChildProcess | undefined;
  let closed = false;

  const docker = (args: string[], o: { timeoutMs?: number; input?: string } = {}) =>
    run(DOCKER_CLI, ['-H', `unix://${socket}`, ...args], o);
  const dockerOk = async (args: string[], o: { timeoutMs?: number } = {}) => {
    const r = await docker(args, o);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout.trim();
  };

  const startDaemon = (dockerdOnly: boolean): ChildProcess => {
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    const containerdPid = readPid(join(dir, 'containerd.pid'));
    // A restart joins containerd's mount + net namespaces, so both keep seeing the same mounts.
    const argv = dockerdOnly && containerdPid
      ? ['nsenter', '-t', String(containerdPid), '-m', '-n', dockerdScript, dir, ...(opts.dockerdArgs ?? [])]
      : ['ip', 'netns', 'exec', ns, dockerdScript, dir, ...(opts.dockerdArgs ?? [])];
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', log, log],
      env: { ...process.env, DOCKERD_ONLY: dockerdOnly ? '1' : '0' },
    });
    closeSync(log);
    return child;
  };

  const waitApi = async (ms: number) => {
    const gone = () => dockerdChild !== undefined && dockerdChild.exitCode !== null;
    const up = async () => (await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5000 })).code === 0;
    const ok = await waitFor(async () => gone() || (await up()), { what: `dockerd API in netns ${ns}`, timeoutMs: ms, intervalMs: 100 })
      .then(() => !gone(), () => false);
    if (!ok) throw new Error(`dockerd did not come up in netns ${ns}; log:\n${dockerdLog().slice(-3000)}`);
  };

  const dockerdLog = () => {
    try {
      return readFileSync(join(dir, 'dockerd.log'), 'utf8');
    } catch {
      return '';
    }
  };

  const stopDockerd = async () => {
    const pid = readPid(join(dir, 'docker.pid')) ?? dockerdChild?.pid;
    if (pid === undefined || !isAlive(pid)) return;
    signal([pid], 'SIGTERM');
    if (!(await waitDead([pid], 30_000))) signal([pid], 'SIGKILL');
    await waitDead([pid], 5000);
  };

  const host: DockerHost = {
    ns,
    dir,
    socket,
    underlayAddr,
    image,
    docker,
    dockerOk,
    exec: (cmd, args, o = {}) => run('ip', ['netns', 'exec', ns, cmd, ...args], o),
    spawnInNetns(name, argv, env = {}) {
      const logFile = join(dir, `${name}.log`);
      const log = openSync(logFile, 'a');
      // nsenter --net, not `ip netns exec`: the process shares the machine's mount namespace, so the
      // namespaces an agent creates (bind mounts under /run/netns) outlive it, as on a real host.
      const child = spawn('nsenter', [`--net=/run/netns/${ns}`, ...argv], { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
      closeSync(log);
      if (child.pid === undefined) throw new Error(`could not start ${argv.join(' ')}`);
      const pid = child.pid;
      const proc: NetnsProcess = {
        pid,
        logFile,
        child,
        exited: () => child.exitCode !== null || child.signalCode !== null,
        async stop(graceMs = 10_000) {
          const tree = processTree(pid);
          signal([pid], 'SIGTERM');
          if (!(await waitDead(tree, graceMs))) signal(processTree(pid).concat(tree), 'SIGKILL');
          await waitDead(tree, 5000);
        },
      };
      spawned.push(proc);
      return proc;
    },
    async restartDockerd() {
      await stopDockerd();
      dockerdChild = startDaemon(true);
      await waitApi(60_000);
    },
    dockerdLog,
    async close() {
      if (closed) return;
      closed = true;
      // 1. containers, quickly (they would otherwise take dockerd's 10 s stop timeout each)
      const ids = await docker(['ps', '-aq'], { timeoutMs: 10_000 });
      const list = ids.code === 0 ? ids.stdout.split(/\s+/).filter(Boolean) : [];
      if (list.length > 0) await docker(['rm', '-f', ...list], { timeoutMs: 60_000 });
      // 2. processes we started in the netns (agent etc.), then dockerd, then containerd and its shims
      for (const p of spawned) await p.stop(5000);
      const roots = [readPid(join(dir, 'docker.pid')), dockerdChild?.pid, readPid(join(dir, 'containerd.pid'))]
        .filter((p): p is number => p !== undefined);
      const tree = [...new Set(roots.flatMap(processTree))];
      await stopDockerd();
      signal(tree, 'SIGTERM');
      if (!(await waitDead(tree, 10_000))) signal(tree.flatMap(processTree), 'SIGKILL');
      await waitDead(tree, 5000);
      // 3. anything still living in our netns is ours (the name is unique to this run)
      const left = await run('ip', ['netns', 'pids', ns]);
      const leftPids = left.stdout.split(/\s+/).filter(Boolean).map(Number);
      if (leftPids.length > 0) {
        signal(leftPids.flatMap(processTree), 'SIGKILL');
        await waitDead(leftPids, 5000);
      }
      await run('ip', ['netns', 'del', ns]);
      // 4. mounts under our dir live in the private mount ns that just died; unmount any that leaked
      const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(dir)).reverse();
      for (const m of mounts) await run('umount', ['-l', m]);
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await runOk('ip', ['netns', 'add', ns]);
    await runOk('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // no dummy module on this kernel: a veth pair with both ends in the netns carries the underlay address
    await runOk('ip', ['-n', ns, 'link', 'add', 'vxul0', 'type', 'veth', 'peer', 'name', 'vxul1']);
    await runOk('ip', ['-n', ns, 'link', 'set', 'vxul1', 'up']);
    await runOk('ip', ['-n', ns, 'addr', 'add', `${underlayAddr}/24`, 'dev', 'vxul0']);
    await runOk('ip', ['-n', ns, 'link', 'set', 'vxul0', 'up']);
    dockerdChild = startDaemon(false);
    await waitApi(60_000);
    if (opts.buildImage !== false) await buildBusyboxImage(host, image);
    return host;
  } catch (err) {
    await host.close();
    throw err;
  }
}

/** A one-layer image: busybox-static plus applet symlinks, made with `docker import`. */
async function buildBusyboxImage(host: DockerHost, image: string): Promise<void> {
  const rootfs = join(host.dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const applet of BUSYBOX_APPLETS) symlinkSync('busybox', join(rootfs, 'bin', applet));
  const tar = await new Promise<Buffer>((res, rej) => {
    execFile('tar', ['-C', rootfs, '-c', '.'], { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, out) => (err ? rej(err) : res(out)));
  });
  await new Promise<void>((res, rej) => {
    const child = spawn(DOCKER_CLI, ['-H', `unix://${host.socket}`, 'import', '-c', 'ENV PATH=/bin', '-', image], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => (code === 0 ? res() : rej(new Error(`docker import failed: ${stderr}`))));
    child.stdin.end(tar);
  });
}
