// The overlay's records (networks, endpoints, gateway legs) as read from the store: one shared,
// read-mostly view. Each controller writes only its own kinds, and only after the store did.

import type { Controller } from '../model/controller.js';
import type { Store } from '../store/index.js';
import { keys, type EndpointRecord, type GatewayRecord, type NetworkRecord } from './model.js';

/** Records of one kind by id. */
export class RecordSet<T extends { id: string }> {
  private readonly byId = new Map<string, T>();

  constructor(readonly prefix: string) {}

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  values(): T[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  set(rec: T): void {
    this.byId.set(rec.id, rec);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  async load(store: Store): Promise<void> {
    this.byId.clear();
    for (const kv of await store.list<T>(this.prefix)) this.byId.set(kv.value.id, kv.value);
  }
}

/** Loads every overlay record at start; the controllers keep them current as they write. */
export class OverlayRecords implements Controller {
  readonly name = 'records';
  readonly networks = new RecordSet<NetworkRecord>(keys.network(''));
  readonly endpoints = new RecordSet<EndpointRecord>(keys.endpoint(''));
  readonly gateways = new RecordSet<GatewayRecord>(keys.gateway(''));

  constructor(private readonly store: Store) {}

  async start(): Promise<void> {
    await this.networks.load(this.store);
    await this.endpoints.load(this.store);
    await this.gateways.load(this.store);
  }

  async stop(): Promise<void> {}

  async reconcile(): Promise<void> {}

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
