// The overlay's records (networks, endpoints, gateway legs) as the store holds them, kept current by
// list-then-watch caches. Controllers write with a store transaction and then wait for the caches
// to reach its revision (read-your-writes); they never edit the copies here.

import type { Controller } from '../model/controller.js';
import { StateCache, type Store, type WatchEvent } from '../store/index.js';
import { keys, type EndpointRecord, type GatewayRecord, type NetworkRecord } from './model.js';
import { sandboxName } from './names.js';

/**
 * Whose records are whose. With the embedded store every record is this host's; with a shared store
 * (etcd) endpoints and gateway legs carry the node that made them, and only that node's start-up
 * repair, GC and resync touch them. Network records are cluster-wide; each host names its sandbox
 * with its own --netns-prefix.
 */
export interface LocalView {
  /** This host's node name (gossip node name / the data dir's persistent one). */
  node: string;
  /** The store is shared by several hosts (etcd). */
  shared: boolean;
  netnsPrefix: string;
}

/** Options of a RecordSet: which records this host sees, and how (its own sandbox names). */
interface RecordSetView<T> {
  visible?: (r: T) => boolean;
  view?: (r: T) => T;
}

/**
 * Records of one kind by id. `hide` takes a record out of view while its store delete waits (a
 * rolled-back attach on a full disk): the kernel sync then removes its objects, nothing lists it.
 * `showAhead` shows a record as this agent has acknowledged it while the store write that says so is
 * still in flight (an attach confirmed in the local ack log, its etcd write following).
 */
export class RecordSet<T extends { id: string }> {
  private readonly cache: StateCache<T>;
  private readonly hidden = new Set<string>();
  /** Views made by `view`, per stored object (the cache replaces the object when the record changes). */
  private readonly views = new WeakMap<T & object, T>();
  /** Ids shown ahead of the store, with how (applied to whatever the store holds for them). */
  private readonly ahead = new Map<string, (stored: T) => T>();
  private readonly aheadViews = new WeakMap<T & object, T>();
  /** What listeners last heard of each id shown ahead: the store catching up with it is no news. */
  private readonly announced = new Map<string, string>();
  private readonly listeners = new Set<(ev: WatchEvent<T>) => void>();

  constructor(
    store: Store,
    readonly prefix: string,
    private readonly opts: RecordSetView<T> = {},
  ) {
    this.cache = new StateCache<T>(store, prefix);
    this.cache.onChange((ev) => this.relay(ev));
  }

  /** The record as this agent knows it: what the store holds, with an acknowledgement ahead of it applied. */
  private current(r: T): T {
    const patch = this.ahead.get(r.id);
    if (!patch) return r;
    let v = this.aheadViews.get(r as T & object);
    if (!v) this.aheadViews.set(r as T & object, (v = patch(r)));
    return v;
  }

  private shown(stored: T | undefined): T | undefined {
    if (stored === undefined) return undefined;
    const r = this.current(stored);
    if (this.opts.visible && !this.opts.visible(r)) return undefined;
    const view = this.opts.view;
    if (!view) return r;
    let v = this.views.get(r as T & object);
    if (!v) this.views.set(r as T & object, (v = view(r)));
    return v;
  }

  get(id: string): T | undefined {
    return this.hidden.has(id) ? undefined : this.shown(this.cache.get(this.prefix + id)?.value);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  values(): T[] {
    const all = this.cache.values();
    const shown = this.opts.visible || this.opts.view || this.ahead.size ? all.flatMap((r) => this.shown(r) ?? []) : all;
    return this.hidden.size ? shown.filter((r) => !this.hidden.has(r.id)) : shown;
  }

  /** What the store holds for `id` (no acknowledgement ahead of it, nothing hidden), with its revision. */
  stored(id: string): { value: T; revision: number } | undefined {
    const kv = this.cache.get(this.prefix + id);
    return kv && { value: kv.value, revision: kv.revision };
  }

  /**
   * Shows `id` as `patch` makes it from what the store holds, until `dropAhead` (the store caught up)
   * or the record's delete; listeners hear of it at once, as of a change.
   */
  showAhead(id: string, patch: (stored: T) => T): void {
    this.ahead.set(id, patch);
    const kv = this.cache.get(this.prefix + id);
    if (!kv) return;
    const value = this.current(kv.value);
    this.announced.set(id, JSON.stringify(value));
    this.emit({ type: 'put', key: kv.key, value, revision: kv.revision });
  }

  dropAhead(id: string): void {
    const kv = this.cache.get(this.prefix + id);
    if (kv) this.aheadViews.delete(kv.value as T & object);
    this.ahead.delete(id);
    this.announced.delete(id);
  }

  private relay(ev: WatchEvent<T>): void {
    const id = ev.key.slice(this.prefix.length);
    if (ev.type === 'delete') {
      this.ahead.delete(id);
      this.announced.delete(id);
      this.emit(ev);
      return;
    }
    const value = this.current(ev.value);
    const before = this.announced.get(id);
    if (before !== undefined) {
      // The store now says what was shown ahead (the ready write landed): every plane already acted on it.
      const now = JSON.stringify(value);
      if (now === before) return;
      this.announced.set(id, now);
    }
    this.emit({ ...ev, value });
  }

  private emit(ev: WatchEvent<T>): void {
    for (const fn of this.listeners) fn(ev);
  }

  get size(): number {
    return this.values().length;
  }

  /**
   * Every change to these records, from this agent or another writer of the store (a shared etcd):
   * the hook the planes that follow (peer table, services, DNS) react on. Returns the unsubscribe.
   */
  onChange(fn: (ev: WatchEvent<T>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
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

  /** The store revision the record was last written at (0: not known here). */
  revisionOf(id: string): number {
    return this.cache.get(this.prefix + id)?.revision ?? 0;
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

  readonly local: LocalView;
  /** Record sets of the planes above (services) written through the same store transactions. */
  private readonly followers: Array<Pick<RecordSet<{ id: string }>, 'prefix' | 'waitForRevision'>> = [];

  constructor(store: Store, local: LocalView = { node: '', shared: false, netnsPrefix: '' }) {
    this.local = local;
    const localSandbox = (n: NetworkRecord): NetworkRecord => ({ ...n, sandbox: sandboxName(local.netnsPrefix, n.id) });
    this.networks = new RecordSet<NetworkRecord>(store, keys.network(''), local.shared ? { view: localSandbox } : {});
    this.endpoints = new RecordSet<EndpointRecord>(store, keys.endpoint(''));
    // Gateway legs are host-local objects: another host's are none of this host's business.
    this.gateways = new RecordSet<GatewayRecord>(store, keys.gateway(''), local.shared ? { visible: (g) => this.isMine(g) } : {});
  }

  /** A record this host made (with the embedded store: every record). */
  isMine(r: { node?: string }): boolean {
    return !this.local.shared || r.node === this.local.node;
  }

  /** The node a record belongs to (records from before node names were kept are this host's). */
  nodeOf(r: { node?: string }): string {
    return r.node ?? this.local.node;
  }

  /** Node name written into new records. */
  get node(): string {
    return this.local.node;
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

  /** waitForRevision covers `set` too (its owner starts and stops it). */
  follow(set: Pick<RecordSet<{ id: string }>, 'prefix' | 'waitForRevision'>): void {
    this.followers.push(set);
  }

  /** Resolves once the caches of the written `keys` reflect store revision `rev` (0: nothing was written). */
  async waitForRevision(rev: number, keys?: readonly string[]): Promise<void> {
    if (rev <= 0) return;
    const touched = [...this.all, ...this.followers].filter((s) => !keys || keys.some((k) => k.startsWith(s.prefix)));
    await Promise.all(touched.map((s) => s.waitForRevision(rev)));
  }

  /** Every endpoint on the network, on any host. */
  endpointsOf(networkId: string): EndpointRecord[] {
    return this.endpoints.values().filter((e) => e.networkId === networkId);
  }

  /** This host's endpoints (those whose interfaces live here). */
  localEndpoints(): EndpointRecord[] {
    const all = this.endpoints.values();
    return this.local.shared ? all.filter((e) => this.isMine(e)) : all;
  }

  /** This host's endpoints on the network: the veths in its sandbox. */
  localEndpointsOf(networkId: string): EndpointRecord[] {
    return this.localEndpoints().filter((e) => e.networkId === networkId);
  }

  /**
   * Whether this host keeps the network's sandbox: always with the embedded store; with a shared one
   * only while it has an endpoint on it (made lazily, removed after the last), so hosts without
   * endpoints carry nothing for it.
   */
  wantsSandbox(net: NetworkRecord): boolean {
    return !this.local.shared || this.localEndpointsOf(net.id).length > 0;
  }

  /** Names of the hosts with acknowledged endpoints on the network, sorted. */
  hostsOf(networkId: string): string[] {
    return [...new Set(this.endpointsOf(networkId).filter((e) => e.state === 'ready').map((e) => this.nodeOf(e)))].sort();
  }

  /** This host's endpoints that live in a workload namespace (docker-mode ones wait in the agent's). */
  endpointsIn(netns: string): EndpointRecord[] {
    return this.localEndpoints().filter((e) => !e.leaveInHost && e.netns === netns);
  }

  gatewayIn(netns: string): GatewayRecord | undefined {
    return this.gateways.values().find((g) => g.netns === netns);
  }
}
