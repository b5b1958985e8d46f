import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore, StoreWriteError, type WatchEvent } from '../../src/store/index.js';

// A real full disk: a 128 KiB tmpfs mounted for this test only (umounted in afterAll, also on failure).

const isRoot = process.getuid?.() === 0;
let mnt: string | undefined;

beforeAll(async () => {
  if (!isRoot) return;
  mnt = await mkdtemp(join(tmpdir(), 'vxmesh-store-enospc-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k,mode=0700', 'tmpfs', mnt]);
});

afterAll(async () => {
  if (!mnt) return;
  try {
    execFileSync('umount', [mnt]);
  } catch {
    execFileSync('umount', ['-l', mnt]); // a store left open by a failed test must not keep it mounted
  }
  await rmdir(mnt);
});

const value = (i: number) => ({ i, pad: 'p'.repeat(1500) });

describe.skipIf(!isRoot)('FileStore on a full disk (real tmpfs)', () => {
  it('a failed write rejects only what is not durable, reports it, and the next txn succeeds once space is back', async () => {
    const dataDir = join(mnt!, 'data');
    const filler = join(mnt!, 'filler');
    await writeFile(filler, Buffer.alloc(48 * 1024)); // space to give back later
    const store = await FileStore.open(dataDir);
    const watched: WatchEvent[] = [];
    store.watch('ep/', 0, (ev) => watched.push(ev));
    try {
      const acked = new Map<string, number>();
      const failed: string[] = [];
      let firstError: unknown;
      // Concurrent txns, so a failure lands in the middle of a group commit with more queued behind it.
      for (let round = 0; firstError === undefined && round < 200; round++) {
        const keys = Array.from({ length: 6 }, (_, j) => `ep/${round}-${j}`);
        const results = await Promise.allSettled(keys.map((key, j) => store.txn([{ op: 'put', key, value: value(round * 10 + j) }])));
        results.forEach((r, j) => {
          if (r.status === 'fulfilled') acked.set(keys[j]!, r.value);
          else {
            failed.push(keys[j]!);
            firstError ??= r.reason;
          }
        });
      }
      expect(firstError, 'the disk never filled up').toBeInstanceOf(StoreWriteError);
      expect((firstError as Error).message).toMatch(/no space left on device \(ENOSPC\) writing .*store\.log/);
      expect((firstError as StoreWriteError).errno).toBe('ENOSPC');
      expect(acked.size).toBeGreaterThan(5);

      // Nothing of a failed txn is visible, everything acknowledged is.
      for (const key of failed) expect(await store.get(key), key).toBeUndefined();
      for (const [key, rev] of acked) expect((await store.get(key))?.revision, key).toBe(rev);
      expect((await store.list('ep/')).length).toBe(acked.size);
      const h = store.health();
      expect(h.ok).toBe(false);
      if (!h.ok) {
        expect(h.error).toMatch(/no space left on device/);
        expect(Number.isNaN(Date.parse(h.since))).toBe(false);
      }
      // Still full (for a txn bigger than what the failed group left free): it fails the same way, invisibly.
      const big = { pad: 'b'.repeat(40 * 1024) };
      await expect(store.txn([{ op: 'put', key: 'ep/still-full', value: big }])).rejects.toBeInstanceOf(StoreWriteError);
      expect(await store.get('ep/still-full')).toBeUndefined();

      // Space comes back: the next txn succeeds, no restart, and its revision follows the last acked one.
      await unlink(filler);
      const lastAcked = Math.max(...acked.values());
      const rev = await store.txn([{ op: 'put', key: 'ep/after', value: value(-2) }]);
      expect(rev).toBe(lastAcked + 1);
      acked.set('ep/after', rev);
      expect(store.health()).toEqual({ ok: true });
      // Watchers heard of exactly the acknowledged txns, never of a failed one.
      expect(new Map(watched.map((ev) => [ev.key, ev.revision]))).toEqual(acked);
      expect(watched).toHaveLength(acked.size);
      await store.close();

      // A reopen shows exactly the acknowledged txns (no half-written record, no corruption error).
      const again = await FileStore.open(dataDir);
      try {
        const all = await again.list('ep/');
        expect(new Map(all.map((kv) => [kv.key, kv.revision]))).toEqual(acked);
      } finally {
        await again.close();
      }
      console.log(`store ENOSPC test: ${acked.size} acked, ${failed.length} failed while full, log ${(await stat(join(dataDir, 'store.log'))).size} bytes`);
    } finally {
      await store.close().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('txns that counted on a failed one (queued behind it) fail with it; a txn that fits afterwards succeeds', async () => {
    const dataDir = join(mnt!, 'data2');
    const store = await FileStore.open(dataDir);
    try {
      // A cannot fit in the 128 KiB filesystem at all; B compares against A's not-yet-durable revision.
      const a = store.txn([{ op: 'put', key: 'pool', value: { bitmap: 'f'.repeat(200 * 1024) } }]);
      const seenByB = (await store.get('pool'))!;
      const b = store.txn([{ op: 'put', key: 'pool', value: { bitmap: 'small' }, expectRevision: seenByB.revision }]);
      const [ra, rb] = await Promise.allSettled([a, b]);
      expect(ra.status).toBe('rejected');
      expect(rb.status).toBe('rejected');
      expect((ra as PromiseRejectedResult).reason).toBeInstanceOf(StoreWriteError);
      expect((rb as PromiseRejectedResult).reason).toBeInstanceOf(StoreWriteError);
      expect(await store.get('pool')).toBeUndefined();
      expect(store.health().ok).toBe(false);
      // The partial append was cut, so a txn that fits succeeds, at the revision A would have had.
      const rc = await store.txn([{ op: 'put', key: 'pool', value: { bitmap: 'c' }, expectRevision: 0 }]);
      expect(rc).toBe(seenByB.revision);
      expect(store.health()).toEqual({ ok: true });
      await store.close();
      const again = await FileStore.open(dataDir);
      expect(await again.list('')).toEqual([{ key: 'pool', value: { bitmap: 'c' }, revision: rc }]);
      await again.close();
    } finally {
      await store.close().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
