import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A real etcd (Debian etcd-server, /usr/bin/etcd) with a temp data dir, stopped by PID. On 127.0.0.1
// with free ports (store tests), or inside a test's network namespace on its underlay address
// (multi-host tests: started with nsenter, ports picked at random, since a fresh namespace has all free).

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

export interface EtcdPlace {
  /** Name of the network namespace to run in (under /run/netns); absent = this process's namespace. */
  netns?: string;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
}

/** One HTTP GET from inside `netns` (the test process cannot reach a namespace's addresses). */
function getIn(netns: string | undefined, url: string): Promise<string | undefined> {
  if (!netns) return fetch(url).then((r) => (r.ok ? r.text() : undefined), () => undefined);
  return new Promise((resolve) => {
    // node itself (no curl in CI): one fetch with a 1 s deadline, the body on stdout
    const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(1000) }).then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, () => process.exit(1))`;
    const c = spawn('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.on('close', (code) => resolve(code === 0 ? out : undefined));
  });
}

export class EtcdServer {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly place: EtcdPlace,
  ) {}

  get host(): string {
    return this.place.host ?? '127.0.0.1';
  }

  get endpoint(): string {
    return `http://${this.host}:${this.clientPort}`;
  }

  /** The agent's --store value. */
  get storeUrl(): string {
    return `etcd://${this.host}:${this.clientPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(place: EtcdPlace = {}): Promise<EtcdServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'vxmesh-etcd-'));
    const ports = place.netns ? [randomInt(20000, 30000), randomInt(30000, 40000)] : [await freePort(), await freePort()];
    const server = new EtcdServer(dataDir, ports[0]!, ports[1]!, place);
    await server.run();
    return server;
  }

  /** (Re)starts etcd on the same ports and data dir; resolves once it serves clients. */
  async run(): Promise<void> {
    const peer = `http://${this.host}:${this.peerPort}`;
    this.log = '';
    const args = [
      '--name', 'vxtest',
      '--data-dir', this.dataDir,
      '--listen-client-urls', this.endpoint,
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `vxtest=${peer}`,
      '--log-level', 'warn',
    ];
    const child = this.place.netns
      ? spawn('nsenter', [`--net=/run/netns/${this.place.netns}`, ETCD_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(ETCD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (b: Buffer) => (this.log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.log += b.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${this.log.slice(-2000)}`);
      const body = await getIn(this.place.netns, `${this.endpoint}/health`);
      if (body && (JSON.parse(body) as { health?: string }).health === 'true') return;
      if (Date.now() > deadline) throw new Error(`etcd did not become healthy in 15 s: ${this.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50)); // poll interval of the readiness wait
    }
  }

  /** SIGKILLs this etcd (by PID; nsenter execs it, so the PID is etcd's) and waits for it to be gone. */
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
