// Allocation over the store: pools and VNIs are read from the store and written back with
// compare-and-swap in the caller's transaction. A first attempt may take a pool from a local cache
// (a PoolHint) instead of reading it: it is then compared like a read (written with CAS, or checked
// when only read), so a stale copy costs a conflict, never a wrong allocation. A conflict (another
// writer got there first) re-runs the whole transaction on fresh reads from the store.

import { VxError } from '../errors.js';
import { StoreConflict, type Store, type TxnOp } from '../store/index.js';
import { parseIp, formatIp } from '../util/ip-addr.js';
import { allocate, isAllocated, release, type AllocateRequest } from './allocator.js';
import { createPool, type DefaultPools, type PoolRequest, type PoolState } from './pool.js';

export const ipamKeys = {
  poolPrefix: 'ipam/pools/',
  pool: (poolId: string) => `ipam/pools/${poolId}`,
  vniPrefix: 'ipam/vnis/',
  vni: (vni: number) => `ipam/vnis/${vni}`,
};

/** Who holds a VNI (the record under ipam/vnis/N). */
export interface VniClaim {
  owner: string; // network id
}

export interface VniRange {
  min: number;
  max: number;
}

/** VXLAN network identifiers vxmesh hands out (below 4096 is left to hand-made devices). */
export const VNI_RANGE: VniRange = { min: 4096, max: 16_777_215 };

/** A pool as a local cache holds it (undefined: not there, read the store). */
export type PoolHint = (poolId: string) => { state: PoolState; revision: number } | undefined;

/**
 * One store transaction being put together: reads go to the store (or to what this transaction
 * already staged), writes are staged with the revision they were read at and committed at once.
 */
export class IpamTxn {
  private readonly ops: TxnOp[] = [];
  private readonly pools = new Map<string, { state: PoolState | undefined; revision: number }>();
  private readonly changedPools = new Set<string>();
  private readonly vnis = new Map<number, string | undefined>();
  /** Pools taken from the hint rather than read: each is compared at commit even when unchanged. */
  private readonly hinted = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly defaults: DefaultPools,
    private readonly hint?: PoolHint,
  ) {}

  /** Adds a record write to the transaction (the caller's own records: networks, endpoints...). */
  put(key: string, value: unknown, expectRevision?: number): void {
    this.ops.push({ op: 'put', key, value, ...(expectRevision === undefined ? {} : { expectRevision }) });
  }

  /** The transaction applies only if `key` is still at `revision` (written by nobody since it was read). */
  check(key: string, revision: number): void {
    this.ops.push({ op: 'check', key, expectRevision: revision });
  }

  delete(key: string, expectRevision?: number): void {
    this.ops.push({ op: 'delete', key, ...(expectRevision === undefined ? {} : { expectRevision }) });
  }

  async pool(poolId: string): Promise<PoolState> {
    const p = await this.readPool(poolId);
    if (!p.state) throw new VxError('NOT_FOUND', `address pool ${poolId} not found`);
    return p.state;
  }

  async hasPool(poolId: string): Promise<boolean> {
    return (await this.readPool(poolId)).state !== undefined;
  }

  private async readPool(poolId: string): Promise<{ state: PoolState | undefined; revision: number }> {
    const staged = this.pools.get(poolId);
    if (staged) return staged;
    const cached = this.hint?.(poolId);
    if (cached) {
      this.pools.set(poolId, cached);
      this.hinted.add(poolId);
      return cached;
    }
    const kv = await this.store.get<PoolState>(ipamKeys.pool(poolId));
    const read = { state: kv?.value, revision: kv?.revision ?? 0 };
    this.pools.set(poolId, read);
    return read;
  }

  private stagePool(poolId: string, state: PoolState | undefined): void {
    const read = this.pools.get(poolId);
    if (!read) throw new Error(`ipam: pool ${poolId} staged without being read`);
    this.pools.set(poolId, { state, revision: read.revision });
    this.changedPools.add(poolId);
  }

  /** Every pool in the store with this transaction's changes applied. */
  async allPools(): Promise<PoolState[]> {
    const byId = new Map<string, PoolState>();
    for (const kv of await this.store.list<PoolState>(ipamKeys.poolPrefix)) byId.set(kv.value.id, kv.value);
    for (const [id, p] of this.pools) {
      if (p.state) byId.set(id, p.state);
      else byId.delete(id);
    }
    return [...byId.values()];
  }

  /** Validates the request against every pool (overlap) and stages the new, empty pool. */
  async createPool(req: PoolRequest): Promise<PoolState> {
    const state = createPool(req, await this.allPools(), this.defaults);
    if ((await this.readPool(state.id)).state) throw new VxError('ALREADY_EXISTS', `address pool ${state.id} already exists`);
    this.stagePool(state.id, state);
    return state;
  }

  async deletePool(poolId: string): Promise<void> {
    await this.pool(poolId);
    this.stagePool(poolId, undefined);
  }

  /** Renames who a pool belongs to (named in overlap errors and listings). */
  async setPoolOwner(poolId: string, owner: string): Promise<void> {
    const state = await this.pool(poolId);
    if (state.owner !== owner) this.stagePool(poolId, { ...state, owner });
  }

  /**
   * An address from the pool. `preallocated`: the caller already holds `ip` (docker IPAM asked for it
   * through requestAddress); it is checked, not taken again.
   */
  async allocateAddress(poolId: string, want: AllocateRequest & { preallocated?: boolean }, what: string): Promise<string> {
    const state = await this.pool(poolId);
    if (want.preallocated && want.ip) {
      if (!isAllocated(state, want.ip)) throw new VxError('FAILED_PRECONDITION', `address ${want.ip} was not requested from the pool of ${what}`);
      return canonicalIp(want.ip);
    }
    const { preallocated: _ignored, ...req } = want;
    const a = allocate(state, req);
    this.stagePool(poolId, a.pool);
    return a.ip;
  }

  /**
   * Makes sure the pool holds `ip` (a record says it is in use). Returns what it did: 'held' already,
   * 'claimed' now, or why it could not ('no pool', or the allocator's refusal).
   */
  async claimAddress(poolId: string, ip: string): Promise<'held' | 'claimed' | string> {
    const { state } = await this.readPool(poolId);
    if (!state) return 'no pool';
    if (isAllocated(state, ip)) return 'held';
    try {
      this.stagePool(poolId, allocate(state, { ip, purpose: 'endpoint' }).pool);
      return 'claimed';
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  /** Gives `ip` back; an address the pool does not hold (or a pool that is gone) is left alone. */
  async releaseAddress(poolId: string, ip: string): Promise<void> {
    const { state } = await this.readPool(poolId);
    if (!state || !isAllocated(state, ip)) return;
    this.stagePool(poolId, release(state, ip));
  }

  /** Strict release for the docker IPAM surface: releasing what is not allocated is an error. */
  async releaseAddressStrict(poolId: string, ip: string): Promise<void> {
    this.stagePool(poolId, release(await this.pool(poolId), ip));
  }

  /** The lowest VNI in `range` nobody holds in the store, claimed for `owner`. */
  async allocateVni(owner: string, range: VniRange = VNI_RANGE): Promise<number> {
    const held = new Set<number>();
    for (const kv of await this.store.list<VniClaim>(ipamKeys.vniPrefix)) held.add(Number(kv.key.slice(ipamKeys.vniPrefix.length)));
    for (const [vni, who] of this.vnis) {
      if (who === undefined) held.delete(vni);
      else held.add(vni);
    }
    for (let v = range.min; v <= range.max; v++) {
      if (held.has(v)) continue;
      this.claimVni(v, owner);
      return v;
    }
    throw new VxError('RESOURCE_EXHAUSTED', 'no free VXLAN network identifier left');
  }

  /** Claims a known VNI (e.g. recording one a network already uses); fails on conflict at commit. */
  claimVni(vni: number, owner: string): void {
    this.vnis.set(vni, owner);
    this.put(ipamKeys.vni(vni), { owner } satisfies VniClaim, 0);
  }

  releaseVni(vni: number): void {
    this.vnis.set(vni, undefined);
    this.delete(ipamKeys.vni(vni));
  }

  /** All staged writes; a changed pool carries the revision it was read at (compare-and-swap). */
  allOps(): TxnOp[] {
    const ops = [...this.ops];
    for (const id of this.changedPools) {
      const { state, revision } = this.pools.get(id)!;
      const key = ipamKeys.pool(id);
      ops.push(state ? { op: 'put', key, value: state, expectRevision: revision } : { op: 'delete', key, expectRevision: revision });
    }
    for (const id of this.hinted) {
      if (!this.changedPools.has(id)) ops.push({ op: 'check', key: ipamKeys.pool(id), expectRevision: this.pools.get(id)!.revision });
    }
    return ops;
  }

  /** Commits the staged writes; a transaction that changes nothing writes nothing (returns 0). */
  async commit(): Promise<number> {
    const ops = this.allOps();
    return ops.length ? this.store.txn(ops) : 0;
  }
}

/**
 * Runs `build` on a fresh transaction and commits it; on a store conflict (someone changed what was
 * read) it runs again on fresh reads. `build` must not change anything outside the transaction.
 */
export async function transact<T>(
  store: Store,
  defaults: DefaultPools,
  build: (t: IpamTxn) => Promise<T>,
  attempts = 30,
  hint?: PoolHint,
): Promise<{ result: T; revision: number; keys: string[]; attempts: number }> {
  for (let i = 1; ; i++) {
    // Only the first attempt trusts the hint: after a conflict the cache may be what was stale.
    const t = new IpamTxn(store, defaults, i === 1 ? hint : undefined);
    const result = await build(t);
    try {
      // Keys compared only were not written: no cache has to catch up with them.
      const keys = t.allOps().flatMap((o) => (o.op === 'check' ? [] : [o.key]));
      return { result, revision: await t.commit(), keys, attempts: i };
    } catch (e) {
      if (!(e instanceof StoreConflict) || i >= attempts) throw e;
      // Several hosts writing one pool (a shared etcd): a short random pause keeps them from colliding in step.
      if (i > 1) await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 ** i, 50)));
    }
  }
}

function canonicalIp(ip: string): string {
  const v = parseIp(ip);
  return formatIp(v.family, v.value);
}
