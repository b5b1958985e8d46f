// Build and drive the real Go hashicorp/memberlist peer (test/interop/gopeer) from tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd } from './run-to-end.js';

export interface GoEvent {
  ev: string;
  [k: string]: unknown;
}

export function goAvailable(): boolean {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  return r.status === 0;
}

/** Build gopeer into a fresh temp dir (GOPATH mode against the Debian memberlist package); asynchronous, see buildNdbPeer. */
export async function buildGoPeer(): Promise<{ binary: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vxmesh-gopeer-'));
  const src = join(dir, 'src', 'vxmesh-gopeer');
  mkdirSync(src, { recursive: true });
  cpSync(fileURLToPath(new URL('../gopeer/main.go', import.meta.url)), join(src, 'main.go'));
  const binary = join(dir, 'gopeer');
  const r = await runToEnd('go', ['build', '-o', binary, '.'], 600_000, {
    cwd: src,
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: '/usr/share/gocode',
      GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'vxmesh-gocache'),
      GOFLAGS: '',
    },
  });
  if (r.code !== 0) throw new Error(`building gopeer failed: ${r.stderr}`);
  return { binary, dir };
}

export function removeBuild(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface GoPeerOptions {
  name: string;
  port: number;
  join?: string[];
  key?: Buffer;
  fast?: boolean;
  broadcast?: string;
}

export class GoPeer {
  readonly events: GoEvent[] = [];
  readonly proc: ChildProcess;
  private buffer = '';
  private listeners: Array<() => void> = [];

  constructor(binary: string, readonly opts: GoPeerOptions) {
    const args = ['-name', opts.name, '-bind', '127.0.0.1', '-port', String(opts.port)];
    if (opts.join && opts.join.length > 0) args.push('-join', opts.join.join(','));
    if (opts.key) args.push('-key', opts.key.toString('base64'));
    if (opts.fast ?? true) args.push('-fast');
    if (opts.broadcast) args.push('-broadcast', opts.broadcast);
    this.proc = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        try {
          this.events.push(JSON.parse(line) as GoEvent);
        } catch {
          // not ours; ignore
        }
      }
      for (const l of this.listeners) l();
    });
    this.proc.stderr!.resume();
    this.proc.stdin!.on('error', () => undefined);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  send(cmd: string): void {
    if (this.proc.stdin!.writable) this.proc.stdin!.write(`${cmd}\n`);
  }

  /** Wait for an event (searching from index `from`) that matches. */
  async waitEvent(pred: (e: GoEvent) => boolean, timeoutMs: number, from = 0): Promise<GoEvent> {
    const start = Date.now();
    for (;;) {
      const hit = this.events.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() - start > timeoutMs) {
        throw new Error(`gopeer ${this.opts.name}: no matching event in ${timeoutMs} ms; got ${JSON.stringify(this.events.slice(-8))}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.listeners.push(() => {
          clearTimeout(t);
          r();
        });
      });
      this.listeners = [];
    }
  }

  async members(): Promise<Array<{ name: string; state: number; meta: string }>> {
    const from = this.events.length;
    this.send('members');
    const e = await this.waitEvent((x) => x.ev === 'members', 3000, from);
    return e.members as Array<{ name: string; state: number; meta: string }>;
  }

  async stats(): Promise<{ udpBytesSent: number; tcpBytesSent: number; health: number }> {
    const from = this.events.length;
    this.send('stats');
    const e = await this.waitEvent((x) => x.ev === 'stats', 3000, from);
    return e as unknown as { udpBytesSent: number; tcpBytesSent: number; health: number };
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  exited(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((r) => this.proc.once('exit', () => r()));
  }
}
