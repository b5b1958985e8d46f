import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A real etcd (Debian etcd-server, /usr/bin/etcd) on 127.0.0.1 with free ports and a temp data dir,
// for the store tests. Stopped by PID; the data dir is removed by stop().

export const ETCD_BIN = '/usr/bin/etcd';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export class EtcdServer {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  static async start(): Promise<EtcdServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'vxmesh-etcd-'));
    const server = new EtcdServer(dataDir, await freePort(), await freePort());
    await server.run();
    return server;
  }

  /** (Re)starts etcd on the same ports and data dir; resolves once it serves clients. */
  async run(): Promise<void> {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.log = '';
    const child = spawn(
      ETCD_BIN,
      [
        '--name', 'vxtest',
        '--data-dir', this.dataDir,
        '--listen-client-urls', this.endpoint,
        '--advertise-client-urls', this.endpoint,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `vxtest=${peer}`,
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.on('data', (b: Buffer) => (this.log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.log += b.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${this.log.slice(-2000)}`);
      const res = await fetch(`${this.endpoint}/health`).catch(() => undefined);
      if (res?.ok && ((await res.json()) as { health?: string }).health === 'true') return;
      if (Date.now() > deadline) throw new Error(`etcd did not become healthy in 15 s: ${this.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50)); // poll interval of the readiness wait
    }
  }

  /** SIGKILLs this etcd (by PID) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
