// With --salvage the store may have lost records, so start-up GC deletes nothing it cannot account
// for: an endpoint whose record is gone keeps its interfaces (workload, sandbox veth, gateway leg), an
// unrecorded sandbox namespace stays, and each kind is named in one warning line. What the store
// does account for is still managed (detach removes it).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, Harness, ROOT, canPing, inNs, linkNames, sh, type AgentProcess } from '../helpers/netns.js';

interface Ep { id: string; ipv4: string; netns: string }
interface Net { sandbox: string }
interface MinimalStore {
  get(key: string): Promise<{ value: unknown; revision: number } | undefined>;
  list(prefix: string): Promise<{ key: string; value: { owner: string } }[]>;
  txn(ops: ({ op: 'delete'; key: string } | { op: 'put'; key: string; value: unknown })[]): Promise<number>;
  close(): Promise<void>;
}

// The flag comes with the CLI work; until the agent takes it there is nothing to test.
const hasSalvage = /--(\[no-\])?salvage/.test(sh(process.execPath, [CLI, 'agent', '--help']).stdout);

const h = new Harness();
let host: string;
let agent: AgentProcess;

beforeAll(async () => {
  if (!hasSalvage) return;
  host = h.host(1);
  agent = h.agent(host);
  await agent.start();
});
afterAll(async () => {
  await h.cleanup();
});

const ip = (cidr: string) => cidr.split('/')[0]!;
const legOf = (netns: string) => `vg${createHash('sha256').update(netns).digest('hex').slice(0, 12)}`;

describe.skipIf(!hasSalvage)('--salvage: nothing unaccounted is deleted', () => {
  it('keeps an endpoint whose record was lost and an unrecorded sandbox, naming them in one line each', async () => {
    await agent.json('network', 'create', 'keep', '--subnet', '10.81.0.0/24');
    const [w1, w2] = h.workloads(['s1', 's2']) as [string, string];
    const e1 = await agent.json<Ep>('endpoint', 'attach', '--network', 'keep', '--netns', w1);
    const e2 = await agent.json<Ep>('endpoint', 'attach', '--network', 'keep', '--netns', w2);
    const [net] = await agent.json<Net[]>('network', 'inspect', 'keep');
    const sandbox = `/run/netns/${net!.sandbox}`;
    await agent.stop();

    // The store loses e2's record, and its pool forgets e1's address (as damaged records would);
    // a sandbox nothing records appears.
    const { FileStore } = (await import(join(ROOT, 'dist/store/index.js'))) as { FileStore: { open(dir: string): Promise<MinimalStore> } };
    const { release } = (await import(join(ROOT, 'dist/ipam/index.js'))) as { release(p: unknown, ip: string): unknown };
    const store = await FileStore.open(agent.dataDir);
    const pools = await store.list('ipam/pools/');
    const poolKv = pools.find((kv) => kv.value.owner === 'keep')!;
    const gwPool = pools.find((kv) => kv.value.owner === 'vxmesh_gwbridge')!;
    await store.txn([
      { op: 'delete', key: `endpoints/${e2.id}` },
      { op: 'put', key: poolKv.key, value: release(poolKv.value, ip(e1.ipv4)) },
      { op: 'delete', key: gwPool.key },
    ]);
    await store.close();
    const stale = `${agent.netnsPrefix}-n-0123456789ab`;
    expect(sh('ip', ['netns', 'add', stale]).code).toBe(0);
    const view = () => ({
      namespaces: h.namespaces().sort(),
      host: linkNames(`/run/netns/${host}`).sort(),
      sandbox: linkNames(sandbox).sort(),
      w1: linkNames(w1).sort(),
      w2: linkNames(w2).sort(),
    });
    const before = view();

    const salvaging = h.agent(host, ['--salvage']);
    await salvaging.start();
    try {
      expect(view()).toEqual(before);
      expect(canPing(w1, ip(e2.ipv4), 2)).toBe(true);
      expect((await salvaging.json<Ep[]>('endpoint', 'ls')).map((e) => e.id)).toEqual([e1.id]);
      const warnings = salvaging.log.split('\n').filter((l) => l.includes('"level":40') && l.includes('salvage: keeping'));
      expect(warnings, salvaging.log).toHaveLength(2);
      const nsLine = JSON.parse(warnings.find((l) => l.includes('namespaces'))!) as { count: number; names: string[] };
      expect(nsLine).toMatchObject({ count: 1, names: [stale] });
      const linkLine = JSON.parse(warnings.find((l) => l.includes('links'))!) as { count: number; names: string[] };
      expect(linkLine.names.sort()).toEqual([legOf(w2), `${net!.sandbox}/ve${e2.id.slice(0, 12)}`].sort());
      expect(linkLine.count).toBe(2);
      // e1's address and the legs' addresses (their pool was lost) are claimed again, in one line naming them.
      const claimed = salvaging.log.split('\n').filter((l) => l.includes('claimed again'));
      expect(claimed, salvaging.log).toHaveLength(1);
      const claimedLine = JSON.parse(claimed[0]!) as { count: number; names: string[] };
      expect(claimedLine.names).toContain(`endpoint ${e1.id.slice(0, 12)}:${ip(e1.ipv4)}`);
      expect(claimedLine.names.filter((n) => n.startsWith('gateway leg '))).toHaveLength(2);
      expect(claimedLine.count).toBe(3);
      const w3 = h.workload('s3');
      const dup = await salvaging.cli('endpoint', 'attach', '--network', 'keep', '--netns', w3, '--ip', ip(e1.ipv4));
      expect(dup.code, dup.stdout).not.toBe(0);
      expect(dup.stderr).toMatch(/already (allocated|in use)/);
      // the gateway bridge's pool was made again, holding e1's leg address: w3's leg gets another one
      const e3 = await salvaging.json<Ep>('endpoint', 'attach', '--network', 'keep', '--netns', w3);
      const legAddr = (ns: string) => (JSON.parse(inNs(ns, 'ip', ['-j', '-4', 'addr', 'show', 'eth1']).stdout) as { addr_info: { local: string }[] }[])[0]!.addr_info[0]!.local;
      expect(legAddr(e3.netns)).not.toBe(legAddr(w1));
      expect(legAddr(e3.netns)).not.toBe(legAddr(w2));
      expect((await salvaging.cli('endpoint', 'detach', e3.id)).code).toBe(0);

      // What the store accounts for is still managed: detaching e1 removes exactly its interfaces.
      expect((await salvaging.cli('endpoint', 'detach', e1.id)).code).toBe(0);
      expect(linkNames(w1)).toEqual(['lo']);
      expect(linkNames(`/run/netns/${host}`)).not.toContain(legOf(w1));
      expect(linkNames(`/run/netns/${host}`)).toContain(legOf(w2));
      expect(linkNames(sandbox)).toContain(`ve${e2.id.slice(0, 12)}`);
      expect(linkNames(w2).sort()).toEqual(['eth0', 'eth1', 'lo']);
      // Removing the network would take e2's interfaces down with its sandbox: refused, naming them.
      const rm = await salvaging.cli('network', 'rm', 'keep');
      expect(rm.code).not.toBe(0);
      expect(rm.stderr).toContain(`ve${e2.id.slice(0, 12)}`);
      expect(h.namespaces()).toContain(net!.sandbox);
    } finally {
      await salvaging.stop();
    }
  });
});
