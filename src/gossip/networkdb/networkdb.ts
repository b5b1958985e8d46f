// Docker NetworkDB's model on top of memberlist: per-network scoped tables whose entries are
// owned by the node that wrote them, ordered by Lamport time, deleted through tombstones.
// Node/network membership rides memberlist's broadcast queue and push/pull; table events are
// gossiped by our own loop only to nodes of the same network, and whole tables are
// periodically bulk-synced over reliable (TCP) user messages.

import { pino } from 'pino';
import { VxError } from '../../errors.js';
import { realClock, type Clock, type TimerHandle } from '../../util/clock.js';
import { TransmitLimitedQueue } from '../memberlist/broadcast-queue.js';
import { toLogSink, type GossipLogger, type LogSink } from '../memberlist/reject-log.js';
import type { Cluster, Delegate, EventDelegate, NodeInfo } from '../memberlist/types.js';
import { LamportClock } from './lamport-clock.js';
import { type NetworkDBConfig, resolveNetworkDBConfig } from './config.js';
import {
  MessageType,
  NetworkEventType,
  NodeEventType,
  type TableEvent,
  TableEventType,
  decodeBulkSyncMessage,
  decodeCompoundMessage,
  decodeGossipMessage,
  decodeNetworkEvent,
  decodeNetworkPushPull,
  decodeNodeEvent,
  decodeTableEvent,
  encodeBulkSyncMessage,
  encodeCompoundGossip,
  encodeNetworkEvent,
  encodeNetworkPushPull,
  encodeNodeEvent,
  encodeTableEvent,
  wrapGossip,
} from './proto.js';
import { ProtoDecodeError } from './proto-wire.js';

export type TableEventKind = 'create' | 'update' | 'delete';

export interface TableChange {
  type: TableEventKind;
  table: string;
  nid: string;
  key: string;
  value: Buffer;
  /** Node that wrote the entry. */
  owner: string;
}

export interface TableEntryView {
  value: Buffer;
  owner: string;
}

export interface NetworkPeer {
  name: string;
  addr: string;
}

export interface NetworkDBStats {
  /** Inbound messages that failed to decode (dropped). */
  decodeErrors: number;
  /** Sends that the cluster rejected. */
  sendErrors: number;
  /** Bulk syncs that got no answer in time. */
  bulkSyncTimeouts: number;
}

export interface NetworkDBOptions extends Partial<NetworkDBConfig> {
  /** Must equal the memberlist node name of the cluster passed to attach(). */
  nodeName: string;
  /** Dropped bad input and failed sends are logged here at debug level (default: silent). */
  logger?: GossipLogger;
  /** @deprecated Pass `logger`; kept until src/agent/gossip.ts does. Called as well when given. */
  onProtocolError?: (err: Error) => void;
  /** Time source for loops, timeouts and reap times (a VirtualClock in simulations). */
  clock?: Clock;
}

type NodeState = 'active' | 'failed' | 'left';

interface KnownNode {
  info: NodeInfo;
  state: NodeState;
  /** Lamport time of the last node event applied (network clock). */
  lTime: bigint;
  /** When a failed/left node is forgotten entirely (ms epoch); 0 while active. */
  reapAtMs: number;
}

interface Entry {
  lTime: bigint;
  owner: string;
  value: Buffer;
  deleting: boolean;
  /** Tombstone expiry (ms epoch); 0 for live entries. */
  reapAtMs: number;
}

interface NetworkState {
  lTime: bigint;
  leaving: boolean;
  reapAtMs: number;
  /** Local networks only: set once the join-time bulk sync finished. */
  inSync: boolean;
  /** Local networks only: table events waiting to be gossiped to this network's peers. */
  tableBroadcasts?: TransmitLimitedQueue;
}

interface Watcher {
  table: string;
  nid: string | undefined;
  cb: (change: TableChange) => void;
}

/** Bytes memberlist adds for a user message plus our GossipMessage{COMPOUND} envelope. */
const COMPOUND_HEADER_OVERHEAD = 6;
/** Per part: CompoundMessage field tag + length, SimpleMessage tag + length (parts < 16 KiB). */
const COMPOUND_PART_OVERHEAD = 6;
/** Failed/left nodes are forgotten after a day (Docker nodeReapInterval). */
const NODE_REAP_INTERVAL_MS = 24 * 3600_000;
/** Bound on COMPOUND nesting so crafted input cannot recurse deeply. */
const MAX_COMPOUND_DEPTH = 4;

function requireName(what: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) {
    throw new VxError('INVALID_ARGUMENT', `networkdb: ${what} must be a non-empty string`);
  }
  return v;
}

function broadcastKey(table: string, key: string): string {
  return `${table.length}:${table}${key}`;
}

export class NetworkDB implements Delegate, EventDelegate {
  readonly nodeName: string;
  readonly config: NetworkDBConfig;
  readonly stats: NetworkDBStats = { decodeErrors: 0, sendErrors: 0, bulkSyncTimeouts: 0 };

  private readonly networkClock = new LamportClock();
  private readonly tableClock = new LamportClock();
  private readonly log: LogSink;
  private readonly onProtocolError: ((err: Error) => void) | undefined;

  private cluster: Cluster | undefined;
  private closed = false;
  private readonly clock: Clock;
  private readonly timers = new Set<TimerHandle>();

  private readonly nodes = new Map<string, KnownNode>();
  /** "addr|port" -> name of the node last seen there (to spot reincarnations). */
  private readonly nodeByEndpoint = new Map<string, string>();
  /** node name -> network id -> that node's membership of the network. */
  private readonly networks = new Map<string, Map<string, NetworkState>>();
  /** network id -> names of nodes in it (including us once joined). */
  private readonly networkNodes = new Map<string, Set<string>>();
  private readonly networkNodesList = new Map<string, string[]>();
  /** network id -> table -> key -> entry. */
  private readonly entries = new Map<string, Map<string, Map<string, Entry>>>();

  private readonly networkBroadcasts: TransmitLimitedQueue;
  private readonly nodeBroadcasts: TransmitLimitedQueue;
  private readonly bulkSyncWaiters = new Map<string, Array<() => void>>();
  private readonly watchers = new Set<Watcher>();

  constructor(opts: NetworkDBOptions) {
    const { nodeName, onProtocolError, logger, clock, ...overrides } = opts;
    this.clock = clock ?? realClock;
    this.nodeName = requireName('nodeName', nodeName);
    this.config = resolveNetworkDBConfig(overrides);
    this.onProtocolError = onProtocolError;
    this.log = toLogSink(logger ?? pino({ level: 'silent' }));
    const activeNodes = (): number => this.activeNodeCount();
    this.networkBroadcasts = new TransmitLimitedQueue(activeNodes, this.config.retransmitMult);
    this.nodeBroadcasts = new TransmitLimitedQueue(activeNodes, this.config.retransmitMult);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Start using `cluster` to send and begin the gossip, bulk-sync and reap loops. */
  attach(cluster: Cluster): void {
    if (this.closed) throw new VxError('FAILED_PRECONDITION', 'networkdb: already closed');
    if (this.cluster) throw new VxError('FAILED_PRECONDITION', 'networkdb: already attached');
    if (cluster.localName !== this.nodeName) {
      throw new VxError(
        'INVALID_ARGUMENT',
        `networkdb: cluster node name ${cluster.localName} differs from networkdb node name ${this.nodeName}`,
      );
    }
    this.cluster = cluster;
    for (const m of cluster.members()) if (!this.nodes.has(m.name) && m.state === 'alive') this.notifyJoin(m);
    this.queueNodeEvent(NodeEventType.JOIN);
    const { gossipIntervalMs, bulkSyncIntervalMs, reapPeriodMs } = this.config;
    this.every(gossipIntervalMs, () => this.gossip());
    this.every(bulkSyncIntervalMs, () => void this.bulkSyncTables());
    this.every(reapPeriodMs, () => this.reapState());
    this.every(this.config.reconnectIntervalMs, () => void this.reconnectNode());
  }

  /** Announce a graceful cluster leave; waits until the announcement went out or `waitMs` passed. */
  async leaveCluster(waitMs = 2_000): Promise<void> {
    this.queueNodeEvent(NodeEventType.LEAVE);
    const deadline = this.clock.now() + waitMs;
    while (this.nodeBroadcasts.numQueued() > 0 && this.clock.now() < deadline && this.activeNodeCount() > 1) {
      await new Promise<void>((r) => this.clock.setTimeout(r, Math.min(50, this.config.gossipIntervalMs)));
    }
  }

  /** Stop every loop. Pending bulk syncs resolve as timed out. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    for (const waiters of this.bulkSyncWaiters.values()) for (const w of waiters) w();
    this.bulkSyncWaiters.clear();
    this.watchers.clear();
  }

  /** Run `fn` every `ms`, first after a random phase so many nodes do not tick in lockstep. */
  private every(ms: number, fn: () => void): void {
    const run = (): void => {
      if (this.closed) return;
      try {
        fn();
      } catch (err) {
        this.protocolError(err);
      }
    };
    // Like a ticker: each round is planned `ms` after the previous plan, not after the run.
    let planned = this.clock.now() + Math.floor(this.config.random() * ms);
    const tick = (): void => {
      this.timers.delete(handle);
      run();
      if (this.closed) return;
      planned += ms;
      // Rounds missed while the process was busy are dropped, like a Go ticker's.
      const now = this.clock.now();
      if (planned < now) planned += Math.ceil((now - planned) / ms) * ms;
      handle = this.clock.setTimeout(tick, planned - now);
      handle.unref?.();
      this.timers.add(handle);
    };
    let handle = this.clock.setTimeout(tick, planned - this.clock.now());
    handle.unref?.();
    this.timers.add(handle);
  }

  // ---------------------------------------------------------------- public table API

  /** Join a network: announce it, then bulk-sync its tables from the peers we know are in it. */
  async joinNetwork(nid: string): Promise<void> {
    requireName('network id', nid);
    const local = this.localNetworks();
    const existing = local.get(nid);
    if (existing && !existing.leaving) {
      throw new VxError('ALREADY_EXISTS', `networkdb: network ${nid} is already joined`);
    }
    const lTime = this.networkClock.increment();
    const n: NetworkState = {
      lTime,
      leaving: false,
      reapAtMs: 0,
      inSync: false,
      tableBroadcasts: new TransmitLimitedQueue(() => this.networkNodes.get(nid)?.size ?? 0, this.config.retransmitMult),
    };
    local.set(nid, n);
    this.addNetworkNode(nid, this.nodeName);
    this.queueNetworkEvent(NetworkEventType.JOIN, nid, lTime);
    const peers = this.networkPeerNames(nid);
    await this.bulkSync(peers, true);
    // Best effort, as in Docker: we are "in sync" even if some peers did not answer.
    if (local.get(nid) === n) n.inSync = true;
  }

  /** Leave a network: our entries there become tombstones, everyone else's are dropped. */
  leaveNetwork(nid: string): void {
    requireName('network id', nid);
    const n = this.localNetworks().get(nid);
    if (!n || n.leaving) throw new VxError('NOT_FOUND', `networkdb: network ${nid} is not joined`);
    const lTime = this.networkClock.increment();
    this.queueNetworkEvent(NetworkEventType.LEAVE, nid, lTime);
    this.deleteNetworkNode(nid, this.nodeName);
    this.deleteNodeNetworkEntries(nid, this.nodeName);
    n.lTime = lTime;
    n.leaving = true;
    n.reapAtMs = this.clock.now() + this.reapNetworkIntervalMs();
  }

  createEntry(table: string, nid: string, key: string, value: Buffer): void {
    this.validateEntryArgs(table, nid, key);
    const old = this.findEntry(nid, table, key);
    if (old && !old.deleting) {
      throw new VxError('ALREADY_EXISTS', `networkdb: entry ${table}/${nid}/${key} already exists`);
    }
    this.writeLocal(TableEventType.CREATE, table, nid, key, Buffer.from(value), 'create');
  }

  updateEntry(table: string, nid: string, key: string, value: Buffer): void {
    this.validateEntryArgs(table, nid, key);
    const old = this.findEntry(nid, table, key);
    if (!old || old.deleting) {
      throw new VxError('NOT_FOUND', `networkdb: cannot update ${table}/${nid}/${key}: no such entry`);
    }
    this.writeLocal(TableEventType.UPDATE, table, nid, key, Buffer.from(value), 'update');
  }

  deleteEntry(table: string, nid: string, key: string): void {
    this.validateEntryArgs(table, nid, key);
    const old = this.findEntry(nid, table, key);
    if (!old || old.deleting) {
      throw new VxError('NOT_FOUND', `networkdb: cannot delete ${table}/${nid}/${key}: no such entry`);
    }
    this.writeLocal(TableEventType.DELETE, table, nid, key, old.value, 'delete');
  }

  /** Live value of an entry, or undefined (missing or deleted). */
  getEntry(table: string, nid: string, key: string): Buffer | undefined {
    const e = this.findEntry(nid, table, key);
    return e && !e.deleting ? e.value : undefined;
  }

  /** Every live entry of `table` in network `nid`, by key. */
  getTableByNetwork(table: string, nid: string): Map<string, TableEntryView> {
    const out = new Map<string, TableEntryView>();
    const keys = this.entries.get(nid)?.get(table);
    if (keys) for (const [k, e] of keys) if (!e.deleting) out.set(k, { value: e.value, owner: e.owner });
    return out;
  }

  /** Nodes (us included once joined) known to be in network `nid`. */
  peers(nid: string): NetworkPeer[] {
    return [...(this.networkNodes.get(nid) ?? [])].map((name) => ({
      name,
      addr: this.nodes.get(name)?.info.addr ?? '',
    }));
  }

  /** Networks this node has joined (not leaving). */
  joinedNetworks(): string[] {
    return [...this.localNetworks()].filter(([, n]) => !n.leaving).map(([nid]) => nid);
  }

  /**
   * Be told about changes to `table` (in network `nid`, or in every network). Local writes are
   * reported too (owner = our node name). Returns the unsubscribe function.
   */
  watch(table: string, nid: string | undefined, cb: (change: TableChange) => void): () => void {
    requireName('table', table);
    const w: Watcher = { table, nid, cb };
    this.watchers.add(w);
    return () => {
      this.watchers.delete(w);
    };
  }

  // ---------------------------------------------------------------- memberlist Delegate

  nodeMeta(_limit: number): Buffer {
    return Buffer.alloc(0);
  }

  notifyMsg(msg: Buffer): void {
    if (this.closed) return;
    this.handleMessage(msg, false, 0);
  }

  getBroadcasts(overhead: number, limit: number): Buffer[] {
    const net = this.networkBroadcasts.getBroadcasts(overhead, limit);
    let used = 0;
    for (const m of net) used += overhead + m.length;
    const node = this.nodeBroadcasts.getBroadcasts(overhead, limit - used);
    return net.concat(node);
  }

  localState(join: boolean): Buffer {
    if (join) {
      // Bump our memberships so a node that still has us as "leaving" takes the newer state.
      const lTime = this.networkClock.increment();
      for (const n of this.localNetworks().values()) n.lTime = lTime;
    }
    const networks = [];
    for (const [nodeName, nets] of this.networks) {
      for (const [networkId, n] of nets) {
        networks.push({ networkId, lTime: n.lTime, nodeName, leaving: n.leaving });
      }
    }
    const pp = encodeNetworkPushPull({ lTime: this.networkClock.time(), networks, nodeName: this.nodeName });
    return wrapGossip(MessageType.PUSH_PULL, pp);
  }

  mergeRemoteState(buf: Buffer, _join: boolean): void {
    if (this.closed || buf.length === 0) return;
    try {
      const g = decodeGossipMessage(buf);
      if (g.type !== MessageType.PUSH_PULL) {
        throw new ProtoDecodeError(`push/pull state has message type ${g.type}, expected PUSH_PULL`);
      }
      const pp = decodeNetworkPushPull(g.data);
      this.handleNodeEvent({ type: NodeEventType.JOIN, lTime: pp.lTime, nodeName: pp.nodeName });
      for (const n of pp.networks) {
        this.handleNetworkEvent({
          type: n.leaving ? NetworkEventType.LEAVE : NetworkEventType.JOIN,
          lTime: n.lTime,
          nodeName: n.nodeName,
          networkId: n.networkId,
        });
      }
    } catch (err) {
      this.protocolError(err);
    }
  }

  // ---------------------------------------------------------------- memberlist EventDelegate

  notifyJoin(node: NodeInfo): void {
    this.purgeReincarnation(node);
    const known = this.nodes.get(node.name);
    this.nodes.set(node.name, { info: node, state: 'active', lTime: known?.lTime ?? 0n, reapAtMs: 0 });
  }

  notifyLeave(node: NodeInfo): void {
    const known = this.nodes.get(node.name);
    // A node that said goodbye (NodeEvent LEAVE) is already "left"; otherwise it failed.
    if (known && known.state === 'active' && node.name !== this.nodeName) this.markGone(node.name, 'failed');
  }

  notifyUpdate(node: NodeInfo): void {
    const known = this.nodes.get(node.name);
    if (known) known.info = node;
  }

  // ---------------------------------------------------------------- inbound messages

  private handleMessage(buf: Uint8Array, isBulkSync: boolean, depth: number): void {
    try {
      const g = decodeGossipMessage(buf);
      switch (g.type) {
        case MessageType.NETWORK_EVENT: {
          const ev = decodeNetworkEvent(g.data);
          if (this.handleNetworkEvent(ev)) {
            this.networkBroadcasts.queueBroadcast({ name: `${ev.networkId}|${ev.nodeName}`, message: Buffer.from(buf) });
          }
          break;
        }
        case MessageType.TABLE_EVENT:
          this.handleTableMessage(g.data, Buffer.from(buf), isBulkSync);
          break;
        case MessageType.NODE_EVENT: {
          const ev = decodeNodeEvent(g.data);
          if (this.handleNodeEvent(ev)) {
            this.nodeBroadcasts.queueBroadcast({ unique: true, message: Buffer.from(buf) });
          }
          break;
        }
        case MessageType.BULK_SYNC:
          this.handleBulkSync(g.data);
          break;
        case MessageType.COMPOUND: {
          if (depth >= MAX_COMPOUND_DEPTH) throw new ProtoDecodeError('COMPOUND nested too deeply');
          for (const part of decodeCompoundMessage(g.data).messages) {
            this.handleMessage(part, isBulkSync, depth + 1);
          }
          break;
        }
        default:
          // PUSH_PULL only travels through memberlist push/pull; unknown types are ignored.
          break;
      }
    } catch (err) {
      this.protocolError(err);
    }
  }

  private handleNodeEvent(ev: { type: number; lTime: bigint; nodeName: string }): boolean {
    this.networkClock.witness(ev.lTime);
    if (ev.nodeName === this.nodeName) return false;
    const n = this.nodes.get(ev.nodeName);
    if (!n || n.lTime >= ev.lTime) return false;
    n.lTime = ev.lTime;
    if (ev.type === NodeEventType.JOIN) {
      if (n.state === 'active') return false;
      n.state = 'active';
      n.reapAtMs = 0;
      return true;
    }
    if (ev.type === NodeEventType.LEAVE) {
      if (n.state === 'left') return false;
      this.markGone(ev.nodeName, 'left');
      return true;
    }
    return false;
  }

  /** Apply a remote network join/leave; true when it was news worth re-broadcasting. */
  private handleNetworkEvent(ev: { type: number; lTime: bigint; nodeName: string; networkId: string }): boolean {
    this.networkClock.witness(ev.lTime);
    if (ev.nodeName === this.nodeName || ev.networkId === '') return false;
    if (ev.type !== NetworkEventType.JOIN && ev.type !== NetworkEventType.LEAVE) return false;
    const leaving = ev.type === NetworkEventType.LEAVE;
    let nodeNets = this.networks.get(ev.nodeName);
    const n = nodeNets?.get(ev.networkId);
    if (n) {
      if (n.lTime >= ev.lTime) return false;
      n.lTime = ev.lTime;
      n.leaving = leaving;
      if (leaving) {
        n.reapAtMs = this.clock.now() + this.reapNetworkIntervalMs();
        // Tombstone its entries, so bulk syncs carry the deletion onward.
        this.deleteNodeNetworkEntries(ev.networkId, ev.nodeName);
        this.deleteNetworkNode(ev.networkId, ev.nodeName);
      } else {
        n.reapAtMs = 0;
        this.addNetworkNode(ev.networkId, ev.nodeName);
      }
      return true;
    }
    if (leaving) return false;
    // Only track nodes memberlist told us about: otherwise we would never learn they died.
    const known = this.nodes.get(ev.nodeName);
    if (!known || known.state !== 'active') return false;
    if (!nodeNets) {
      nodeNets = new Map();
      this.networks.set(ev.nodeName, nodeNets);
    }
    nodeNets.set(ev.networkId, { lTime: ev.lTime, leaving: false, reapAtMs: 0, inSync: false });
    this.addNetworkNode(ev.networkId, ev.nodeName);
    return true;
  }

  private handleTableMessage(body: Uint8Array, raw: Buffer, isBulkSync: boolean): void {
    const ev = decodeTableEvent(body);
    if (ev.nodeName === this.nodeName) return;
    if (!this.handleTableEvent(ev, isBulkSync)) return;
    const q = this.localNetworks().get(ev.networkId)?.tableBroadcasts;
    q?.queueBroadcast({ name: broadcastKey(ev.tableName, ev.key), message: raw });
  }

  /** Apply a remote table event; true when it should be re-gossiped. */
  private handleTableEvent(ev: TableEvent, isBulkSync: boolean): boolean {
    this.tableClock.witness(ev.lTime);
    if (ev.type < TableEventType.CREATE || ev.type > TableEventType.DELETE) return false;
    if (ev.tableName === '' || ev.networkId === '') return false;
    const network = this.localNetworks().get(ev.networkId);
    // Ignore networks we are not in (or leaving), and owners no longer in the network.
    if (!network || network.leaving) return false;
    if (!this.networkNodes.get(ev.networkId)?.has(ev.nodeName)) return false;

    const deleting = ev.type === TableEventType.DELETE;
    const old = this.findEntry(ev.networkId, ev.tableName, ev.key);
    if (old) {
      if (old.lTime >= ev.lTime) return false; // stale: what we hold is newer
    } else if (deleting && !isBulkSync) {
      // Unknown entry deleted by gossip: its residual reap time may be stale, so ignore it.
      // Bulk syncs carry fresh reap times and are applied below.
      return false;
    }

    const now = this.clock.now();
    let reapAtMs = 0;
    if (deleting) {
      const residualMs = ev.residualReapTime === 0 ? this.config.reapEntryIntervalMs : ev.residualReapTime * 1000;
      reapAtMs = now + residualMs;
    }
    const e: Entry = { lTime: ev.lTime, owner: ev.nodeName, value: ev.value, deleting, reapAtMs };
    this.storeEntry(ev.networkId, ev.tableName, ev.key, e);

    if (!old && deleting) {
      // A tombstone we never saw alive: keep it (so stale creates lose) and pass it on only
      // while it has a good part of its life left.
      return network.inSync && reapAtMs - now > this.config.reapEntryIntervalMs / 6;
    }
    const wasLive = old !== undefined && !old.deleting;
    if (deleting) {
      if (wasLive) this.emit('delete', ev.tableName, ev.networkId, ev.key, ev.value, ev.nodeName);
    } else {
      this.emit(wasLive ? 'update' : 'create', ev.tableName, ev.networkId, ev.key, ev.value, ev.nodeName);
    }
    return network.inSync;
  }

  private handleBulkSync(body: Uint8Array): void {
    const bsm = decodeBulkSyncMessage(body);
    if (bsm.lTime > 0n) this.tableClock.witness(bsm.lTime);
    if (bsm.payload.length > 0) this.handleMessage(bsm.payload, true, 1);
    if (!bsm.unsolicited) {
      // This is the answer to a bulk sync we started.
      const waiters = this.bulkSyncWaiters.get(bsm.nodeName);
      this.bulkSyncWaiters.delete(bsm.nodeName);
      if (waiters) for (const w of waiters) w();
      return;
    }
    if (bsm.nodeName === '' || bsm.nodeName === this.nodeName) return;
    this.bulkSyncNode(bsm.networks, bsm.nodeName, false).catch((err) => this.protocolError(err));
  }

  // ---------------------------------------------------------------- outbound

  private writeLocal(type: number, table: string, nid: string, key: string, value: Buffer, kind: TableEventKind): void {
    const deleting = type === TableEventType.DELETE;
    const e: Entry = {
      lTime: this.tableClock.increment(),
      owner: this.nodeName,
      value,
      deleting,
      reapAtMs: deleting ? this.clock.now() + this.config.reapEntryIntervalMs : 0,
    };
    this.storeEntry(nid, table, key, e);
    this.queueTableEvent(type, nid, table, key, e);
    this.emit(kind, table, nid, key, value, this.nodeName);
  }

  private queueTableEvent(type: number, nid: string, table: string, key: string, e: Entry): void {
    const q = this.localNetworks().get(nid)?.tableBroadcasts;
    if (!q) return;
    q.queueBroadcast({ name: broadcastKey(table, key), message: wrapGossip(MessageType.TABLE_EVENT, this.encodeEntry(type, nid, table, key, e)) });
  }

  private encodeEntry(type: number, nid: string, table: string, key: string, e: Entry): Buffer {
    const residualSec = e.deleting ? Math.max(0, Math.floor((e.reapAtMs - this.clock.now()) / 1000)) : 0;
    return encodeTableEvent({
      type,
      lTime: e.lTime,
      nodeName: e.owner,
      networkId: nid,
      tableName: table,
      key,
      value: e.value,
      residualReapTime: Math.min(residualSec, 0x7fffffff),
    });
  }

  private queueNetworkEvent(type: number, nid: string, lTime: bigint): void {
    const body = encodeNetworkEvent({ type, lTime, nodeName: this.nodeName, networkId: nid });
    this.networkBroadcasts.queueBroadcast({ name: `${nid}|${this.nodeName}`, message: wrapGossip(MessageType.NETWORK_EVENT, body) });
  }

  private queueNodeEvent(type: number): void {
    const body = encodeNodeEvent({ type, lTime: this.networkClock.increment(), nodeName: this.nodeName });
    this.nodeBroadcasts.queueBroadcast({ unique: true, message: wrapGossip(MessageType.NODE_EVENT, body) });
  }

  /** One gossip round: per joined network, send pending table events to a few random peers. */
  private gossip(): void {
    const cluster = this.cluster;
    if (!cluster) return;
    const budget = this.config.packetBufferSize - COMPOUND_HEADER_OVERHEAD;
    for (const [nid, n] of this.localNetworks()) {
      const q = n.tableBroadcasts;
      if (!q || q.numQueued() === 0) continue;
      const peers = this.randomPeers(nid, this.config.gossipFanout);
      if (peers.length === 0) continue;
      let msgs = q.getBroadcasts(COMPOUND_PART_OVERHEAD, budget);
      // A single event larger than a packet still has to go somewhere: send it alone.
      if (msgs.length === 0) msgs = q.getBroadcasts(COMPOUND_PART_OVERHEAD, Number.MAX_SAFE_INTEGER, 1);
      if (msgs.length === 0) continue;
      const packet = encodeCompoundGossip(msgs);
      for (const peer of peers) this.send(() => cluster.sendBestEffort(peer, packet));
    }
  }

  /** Periodic bulk sync: each joined network with one random peer (covering shared networks). */
  private async bulkSyncTables(): Promise<void> {
    let pending = this.joinedNetworks();
    while (pending.length > 0) {
      const nid = pending.shift() as string;
      const peers = this.networkPeerNames(nid);
      if (peers.length === 0) continue;
      const done = await this.bulkSync(peers, false);
      if (this.closed) return;
      pending = pending.filter((p) => !done.includes(p));
    }
  }

  /**
   * Bulk-sync with `nodes` (all of them, or just the first of two random ones that answers).
   * Returns the networks covered by the last successful sync.
   */
  private async bulkSync(nodes: string[], all: boolean): Promise<string[]> {
    const targets = all ? nodes : this.pickRandom(nodes, 2);
    let covered: string[] = [];
    const tasks: Promise<void>[] = [];
    for (const node of targets) {
      if (node === this.nodeName) continue;
      const networks = this.commonNetworks(node);
      if (all) {
        tasks.push(this.bulkSyncNode(networks, node, true).catch((err) => this.protocolError(err)));
        covered = networks;
        continue;
      }
      try {
        await this.bulkSyncNode(networks, node, true);
        return networks;
      } catch (err) {
        this.protocolError(err);
      }
    }
    await Promise.all(tasks);
    return covered;
  }

  /** Send every entry (tombstones too) of `networks` to `node`; as initiator, wait for its answer. */
  private async bulkSyncNode(networks: string[], node: string, unsolicited: boolean): Promise<void> {
    const cluster = this.cluster;
    if (!cluster || this.closed) return;
    const parts: Buffer[] = [];
    for (const nid of networks) {
      const tables = this.entries.get(nid);
      if (!tables) continue;
      for (const [table, keys] of tables) {
        for (const [key, e] of keys) {
          // A tombstone with under a second left would go out with residual 0, which the
          // receiver reads as "no reap time" and keeps for a full interval: let it die instead.
          if (e.deleting && e.reapAtMs - this.clock.now() < 1000) continue;
          const type = e.deleting ? TableEventType.DELETE : TableEventType.CREATE;
          parts.push(wrapGossip(MessageType.TABLE_EVENT, this.encodeEntry(type, nid, table, key, e)));
        }
      }
    }
    const payload = parts.length > 0 ? encodeCompoundGossip(parts) : Buffer.alloc(0);
    const body = encodeBulkSyncMessage({
      lTime: this.tableClock.time(),
      unsolicited,
      nodeName: this.nodeName,
      networks,
      payload,
    });
    const msg = wrapGossip(MessageType.BULK_SYNC, body);
    if (!unsolicited) {
      await cluster.sendReliable(node, msg);
      return;
    }
    let answered = false;
    const answer = new Promise<void>((resolve) => {
      const list = this.bulkSyncWaiters.get(node) ?? [];
      list.push(() => {
        answered = true;
        resolve();
      });
      this.bulkSyncWaiters.set(node, list);
    });
    let timer: TimerHandle | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, this.config.bulkSyncTimeoutMs);
      timer.unref?.();
    });
    try {
      await cluster.sendReliable(node, msg);
      await Promise.race([answer, timeout]);
    } finally {
      this.clock.clearTimeout(timer);
    }
    if (!answered) {
      this.stats.bulkSyncTimeouts++;
      throw new Error(`networkdb: bulk sync with ${node} got no answer within ${this.config.bulkSyncTimeoutMs} ms`);
    }
  }

  /** Fire and forget; a cluster may reject synchronously (unknown node) or asynchronously. */
  private send(start: () => Promise<void>): void {
    const fail = (err: unknown): void => {
      this.stats.sendErrors++;
      this.report(err, 'networkdb: send failed');
    };
    try {
      start().catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  /**
   * Re-contact one random failed node (as Docker does every second): memberlist failure
   * detection never probes dead nodes again, so without this a healed partition stays split.
   */
  private async reconnectNode(): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return;
    const failed = [...this.nodes.values()].filter((n) => n.state === 'failed');
    if (failed.length === 0) return;
    const target = failed[Math.floor(this.config.random() * failed.length)] as KnownNode;
    const { addr, port, name } = target.info;
    const hostPort = addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
    try {
      await cluster.join([hostPort]);
    } catch {
      return; // still unreachable; try again next round
    }
    if (this.closed) return;
    this.queueNodeEvent(NodeEventType.JOIN);
    await this.bulkSync([name], true);
  }

  // ---------------------------------------------------------------- reaping

  private reapState(): void {
    const now = this.clock.now();
    for (const [nid, tables] of this.entries) {
      for (const [table, keys] of tables) {
        for (const [key, e] of keys) if (e.deleting && e.reapAtMs <= now) keys.delete(key);
        if (keys.size === 0) tables.delete(table);
      }
      if (tables.size === 0) this.entries.delete(nid);
    }
    for (const [nodeName, nets] of this.networks) {
      for (const [nid, n] of nets) if (n.leaving && n.reapAtMs <= now) nets.delete(nid);
      if (nets.size === 0) this.networks.delete(nodeName);
    }
    for (const [name, n] of this.nodes) {
      if (n.state === 'active' || n.reapAtMs > now) continue;
      this.nodes.delete(name);
      const endpoint = `${n.info.addr}|${n.info.port}`;
      if (this.nodeByEndpoint.get(endpoint) === name) this.nodeByEndpoint.delete(endpoint);
    }
  }

  /** A left network outlives the tombstones it produced (Docker: reapEntryInterval + 5 reap periods). */
  private reapNetworkIntervalMs(): number {
    return this.config.reapEntryIntervalMs + 5 * this.config.reapPeriodMs;
  }

  // ---------------------------------------------------------------- node bookkeeping

  /** A node failed or left: forget its memberships and drop every entry it owns. */
  private markGone(name: string, state: 'failed' | 'left'): void {
    const n = this.nodes.get(name);
    if (!n) return;
    n.state = state;
    n.reapAtMs = this.clock.now() + NODE_REAP_INTERVAL_MS;
    for (const nid of [...this.networkNodes.keys()]) this.deleteNetworkNode(nid, name);
    this.networks.delete(name);
    for (const [nid, tables] of this.entries) {
      for (const [table, keys] of tables) {
        for (const [key, e] of keys) {
          if (e.owner !== name) continue;
          keys.delete(key);
          if (!e.deleting) this.emit('delete', table, nid, key, e.value, name);
        }
      }
    }
  }

  /** Same address and port under a new name: the old name is a previous life of that node. */
  private purgeReincarnation(node: NodeInfo): void {
    const endpoint = `${node.addr}|${node.port}`;
    const previous = this.nodeByEndpoint.get(endpoint);
    this.nodeByEndpoint.set(endpoint, node.name);
    if (previous === undefined || previous === node.name) return;
    const old = this.nodes.get(previous);
    if (old && old.state !== 'left' && old.info.addr === node.addr && old.info.port === node.port) {
      this.markGone(previous, 'left');
    }
  }

  /**
   * `node` leaves network `nid`. For a remote node: tombstone its entries there. For us: tombstone
   * our entries (with a newer time so the deletion wins) and drop everyone else's.
   */
  private deleteNodeNetworkEntries(nid: string, node: string): void {
    const isLocal = node === this.nodeName;
    const tables = this.entries.get(nid);
    if (!tables) return;
    const reapAtMs = this.clock.now() + this.config.reapEntryIntervalMs;
    for (const [table, keys] of tables) {
      for (const [key, old] of keys) {
        if (old.owner !== node && !isLocal) continue;
        if (old.deleting && !isLocal) continue;
        if (old.owner === node) {
          if (!old.deleting) {
            const lTime = isLocal ? this.tableClock.increment() : old.lTime;
            keys.set(key, { lTime, owner: old.owner, value: old.value, deleting: true, reapAtMs });
          }
        } else {
          keys.delete(key);
        }
        if (!old.deleting) this.emit('delete', table, nid, key, old.value, old.owner);
      }
    }
  }

  private addNetworkNode(nid: string, node: string): void {
    let set = this.networkNodes.get(nid);
    if (!set) {
      set = new Set();
      this.networkNodes.set(nid, set);
    }
    if (!set.has(node)) {
      set.add(node);
      this.networkNodesList.delete(nid);
    }
  }

  private deleteNetworkNode(nid: string, node: string): void {
    const set = this.networkNodes.get(nid);
    if (set?.delete(node)) {
      this.networkNodesList.delete(nid);
      if (set.size === 0) this.networkNodes.delete(nid);
    }
  }

  // ---------------------------------------------------------------- helpers

  private localNetworks(): Map<string, NetworkState> {
    let m = this.networks.get(this.nodeName);
    if (!m) {
      m = new Map();
      this.networks.set(this.nodeName, m);
    }
    return m;
  }

  private activeNodeCount(): number {
    let n = 0;
    for (const v of this.nodes.values()) if (v.state === 'active') n++;
    return Math.max(n, 1);
  }

  private networkNodeArray(nid: string): string[] {
    let list = this.networkNodesList.get(nid);
    if (!list) {
      list = [...(this.networkNodes.get(nid) ?? [])];
      this.networkNodesList.set(nid, list);
    }
    return list;
  }

  private networkPeerNames(nid: string): string[] {
    return this.networkNodeArray(nid).filter((n) => n !== this.nodeName);
  }

  /** Up to `k` distinct random peers of `nid`, excluding us. */
  private randomPeers(nid: string, k: number): string[] {
    const all = this.networkNodeArray(nid);
    const candidates = all.length - (this.networkNodes.get(nid)?.has(this.nodeName) ? 1 : 0);
    if (candidates <= 0) return [];
    if (candidates <= k) return all.filter((n) => n !== this.nodeName);
    const picked = new Set<string>();
    while (picked.size < k) {
      const n = all[Math.floor(this.config.random() * all.length)];
      if (n !== undefined && n !== this.nodeName) picked.add(n);
    }
    return [...picked];
  }

  private pickRandom(list: string[], k: number): string[] {
    const copy = list.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.config.random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as string, copy[i] as string];
    }
    return copy.slice(0, k);
  }

  /** Networks both we and `node` are in (ours not leaving). */
  private commonNetworks(node: string): string[] {
    const theirs = this.networks.get(node);
    if (!theirs) return [];
    return this.joinedNetworks().filter((nid) => {
      const t = theirs.get(nid);
      return t !== undefined && !t.leaving;
    });
  }

  private findEntry(nid: string, table: string, key: string): Entry | undefined {
    return this.entries.get(nid)?.get(table)?.get(key);
  }

  private storeEntry(nid: string, table: string, key: string, e: Entry): void {
    let tables = this.entries.get(nid);
    if (!tables) {
      tables = new Map();
      this.entries.set(nid, tables);
    }
    let keys = tables.get(table);
    if (!keys) {
      keys = new Map();
      tables.set(table, keys);
    }
    keys.set(key, e);
  }

  private validateEntryArgs(table: string, nid: string, key: string): void {
    requireName('table', table);
    requireName('network id', nid);
    requireName('key', key);
    const n = this.localNetworks().get(nid);
    if (!n || n.leaving) throw new VxError('FAILED_PRECONDITION', `networkdb: network ${nid} is not joined`);
  }

  private emit(type: TableEventKind, table: string, nid: string, key: string, value: Buffer, owner: string): void {
    for (const w of this.watchers) {
      if (w.table !== table || (w.nid !== undefined && w.nid !== nid)) continue;
      try {
        w.cb({ type, table, nid, key, value, owner });
      } catch (err) {
        this.protocolError(err);
      }
    }
  }

  private protocolError(err: unknown): void {
    if (err instanceof ProtoDecodeError) this.stats.decodeErrors++;
    this.report(err, 'networkdb: dropped input');
  }

  private report(err: unknown, what: string): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.log.debug({ err: e.message }, what);
    this.onProtocolError?.(e);
  }
}
