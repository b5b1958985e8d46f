import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore, StateCache, StoreCompacted, StoreConflict, type Store, type TxnOp, type WatchEvent, type WatchOptions } from '../../src/store/index.js';

let dir: string;
const opened: FileStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxmesh-store-watch-'));
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function openStore(watchHistory?: number, at = dir): Promise<FileStore> {
  const s = await FileStore.open(at, { watchHistory });
  opened.push(s);
  return s;
}

/** Resolves when `cond` holds, checked after every macrotask; fails after `ms`. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}

describe('FileStore watch', () => {
  it('delivers each txn under the prefix once, in revision order, together, after it is durable', async () => {
    const s = await openStore();
    const r0 = (await s.snapshot('net/')).revision;
    const seen: WatchEvent[] = [];
    const stop = s.watch('net/', r0, (ev) => seen.push(ev));
    const r1 = await s.txn([
      { op: 'put', key: 'net/a', value: { n: 1 } },
      { op: 'put', key: 'ep/x', value: 1 }, // other prefix: not delivered
      { op: 'put', key: 'net/b', value: { n: 2 } },
    ]);
    // Delivered before txn() resolved: a reader after `await txn()` sees the change.
    expect(seen).toEqual([
      { type: 'put', key: 'net/a', value: { n: 1 }, revision: r1 },
      { type: 'put', key: 'net/b', value: { n: 2 }, revision: r1 },
    ]);
    const r2 = await s.txn([{ op: 'delete', key: 'net/a' }, { op: 'delete', key: 'net/missing' }]);
    expect(seen.slice(2)).toEqual([{ type: 'delete', key: 'net/a', revision: r2 }]);
    stop();
    await s.txn([{ op: 'put', key: 'net/c', value: 3 }]);
    expect(seen).toHaveLength(3);
  });

  it('replays history from an older revision, then continues live; values are copies', async () => {
    const s = await openStore();
    const r1 = await s.txn([{ op: 'put', key: 'k/1', value: { v: 1 } }]);
    const r2 = await s.txn([{ op: 'put', key: 'k/2', value: { v: 2 } }]);
    const seen: WatchEvent<{ v: number }>[] = [];
    s.watch<{ v: number }>('k/', r1, (ev) => seen.push(ev));
    expect(seen).toEqual([]); // replay comes after watch() returns
    await until(() => seen.length === 1);
    expect(seen[0]).toEqual({ type: 'put', key: 'k/2', value: { v: 2 }, revision: r2 });
    (seen[0] as { value: { v: number } }).value.v = 99;
    expect((await s.get('k/2'))?.value).toEqual({ v: 2 });
    const r3 = await s.txn([{ op: 'put', key: 'k/3', value: { v: 3 } }]);
    expect(seen.map((e) => e.revision)).toEqual([r2, r3]);
  });

  it('a watch from before the kept history throws StoreCompacted (also right after a reopen)', async () => {
    const s = await openStore(3);
    for (let i = 0; i < 6; i++) await s.txn([{ op: 'put', key: `k/${i}`, value: i }]);
    expect(() => s.watch('k/', 2, () => undefined)).toThrow(StoreCompacted);
    const err = (() => {
      try {
        s.watch('k/', 1, () => undefined);
      } catch (e) {
        return e as StoreCompacted;
      }
    })()!;
    expect(err.message).toMatch(/revision 1.*list again/);
    const seen: number[] = [];
    s.watch('k/', 3, (ev) => seen.push(ev.revision));
    await until(() => seen.length === 3);
    expect(seen).toEqual([4, 5, 6]);
    await s.close();
    opened.splice(opened.indexOf(s), 1);
    const again = await openStore(3);
    expect(() => again.watch('k/', 5, () => undefined)).toThrow(StoreCompacted);
    expect(() => again.watch('k/', 6, () => undefined)).not.toThrow();
  });

  it('reports progress for txns outside the prefix', async () => {
    const s = await openStore();
    const progress: number[] = [];
    s.watch('net/', 0, () => undefined, { onProgress: (r) => progress.push(r) });
    const r = await s.txn([{ op: 'put', key: 'other', value: 1 }]);
    expect(progress).toEqual([r]);
  });
});

describe('StateCache', () => {
  it('lists, then follows; waitForRevision makes a write readable; onChange sees each change', async () => {
    const s = await openStore();
    await s.txn([{ op: 'put', key: 'net/a', value: 'A' }, { op: 'put', key: 'other', value: 0 }]);
    const cache = new StateCache<string>(s, 'net/');
    await cache.start();
    expect(cache.values()).toEqual(['A']);
    const changes: WatchEvent<string>[] = [];
    cache.onChange((ev) => changes.push(ev));
    const rev = await s.txn([{ op: 'put', key: 'net/b', value: 'B' }]);
    await cache.waitForRevision(rev);
    expect(cache.get('net/b')).toEqual({ key: 'net/b', value: 'B', revision: rev });
    const rev2 = await s.txn([{ op: 'put', key: 'other', value: 1 }]); // not under the prefix
    await cache.waitForRevision(rev2); // progress still arrives
    expect(cache.revision).toBe(rev2);
    await s.txn([{ op: 'delete', key: 'net/a' }]);
    expect(changes.map((e) => [e.type, e.key])).toEqual([
      ['put', 'net/b'],
      ['delete', 'net/a'],
    ]);
    cache.stop();
    await expect(cache.waitForRevision(rev2 + 100)).rejects.toThrow(/not running/);
  });

  it('stop() then start() again catches up, reporting what changed while stopped; a failed start can be retried', async () => {
    const s = await openStore();
    await s.txn([{ op: 'put', key: 'n/a', value: 1 }, { op: 'put', key: 'n/b', value: 2 }]);
    const cache = new StateCache<number>(s, 'n/');
    const changes: string[] = [];
    cache.onChange((ev) => changes.push(`${ev.type} ${ev.key}`));
    await cache.start();
    expect(changes).toEqual(['put n/a', 'put n/b']);
    cache.stop();
    await s.txn([{ op: 'delete', key: 'n/a' }, { op: 'put', key: 'n/c', value: 3 }]);
    expect(cache.get('n/c')).toBeUndefined(); // stopped: not following
    await cache.start();
    expect(cache.entries()).toEqual(await s.list('n/'));
    expect(changes.slice(2)).toEqual(['delete n/a', 'put n/c']);
    const outside = await s.txn([{ op: 'put', key: 'x', value: 0 }]);
    await cache.waitForRevision(outside);
    cache.stop();

    let fail = true;
    const flaky: Store = Object.assign(Object.create(s) as Store, {
      snapshot: (p: string) => (fail ? Promise.reject(new Error('store down')) : s.snapshot(p)),
      watch: s.watch.bind(s),
    });
    const c2 = new StateCache<number>(flaky, 'n/');
    await expect(c2.start()).rejects.toThrow(/store down/);
    fail = false;
    await c2.start();
    expect(c2.entries()).toEqual(await s.list('n/'));
    c2.stop();
  });

  it('re-lists when the watch reports StoreCompacted, and tells listeners what changed meanwhile', async () => {
    const s = await openStore();
    await s.txn([{ op: 'put', key: 'n/keep', value: 1 }, { op: 'put', key: 'n/gone', value: 2 }]);
    // A store whose live watch we can break, as etcd breaks it when its history is compacted.
    let breakWatch: ((e: Error) => void) | undefined;
    let paused = false;
    const breakable: Store = Object.assign(Object.create(s) as Store, {
      snapshot: s.snapshot.bind(s),
      watch: <T>(prefix: string, from: number, on: (ev: WatchEvent<T>) => void, o?: WatchOptions) => {
        breakWatch = o?.onError;
        const onProgress = (r: number) => paused || o?.onProgress?.(r);
        return s.watch<T>(prefix, from, (ev) => paused || on(ev), { ...o, onProgress });
      },
    });
    const cache = new StateCache<number>(breakable, 'n/');
    await cache.start();
    const changes: WatchEvent<number>[] = [];
    cache.onChange((ev) => changes.push(ev));
    paused = true; // events the cache misses
    await s.txn([{ op: 'delete', key: 'n/gone' }]);
    const r = await s.txn([{ op: 'put', key: 'n/new', value: 3 }]);
    paused = false;
    expect(cache.revision).toBeLessThan(r); // it really missed them
    breakWatch!(new StoreCompacted(1, 2));
    await cache.waitForRevision(r);
    expect(cache.entries().map((kv) => kv.key)).toEqual(['n/keep', 'n/new']);
    expect(changes.map((e) => [e.type, e.key])).toEqual([
      ['delete', 'n/gone'],
      ['put', 'n/new'],
    ]);
    cache.stop();
  });

  it('property: a cache following random concurrent txns always equals a fresh list', async () => {
    const key = fc.constantFrom('a/1', 'a/2', 'a/3', 'a/4/x', 'b/1', 'b/2', 'a');
    const op = fc.record({ del: fc.boolean(), key, value: fc.integer(), cas: fc.constantFrom('none', 'zero', 'current') });
    const txn = fc.array(op, { minLength: 1, maxLength: 3 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(txn, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }), fc.nat(8), async (rounds, startAt) => {
        const s = await openStore(undefined, join(dir, `run-${run++}`));
        const cache = new StateCache<number>(s, 'a/');
        cache.addIndex('parity', (kv) => [kv.value % 2 === 0 ? 'even' : 'odd']);
        const mirror = new Map<string, number>(); // built from onChange alone
        cache.onChange((ev) => (ev.type === 'put' ? mirror.set(ev.key, ev.value) : mirror.delete(ev.key)));
        let started = false;
        let last = 0;
        for (const [i, round] of rounds.entries()) {
          if (i === startAt) {
            await cache.start();
            started = true;
          }
          // Each round's txns run concurrently: some group-commit together, some conflict.
          const results = await Promise.allSettled(
            round.map(async (ops) => {
              const txnOps: TxnOp[] = [];
              for (const o of ops) {
                if (txnOps.some((t) => t.key === o.key)) continue;
                const expectRevision = o.cas === 'none' ? undefined : o.cas === 'zero' ? 0 : ((await s.get(o.key))?.revision ?? 0);
                txnOps.push(o.del ? { op: 'delete', key: o.key, expectRevision } : { op: 'put', key: o.key, value: o.value, expectRevision });
              }
              return s.txn(txnOps);
            }),
          );
          for (const r of results) {
            if (r.status === 'fulfilled') last = Math.max(last, r.value);
            else expect(r.reason).toBeInstanceOf(StoreConflict);
          }
          if (started) {
            await cache.waitForRevision(last);
            expect(cache.entries()).toEqual(await s.list('a/'));
          }
        }
        if (!started) await cache.start();
        await cache.waitForRevision(last);
        const fresh = await s.list<number>('a/');
        expect(cache.entries()).toEqual(fresh);
        expect(new Map(fresh.map((kv) => [kv.key, kv.value]))).toEqual(mirror);
        expect(cache.byIndex('parity', 'even')).toEqual(fresh.filter((kv) => kv.value % 2 === 0));
        expect(cache.byIndex('parity', 'odd')).toEqual(fresh.filter((kv) => kv.value % 2 !== 0));
        expect(cache.revision).toBe((await s.snapshot('a/')).revision);
        cache.stop();
      }),
      { numRuns: 150 },
    );
  });
});
