// A full disk under the agent's data dir: the failing attach leaves nothing behind (store or kernel),
// the next attach after space is freed succeeds without a restart, and a restart shows exactly the
// acknowledged endpoints. The data dir is a 256 KiB tmpfs mounted for this test only.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statfsSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, linkNames, type AgentProcess } from '../helpers/netns.js';

interface Ep { id: string; ipv4: string; netns: string }

let h: Harness;
let host: string;
let agent: AgentProcess;
let mounted = false;

describe('agent on a full disk', () => {
  beforeAll(async () => {
    h = new Harness();
    host = h.host(1);
    agent = h.agent(host);
    mkdirSync(agent.dataDir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', agent.dataDir]);
    mounted = true;
    await agent.start();
  });

  afterAll(async () => {
    await agent?.kill9(); // nothing may hold the mount
    if (mounted) {
      try {
        execFileSync('umount', [agent.dataDir]);
      } catch {
        execFileSync('umount', ['-l', agent.dataDir]);
      }
    }
    await h?.cleanup();
  });

  it('a failed attach leaves nothing; after space is freed attaching works without restart; a restart shows the acknowledged endpoints', async () => {
    await agent.json('network', 'create', 'full', '--subnet', '10.45.0.0/24');
    // Leave only a little space, so a handful of attaches fill it.
    const filler = join(agent.dataDir, 'filler');
    const { bavail, bsize } = statfsSync(agent.dataDir);
    await writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - 24 * 1024)));

    const nsPaths = h.workloads(Array.from({ length: 60 }, (_, i) => `f${i}`));
    const acked: Ep[] = [];
    let failedNs: string | undefined;
    let failure = '';
    for (const netns of nsPaths) {
      const r = await agent.cli('endpoint', 'attach', '--network', 'full', '--netns', netns, '--json');
      if (r.code === 0) acked.push(JSON.parse(r.stdout) as Ep);
      else {
        failedNs = netns;
        failure = r.stderr;
        break;
      }
    }
    expect(failedNs, 'the disk never filled up').toBeDefined();
    expect(failure).toMatch(/no space left on device/);
    expect(acked.length).toBeGreaterThan(0);

    // Nothing of the failed attach: not listed, nothing in its namespace.
    const listed = await agent.json<Ep[]>('endpoint', 'ls', '--network', 'full');
    expect(listed.map((e) => e.id).sort()).toEqual(acked.map((e) => e.id).sort());
    expect(linkNames(failedNs!)).toEqual(['lo']);

    // Space back: the same attach succeeds, no restart.
    await unlink(filler);
    const again = await agent.json<Ep>('endpoint', 'attach', '--network', 'full', '--netns', failedNs!);
    acked.push(again);

    await agent.stop();
    await agent.start();
    const afterRestart = await agent.json<Ep[]>('endpoint', 'ls', '--network', 'full');
    expect(afterRestart.map((e) => e.id).sort()).toEqual(acked.map((e) => e.id).sort());
    console.log(`agent disk-full test: ${acked.length - 1} attaches before ENOSPC, then one after freeing space`);
  }, 180_000);
});
