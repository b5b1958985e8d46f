import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POOLS } from '../../src/ipam/index.js';
import type { PoolState } from '../../src/ipam/pool.js';
import { VNI_RANGE, ipamKeys, transact, type PoolHint } from '../../src/ipam/store-allocator.js';
import { FileStore, StoreConflict } from '../../src/store/index.js';

let dir: string;
let store: FileStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vxmesh-alloc-'));
  store = await FileStore.open(dir);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('allocation over the store', () => {
  it('hands out VNIs from the store, not a cache: concurrent writers never get the same one', async () => {
    // Writers that read at the same time collide on the CAS and re-run on fresh reads.
    const vnis = await Promise.all(Array.from({ length: 20 }, (_, i) => transact(store, DEFAULT_POOLS, (t) => t.allocateVni(`net${i}`), 50)));
    const got = vnis.map((v) => v.result).sort((a, b) => a - b);
    expect(new Set(got).size).toBe(20);
    expect(got[0]).toBe(VNI_RANGE.min);
    expect((await store.list(ipamKeys.vniPrefix)).length).toBe(20);
    // A released VNI is the lowest free one again.
    await transact(store, DEFAULT_POOLS, async (t) => t.releaseVni(VNI_RANGE.min + 3));
    expect((await transact(store, DEFAULT_POOLS, (t) => t.allocateVni('again'))).result).toBe(VNI_RANGE.min + 3);
  });

  it('allocates addresses with compare-and-swap on the pool: two writers of one pool never share an address', async () => {
    const { result: pool } = await transact(store, DEFAULT_POOLS, (t) => t.createPool({ owner: 'net', family: 4, subnet: '10.9.0.0/24' }));
    const ips = await Promise.all(Array.from({ length: 30 }, () => transact(store, DEFAULT_POOLS, (t) => t.allocateAddress(pool.id, { purpose: 'endpoint' }, 'net'), 100)));
    expect(new Set(ips.map((r) => r.result)).size).toBe(30);
    expect((await store.get<{ allocatedCount: number }>(ipamKeys.pool(pool.id)))?.value.allocatedCount).toBe(30);
  });

  it('a conflict that outlasts the attempts is reported, and nothing of the transaction is written', async () => {
    const { result: pool } = await transact(store, DEFAULT_POOLS, (t) => t.createPool({ owner: 'net', family: 4, subnet: '10.8.0.0/24' }));
    const before = await store.get(ipamKeys.pool(pool.id));
    await expect(
      transact(store, DEFAULT_POOLS, async (t) => {
        await t.allocateAddress(pool.id, { purpose: 'endpoint' }, 'net');
        t.put('endpoints/x', { id: 'x' });
        // someone else writes the pool between this transaction's read and its commit
        await store.txn([{ op: 'put', key: ipamKeys.pool(pool.id), value: before!.value }]);
      }, 2),
    ).rejects.toBeInstanceOf(StoreConflict);
    expect(await store.get('endpoints/x')).toBeUndefined();
  });

  it('a pool from a stale local copy (hint) costs a conflict and a fresh read, never a shared address; an unchanged hinted pool is compared', async () => {
    const { result: pool } = await transact(store, DEFAULT_POOLS, (t) => t.createPool({ owner: 'net', family: 4, subnet: '10.6.0.0/24' }));
    const stale = (await store.get<PoolState>(ipamKeys.pool(pool.id)))!;
    const hint: PoolHint = (id) => (id === pool.id ? { state: stale.value, revision: stale.revision } : undefined);
    const first = await transact(store, DEFAULT_POOLS, (t) => t.allocateAddress(pool.id, { purpose: 'endpoint' }, 'net'), 30, hint);
    // the hint is now one write behind: the first attempt conflicts, the retry reads the store
    let attempts = 0;
    const second = await transact(store, DEFAULT_POOLS, (t) => (attempts++, t.allocateAddress(pool.id, { purpose: 'endpoint' }, 'net')), 30, hint);
    expect(attempts).toBe(2);
    expect(second.result).not.toBe(first.result);
    // a hinted pool that is only read still guards the transaction: moved since, the txn does not apply
    const moved = (await store.get<PoolState>(ipamKeys.pool(pool.id)))!;
    await expect(transact(store, DEFAULT_POOLS, async (t) => {
      if (await t.hasPool(pool.id)) t.put('endpoints/y', { id: 'y' });
    }, 1, hint)).rejects.toBeInstanceOf(StoreConflict);
    expect(await store.get('endpoints/y')).toBeUndefined();
    const current: PoolHint = (id) => (id === pool.id ? { state: moved.value, revision: moved.revision } : undefined);
    await transact(store, DEFAULT_POOLS, async (t) => {
      if (await t.hasPool(pool.id)) t.put('endpoints/y', { id: 'y' });
    }, 1, current);
    expect(await store.get('endpoints/y')).toBeDefined();
  });

  it('a transaction that changes nothing writes nothing', async () => {
    const { revision } = await transact(store, DEFAULT_POOLS, async () => undefined);
    expect(revision).toBe(0);
  });

  it('a pool docker requested is named after its network once the network adopts it (overlap errors say which)', async () => {
    const { result: pool } = await transact(store, DEFAULT_POOLS, (t) => t.createPool({ owner: 'docker', family: 4, subnet: '10.7.0.0/24', noGateway: true }));
    await transact(store, DEFAULT_POOLS, (t) => t.setPoolOwner(pool.id, 'web'));
    await expect(transact(store, DEFAULT_POOLS, (t) => t.createPool({ owner: 'docker', family: 4, subnet: '10.7.0.0/16' }))).rejects.toThrow(
      /overlaps 10\.7\.0\.0\/24 of network "web"/,
    );
  });
});
