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
