// Durable key-value store with compare-and-swap transactions. The embedded file store
// implements it on a single host; an etcd-backed one slots in for shared allocation.

export interface KV<T = unknown> {
  key: string;
  value: T;
  /** Store revision at which this key was last written (> 0). */
  revision: number;
}

export type TxnOp =
  | { op: 'put'; key: string; value: unknown; expectRevision?: number }
  | { op: 'delete'; key: string; expectRevision?: number };

/** A compare failed: someone else changed `key` since it was read. Re-read and retry. */
export class StoreConflict extends Error {
  constructor(readonly key: string) {
    super(`store conflict on ${key}: it changed since it was read`);
    this.name = 'StoreConflict';
  }
}

export interface Store {
  get<T = unknown>(key: string): Promise<KV<T> | undefined>;
  list<T = unknown>(prefix: string): Promise<KV<T>[]>;
  /**
   * Applies all ops atomically and durably, or none. `expectRevision` compares first:
   * 0 = key must not exist; n = key's revision must be n. Throws StoreConflict on a failed compare.
   * Returns the new store revision.
   */
  txn(ops: TxnOp[]): Promise<number>;
  close(): Promise<void>;
}
