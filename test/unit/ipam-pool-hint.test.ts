// IpamController's pool hint: a lone writer takes its pools from the watched cache (no store read);
// a write whose hinted attempt conflicted (another writer moved the pool) is retried on fresh reads,
// never hands out a taken address, and the next writes read the store again for a while.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POOLS } from '../../src/ipam/index.js';
import { ipamKeys, transact } from '../../src/ipam/store-allocator.js';
import { IpamController } from '../../src/ipam/store-ipam.js';
import { FileStore, type Store, type WatchEvent, type WatchOptions } from '../../src/store/index.js';

let dir: string;
let store: FileStore;
let poolReads: number;
let ipam: IpamController;

/** While set, watch events reach the controller's caches late (a watch lagging behind another host's write). */
let lagging = false;
const held: (() => void)[] = [];
/** The lagging watch catches up: held events are delivered in order. */
function catchUp(): void {
  lagging = false;
  held.length = 0;
  for (const deliver of held.splice(0)) deliver();
}

/** The store as the controller sees it: reads of pool keys counted, watch events held while `lagging`. */
function counting(s: Store): Store {
  return new Proxy(s, {
    get(target, prop, receiver) {
      if (prop === 'watch') {
        return (prefix: string, from: number, onEvent: (ev: WatchEvent) => void, opts: WatchOptions = {}) => {
          // Progress reports lag with the events (a watch never reports a revision it has not delivered).
          const later = <A extends unknown[]>(fn: ((...a: A) => void) | undefined) => fn && ((...a: A) => (lagging ? held.push(() => fn(...a)) : fn(...a)));
          return target.watch(prefix, from, later(onEvent)!, { ...opts, onProgress: later(opts.onProgress) });
        };
      }
      if (prop === 'get') {
        return (key: string) => {
          if (key.startsWith(ipamKeys.poolPrefix)) poolReads++;
          return target.get(key);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vxmesh-hint-'));
  store = await FileStore.open(dir);
  poolReads = 0;
  lagging = false;
  ipam = new IpamController(counting(store), { defaults: DEFAULT_POOLS, gwBridgePool: '172.30.0.0/16', gwPoolOwner: 'gw' }, () => undefined, async () => {}, pino({ level: 'silent' }));
  await ipam.start();
});
afterEach(async () => {
  await ipam.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the pool hint', () => {
  it('a lone writer allocates without reading the pool; after a conflict the pool is read again', async () => {
    const { poolId } = await ipam.requestPool({ pool: '10.5.0.0/24', v6: false });
    const before = poolReads;
    const a = await ipam.requestAddress(poolId);
    const b = await ipam.requestAddress(poolId);
    expect(poolReads - before).toBe(0);
    expect(a).not.toBe(b);

    // Another writer takes an address and the controller's watch has not delivered it (the cache
    // catches up by listing only when a write of its own waits for it): the hinted attempt
    // conflicts, the retry reads the store.
    lagging = true;
    const taken = (await transact(store, DEFAULT_POOLS, (t) => t.allocateAddress(poolId, { purpose: 'endpoint' }, 'another writer'))).result;
    const c = await ipam.requestAddress(poolId);
    expect([a, b, `${taken}/24`]).not.toContain(c);
    const afterConflict = poolReads;
    expect(afterConflict - before).toBeGreaterThan(0);
    // The cache is current again, but the pool was contended a moment ago: the next write reads the store.
    catchUp();
    await ipam.requestAddress(poolId);
    expect(poolReads).toBe(afterConflict + 1);
  });
});
