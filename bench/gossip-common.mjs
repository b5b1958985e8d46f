// Shared by the gossip benches: build and drive the Go memberlist peer (test/interop/gopeer).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function buildGoPeer() {
  const dir = mkdtempSync(join(tmpdir(), 'vxmesh-gopeer-bench-'));
  const src = join(dir, 'src', 'gopeer');
  mkdirSync(src, { recursive: true });
  cpSync(fileURLToPath(new URL('../test/interop/gopeer/main.go', import.meta.url)), join(src, 'main.go'));
  const binary = join(dir, 'gopeer');
  const r = spawnSync('go', ['build', '-o', binary, '.'], {
    cwd: src,
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'vxmesh-gocache') },
  });
  if (r.status !== 0) throw new Error(`go build failed: ${r.stderr}`);
  return { binary, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export class GoPeer {
  constructor(binary, args) {
    this.events = [];
    this.waiters = [];
    this.proc = spawn(binary, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    let buf = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const e = JSON.parse(line);
          e.at = Date.now();
          this.events.push(e);
          for (const w of [...this.waiters]) w(e);
        } catch {}
      }
    });
    this.proc.stdin.on('error', () => {});
  }
  send(cmd) {
    if (this.proc.stdin.writable) this.proc.stdin.write(cmd + '\n');
  }
  waitEvent(pred, timeoutMs) {
    const hit = this.events.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timeout waiting for go event')), timeoutMs);
      const w = (e) => {
        if (pred(e)) {
          clearTimeout(t);
          this.waiters.splice(this.waiters.indexOf(w), 1);
          resolve(e);
        }
      };
      this.waiters.push(w);
    });
  }
  async stats() {
    const n = this.events.length;
    this.send('stats');
    await this.waitEvent((e) => e.ev === 'stats' && this.events.indexOf(e) >= n, 3000);
    return this.events.filter((e) => e.ev === 'stats').at(-1);
  }
  kill() {
    try {
      process.kill(this.proc.pid, 'SIGKILL');
    } catch {}
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond, timeoutMs) {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timeout');
    await sleep(5);
  }
  return Date.now() - start;
}

/** A seeded PRNG (mulberry32) so simulations are repeatable. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile(values, p) {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Records, per observer node, the first (virtual) time it saw `name` reach a state, from
 * the EventDelegate callbacks (no polling of 1000 member lists), and how many observers
 * see a full cluster.
 */
export class KnowledgeTracker {
  constructor(clock) {
    this.clock = clock;
    this.watch = null;
    /** observer -> number of members it currently sees alive (itself included) */
    this.alive = new Map();
    this.fullSize = Infinity;
    this.full = 0;
  }
  /** The EventDelegate for node `observer`. */
  events(observer) {
    this.setAlive(observer, 0); // memberlist reports our own node as a join too
    return {
      notifyJoin: (n) => {
        this.setAlive(observer, this.alive.get(observer) + 1);
        this.seen(observer, n.name, 'alive');
      },
      notifyLeave: (n) => {
        this.setAlive(observer, this.alive.get(observer) - 1);
        this.seen(observer, n.name, n.state);
      },
      notifyUpdate: () => {},
    };
  }
  setAlive(observer, count) {
    if (this.alive.get(observer) === this.fullSize) this.full--;
    this.alive.set(observer, count);
    if (count === this.fullSize) this.full++;
  }
  /** From now on, `fullObservers()` counts observers that see exactly `n` alive members. */
  setFullSize(n) {
    this.fullSize = n;
    this.full = 0;
    for (const v of this.alive.values()) if (v === n) this.full++;
  }
  fullObservers() {
    return this.full;
  }
  /** Start watching for `name` reaching `state` (e.g. 'alive' after a join, 'dead' after a crash). */
  expect(name, state) {
    this.watch = { name, state, since: this.clock.now(), at: new Map() };
  }
  seen(observer, name, state) {
    const w = this.watch;
    if (w && w.name === name && w.state === state && !w.at.has(observer)) w.at.set(observer, this.clock.now() - w.since);
  }
  /** How many observers know so far. */
  known() {
    return this.watch ? this.watch.at.size : 0;
  }
  /** Per-observer delays (ms since expect()). */
  delays() {
    return this.watch ? [...this.watch.at.values()] : [];
  }
}

/** Print simulated vs wall time to stderr every 15 s of wall time (long simulations). */
export function reportProgress(clock, label) {
  const wallStart = performance.now();
  const t = setInterval(() => {
    const wall = ((performance.now() - wallStart) / 1000).toFixed(0);
    console.error(`[${label}] wall ${wall} s: simulated ${(clock.now() / 1000).toFixed(1)} s, ${clock.fired} timer events`);
  }, 15_000);
  t.unref();
  return () => clearInterval(t);
}
