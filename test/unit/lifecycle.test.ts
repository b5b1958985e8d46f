// The agent's start/stop machinery without a kernel: step order and rollback, the start gate in
// front of the API, the flock locks, the mountinfo verdict, atomic state files.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/util/atomic-file.js';
import { gossipTiming } from '../../src/agent/gossip.js';
import { Lifecycle, StartError, type LifecycleStep } from '../../src/agent/lifecycle.js';
import { lockDataDir, lockNetnsPrefix } from '../../src/agent/locks.js';
import { netnsMountVerdict } from '../../src/agent/mount-ns.js';
import { StartGate } from '../../src/agent/start-gate.js';

const tmp = mkdtempSync(join(tmpdir(), 'vxmesh-lifecycle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function recorder() {
  const events: string[] = [];
  const warnings: { step?: string; msg: string }[] = [];
  const log = { info: () => undefined, warn: (o: object, msg: string) => warnings.push({ ...(o as { step?: string }), msg }) };
  const step = (name: string, opts: { failStart?: boolean; failStop?: boolean; hangStop?: boolean; noStop?: boolean } = {}): LifecycleStep => ({
    name,
    start: async () => {
      events.push(`start ${name}`);
      if (opts.failStart) throw new Error(`${name} is broken`);
    },
    ...(opts.noStop ? {} : {
      stop: async () => {
        events.push(`stop ${name}`);
        if (opts.failStop) throw new Error(`${name} will not stop`);
        if (opts.hangStop) await new Promise(() => undefined);
      },
    }),
  });
  return { events, warnings, log, step };
}

describe('Lifecycle', () => {
  it('starts in order and stops in reverse', async () => {
    const r = recorder();
    const lc = new Lifecycle({ log: r.log });
    await lc.start([r.step('a'), r.step('b', { noStop: true }), r.step('c')]);
    expect(lc.running).toEqual(['a', 'b', 'c']);
    await lc.stop();
    expect(r.events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop a']);
    expect(lc.running).toEqual([]);
  });

  it('a failed step undoes the started ones in reverse, starts nothing after it, and names itself', async () => {
    const r = recorder();
    const lc = new Lifecycle({ log: r.log });
    const err = await lc.start([r.step('locks'), r.step('sockets'), r.step('store', { failStart: true }), r.step('kernel')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as StartError).step).toBe('store');
    expect((err as StartError).message).toBe('store: store is broken');
    expect(r.events).toEqual(['start locks', 'start sockets', 'start store', 'stop sockets', 'stop locks']);
  });

  it('a stop that fails or hangs is reported and the others still stop, within the timeout', async () => {
    const r = recorder();
    const lc = new Lifecycle({ log: r.log, stopTimeoutMs: 100 });
    await lc.start([r.step('a'), r.step('b', { hangStop: true }), r.step('c', { failStop: true })]);
    const t0 = Date.now();
    await lc.stop();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(r.events.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
    expect(r.warnings.map((w) => [w.step, w.msg])).toEqual([
      ['c', 'stop step failed; going on'],
      ['b', 'stop step did not finish in time; going on'],
    ]);
  });

  it('stop() during a start undoes the step in progress and starts no more', async () => {
    const r = recorder();
    const lc = new Lifecycle({ log: r.log });
    let release: (() => void) | undefined;
    const slow: LifecycleStep = {
      name: 'slow',
      start: () => new Promise<void>((res) => (release = res)),
      stop: async () => void r.events.push('stop slow'),
    };
    const starting = lc.start([r.step('a'), slow, r.step('never')]).catch((e: unknown) => e);
    while (!release) await new Promise((res) => setImmediate(res)); // the slow step is running
    const stopping = lc.stop();
    release!();
    const err = await starting;
    await stopping;
    expect((err as StartError).step).toBe('slow');
    expect(r.events).toEqual(['start a', 'stop a', 'stop slow']);
  });
});

describe('StartGate', () => {
  interface Api { hello(name: string): Promise<string> }
  it('holds calls until it opens, then refuses new calls once closed and lets running ones finish', async () => {
    const gate = new StartGate<Api>();
    let finishSlow: (() => void) | undefined;
    const target: Api = {
      hello: (name) => (name === 'slow' ? new Promise((res) => (finishSlow = () => res('slow done'))) : Promise.resolve(`hi ${name}`)),
    };
    const early = gate.api.hello('early');
    let settled = false;
    void early.then(() => (settled = true));
    for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res)); // several turns of the loop: still held
    expect(settled).toBe(false);
    gate.open(target);
    expect(await early).toBe('hi early');
    const slow = gate.api.hello('slow');
    while (!finishSlow) await new Promise((res) => setImmediate(res)); // the slow call reached the target
    const closing = gate.close(2_000);
    await expect(gate.api.hello('late')).rejects.toThrow('the vxmesh agent is stopping');
    finishSlow!();
    expect(await slow).toBe('slow done');
    await closing;
    expect((gate.api as unknown as { then?: unknown }).then).toBeUndefined(); // never mistaken for a promise
  });

  it('a gate closed before it opened refuses the waiting calls', async () => {
    const gate = new StartGate<Api>();
    const waiting = gate.api.hello('x');
    await gate.close();
    await expect(waiting).rejects.toThrow('stopping');
  });
});

describe('locks', () => {
  const me = (n: number) => ({ pid: 1000 + n, dataDir: `/data/${n}`, socket: `/run/${n}.sock` });

  it('a data dir lock refuses a second holder, naming the first, until it is released', async () => {
    const dir = join(tmp, 'd1');
    const first = await lockDataDir(dir, me(1));
    await expect(lockDataDir(dir, me(2))).rejects.toThrow(`data dir ${dir} is in use by another vxmesh agent (pid 1001, data dir /data/1, socket /run/1.sock)`);
    expect(statSync(join(dir, 'agent.lock')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await first.release();
    const second = await lockDataDir(dir, me(2));
    await second.release();
  });

  it('a netns prefix lock refuses a second agent with that prefix, naming it; other prefixes are free', async () => {
    const run = join(tmp, 'run');
    const a = await lockNetnsPrefix('vx', me(1), run);
    await expect(lockNetnsPrefix('vx', me(2), run)).rejects.toThrow(/--netns-prefix vx is in use on this machine by another vxmesh agent \(pid 1001, data dir \/data\/1, socket \/run\/1.sock\).*its own --netns-prefix/);
    const b = await lockNetnsPrefix('vy', me(2), run);
    await Promise.all([a.release(), b.release()]);
    expect(readdirSync(run)).toEqual([]); // released locks leave no files behind
  });

  it('a lock held by a process that is killed goes with it', async () => {
    const dir = join(tmp, 'd2');
    const first = await lockDataDir(dir, me(1));
    await first.release();
    // a child process takes the lock (one process: the shell execs sleep with the locked fd), then is SIGKILLed
    const child = spawn('sh', ['-c', `exec 9>>'${join(dir, 'agent.lock')}' && flock -x -n 9 && echo locked && exec sleep 60`]);
    await new Promise((res) => child.stdout.once('data', res));
    await expect(lockDataDir(dir, me(2))).rejects.toThrow(/in use by another vxmesh agent \(it did not say who it is\)/);
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    const later = await lockDataDir(dir, me(3));
    await later.release();
  });

  it('an unwritable place fails with the path in the message', async () => {
    const file = join(tmp, 'plain-file');
    writeFileSync(file, 'x');
    await expect(lockDataDir(join(file, 'sub'), me(1))).rejects.toThrow(`cannot create ${join(file, 'sub')}: ENOTDIR`);
  });
});

describe('netnsMountVerdict', () => {
  const shared = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '42 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw',
    '43 42 0:4 net:[4026532177] /run/netns/a rw shared:2 - nsfs nsfs rw',
  ].join('\n');
  it('the host mount namespace: /run/netns is shared', () => {
    expect(netnsMountVerdict(shared)).toEqual({ kind: 'shared' });
  });
  it('under ip netns exec: a slave copy of /run/netns', () => {
    const slave = shared.replace('shared:1', 'master:1').replace('shared:2', 'master:2');
    expect(netnsMountVerdict(slave)).toEqual({ kind: 'not-shared', propagation: 'master:1' });
    expect(netnsMountVerdict(shared.replace(' shared:1', ''))).toEqual({ kind: 'not-shared', propagation: 'private' });
  });
  it('no /run/netns mount yet: no verdict; the last mount on the path is the one that counts', () => {
    expect(netnsMountVerdict(shared.split('\n')[0]!)).toEqual({ kind: 'unknown' });
    const over = `${shared}\n50 42 0:30 / /run/netns rw master:7 - tmpfs tmpfs rw`;
    expect(netnsMountVerdict(over)).toEqual({ kind: 'not-shared', propagation: 'master:7' });
    expect(netnsMountVerdict('1 0 0:1 / /run/net\\040ns rw shared:1 - x x rw', '/run/net ns')).toEqual({ kind: 'shared' });
  });
});

describe('writeFileAtomic and gossip profile', () => {
  it('replaces a file with mode 0600, leaving no temp files, also under concurrent writers', async () => {
    const path = join(tmp, 'keyring');
    writeFileSync(path, 'old\n', { mode: 0o644 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFileAtomic(path, `v${i}\n`)));
    expect(readFileSync(path, 'utf8')).toMatch(/^v\d+\n$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
  it('the fast gossip profile is the one the tests rely on; default changes nothing', () => {
    expect(gossipTiming('fast')).toEqual({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 5_000 });
    expect(gossipTiming('default')).toEqual({ probeIntervalMs: 400, probeTimeoutMs: 200, gossipIntervalMs: 100, suspicionMult: 3 });
  });
});

describe('agent logger', () => {
  // In a child process: the line logged right before process.exit() must be written (sync destinations).
  // (the built dist/, as the netns tests use: npx tsc -p tsconfig.json first)
  const run = (format: string) =>
    spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `
        const { createAgentLogger } = await import(${JSON.stringify(new URL('../../dist/agent/log.js', import.meta.url).href)});
        const log = createAgentLogger({ logLevel: 'info', logFormat: '${format}' });
        log.debug('hidden');
        log.fatal({ step: 'store' }, 'failed to start');
        process.exit(1);`],
      { encoding: 'utf8' },
    );
  it('json: one JSON object a line, written before the process exits', () => {
    const r = run('json');
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 60, step: 'store', msg: 'failed to start' });
  });
  it('pretty: human-readable through pino-pretty', () => {
    const r = run('pretty');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FATAL \(\d+\): failed to start\n\s+step: "store"/);
  });
});
