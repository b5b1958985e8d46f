// The overlay's records (networks, endpoints, gateway legs) as the store holds them, kept current by
// list-then-watch caches. Controllers write with a store transaction and then wait for the caches
// to reach its revision (read-your-writes); they never edit the copies here.

import type { Controller } from '../model/controller.js';
import { StateCache, type Store, type WatchEvent } from '../store/index.js';
import { keys, type EndpointRecord, type GatewayRecord, type NetworkRecord } from './model.js';

/**
 * Records of one kind by id. `hide` takes a record out of view while its store delete waits (a
 * rolled-back attach on a full disk): the kernel sync then removes its objects, nothing lists it.
 */
export class RecordSet<T extends { id: string }> {
  private readonly cache: StateCache<T>;
  private readonly hidden = new Set<string>();

  constructor(
    store: Store,
    readonly prefix: string,
  ) {
    this.cache = new StateCache<T>(store, prefix);
  }

  get(id: string): T | undefined {
    return this.hidden.has(id) ? undefined : this.cache.get(this.prefix + id)?.value;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  values(): T[] {
    const all = this.cache.values();
    return this.hidden.size ? all.filter((r) => !this.hidden.has(r.id)) : all;
  }

  get size(): number {
    return this.values().length;
  }

  /**
   * Every change to these records, from this agent or another writer of the store (a shared etcd):
   * the hook the planes that follow (peer table, services, DNS) react on. Returns the unsubscribe.
   */
  onChange(fn: (ev: WatchEvent<T>) => void): () => void {
    return this.cache.onChange(fn);
  }

  hide(id: string): void {
    this.hidden.add(id);
  }

  /** Shows the record again (its store delete went through, so there is nothing left to show). */
  unhide(id: string): void {
    this.hidden.delete(id);
  }

  get revision(): number {
    return this.cache.revision;
  }

  start(): Promise<void> {
    return this.cache.start();
  }

  stop(): void {
    this.cache.stop();
  }

  waitForRevision(rev: number): Promise<void> {
    return this.cache.waitForRevision(rev);
  }
}

/** The three caches as one controller: started first, stopped last. */
export class OverlayRecords implements Controller {
  readonly name = 'records';
  readonly networks: RecordSet<NetworkRecord>;
  readonly endpoints: RecordSet<EndpointRecord>;
  readonly gateways: RecordSet<GatewayRecord>;

  constructor(store: Store) {
    this.networks = new RecordSet<NetworkRecord>(store, keys.network(''));
    this.endpoints = new RecordSet<EndpointRecord>(store, keys.endpoint(''));
    this.gateways = new RecordSet<GatewayRecord>(store, keys.gateway(''));
  }

  private get all() {
    return [this.networks, this.endpoints, this.gateways] as const;
  }

  async start(): Promise<void> {
    for (const set of this.all) await set.start();
  }

  async stop(): Promise<void> {
    for (const set of this.all) set.stop();
  }

  async reconcile(): Promise<void> {}

  /** Resolves once the caches of the written `keys` reflect store revision `rev` (0: nothing was written). */
  async waitForRevision(rev: number, keys?: readonly string[]): Promise<void> {
    if (rev <= 0) return;
    const touched = this.all.filter((s) => !keys || keys.some((k) => k.startsWith(s.prefix)));
    await Promise.all(touched.map((s) => s.waitForRevision(rev)));
  }

  endpointsOf(networkId: string): EndpointRecord[] {
    return this.endpoints.values().filter((e) => e.networkId === networkId);
  }

  /** Endpoints that live in a workload namespace (docker-mode ones wait in the agent's). */
  endpointsIn(netns: string): EndpointRecord[] {
    return this.endpoints.values().filter((e) => !e.leaveInHost && e.netns === netns);
  }

  gatewayIn(netns: string): GatewayRecord | undefined {
    return this.gateways.values().find((g) => g.netns === netns);
  }
}
