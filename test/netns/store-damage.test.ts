// A damaged store.log never costs a workload its network: the agent refuses to start, naming the file
// and the offset, and changes nothing (the file stays byte-identical, every workload keeps pinging).
// With --salvage it starts from what verifies and deletes nothing it
// cannot account for.
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, canPing, type AgentProcess } from '../helpers/netns.js';

interface Ep { id: string; ipv4: string; netns: string }

const h = new Harness();
let host: string;
let agent: AgentProcess;

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host);
  await agent.start();
});
afterAll(async () => {
  await h.cleanup();
});

/** Start offsets of the framed records in a store.log (u32 length | u32 crc | payload). */
function recordStarts(log: Buffer): number[] {
  const starts: number[] = [];
  for (let off = 0; off + 8 <= log.length; off += 8 + log.readUInt32BE(off)) starts.push(off);
  return starts;
}

const ip = (cidr: string) => cidr.split('/')[0]!;

/** Every workload reaches every other one. */
function fullMesh(eps: Ep[]): string[] {
  const failures: string[] = [];
  for (const a of eps) for (const b of eps) if (a !== b && !canPing(a.netns, ip(b.ipv4))) failures.push(`${a.netns} -> ${ip(b.ipv4)}`);
  return failures;
}

describe('agent over a damaged store', () => {
  it('refuses to start, names file and offset, changes nothing; workloads keep their network', async () => {
    const nsPaths = h.workloads(['d0', 'd1', 'd2', 'd3']);
    await agent.json('network', 'create', 'dmg', '--subnet', '10.44.0.0/24');
    const eps: Ep[] = [];
    for (const netns of nsPaths) eps.push(await agent.json<Ep>('endpoint', 'attach', '--network', 'dmg', '--netns', netns));
    expect(fullMesh(eps)).toEqual([]);
    await agent.stop();

    const logPath = join(agent.dataDir, 'store.log');
    const log = await readFile(logPath);
    const starts = recordStarts(log);
    expect(starts.length, 'enough records for damage in the middle').toBeGreaterThan(4);
    // Bytes flipped at several offsets: inside the second record and the fourth.
    const damaged = Buffer.from(log);
    for (const off of [starts[1]! + 10, starts[1]! + 30, starts[3]! + 12]) damaged[off]! ^= 0x5a;
    await writeFile(logPath, damaged);

    const t0 = Date.now();
    const err = await agent.start().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err, 'the agent started over a damaged store').toBeInstanceOf(Error);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(agent.log).toContain(logPath);
    expect(agent.log).toContain(`byte ${starts[1]}`);
    expect(agent.log).toContain('--salvage');
    expect(await readFile(logPath)).toEqual(damaged); // byte-identical: no truncation, no repair
    expect(fullMesh(eps), 'a workload lost its network').toEqual([]);

    const salvaging = h.agent(host, ['--salvage']);
    await salvaging.start();
    const aside = readdirSync(agent.dataDir).filter((f) => f.startsWith('store.log.damaged-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(agent.dataDir, aside[0]!))).toEqual(damaged);
    expect(fullMesh(eps), 'salvage cost a workload its network').toEqual([]);
    await salvaging.stop();
  }, 120_000);
});
