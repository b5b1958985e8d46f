// Build and drive ndbpeer: Docker 26.1.5's own NetworkDB (test/interop/docker-networkdb), built
// offline from Debian trixie packages by build.sh (cached in test/interop/bin/, gitignored).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runToEnd } from './run-to-end.js';

export interface NdbEvent {
  ev: string;
  [k: string]: unknown;
}

const buildScript = fileURLToPath(new URL('../docker-networkdb/build.sh', import.meta.url));

/** What the build needs from the machine; null when it is all there. */
export function ndbBuildUnavailable(): string | null {
  for (const tool of ['apt-get', 'dpkg-deb']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not found`;
  }
  return null;
}

/**
 * Fetch trixie packages (first run) and build ndbpeer; returns the binary path. Asynchronous: a cold
 * build takes minutes, and a test worker whose event loop is blocked that long misses vitest's RPC
 * deadline (60 s), which fails the run ("Timeout calling onTaskUpdate") although every test passed.
 */
export async function buildNdbPeer(): Promise<string> {
  const r = await runToEnd('sh', [buildScript], 600_000);
  if (r.code !== 0) throw new Error(`building ndbpeer (Docker's networkdb) failed:\n${r.stderr.slice(-4000)}`);
  return r.stdout.trim().split('\n').pop()!;
}

export interface NdbPeerOptions {
  name: string;
  port: number;
  /** Base64 AES keys, the first is the primary. */
  keys?: string[];
}

export class NdbPeer {
  readonly events: NdbEvent[] = [];
  readonly proc: ChildProcess;
  /** Docker's own log lines (logrus, on stderr). */
  stderr = '';
  private buffer = '';

  constructor(binary: string, readonly opts: NdbPeerOptions) {
    const args = ['-name', opts.name, '-bind', '127.0.0.1', '-port', String(opts.port)];
    if (opts.keys && opts.keys.length > 0) args.push('-keys', opts.keys.join(','));
    this.proc = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        try {
          this.events.push(JSON.parse(line) as NdbEvent);
        } catch {
          // not a JSON line; ignore
        }
      }
    });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.proc.stdin!.on('error', () => undefined);
  }

  get addr(): string {
    return `127.0.0.1:${this.opts.port}`;
  }

  send(cmd: string): void {
    if (this.proc.stdin!.writable) this.proc.stdin!.write(`${cmd}\n`);
  }

  /** Wait for an event (from index `from` on) that matches. */
  async waitEvent(pred: (e: NdbEvent) => boolean, timeoutMs: number, from = 0): Promise<NdbEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(from).find(pred);
      if (hit) return hit;
      if (this.proc.exitCode !== null) throw new Error(`ndbpeer ${this.opts.name} exited (${this.proc.exitCode}); stderr:\n${this.stderr.slice(-2000)}`);
      if (Date.now() > deadline) {
        throw new Error(`ndbpeer ${this.opts.name}: no matching event in ${timeoutMs} ms; last: ${JSON.stringify(this.events.slice(-6))}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Send a command and return its reply (the next event named `reply`); throws on an error reply. */
  async request(cmd: string, reply: string, timeoutMs = 5_000): Promise<NdbEvent> {
    const from = this.events.length;
    this.send(cmd);
    const e = await this.waitEvent((x) => x.ev === reply, timeoutMs, from);
    if (e.err) throw new Error(`ndbpeer ${this.opts.name}: ${cmd}: ${String(e.err)}`);
    return e;
  }

  async peers(nid = ''): Promise<string[]> {
    return (await this.request(`peers ${nid}`, 'peers')).peers as string[];
  }

  async table(table: string, nid: string): Promise<Record<string, string>> {
    return (await this.request(`table ${table} ${nid}`, 'table')).entries as Record<string, string>;
  }

  /** Watch events of `kind` for table/nid/key seen so far. */
  watched(kind: string, key: string): NdbEvent[] {
    return this.events.filter((e) => e.ev === 'watch' && e.kind === kind && e.key === key);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        process.kill(this.proc.pid!, 'SIGKILL');
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
