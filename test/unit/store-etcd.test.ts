import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore, StateCache, StoreUnavailable, type Store } from '../../src/store/index.js';
import { ETCD_BIN, EtcdServer } from './store-etcd-server.js';

// etcd down and back: fail fast with the endpoints named, nothing half-applied, resume without a restart.

let etcd: EtcdServer | undefined;
beforeAll(async () => {
  if (existsSync(ETCD_BIN)) etcd = await EtcdServer.start();
});
afterAll(async () => {
  await etcd?.stop();
});

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

describe.skipIf(!existsSync(ETCD_BIN))('EtcdStore against a real etcd that goes away', () => {
  it('connect to an unreachable etcd fails fast, naming the endpoint and what to do', async () => {
    const endpoint = `127.0.0.1:${await deadPort()}`;
    const t0 = Date.now();
    const err = await EtcdStore.connect({ endpoints: [endpoint], requestTimeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailable);
    expect((err as Error).message).toContain(`http://${endpoint}`);
    expect((err as Error).message).toMatch(/--store/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('etcd killed: txns fail fast and apply nothing; restarted: the same store and its cache resume', async () => {
    const prefix = `/outage-${process.pid}/`;
    const store: Store = await EtcdStore.connect({ endpoints: [etcd!.endpoint], prefix, requestTimeoutMs: 1500 });
    const cache = new StateCache<number>(store, 'ep/');
    try {
      await store.txn([{ op: 'put', key: 'ep/1', value: 1 }]);
      await cache.start();
      expect(cache.values()).toEqual([1]);

      await etcd!.kill();
      const t0 = Date.now();
      const err = await store.txn([{ op: 'put', key: 'ep/lost', value: 2, expectRevision: 0 }]).catch((e: unknown) => e);
      const failMs = Date.now() - t0;
      expect(err).toBeInstanceOf(StoreUnavailable);
      expect((err as Error).message).toContain(etcd!.endpoint);
      expect(failMs).toBeLessThan(2500);
      const h = store.health();
      expect(h.ok).toBe(false);
      if (!h.ok) expect(h.error).toContain(etcd!.endpoint);

      await etcd!.run(); // same data dir and ports
      // The store works again without being reopened (the client reconnects on its own).
      await until(async () => (await store.get('ep/1').catch(() => undefined)) !== undefined, 10_000);
      expect(await store.get('ep/lost')).toBeUndefined(); // the failed txn left nothing
      const rev = await store.txn([{ op: 'put', key: 'ep/2', value: 2, expectRevision: 0 }]);
      expect(store.health()).toEqual({ ok: true });
      // The cache's watch reconnected and resumed from where it was.
      await until(() => cache.get('ep/2') !== undefined, 10_000);
      expect(cache.revision).toBeGreaterThanOrEqual(rev);
      expect(cache.entries()).toEqual(await store.list('ep/'));
      console.log(`etcd outage test: txn failed after ${failMs} ms while etcd was down`);
    } finally {
      cache.stop();
      await store.close();
    }
  }, 60_000);

  it('a txn over etcd\'s operation limit is refused up front, naming the limit', async () => {
    const store = await EtcdStore.connect({ endpoints: [etcd!.endpoint], prefix: `/limit-${process.pid}/` });
    try {
      const ops = Array.from({ length: 129 }, (_, i) => ({ op: 'put' as const, key: `k/${i}`, value: i }));
      await expect(store.txn(ops)).rejects.toThrow(/129 operations exceeds etcd's limit of 128/);
      expect(await store.list('k/')).toEqual([]);
      await store.txn(ops.slice(0, 128));
      expect(await store.list('k/')).toHaveLength(128);
    } finally {
      await store.close();
    }
  });
});
