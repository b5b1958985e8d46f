// A damaged store never costs a workload its network. With store.log damaged in the middle (bytes
// flipped at several offsets, one case each) or store.snap damaged, the agent refuses to start
// (non-zero, naming the file and offset), leaves the file byte-identical and the kernel untouched, so
// every workload still pings; `--salvage` then starts with every verifiable record and no workload
// loses its interfaces.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/index.js';
import { Harness, canPing, inNs, linkNames, type AgentProcess } from '../helpers/netns.js';
import { agentArgs, runAgentExpectingExit } from '../support/agent-exit.js';

interface Net { id: string; name: string; sandbox: string }
interface Ep { id: string; ipv4: string; netns: string; network: string }

const h = new Harness();
let host: string;
let agent: AgentProcess;
let pristine: string;
const workloads: { netns: string; ip: string; peer: string }[] = [];

const ip = (cidr: string) => cidr.split('/')[0]!;
const storeFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('store.')).sort();

/** One record of store.log: where its frame starts and ends, and its payload. */
interface Frame { start: number; end: number; payload: { rev: number; ops: [string, unknown][] } }
function frames(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  for (let off = 0; off + 8 <= buf.length;) {
    const end = off + 8 + buf.readUInt32BE(off);
    out.push({ start: off, end, payload: JSON.parse(buf.subarray(off + 8, end).toString()) as Frame['payload'] });
    off = end;
  }
  return out;
}

/** Ids of the networks and endpoints the given log records leave in the store (on top of `base`). */
function replay(records: Frame['payload'][], base: Map<string, unknown> = new Map()): { networks: string[]; endpoints: string[] } {
  const kv = new Map(base);
  for (const r of records) {
    for (const [k, v] of r.ops) {
      if (v === null) kv.delete(k);
      else kv.set(k, v);
    }
  }
  const ids = (prefix: string) => [...kv.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort();
  return { networks: ids('networks/'), endpoints: ids('endpoints/') };
}

/** Every workload's interfaces and addresses, the sandboxes, the host's links. */
function kernelView(): Record<string, string> {
  const view: Record<string, string> = { namespaces: h.namespaces().sort().join(' '), hostLinks: linkNames(`/run/netns/${host}`).sort().join(' ') };
  // (DAD may still be finishing on fresh links: 'tentative' comes and goes on its own)
  for (const w of workloads) view[w.netns] = inNs(w.netns, 'ip', ['-o', 'addr', 'show']).stdout.replace(/ tentative/g, '').replace(/\s+valid_lft.*$/gm, '');
  return view;
}

function everyWorkloadPings(): void {
  for (const w of workloads) expect(canPing(w.netns, w.peer), `${w.netns} -> ${w.peer}`).toBe(true);
}

function restorePristine(): void {
  for (const f of readdirSync(agent.dataDir).filter((f) => f.startsWith('store.'))) rmSync(join(agent.dataDir, f));
  for (const f of readdirSync(pristine)) copyFileSync(join(pristine, f), join(agent.dataDir, f));
}

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host);
  await agent.start();
  for (const [n, subnet] of [['red', '10.61.1.0/24'], ['blue', '10.61.2.0/24']] as const) {
    await agent.json('network', 'create', n, '--subnet', subnet);
    const ns = h.workloads([`${n}1`, `${n}2`, `${n}3`]);
    const eps: Ep[] = [];
    for (const netns of ns) eps.push(await agent.json<Ep>('endpoint', 'attach', '--network', n, '--netns', netns));
    eps.forEach((ep, i) => workloads.push({ netns: ep.netns, ip: ip(ep.ipv4), peer: ip(eps[(i + 1) % eps.length]!.ipv4) }));
  }
  everyWorkloadPings();
  await agent.stop();
  pristine = join(h.tmp, 'pristine');
  mkdirSync(pristine);
  for (const f of storeFiles(agent.dataDir)) copyFileSync(join(agent.dataDir, f), join(pristine, f));
});
afterAll(async () => {
  await h.cleanup();
});

/**
 * The refusal, then the salvage. `damage` edits the data dir's store files and returns the file it
 * damaged and the offset the refusal must name.
 */
async function refuseThenSalvage(damage: () => { file: string; offset: number }, expected: { networks: string[]; endpoints: string[] }): Promise<void> {
  // each case starts from the intact store and a repaired kernel, whatever an earlier case did
  restorePristine();
  await agent.start();
  await agent.stop();
  everyWorkloadPings();
  const { file, offset } = damage();
  const bytes = Object.fromEntries(storeFiles(agent.dataDir).map((f) => [f, readFileSync(join(agent.dataDir, f))]));
  const before = kernelView();

  const r = await runAgentExpectingExit(host, agentArgs(agent));
  expect(r.code, r.log).toBe(1);
  expect(r.ms, r.log).toBeLessThan(5_000);
  expect(r.errorLines.length, r.log).toBe(1);
  expect(r.errorLines[0]!.msg).toContain(`${file} is damaged at byte ${offset}`);
  expect(r.errorLines[0]!.msg).toContain('--salvage');
  expect(r.errorLines[0]).toMatchObject({ step: 'store', file, offset });
  expect(r.log).not.toMatch(/vxmesh agent ready|removing|removed/);
  // byte-identical files, no new ones; the kernel untouched; every workload still pings
  expect(Object.fromEntries(storeFiles(agent.dataDir).map((f) => [f, readFileSync(join(agent.dataDir, f))]))).toEqual(bytes);
  expect(kernelView()).toEqual(before);
  everyWorkloadPings();

  const salvaging = h.agent(host, ['--salvage']);
  await salvaging.start();
  try {
    const warning = salvaging.log.split('\n').find((l) => l.includes('store salvaged'));
    expect(warning, salvaging.log).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40 });
    expect(warning).toContain(file);
    // no workload lost an interface or an address, and every one still pings
    expect(kernelView()).toEqual(before);
    everyWorkloadPings();
    // every record that verifies is there (an endpoint whose last record was lost is listed as it was before)
    const nets = await salvaging.json<Net[]>('network', 'ls');
    const eps = await salvaging.json<Ep[]>('endpoint', 'ls');
    expect(nets.map((n) => n.id).sort()).toEqual(expected.networks);
    expect(eps.map((e) => e.id).sort()).toEqual(expected.endpoints);
    // the damaged bytes are kept aside, not deleted
    expect(readdirSync(agent.dataDir).some((f) => f.includes('damaged'))).toBe(true);
  } finally {
    await salvaging.stop();
  }
  expect(kernelView()).toEqual(before);
  everyWorkloadPings();
}

describe('a damaged store', () => {
  const logPath = () => join(agent.dataDir, 'store.log');
  const flip = (path: string, at: number, n: number) => {
    const buf = readFileSync(path);
    for (let i = 0; i < n; i++) buf[at + i] = buf[at + i]! ^ 0xff;
    writeFileSync(path, buf);
  };

  it('has a log of many records to damage (and no snapshot yet)', () => {
    expect(storeFiles(pristine)).toEqual(['store.log']);
    expect(frames(readFileSync(join(pristine, 'store.log'))).length).toBeGreaterThan(8);
  });

  // Each case damages one record: the ones before and after it verify and must all be kept.
  const cases: [string, (fs: Frame[]) => number, (f: Frame) => [number, number]][] = [
    ['one bit in the first record', () => 0, (f) => [f.start + 8 + 20, 1]],
    ['8 bytes in the middle of a record in the middle', (fs) => Math.floor(fs.length / 2), (f) => [Math.floor((f.start + f.end) / 2), 8]],
    ["a record's length field, two thirds in", (fs) => Math.floor((fs.length * 2) / 3), (f) => [f.start + 1, 2]],
    ["a record's checksum, near the end (valid records follow)", (fs) => fs.length - 3, (f) => [f.start + 5, 1]],
  ];
  for (const [name, pick, where] of cases) {
    it(`store.log: ${name}`, async () => {
      const all = frames(readFileSync(join(pristine, 'store.log')));
      const victim = pick(all);
      const expected = replay(all.filter((_, i) => i !== victim).map((f) => f.payload));
      await refuseThenSalvage(() => {
        const [at, n] = where(all[victim]!);
        flip(logPath(), at, n);
        return { file: logPath(), offset: all[victim]!.start };
      }, expected);
    });
  }

  it('store.snap damaged: refused; salvage keeps the log records after it and deletes nothing', async () => {
    // make a snapshot (compaction), then a few more records after it
    restorePristine();
    const store = await FileStore.open(agent.dataDir);
    await store.compact();
    await store.txn([{ op: 'put', key: 'test/marker', value: { n: 1 } }]);
    await store.close();
    const snap = join(agent.dataDir, 'store.snap');
    expect(existsSync(snap)).toBe(true);
    const log = readFileSync(logPath());
    const afterSnap = frames(log).map((f) => f.payload);
    for (const f of storeFiles(agent.dataDir)) copyFileSync(join(agent.dataDir, f), join(pristine, f));
    const damagedSnap = readFileSync(snap).length >> 1;
    await refuseThenSalvage(() => {
      flip(snap, damagedSnap, 4);
      return { file: snap, offset: 0 };
    }, replay(afterSnap));
  });
});
