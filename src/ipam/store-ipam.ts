// IPAM over the store as a controller: the gateway bridge's pool, the docker IPAM surface (pools
// requested before their network exists), and the one write path every plane allocates through.

import type { Logger } from 'pino';
import { VxError } from '../errors.js';
import type { Controller } from '../model/controller.js';
import type { PoolGrant, PoolRequest } from '../model/api.js';
import { StateCache, StoreConflict, StoreUnavailable, StoreWriteError, type Store } from '../store/index.js';
import { Mutex } from '../util/mutex.js';
import { formatCidr, parseCidr } from '../util/ip-addr.js';
import { poolInfo, type DefaultPools, type PoolState } from './pool.js';
import { ipamKeys, transact, type IpamTxn, type PoolHint } from './store-allocator.js';

/** How long pools are read from the store again after a contended write (see hintOffUntil). */
const HINT_BACKOFF_MS = 2000;

export interface IpamOptions {
  defaults: DefaultPools;
  /** Subnet of the gateway bridge (north-south legs). */
  gwBridgePool: string;
  /** Owner name of the gateway bridge's pool. */
  gwPoolOwner: string;
}

/** Resolves once the caches that read the store reflect a committed revision (read-your-writes). */
export type Settle = (revision: number, keys: string[]) => Promise<void>;

/** Who uses a pool, so it is not released from under a network. */
export type PoolUser = (poolId: string) => { name: string; ownsPools: boolean } | undefined;

/** A write the store refused (disk full, I/O error, etcd unreachable, conflicts that outlasted the retries): nothing was written. */
export class StoreFailure extends VxError {
  constructor(readonly storeError: Error) {
    const full = storeError instanceof StoreWriteError && (storeError.errno === 'ENOSPC' || storeError.errno === 'EDQUOT');
    super(full ? 'RESOURCE_EXHAUSTED' : 'INTERNAL', storeError instanceof StoreConflict ? `${storeError.message} (again after retries): try again` : storeError.message);
  }
}

/** A store failure says what it was doing and that nothing was kept; other errors pass unchanged. */
export function inContext(what: string, e: unknown): unknown {
  return e instanceof StoreFailure ? new VxError(e.code, `${what} failed: the store could not record it (${e.message}); nothing was kept`) : e;
}

export interface GatewaySubnet {
  poolId: string;
  gateway: string;
  prefix: number;
}

export class IpamController implements Controller {
  readonly name = 'ipam';
  /** Serialises this agent's store writes: checks against records and the write that follows are one step. */
  private readonly lock = new Mutex();
  private gw: GatewaySubnet | undefined;
  /**
   * The pools, kept current by the store's watch: an attach takes its pools from here instead of
   * reading them (one store round trip less; on etcd a network request), compared at commit.
   */
  private readonly pools: StateCache<PoolState>;
  /**
   * Until when the hint is left out: a first attempt that conflicted means other hosts are writing
   * the pools now, so the cached copy is likely stale and would cost a failed transaction each time.
   */
  private hintOffUntil = 0;
  private readonly hint: PoolHint = (poolId) => {
    const kv = this.pools.get(ipamKeys.pool(poolId));
    return kv ? { state: kv.value, revision: kv.revision } : undefined;
  };

  constructor(
    private readonly store: Store,
    private readonly opts: IpamOptions,
    private readonly poolUser: PoolUser,
    private readonly settle: Settle,
    private readonly log: Logger,
  ) {
    this.pools = new StateCache<PoolState>(store, ipamKeys.poolPrefix);
  }

  get defaults(): DefaultPools {
    return this.opts.defaults;
  }

  /** The gateway bridge's subnet (known after start). */
  get gateway(): GatewaySubnet {
    if (!this.gw) throw new VxError('FAILED_PRECONDITION', 'ipam is not started');
    return this.gw;
  }

  async start(): Promise<void> {
    await this.pools.start();
    this.gw = await this.ensureGatewayPool();
  }

  async stop(): Promise<void> {
    this.pools.stop();
  }

  async reconcile(): Promise<void> {}

  /**
   * One write: `build` reads (store) and stages changes, the transaction commits (re-run on a
   * conflict), then the record caches catch up with it. All under the agent's write lock, so a check
   * in `build` and the write it guards cannot interleave with another write of this agent.
   */
  write<T>(build: (t: IpamTxn) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      const hinted = Date.now() >= this.hintOffUntil;
      const { result, revision, keys, attempts } = await transact(this.store, this.opts.defaults, build, undefined, hinted ? this.hint : undefined).catch((e: unknown) => {
        if (hinted) this.hintOffUntil = Date.now() + HINT_BACKOFF_MS;
        throw e instanceof StoreWriteError || e instanceof StoreConflict || e instanceof StoreUnavailable ? new StoreFailure(e) : e;
      });
      if (hinted && attempts > 1) this.hintOffUntil = Date.now() + HINT_BACKOFF_MS;
      // The pool cache too, so the next write's hint is not stale (a stale one costs a conflict and a retry).
      const poolsWritten = keys.some((k) => k.startsWith(ipamKeys.poolPrefix));
      await Promise.all([this.settle(revision, keys), poolsWritten ? this.pools.waitForRevision(revision) : undefined]);
      return result;
    });
  }

  private async ensureGatewayPool(): Promise<GatewaySubnet> {
    const want = formatCidr(parseCidr(this.opts.gwBridgePool, { strict: true }));
    const existing = (await this.store.list<PoolState>(ipamKeys.poolPrefix)).find((kv) => kv.value.owner === this.opts.gwPoolOwner)?.value;
    if (existing && existing.subnet !== want) {
      throw new VxError('FAILED_PRECONDITION', `gwbridge subnet is ${existing.subnet} in the store but ${this.opts.gwBridgePool} was configured; start with --gwbridge-subnet ${existing.subnet}`);
    }
    const state =
      existing ??
      (await this.write(async (t) => {
        // Another host of a shared store may have made it since the list above (its create wins the CAS).
        const made = async () => (await t.allPools()).find((p) => p.owner === this.opts.gwPoolOwner);
        try {
          return (await made()) ?? (await t.createPool({ owner: this.opts.gwPoolOwner, family: 4, subnet: this.opts.gwBridgePool }));
        } catch (e) {
          const late = await made(); // made between the two reads: it now "overlaps" our own
          if (late) return late;
          throw e;
        }
      }));
    if (state.subnet !== want) {
      throw new VxError('FAILED_PRECONDITION', `gwbridge subnet is ${state.subnet} in the store but ${this.opts.gwBridgePool} was configured; start with --gwbridge-subnet ${state.subnet}`);
    }
    if (!existing) this.log.info({ subnet: state.subnet }, 'gateway bridge pool ready');
    const info = poolInfo(state);
    return { poolId: state.id, gateway: info.gateway!, prefix: info.prefix };
  }

  // ---------------------------------------------------------------- docker IPAM surface

  async requestPool(req: PoolRequest): Promise<PoolGrant> {
    const state = await this.write((t) =>
      t.createPool({ owner: req.owner ?? 'docker', family: req.v6 ? 6 : 4, subnet: req.pool, ipRange: req.subPool, noGateway: true }),
    );
    return { poolId: state.id, pool: state.subnet };
  }

  async releasePool(poolId: string): Promise<void> {
    await this.write(async (t) => {
      const user = this.poolUser(poolId);
      if (user?.ownsPools) throw new VxError('FAILED_PRECONDITION', `pool ${poolId} belongs to network "${user.name}": remove the network instead`);
      if (poolId === this.gw?.poolId) throw new VxError('FAILED_PRECONDITION', 'the gwbridge pool cannot be released');
      await t.deletePool(poolId);
    });
  }

  async requestAddress(poolId: string, address?: string, purpose?: 'gateway' | 'endpoint'): Promise<string> {
    return this.write(async (t) => {
      const ip = await t.allocateAddress(poolId, { ...(address ? { ip: address } : {}), purpose: purpose ?? 'endpoint' }, `pool ${poolId}`);
      return `${ip}/${poolInfo(await t.pool(poolId)).prefix}`;
    });
  }

  async releaseAddress(poolId: string, address: string): Promise<void> {
    await this.write((t) => t.releaseAddressStrict(poolId, address));
  }
}
