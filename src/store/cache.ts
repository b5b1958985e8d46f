import { StoreCompacted } from './errors.js';
import type { KV, Store, WatchEvent } from './types.js';

// A local copy of every key under a prefix, kept current by list-then-watch. A controller writes with
// store.txn() and then `await cache.waitForRevision(rev)` before reading its own write from the cache.

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
const CATCH_UP_AFTER_MS = 50;

export class StateCache<T> {
  private items = new Map<string, KV<T>>();
  private rev = 0;
  /** Revision of the last full list: events at or below it are already in `items`. */
  private listRev = 0;
  private catchUpTimer: NodeJS.Timeout | undefined;
  private stopWatch: (() => void) | undefined;
  private listeners = new Set<(ev: WatchEvent<T>) => void>();
  private indexes = new Map<string, { keysOf: (kv: KV<T>) => string[]; map: Map<string, Set<string>> }>();
  private waiters: { rev: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private running = false;
  /** Bumped by every start() and stop(), so a list still in flight from an earlier run is dropped. */
  private generation = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  /** The last error that made the cache re-list (StoreCompacted, store unreachable), until it is current again. */
  lastError: Error | undefined;

  constructor(
    private readonly store: Store,
    private readonly prefix: string,
  ) {}

  /** The store revision the cache reflects. */
  get revision(): number {
    return this.rev;
  }

  /** Lists, then watches from the list's revision. Resolves once the cache holds the listed state. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.sync(++this.generation);
    } catch (e) {
      this.stop(); // a later start() tries again from scratch
      throw e;
    }
  }

  stop(): void {
    this.running = false;
    this.generation++;
    clearTimeout(this.retryTimer);
    clearTimeout(this.catchUpTimer);
    this.retryTimer = this.catchUpTimer = undefined;
    this.stopWatch?.();
    this.stopWatch = undefined;
    for (const w of this.waiters.splice(0)) w.reject(new Error(`state cache for ${this.prefix} stopped`));
  }

  get(key: string): KV<T> | undefined {
    return this.items.get(key);
  }

  values(): T[] {
    return [...this.items.values()].map((kv) => kv.value);
  }

  /** Sorted by key, as Store.list() is. */
  entries(): KV<T>[] {
    return [...this.items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Keeps a secondary index current: `keysOf` names the index values of an entry (e.g. its network id).
   * Register before start() or at any time (it is built from what the cache holds).
   */
  addIndex(name: string, keysOf: (kv: KV<T>) => string[]): void {
    const index = { keysOf, map: new Map<string, Set<string>>() };
    this.indexes.set(name, index);
    for (const kv of this.items.values()) this.indexAdd(index, kv);
  }

  /** Entries whose index `name` holds `value`, sorted by key. */
  byIndex(name: string, value: string): KV<T>[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`state cache for ${this.prefix} has no index ${name}; addIndex() it first`);
    return [...(index.map.get(value) ?? [])].sort().map((key) => this.items.get(key)!);
  }

  private indexAdd(index: { keysOf: (kv: KV<T>) => string[]; map: Map<string, Set<string>> }, kv: KV<T>): void {
    for (const v of index.keysOf(kv)) {
      let keys = index.map.get(v);
      if (!keys) index.map.set(v, (keys = new Set()));
      keys.add(kv.key);
    }
  }

  private indexRemove(index: { keysOf: (kv: KV<T>) => string[]; map: Map<string, Set<string>> }, kv: KV<T>): void {
    for (const v of index.keysOf(kv)) {
      const keys = index.map.get(v);
      keys?.delete(kv.key);
      if (keys?.size === 0) index.map.delete(v);
    }
  }

  /** Sets or removes one entry, keeping every index current. */
  private setItem(key: string, kv: KV<T> | undefined): void {
    const old = this.items.get(key);
    for (const index of this.indexes.values()) {
      if (old) this.indexRemove(index, old);
      if (kv) this.indexAdd(index, kv);
    }
    if (kv) this.items.set(key, kv);
    else this.items.delete(key);
  }

  /** Called for every change the cache applies (re-lists report their differences as events too). */
  onChange(fn: (ev: WatchEvent<T>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves once the cache reflects store revision `rev` (e.g. the one txn() returned). */
  waitForRevision(rev: number): Promise<void> {
    if (this.rev >= rev) return Promise.resolve();
    if (!this.running) return Promise.reject(new Error(`state cache for ${this.prefix} is not running`));
    return new Promise((resolve, reject) => {
      this.waiters.push({ rev, resolve, reject });
      this.scheduleCatchUp(CATCH_UP_AFTER_MS);
    });
  }

  /**
   * A watch only speaks when its prefix changes (etcd sends no progress for other keys), so a wait for
   * a revision written elsewhere is settled by listing once the watch has had its chance.
   */
  private scheduleCatchUp(ms: number): void {
    if (this.catchUpTimer || !this.running) return;
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = undefined;
      if (!this.waiters.length || !this.running) return;
      this.store
        .snapshot<T>(this.prefix)
        .then((snap) => {
          if (this.running && snap.revision > this.rev) this.replaceAll(snap.items, snap.revision);
        })
        .catch((e: unknown) => (this.lastError = e instanceof Error ? e : new Error(String(e))))
        .finally(() => {
          if (this.waiters.length) this.scheduleCatchUp(Math.min(ms * 2, RETRY_MAX_MS));
        });
    }, ms);
  }

  private async sync(gen: number): Promise<void> {
    for (;;) {
      const snap = await this.store.snapshot<T>(this.prefix);
      if (!this.running || gen !== this.generation) return;
      this.replaceAll(snap.items, snap.revision);
      try {
        this.stopWatch = this.store.watch<T>(this.prefix, snap.revision, (ev) => this.apply(ev), {
          onProgress: (r) => this.advance(r),
          onError: (e) => this.watchFailed(e),
        });
        this.lastError = undefined;
        this.retryMs = RETRY_MIN_MS;
        return;
      } catch (e) {
        if (!(e instanceof StoreCompacted)) throw e;
        this.lastError = e; // changes outran the store's history between list and watch: list again
      }
    }
  }

  /** The watch ended (compacted, store unreachable): list again, backing off while it keeps failing. */
  private watchFailed(e: Error): void {
    this.stopWatch?.();
    this.stopWatch = undefined;
    this.lastError = e;
    if (!this.running) return;
    const delay = e instanceof StoreCompacted ? 0 : this.retryMs;
    if (!(e instanceof StoreCompacted)) this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    const gen = this.generation;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.sync(gen).catch((err: unknown) => this.watchFailed(err instanceof Error ? err : new Error(String(err))));
    }, delay);
  }

  private apply(ev: WatchEvent<T>): void {
    if (ev.revision <= this.listRev) return; // already part of a newer list
    this.setItem(ev.key, ev.type === 'put' ? { key: ev.key, value: ev.value, revision: ev.revision } : undefined);
    this.emit(ev);
    this.advance(ev.revision);
  }

  /** Swaps in a fresh list, telling listeners what differs from what they saw. */
  private replaceAll(items: KV<T>[], revision: number): void {
    this.listRev = revision;
    const fresh = new Map(items.map((kv) => [kv.key, kv]));
    const old = this.items;
    this.items = fresh;
    for (const index of this.indexes.values()) {
      index.map.clear();
      for (const kv of items) this.indexAdd(index, kv);
    }
    for (const key of old.keys()) if (!fresh.has(key)) this.emit({ type: 'delete', key, revision });
    for (const kv of items) {
      if (old.get(kv.key)?.revision !== kv.revision) this.emit({ type: 'put', key: kv.key, value: kv.value, revision: kv.revision });
    }
    this.advance(revision);
  }

  private emit(ev: WatchEvent<T>): void {
    for (const fn of this.listeners) fn(ev);
  }

  private advance(rev: number): void {
    if (rev <= this.rev) return;
    this.rev = rev;
    const ready = this.waiters.filter((w) => w.rev <= rev);
    if (!ready.length) return;
    this.waiters = this.waiters.filter((w) => w.rev > rev);
    for (const w of ready) w.resolve();
  }
}
