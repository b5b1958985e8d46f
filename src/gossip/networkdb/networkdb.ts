// Docker NetworkDB's model on top of memberlist: per-network scoped tables whose entries are
// owned by the node that wrote them, ordered by Lamport time, deleted through tombstones.
// Node/network membership rides memberlist's broadcast queue and push/pull; table events are
// gossiped by our own loop only to nodes of the same network, and whole tables are
// periodically bulk-synced over reliable (TCP) user messages. This file is the public face;
// db-state.ts holds the tables, inbound.ts applies what arrives, outbound.ts sends.
import { VxError } from '../../errors.js';
import type { Cluster, Delegate, EventDelegate, NodeInfo } from '../memberlist/types.js';
import type { TimerHandle } from '../../util/clock.js';
import type { NetworkDBConfig } from './config.js';
import { NetworkDBCore, requireName } from './db-core.js';
import { NetworkDBState, type NetworkState, type Watcher } from './db-state.js';
import { Inbound } from './inbound.js';
import { Outbound } from './outbound.js';
import { MessageType, NetworkEventType, NodeEventType, TableEventType, encodeNetworkPushPull, wrapGossip } from './proto.js';
import type { Entry, NetworkDBOptions, NetworkDBStats, NetworkPeer, TableChange, TableEntryView, TableEventKind } from './types.js';

/** An immediate send of a local write reaches at most this many peers (the gossip rounds reach the rest). */
const IMMEDIATE_GOSSIP_MAX_PEERS = 16;

export type { NetworkDBOptions, NetworkDBStats, NetworkPeer, TableChange, TableEntryView, TableEventKind } from './types.js';

export class NetworkDB implements Delegate, EventDelegate {
  readonly nodeName: string;
  readonly config: NetworkDBConfig;
  readonly stats: NetworkDBStats;
  private readonly core: NetworkDBCore;
  private readonly state: NetworkDBState;
  private readonly out: Outbound;
  private readonly inbound: Inbound;
  private readonly timers = new Set<TimerHandle>();
  /** Networks with an immediate table gossip already planned. */
  private readonly flushPending = new Set<string>();

  constructor(opts: NetworkDBOptions) {
    this.core = new NetworkDBCore(opts);
    this.nodeName = this.core.nodeName;
    this.config = this.core.config;
    this.stats = this.core.stats;
    this.state = new NetworkDBState(this.core);
    this.out = new Outbound(this.core, this.state);
    this.inbound = new Inbound(this.core, this.state, this.out);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Start using `cluster` to send and begin the gossip, bulk-sync and reap loops. */
  attach(cluster: Cluster): void {
    const { core } = this;
    if (core.closed) throw new VxError('FAILED_PRECONDITION', 'networkdb: already closed');
    if (core.cluster) throw new VxError('FAILED_PRECONDITION', 'networkdb: already attached');
    if (cluster.localName !== this.nodeName) {
      throw new VxError(
        'INVALID_ARGUMENT',
        `networkdb: cluster node name ${cluster.localName} differs from networkdb node name ${this.nodeName}`,
      );
    }
    core.cluster = cluster;
    for (const m of cluster.members()) if (!this.state.nodes.has(m.name) && m.state === 'alive') this.notifyJoin(m);
    this.out.queueNodeEvent(NodeEventType.JOIN);
    const { gossipIntervalMs, bulkSyncIntervalMs, reapPeriodMs, reconnectIntervalMs } = this.config;
    this.every(gossipIntervalMs, () => this.out.gossip());
    this.every(bulkSyncIntervalMs, () => void this.out.bulkSyncTables());
    this.every(reapPeriodMs, () => this.state.reap());
    this.every(reconnectIntervalMs, () => void this.out.reconnectNode());
  }

  /** Announce a graceful cluster leave; waits until the announcement went out or `waitMs` passed. */
  async leaveCluster(waitMs = 2_000): Promise<void> {
    const { clock } = this.core;
    this.out.queueNodeEvent(NodeEventType.LEAVE);
    const deadline = clock.now() + waitMs;
    while (this.out.nodeBroadcasts.numQueued() > 0 && clock.now() < deadline && this.state.activeNodeCount() > 1) {
      await new Promise<void>((r) => clock.setTimeout(r, Math.min(50, this.config.gossipIntervalMs)));
    }
  }

  /** Stop every loop. Pending bulk syncs resolve as timed out. */
  close(): void {
    this.core.closed = true;
    for (const t of this.timers) this.core.clock.clearTimeout(t);
    this.timers.clear();
    this.out.close();
    this.state.watchers.clear();
  }

  /** Run `fn` every `ms`, first after a random phase so many nodes do not tick in lockstep. */
  private every(ms: number, fn: () => void): void {
    const { core } = this;
    const run = (): void => {
      if (core.closed) return;
      try {
        fn();
      } catch (err) {
        core.protocolError(err);
      }
    };
    // Like a ticker: each round is planned `ms` after the previous plan, not after the run.
    let planned = core.clock.now() + Math.floor(this.config.random() * ms);
    const tick = (): void => {
      this.timers.delete(handle);
      run();
      if (core.closed) return;
      planned += ms;
      // Rounds missed while the process was busy are dropped, like a Go ticker's.
      const now = core.clock.now();
      if (planned < now) planned += Math.ceil((now - planned) / ms) * ms;
      handle = core.clock.setTimeout(tick, planned - now);
      handle.unref?.();
      this.timers.add(handle);
    };
    let handle = core.clock.setTimeout(tick, planned - core.clock.now());
    handle.unref?.();
    this.timers.add(handle);
  }

  // ---------------------------------------------------------------- networks

  /** Join a network: announce it, then bulk-sync its tables from the peers we know are in it. */
  async joinNetwork(nid: string): Promise<void> {
    requireName('network id', nid);
    const local = this.state.localNetworks();
    const existing = local.get(nid);
    if (existing && !existing.leaving) throw new VxError('ALREADY_EXISTS', `networkdb: network ${nid} is already joined`);
    const lTime = this.core.networkClock.increment();
    const n: NetworkState = { lTime, leaving: false, reapAtMs: 0, inSync: false, tableBroadcasts: this.out.newTableQueue(nid) };
    local.set(nid, n);
    this.state.addNetworkNode(nid, this.nodeName);
    this.out.queueNetworkEvent(NetworkEventType.JOIN, nid, lTime);
    await this.out.bulkSync(this.state.networkPeerNames(nid), true);
    // Best effort, as in Docker: we are "in sync" even if some peers did not answer.
    if (local.get(nid) === n) n.inSync = true;
  }

  /** Leave a network: our entries there become tombstones, everyone else's are dropped. */
  leaveNetwork(nid: string): void {
    requireName('network id', nid);
    const n = this.state.localNetworks().get(nid);
    if (!n || n.leaving) throw new VxError('NOT_FOUND', `networkdb: network ${nid} is not joined`);
    const lTime = this.core.networkClock.increment();
    this.out.queueNetworkEvent(NetworkEventType.LEAVE, nid, lTime);
    this.state.deleteNetworkNode(nid, this.nodeName);
    this.state.deleteNodeNetworkEntries(nid, this.nodeName);
    n.lTime = lTime;
    n.leaving = true;
    n.reapAtMs = this.core.clock.now() + this.state.reapNetworkIntervalMs();
  }

  /**
   * Bulk-sync network `nid` with every peer known to be in it now (as a join does), e.g. when the
   * join's own sync may have met peers that did not take us back yet (a quick restart).
   */
  async syncNetwork(nid: string): Promise<void> {
    requireName('network id', nid);
    const n = this.state.localNetworks().get(nid);
    if (!n || n.leaving) throw new VxError('NOT_FOUND', `networkdb: network ${nid} is not joined`);
    await this.out.bulkSync(this.state.networkPeerNames(nid), true);
  }

  /** Networks this node has joined (not leaving). */
  joinedNetworks(): string[] {
    return this.state.joinedNetworks();
  }

  /** Nodes (us included once joined) known to be in network `nid`. */
  peers(nid: string): NetworkPeer[] {
    return [...(this.state.networkNodes.get(nid) ?? [])].map((name) => ({ name, addr: this.state.nodes.get(name)?.info.addr ?? '' }));
  }

  // ---------------------------------------------------------------- tables

  createEntry(table: string, nid: string, key: string, value: Buffer): void {
    const old = this.checkEntryArgs(table, nid, key);
    if (old && !old.deleting) throw new VxError('ALREADY_EXISTS', `networkdb: entry ${table}/${nid}/${key} already exists`);
    this.writeLocal(TableEventType.CREATE, table, nid, key, Buffer.from(value), 'create');
  }

  updateEntry(table: string, nid: string, key: string, value: Buffer): void {
    const old = this.checkEntryArgs(table, nid, key);
    if (!old || old.deleting) throw new VxError('NOT_FOUND', `networkdb: cannot update ${table}/${nid}/${key}: no such entry`);
    this.writeLocal(TableEventType.UPDATE, table, nid, key, Buffer.from(value), 'update');
  }

  deleteEntry(table: string, nid: string, key: string): void {
    const old = this.checkEntryArgs(table, nid, key);
    if (!old || old.deleting) throw new VxError('NOT_FOUND', `networkdb: cannot delete ${table}/${nid}/${key}: no such entry`);
    this.writeLocal(TableEventType.DELETE, table, nid, key, old.value, 'delete');
  }

  /** Live value of an entry, or undefined (missing or deleted). */
  getEntry(table: string, nid: string, key: string): Buffer | undefined {
    const e = this.state.findEntry(nid, table, key);
    return e && !e.deleting ? e.value : undefined;
  }

  /** Every live entry of `table` in network `nid`, by key. */
  getTableByNetwork(table: string, nid: string): Map<string, TableEntryView> {
    const out = new Map<string, TableEntryView>();
    const keys = this.state.entries.get(nid)?.get(table);
    if (keys) for (const [k, e] of keys) if (!e.deleting) out.set(k, { value: e.value, owner: e.owner });
    return out;
  }

  /** Live entries per (table, network), for metrics. */
  entryCounts(): { table: string; network: string; entries: number }[] {
    const out: { table: string; network: string; entries: number }[] = [];
    for (const [network, tables] of this.state.entries) {
      for (const [table, keys] of tables) {
        let entries = 0;
        for (const e of keys.values()) if (!e.deleting) entries++;
        out.push({ table, network, entries });
      }
    }
    return out;
  }

  /**
   * List, then watch: `cb` first gets every live entry of `table` (in network `nid`, or in every
   * network) as a "create", synchronously, before watch() returns; then every change as it
   * happens. Local writes are reported too (owner = our node name). Returns the unsubscribe
   * function.
   */
  watch(table: string, nid: string | undefined, cb: (change: TableChange) => void): () => void {
    requireName('table', table);
    const w: Watcher = { table, nid, cb, held: null };
    this.state.subscribe(w);
    return () => {
      this.state.watchers.delete(w);
    };
  }

  private checkEntryArgs(table: string, nid: string, key: string): Entry | undefined {
    requireName('table', table);
    requireName('network id', nid);
    requireName('key', key);
    const n = this.state.localNetworks().get(nid);
    if (!n || n.leaving) throw new VxError('FAILED_PRECONDITION', `networkdb: network ${nid} is not joined`);
    return this.state.findEntry(nid, table, key);
  }

  private writeLocal(type: number, table: string, nid: string, key: string, value: Buffer, kind: TableEventKind): void {
    const deleting = type === TableEventType.DELETE;
    const e: Entry = {
      lTime: this.core.tableClock.increment(),
      owner: this.nodeName,
      value,
      deleting,
      reapAtMs: deleting ? this.core.clock.now() + this.config.reapEntryIntervalMs : 0,
    };
    this.state.storeEntry(nid, table, key, e);
    this.out.queueTableEvent(type, nid, table, key, e);
    this.state.emit(kind, table, nid, key, value, this.nodeName);
    this.flushSoon(nid);
  }

  /**
   * With `immediateTableGossip`, local writes go out on the next turn of the event loop (writes made
   * together share a packet) instead of waiting for the gossip round.
   */
  private flushSoon(nid: string): void {
    const { core } = this;
    if (!this.config.immediateTableGossip || core.closed || !core.cluster || this.flushPending.has(nid)) return;
    this.flushPending.add(nid);
    const t = core.clock.setTimeout(() => {
      this.timers.delete(t);
      this.flushPending.delete(nid);
      if (core.closed) return;
      try {
        this.out.gossipNow(nid, IMMEDIATE_GOSSIP_MAX_PEERS);
      } catch (err) {
        core.protocolError(err);
      }
    }, 0);
    t.unref?.();
    this.timers.add(t);
  }

  // ---------------------------------------------------------------- memberlist Delegate / EventDelegate

  nodeMeta(_limit: number): Buffer {
    return Buffer.alloc(0);
  }

  notifyMsg(msg: Buffer): void {
    if (!this.core.closed) this.inbound.handleMessage(msg, false, 0);
  }

  getBroadcasts(overhead: number, limit: number): Buffer[] {
    return this.out.getBroadcasts(overhead, limit);
  }

  localState(join: boolean): Buffer {
    const { core } = this;
    if (join) {
      // Bump our memberships so a node that still has us as "leaving" takes the newer state.
      const lTime = core.networkClock.increment();
      for (const n of this.state.localNetworks().values()) n.lTime = lTime;
    }
    const networks = [];
    for (const [nodeName, nets] of this.state.networks) {
      for (const [networkId, n] of nets) networks.push({ networkId, lTime: n.lTime, nodeName, leaving: n.leaving });
    }
    const pp = encodeNetworkPushPull({ lTime: core.networkClock.time(), networks, nodeName: this.nodeName });
    return wrapGossip(MessageType.PUSH_PULL, pp);
  }

  mergeRemoteState(buf: Buffer, _join: boolean): void {
    if (!this.core.closed && buf.length > 0) this.inbound.mergeRemoteState(buf);
  }

  notifyJoin(node: NodeInfo): void {
    this.inbound.notifyJoin(node);
  }

  notifyLeave(node: NodeInfo): void {
    this.inbound.notifyLeave(node);
  }

  notifyUpdate(node: NodeInfo): void {
    this.inbound.notifyUpdate(node);
  }
}
