// The store as the agent's controllers see it when metrics are on: every transaction counted and timed.
import type { VxMetrics } from '../metrics/metrics.js';
import { StoreConflict, StoreUnavailable, StoreWriteError, type Store, type TxnOp } from '../store/index.js';

function errorKind(e: unknown): string {
  if (e instanceof StoreConflict) return 'conflict';
  if (e instanceof StoreWriteError) return 'write';
  if (e instanceof StoreUnavailable) return 'unavailable';
  return 'other';
}

/** `store` with txn() metered; every other method is the store's own. */
export function meteredStore(store: Store, metrics: VxMetrics): Store {
  const txn = async (ops: TxnOp[]): Promise<number> => {
    metrics.storeTxns.inc();
    const end = metrics.storeTxnDuration.startTimer();
    try {
      return await store.txn(ops);
    } catch (e) {
      metrics.storeTxnErrors.inc({ error: errorKind(e) });
      throw e;
    } finally {
      end();
    }
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'txn') return txn;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
