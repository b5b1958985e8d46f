// scripts/netns-test.sh as part of npm test: 3 netns hosts, etcd, encrypted gossip, two overlay
// networks (one dual-stack), a full mesh of pings inside each network and none across them.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/netns.js';

function runScript(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', [join(ROOT, 'scripts/netns-test.sh'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

describe('scripts/netns-test.sh (multi-host)', () => {
  it('3 hosts: pings inside each network (IPv4 and IPv6), none across, and everything removed', async () => {
    const { code, out } = await runScript([]);
    const prefix = /== \d+ hosts, prefix (m[0-9a-f]{4})/.exec(out)?.[1];
    expect(code, out).toBe(0);
    expect(out).toMatch(/net a IPv4\s+6\s+6/);
    expect(out).toMatch(/net b IPv4\s+6\s+6/);
    expect(out).toMatch(/net b IPv6\s+6\s+6/);
    expect(out).toMatch(/a -> b \(must fail\)\s+9\s+9/);
    expect(prefix).toBeDefined();
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(prefix!)) : [];
    expect(left).toEqual([]);
  }, 150_000);
});
