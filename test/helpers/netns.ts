// Test hosts in network namespaces, and vxmesh agents running in them. Everything made here is
// named with the harness's random prefix and removed by name/PID in cleanup(), also on failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor, withDeadline } from '../support/wait.js';

// Kept for older imports; new code waits on a condition (test/support/wait.ts) instead.
export { sleep } from '../support/wait.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');

export function sh(cmd: string, args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function mustSh(cmd: string, args: string[], input?: string): string {
  const r = sh(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class AgentProcess {
  proc: ChildProcess | undefined;
  log = '';
  previousLogs = '';

  constructor(
    readonly host: string,
    readonly dataDir: string,
    readonly socket: string,
    readonly netnsPrefix: string,
    readonly extraArgs: string[] = [],
  ) {}

  async start(): Promise<void> {
    // nsenter, not `ip netns exec`: the agent must share the machine's mount namespace, or the
    // sandbox namespaces it creates would be bound only in a private one and die with it.
    const args = [`--net=/run/netns/${this.host}`, process.execPath, CLI, 'agent', '--data-dir', this.dataDir,
      '--socket', this.socket, '--netns-prefix', this.netnsPrefix, '--no-plugin', '--log-level', 'debug', ...this.extraArgs];
    const p = spawn('nsenter', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    this.previousLogs += this.log;
    this.log = '';
    p.stdout!.on('data', (b: Buffer) => (this.log += b.toString()));
    p.stderr!.on('data', (b: Buffer) => (this.log += b.toString()));
    const exited = (): boolean => p.exitCode !== null || p.signalCode !== null;
    const ready = (): boolean => this.log.includes('vxmesh agent ready');
    await waitFor(() => exited() || ready(), { what: `agent in ${this.host} ready`, timeoutMs: 20_000 }).catch(() => undefined);
    if (exited()) throw new Error(`agent exited (${p.exitCode ?? p.signalCode}):\n${this.log}`);
    if (!ready()) throw new Error(`agent did not get ready in 20 s:\n${this.log}`);
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** SIGKILL, as a crash. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(sig);
    await withDeadline(exited, 10_000, undefined);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }

  /** Runs the CLI against this agent (from the root namespace: the API is a unix socket). */
  cli(...args: string[]): Promise<CliResult> {
    return new Promise((res) => {
      const c = spawn(process.execPath, [CLI, '--socket', this.socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      c.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    });
  }

  async json<T = unknown>(...args: string[]): Promise<T> {
    const r = await this.cli(...args, '--json');
    if (r.code !== 0) throw new Error(`vxmesh ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }
}

/** A test's private world: a random prefix, its namespaces, temp dirs and agents. */
export class Harness {
  // 5 characters, so an agent's prefix (this + host digit) fits --netns-prefix's 6.
  readonly prefix = `v${randomBytes(2).toString('hex')}`;
  readonly tmp = mkdtempSync(join(tmpdir(), 'vxmesh-test-'));
  private readonly agents: AgentProcess[] = [];

  private switchNs: string | undefined;

  /** The underlay "switch": a bridge in a namespace of its own (never in the root namespace). */
  private underlay(): string {
    if (!this.switchNs) {
      const sw = `${this.prefix}sw`;
      mustSh('ip', ['netns', 'add', sw]);
      mustSh('ip', ['-n', sw, '-batch', '-'], 'link set lo up\nlink add sw0 type bridge\nlink set sw0 up\n');
      this.switchNs = sw;
    }
    return this.switchNs;
  }

  /** A netns "host" on the underlay switch with address 198.51.100.K/24 on ul0. */
  host(k: number): string {
    const h = `${this.prefix}h${k}`;
    const sw = this.underlay();
    mustSh('ip', ['netns', 'add', h]);
    mustSh('ip', ['-n', sw, '-batch', '-'], `link add p${k} type veth peer name ul0 netns ${h}\nlink set p${k} master sw0\nlink set p${k} up\n`);
    mustSh('ip', ['-n', h, '-batch', '-'], [
      'link set lo up',
      `addr add 198.51.100.${k}/24 dev ul0`,
      'link set ul0 up',
      'route add default via 198.51.100.254 dev ul0',
    ].join('\n') + '\n');
    return h;
  }

  /** A workload namespace (what a container runtime would make). */
  workload(name: string): string {
    const n = `${this.prefix}w${name}`;
    mustSh('ip', ['netns', 'add', n]);
    return `/run/netns/${n}`;
  }

  workloads(names: string[]): string[] {
    const full = names.map((n) => `${this.prefix}w${n}`);
    mustSh('ip', ['-batch', '-'], full.map((n) => `netns add ${n}`).join('\n') + '\n');
    return full.map((n) => `/run/netns/${n}`);
  }

  agent(host: string, extraArgs: string[] = []): AgentProcess {
    const dir = join(this.tmp, host);
    const k = host.slice(this.prefix.length).replace(/\D/g, '').slice(-1) || '0';
    const a = new AgentProcess(host, join(dir, 'data'), join(dir, 'api.sock'), `${this.prefix}${k}`, extraArgs);
    this.agents.push(a);
    return a;
  }

  /** Namespaces this harness (or its agents) made, by prefix. */
  namespaces(): string[] {
    return existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(this.prefix)) : [];
  }

  async cleanup(): Promise<void> {
    for (const a of this.agents) await a.kill9();
    if (process.env.VXMESH_TEST_KEEP) {
      console.error(`VXMESH_TEST_KEEP: leaving namespaces ${this.prefix}* and ${this.tmp}`);
      return;
    }
    const ns = this.namespaces();
    if (ns.length) sh('ip', ['-batch', '-'], ns.map((n) => `netns del ${n}`).join('\n') + '\n');
    // A SIGKILLed agent leaves its (unlocked, empty) netns-prefix lock file behind: remove this harness's.
    const locks = '/run/vxmesh';
    if (existsSync(locks)) for (const f of readdirSync(locks)) if (f.startsWith(`prefix-${this.prefix}`)) rmSync(join(locks, f), { force: true });
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Runs a command inside a named netns (for ping, ip, nft checks). */
export function inNs(nsPath: string, cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  return sh('nsenter', [`--net=${nsPath}`, cmd, ...args]);
}

export function canPing(fromNs: string, ip: string, count = 1): boolean {
  return inNs(fromNs, 'ping', ['-c', String(count), '-W', '1', '-i', '0.2', ip]).code === 0;
}

export function linkNames(nsPath: string): string[] {
  const r = inNs(nsPath, 'ip', ['-j', 'link', 'show']);
  return (JSON.parse(r.stdout || '[]') as { ifname: string }[]).map((l) => l.ifname);
}
