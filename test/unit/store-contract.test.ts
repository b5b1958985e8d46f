import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore, FileStore, StateCache, StoreCompacted, StoreConflict, type Store, type TxnOp, type WatchEvent } from '../../src/store/index.js';
import { ETCD_BIN, EtcdServer } from './store-etcd-server.js';

// One contract, two stores: everything a controller relies on behaves the same on the embedded file
// store and on a real etcd. Revision numbers are compared, never assumed (etcd starts at 1, not 0).

interface Harness {
  /** A fresh, empty store; `second` opens another client on the same data (one process per file store). */
  open(): Promise<{ store: Store; second: () => Promise<Store> }>;
  /** Make history before `revision` unavailable to watches. */
  compact(store: Store, revision: number): Promise<void>;
}

const opened: Store[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  for (const c of cleanups.splice(0)) await c();
});

const fileHarness: Harness = {
  async open() {
    const dir = await mkdtemp(join(tmpdir(), 'vxmesh-contract-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = await FileStore.open(dir, { watchHistory: 5 });
    opened.push(store);
    return { store, second: async () => store }; // one writer process per data dir: share the instance
  },
  async compact(store, revision) {
    // The file store keeps the last `watchHistory` (5) revisions: push older ones out.
    const base = (await store.snapshot('')).revision;
    for (let r = base; r < revision + 5; r++) await store.txn([{ op: 'put', key: 'filler', value: r }]);
  },
};

let etcd: EtcdServer | undefined;
let etcdRun = 0;
const etcdHarness: Harness = {
  async open() {
    const prefix = `/contract-${process.pid}-${etcdRun++}/`;
    const connect = async () => {
      const s = await EtcdStore.connect({ endpoints: [etcd!.endpoint], prefix });
      opened.push(s);
      return s;
    };
    return { store: await connect(), second: connect };
  },
  async compact(store, revision) {
    await (store as EtcdStore).compactHistory(revision);
  },
};

const haveEtcd = existsSync(ETCD_BIN);
beforeAll(async () => {
  if (haveEtcd) etcd = await EtcdServer.start();
});
afterAll(async () => {
  await etcd?.stop();
});

/** Resolves when `cond` holds; fails after `ms`. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A watch error, whether the store throws it from watch() (file) or reports it via onError (etcd). */
async function watchError(store: Store, prefix: string, from: number): Promise<Error | undefined> {
  let reported: Error | undefined;
  try {
    const stop = store.watch(prefix, from, () => undefined, { onError: (e) => (reported = e) });
    await until(() => reported !== undefined, 3000).catch(() => undefined);
    stop();
  } catch (e) {
    return e as Error;
  }
  return reported;
}

const stores: [string, Harness][] = [['file', fileHarness]];
if (haveEtcd) stores.push(['etcd', etcdHarness]);
else it.skip(`etcd contract: needs ${ETCD_BIN} (Debian etcd-server)`, () => undefined);

describe.each(stores)('Store contract: %s', (_name, h) => {
  it('check: a compare-only op guards the other writes and writes nothing itself', async () => {
    const { store: s } = await h.open();
    const r1 = await s.txn([{ op: 'put', key: 'net', value: 1 }]);
    const r2 = await s.txn([{ op: 'check', key: 'net', expectRevision: r1 }, { op: 'put', key: 'ep1', value: 'x', expectRevision: 0 }]);
    expect((await s.get('net'))?.revision).toBe(r1); // not written by the check
    expect((await s.get('ep1'))?.revision).toBe(r2);
    await s.txn([{ op: 'put', key: 'net', value: 2 }]);
    const err = await s.txn([{ op: 'check', key: 'net', expectRevision: r1 }, { op: 'put', key: 'ep2', value: 'y' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreConflict);
    expect((err as StoreConflict).key).toBe('net');
    expect(await s.get('ep2')).toBeUndefined();
    await expect(s.txn([{ op: 'check', key: 'absent', expectRevision: 0 }])).resolves.toBeGreaterThanOrEqual(0);
  });

  it('CAS: expectRevision 0 creates only, a stale revision conflicts naming the key, nothing half-applied', async () => {
    const { store: s } = await h.open();
    const r1 = await s.txn([{ op: 'put', key: 'a', value: { n: 1 }, expectRevision: 0 }]);
    expect(await s.get('a')).toEqual({ key: 'a', value: { n: 1 }, revision: r1 });
    await expect(s.txn([{ op: 'put', key: 'a', value: 2, expectRevision: 0 }])).rejects.toBeInstanceOf(StoreConflict);
    const r2 = await s.txn([{ op: 'put', key: 'a', value: 2, expectRevision: r1 }, { op: 'put', key: 'b', value: 'b' }]);
    expect(r2).toBeGreaterThan(r1);
    const err = await s
      .txn([
        { op: 'put', key: 'b', value: 'b2', expectRevision: r2 },
        { op: 'delete', key: 'a', expectRevision: r1 }, // stale
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreConflict);
    expect((err as StoreConflict).key).toBe('a');
    expect((await s.list('')).map((kv) => [kv.key, kv.value, kv.revision])).toEqual([
      ['a', 2, r2],
      ['b', 'b', r2],
    ]);
    const r3 = await s.txn([{ op: 'delete', key: 'a', expectRevision: r2 }]);
    expect(r3).toBeGreaterThan(r2);
    expect(await s.get('a')).toBeUndefined();
    await expect(s.txn([{ op: 'put', key: 'nil', value: null }])).rejects.toThrow(/nil/);
  });

  it('lists by prefix, sorted by key; snapshot carries the revision', async () => {
    const { store: s } = await h.open();
    const rev = await s.txn(['net/b', 'net/a', 'ep/1', 'net/c/x', 'netz'].map((key) => ({ op: 'put' as const, key, value: key })));
    expect((await s.list('net/')).map((kv) => kv.key)).toEqual(['net/a', 'net/b', 'net/c/x']);
    const snap = await s.snapshot('net');
    expect(snap.items.map((kv) => kv.key)).toEqual(['net/a', 'net/b', 'net/c/x', 'netz']);
    expect(snap.revision).toBe(rev);
  });

  it('two concurrent CAS writers on one key: exactly one wins, the other gets StoreConflict', async () => {
    const { store: a, second } = await h.open();
    const b = await second();
    const base = await a.txn([{ op: 'put', key: 'pool', value: { used: [] } }]);
    for (let round = 0; round < 10; round++) {
      const cur = (await a.get<{ used: number[] }>('pool'))!;
      const results = await Promise.allSettled([
        a.txn([{ op: 'put', key: 'pool', value: { used: [...cur.value.used, round * 2] }, expectRevision: cur.revision }]),
        b.txn([{ op: 'put', key: 'pool', value: { used: [...cur.value.used, round * 2 + 1] }, expectRevision: cur.revision }]),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(StoreConflict);
    }
    const final = (await b.get<{ used: number[] }>('pool'))!;
    expect(final.value.used).toHaveLength(10);
    expect(final.revision).toBeGreaterThan(base);
  });

  it('a contended counter from two clients ends exact', async () => {
    const { store: a, second } = await h.open();
    const b = await second();
    await a.txn([{ op: 'put', key: 'ctr', value: 0 }]);
    const incr = async (s: Store) => {
      for (;;) {
        const cur = (await s.get<number>('ctr'))!;
        try {
          return await s.txn([{ op: 'put', key: 'ctr', value: cur.value + 1, expectRevision: cur.revision }]);
        } catch (e) {
          if (!(e instanceof StoreConflict)) throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => incr(i % 2 ? a : b)));
    expect((await a.get('ctr'))?.value).toBe(20);
  });

  it('watch: every change after fromRevision, in order, from another client too; deletes of missing keys make no event', async () => {
    const { store: s, second } = await h.open();
    const other = await second();
    const r0 = await s.txn([{ op: 'put', key: 'w/early', value: 0 }]);
    const r1 = await s.txn([{ op: 'put', key: 'w/a', value: 1 }, { op: 'put', key: 'x/other', value: 1 }]);
    const seen: WatchEvent[] = [];
    const stop = s.watch('w/', r0, (ev) => seen.push(ev));
    const r2 = await other.txn([{ op: 'put', key: 'w/b', value: { v: 2 } }, { op: 'delete', key: 'w/missing' }]);
    const r3 = await s.txn([{ op: 'delete', key: 'w/a' }]);
    await until(() => seen.length >= 3);
    expect(seen).toEqual([
      { type: 'put', key: 'w/a', value: 1, revision: r1 },
      { type: 'put', key: 'w/b', value: { v: 2 }, revision: r2 },
      { type: 'delete', key: 'w/a', revision: r3 },
    ]);
    stop();
    await s.txn([{ op: 'put', key: 'w/after-stop', value: 1 }]);
    const sentinel: WatchEvent[] = [];
    const stop2 = s.watch('w/', r3, (ev) => sentinel.push(ev));
    await until(() => sentinel.length === 1);
    stop2();
    expect(seen).toHaveLength(3);
  });

  it('a watch from compacted history reports StoreCompacted', async () => {
    const { store: s } = await h.open();
    const r1 = await s.txn([{ op: 'put', key: 'c/1', value: 1 }]);
    const r2 = await s.txn([{ op: 'put', key: 'c/1', value: 2 }]);
    await s.txn([{ op: 'put', key: 'c/1', value: 3 }]);
    await h.compact(s, r2 + 1);
    const err = await watchError(s, 'c/', r1);
    expect(err).toBeInstanceOf(StoreCompacted);
  });

  it('StateCache follows another client and settles waitForRevision, also for writes outside its prefix', async () => {
    const { store: s, second } = await h.open();
    const other = await second();
    await s.txn([{ op: 'put', key: 'n/1', value: 'one' }]);
    const cache = new StateCache<string>(s, 'n/');
    await cache.start();
    try {
      expect(cache.values()).toEqual(['one']);
      const r = await other.txn([{ op: 'put', key: 'n/2', value: 'two' }, { op: 'delete', key: 'n/1' }]);
      await cache.waitForRevision(r);
      expect(cache.entries()).toEqual(await s.list('n/'));
      const outside = await other.txn([{ op: 'put', key: 'm/1', value: 'x' }]);
      await cache.waitForRevision(outside);
      expect(cache.revision).toBeGreaterThanOrEqual(outside);
    } finally {
      cache.stop();
    }
  });

  it('property: a StateCache following random concurrent txns from two clients equals a fresh list', async () => {
    const op = fc.record({ del: fc.boolean(), key: fc.constantFrom('a/1', 'a/2', 'a/3/x', 'b/1', 'a'), value: fc.integer(), cas: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }), async (rounds) => {
        const { store: s, second } = await h.open();
        const other = await second();
        const cache = new StateCache<number>(s, 'a/');
        await cache.start();
        try {
          for (const round of rounds) {
            const results = await Promise.allSettled(
              round.map(async (ops, i) => {
                const client = i % 2 ? other : s;
                const txnOps: TxnOp[] = [];
                for (const o of ops) {
                  if (txnOps.some((t) => t.key === o.key)) continue;
                  const expectRevision = o.cas ? ((await client.get(o.key))?.revision ?? 0) : undefined;
                  txnOps.push(o.del ? { op: 'delete', key: o.key, expectRevision } : { op: 'put', key: o.key, value: o.value, expectRevision });
                }
                return client.txn(txnOps);
              }),
            );
            let last = 0;
            for (const r of results) {
              if (r.status === 'fulfilled') last = Math.max(last, r.value);
              else expect(r.reason).toBeInstanceOf(StoreConflict);
            }
            await cache.waitForRevision(last);
            expect(cache.entries()).toEqual(await s.list('a/'));
          }
        } finally {
          cache.stop();
        }
      }),
      { numRuns: 25 },
    );
  });
});
