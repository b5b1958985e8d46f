import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POOLS } from '../../src/ipam/index.js';
import { VNI_RANGE, transact } from '../../src/ipam/store-allocator.js';
import { EtcdStore } from '../../src/store/index.js';
import { ETCD_BIN, EtcdServer } from './store-etcd-server.js';

// Two agents sharing one etcd (two clients): what they allocate comes from the store with
// compare-and-swap, so neither hands out what the other holds.

let etcd: EtcdServer | undefined;
const stores: EtcdStore[] = [];
beforeAll(async () => {
  if (!existsSync(ETCD_BIN)) return;
  etcd = await EtcdServer.start();
  for (let i = 0; i < 2; i++) stores.push(await EtcdStore.connect({ endpoints: [etcd.endpoint], prefix: '/alloc-test/' }));
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await etcd?.stop();
});

describe.skipIf(!existsSync(ETCD_BIN))('allocation over a shared etcd', () => {
  it('two agents allocating VNIs and addresses at once never get the same one', async () => {
    const [a, b] = stores as [EtcdStore, EtcdStore];
    const { result: pool } = await transact(a, DEFAULT_POOLS, (t) => t.createPool({ owner: 'shared', family: 4, subnet: '10.5.0.0/24' }));
    const work = [a, b].flatMap((store, who) =>
      Array.from({ length: 8 }, (_, i) =>
        transact(store, DEFAULT_POOLS, async (t) => ({ vni: await t.allocateVni(`n${who}-${i}`), ip: await t.allocateAddress(pool.id, { purpose: 'endpoint' }, 'shared') }), 100),
      ),
    );
    const got = (await Promise.all(work)).map((r) => r.result);
    expect(new Set(got.map((g) => g.vni)).size).toBe(16);
    expect(new Set(got.map((g) => g.ip)).size).toBe(16);
    expect(Math.min(...got.map((g) => g.vni))).toBe(VNI_RANGE.min);
    // and the other client sees it all
    expect((await b.list('ipam/vnis/')).length).toBe(16);
  }, 60_000);
});
