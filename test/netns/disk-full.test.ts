// A full disk under the agent's data dir (a tiny tmpfs): an attach whose store write fails leaves
// nothing behind (no listed endpoint, no interface, no gateway leg), status shows the store's
// trouble, and once space is back the next attach succeeds without a restart. A restart then
// shows exactly the acknowledged endpoints.
import { createHash } from 'node:crypto';
import { mkdirSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, inNs, linkNames, sh, type AgentProcess } from '../helpers/netns.js';

interface Ep { id: string; netns: string; ipv4: string }
interface Status { store?: { ok: boolean; error?: string }; endpoints: number }

const h = new Harness();
let host: string;
let agent: AgentProcess;
let mounted = false;
const PAGE = 4096;

const legOf = (netns: string) => `vg${createHash('sha256').update(netns).digest('hex').slice(0, 12)}`;

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host);
  mkdirSync(agent.dataDir, { recursive: true });
  const m = sh('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', agent.dataDir]);
  if (m.code !== 0) throw new Error(`mount tmpfs: ${m.stderr}`);
  mounted = true;
  await agent.start();
});
afterAll(async () => {
  await agent.kill9(); // the agent holds files on the tmpfs: stop it before unmounting
  if (mounted && sh('umount', [agent.dataDir]).code !== 0) sh('umount', ['-l', agent.dataDir]);
  await h.cleanup();
});

/** Fills the data dir's file system with one-page files, leaving about `leave` bytes; returns them. */
function fill(leave: number): string[] {
  const files: string[] = [];
  for (let i = 0; ; i++) {
    const s = statfsSync(agent.dataDir);
    if (s.bavail * s.bsize <= leave + PAGE) return files;
    const f = join(agent.dataDir, `filler-${i}`);
    writeFileSync(f, Buffer.alloc(PAGE));
    files.push(f);
  }
}

describe('disk full under the data dir', () => {
  it('a failed attach leaves nothing behind; after space is back the next attach works; a restart shows exactly the acknowledged endpoints', async () => {
    await agent.json('network', 'create', 'full', '--subnet', '10.61.0.0/24');
    const [net] = await agent.json<{ sandbox: string }[]>('network', 'inspect', 'full');
    const sandbox = `/run/netns/${net!.sandbox}`;
    const fillers = fill(24 * 1024);
    const acked: Ep[] = [];
    const failedNs: string[] = [];
    let failures = 0;
    let attempt = 0;
    // Attach until the disk is full; then give one page back at a time, so later failures land at
    // different steps of attach (reserving the address or confirming after the kernel work).
    while (failures < 6 && attempt < 300) {
      const ns = h.workload(`d${attempt++}`);
      const r = await agent.cli('endpoint', 'attach', '--network', 'full', '--netns', ns, '--json');
      if (r.code === 0) {
        acked.push(JSON.parse(r.stdout) as Ep);
        continue;
      }
      failures++;
      failedNs.push(ns);
      expect(r.stderr).toMatch(/no space left on device/);
      expect(r.stderr).toMatch(/nothing was kept/);
      // Nothing behind: not listed, no interface in the workload, no veth in the sandbox, no leg on the host.
      const listed = await agent.json<Ep[]>('endpoint', 'ls');
      expect(listed.map((e) => e.id).sort()).toEqual(acked.map((e) => e.id).sort());
      expect(linkNames(ns)).toEqual(['lo']);
      expect(linkNames(sandbox).filter((l) => l.startsWith('ve')).sort()).toEqual(acked.map((e) => `ve${e.id.slice(0, 12)}`).sort());
      expect(linkNames(`/run/netns/${host}`)).not.toContain(legOf(ns));
      if (failures === 1) {
        // A network create on the full disk is refused the same way and leaves no sandbox behind.
        const nsBefore = h.namespaces().sort();
        const nc = await agent.cli('network', 'create', `full${failures}`, '--subnet', '10.62.0.0/24');
        expect(nc.code).not.toBe(0);
        expect(nc.stderr).toMatch(/no space left on device/);
        expect(h.namespaces().sort()).toEqual(nsBefore);
        expect((await agent.json<{ name: string }[]>('network', 'ls')).map((n) => n.name)).toEqual(['full']);
      }
      const status = await agent.json<Status>('status');
      expect(status.store?.ok).toBe(false);
      expect(status.store?.error).toMatch(/no space left on device/);
      expect(status.endpoints).toBe(acked.length);
      const f = fillers.pop();
      if (f) unlinkSync(f);
    }
    expect(failures, 'the disk never filled up').toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(3);
    const atConfirm = (agent.log.match(/attach failed in the store: rolling back/g) ?? []).length;
    console.log(`disk-full: ${acked.length} attaches acknowledged, ${failures} refused (${atConfirm} after the kernel work, rolled back there)`);

    // Space is back: the next attach succeeds, without a restart, and status is healthy again.
    for (const f of fillers.splice(0)) unlinkSync(f);
    const retry = failedNs[failedNs.length - 1]!;
    const ep = await agent.json<Ep>('endpoint', 'attach', '--network', 'full', '--netns', retry);
    acked.push(ep);
    expect(linkNames(retry).sort()).toEqual(['eth0', 'eth1', 'lo']);
    expect((await agent.json<Status>('status')).store).toEqual({ ok: true });
    // Every address the failed attaches held was given back: each acknowledged one is unique and answers.
    expect(new Set(acked.map((e) => e.ipv4)).size).toBe(acked.length);
    expect(inNs(retry, 'ping', ['-c', '1', '-W', '1', acked[0]!.ipv4.split('/')[0]!]).code).toBe(0);

    await agent.stop();
    await agent.start();
    const after = await agent.json<Ep[]>('endpoint', 'ls');
    expect(after.map((e) => e.id).sort()).toEqual(acked.map((e) => e.id).sort());
    for (const ns of failedNs.filter((n) => n !== retry)) expect(linkNames(ns), ns).toEqual(['lo']);
    const legs = linkNames(`/run/netns/${host}`).filter((l) => /^vg[0-9a-f]{12}$/.test(l)).sort();
    expect(legs).toEqual(acked.map((e) => legOf(e.netns)).sort());
  }, 240_000);
});
