// Durable key-value store with compare-and-swap transactions and a watch. The embedded file store
// implements it on a single host; the etcd store behind the same interface serves a cluster.

export { StoreCompacted, StoreConflict, StoreCorruptError, StoreUnavailable, StoreWriteError } from './errors.js';

export interface KV<T = unknown> {
  key: string;
  value: T;
  /** Store revision at which this key was last written (> 0). */
  revision: number;
}

export type TxnOp =
  | { op: 'put'; key: string; value: unknown; expectRevision?: number }
  | { op: 'delete'; key: string; expectRevision?: number }
  /** Compare only: the txn applies only if `key` is still at `expectRevision` (0 = absent); writes nothing. */
  | { op: 'check'; key: string; expectRevision: number };

/** One change, at the revision of the transaction that made it. Deleting a missing key makes no event. */
export type WatchEvent<T = unknown> =
  | { type: 'put'; key: string; value: T; revision: number }
  | { type: 'delete'; key: string; revision: number };

export interface WatchOptions {
  /**
   * The store reached `revision` (all events up to it were delivered), whether or not this prefix changed.
   * Lets a cache tell it is current after a write elsewhere.
   */
  onProgress?: (revision: number) => void;
  /**
   * The watch ended and will deliver nothing more: a StoreCompacted (list again) or the store became
   * unreachable. Without it such errors are thrown where they can be (file store: from watch()).
   */
  onError?: (error: Error) => void;
}

export type StoreHealth = { ok: true } | { ok: false; error: string; since: string /* ISO 8601 */ };

export interface Store {
  get<T = unknown>(key: string): Promise<KV<T> | undefined>;
  /** Keys starting with `prefix`, sorted by key. */
  list<T = unknown>(prefix: string): Promise<KV<T>[]>;
  /** list() plus the store revision it reflects: watch from that revision to miss nothing. */
  snapshot<T = unknown>(prefix: string): Promise<{ items: KV<T>[]; revision: number }>;
  /**
   * Applies all ops atomically and durably, or none. `expectRevision` compares first:
   * 0 = key must not exist; n = key's revision must be n. Throws StoreConflict on a failed compare,
   * StoreWriteError when it could not be made durable (nothing applied; a later txn may succeed).
   * Returns the new store revision.
   */
  txn(ops: TxnOp[]): Promise<number>;
  /**
   * Calls `onEvent` for every change under `prefix` with revision > `fromRevision`, in revision order,
   * the events of one txn together and only once it is durable. Throws StoreCompacted when history from
   * `fromRevision` is no longer kept (list again). Returns a function that stops the watch.
   */
  watch<T = unknown>(prefix: string, fromRevision: number, onEvent: (ev: WatchEvent<T>) => void, options?: WatchOptions): () => void;
  /** The last write (file store) or request (etcd) failure, until one succeeds again. */
  health(): StoreHealth;
  close(): Promise<void>;
}
