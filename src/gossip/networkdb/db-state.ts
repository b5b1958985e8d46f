// NetworkDB's tables (Docker's nodes / networks / networkNodes / entries indexes) and the
// bookkeeping rules on them: node failure and reincarnation, a node leaving a network,
// tombstones and reaping, and the watchers told about every visible change.
import { type TransmitLimitedQueue } from '../memberlist/broadcast-queue.js';
import type { NodeInfo } from '../memberlist/types.js';
import type { NetworkDBCore } from './db-core.js';
import type { Entry, KnownNode, TableChange, TableEventKind } from './types.js';

export interface NetworkState {
  lTime: bigint;
  leaving: boolean;
  reapAtMs: number;
  /** Local networks only: set once the join-time bulk sync finished. */
  inSync: boolean;
  /** Local networks only: table events waiting to be gossiped to this network's peers. */
  tableBroadcasts?: TransmitLimitedQueue;
}

export interface Watcher {
  table: string;
  nid: string | undefined;
  cb: (change: TableChange) => void;
  /** Changes that happened while the current state was being replayed to this watcher. */
  held: TableChange[] | null;
}

/** Failed/left nodes are forgotten after a day (Docker nodeReapInterval). */
const NODE_REAP_INTERVAL_MS = 24 * 3600_000;

export class NetworkDBState {
  readonly nodes = new Map<string, KnownNode>();
  /** "addr|port" -> name of the node last seen there (to spot reincarnations). */
  private readonly nodeByEndpoint = new Map<string, string>();
  /** node name -> network id -> that node's membership of the network. */
  readonly networks = new Map<string, Map<string, NetworkState>>();
  /** network id -> names of nodes in it (including us once joined). */
  readonly networkNodes = new Map<string, Set<string>>();
  private readonly networkNodesList = new Map<string, string[]>();
  /** network id -> table -> key -> entry. */
  readonly entries = new Map<string, Map<string, Map<string, Entry>>>();
  readonly watchers = new Set<Watcher>();

  constructor(private readonly core: NetworkDBCore) {}

  // ---------------------------------------------------------------- nodes

  activeNodeCount(): number {
    let n = 0;
    for (const v of this.nodes.values()) if (v.state === 'active') n++;
    return Math.max(n, 1);
  }

  /** A node failed or left: forget its memberships and drop every entry it owns. */
  markGone(name: string, state: 'failed' | 'left'): void {
    const n = this.nodes.get(name);
    if (!n) return;
    n.state = state;
    n.reapAtMs = this.core.clock.now() + NODE_REAP_INTERVAL_MS;
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
  purgeReincarnation(node: NodeInfo): void {
    const endpoint = `${node.addr}|${node.port}`;
    const previous = this.nodeByEndpoint.get(endpoint);
    this.nodeByEndpoint.set(endpoint, node.name);
    if (previous === undefined || previous === node.name) return;
    const old = this.nodes.get(previous);
    if (old && old.state !== 'left' && old.info.addr === node.addr && old.info.port === node.port) {
      this.markGone(previous, 'left');
    }
  }

  // ---------------------------------------------------------------- networks

  localNetworks(): Map<string, NetworkState> {
    let m = this.networks.get(this.core.nodeName);
    if (!m) {
      m = new Map();
      this.networks.set(this.core.nodeName, m);
    }
    return m;
  }

  /** Networks this node has joined (not leaving). */
  joinedNetworks(): string[] {
    return [...this.localNetworks()].filter(([, n]) => !n.leaving).map(([nid]) => nid);
  }

  /** Networks both we and `node` are in (ours not leaving). */
  commonNetworks(node: string): string[] {
    const theirs = this.networks.get(node);
    if (!theirs) return [];
    return this.joinedNetworks().filter((nid) => {
      const t = theirs.get(nid);
      return t !== undefined && !t.leaving;
    });
  }

  addNetworkNode(nid: string, node: string): void {
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

  deleteNetworkNode(nid: string, node: string): void {
    const set = this.networkNodes.get(nid);
    if (set?.delete(node)) {
      this.networkNodesList.delete(nid);
      if (set.size === 0) this.networkNodes.delete(nid);
    }
  }

  private networkNodeArray(nid: string): string[] {
    let list = this.networkNodesList.get(nid);
    if (!list) {
      list = [...(this.networkNodes.get(nid) ?? [])];
      this.networkNodesList.set(nid, list);
    }
    return list;
  }

  networkPeerNames(nid: string): string[] {
    return this.networkNodeArray(nid).filter((n) => n !== this.core.nodeName);
  }

  /** Up to `k` distinct random peers of `nid`, excluding us. */
  randomPeers(nid: string, k: number): string[] {
    const me = this.core.nodeName;
    const all = this.networkNodeArray(nid);
    const candidates = all.length - (this.networkNodes.get(nid)?.has(me) ? 1 : 0);
    if (candidates <= 0) return [];
    if (candidates <= k) return all.filter((n) => n !== me);
    const picked = new Set<string>();
    while (picked.size < k) {
      const n = all[Math.floor(this.core.config.random() * all.length)];
      if (n !== undefined && n !== me) picked.add(n);
    }
    return [...picked];
  }

  /**
   * `node` leaves network `nid`. For a remote node: tombstone its entries there. For us: tombstone
   * our entries (with a newer time so the deletion wins) and drop everyone else's.
   */
  deleteNodeNetworkEntries(nid: string, node: string): void {
    const isLocal = node === this.core.nodeName;
    const tables = this.entries.get(nid);
    if (!tables) return;
    const reapAtMs = this.core.clock.now() + this.core.config.reapEntryIntervalMs;
    for (const [table, keys] of tables) {
      for (const [key, old] of keys) {
        if (old.owner !== node && !isLocal) continue;
        if (old.deleting && !isLocal) continue;
        if (old.owner === node) {
          if (!old.deleting) {
            const lTime = isLocal ? this.core.tableClock.increment() : old.lTime;
            keys.set(key, { lTime, owner: old.owner, value: old.value, deleting: true, reapAtMs });
          }
        } else {
          keys.delete(key);
        }
        if (!old.deleting) this.emit('delete', table, nid, key, old.value, old.owner);
      }
    }
  }

  /** A left network outlives the tombstones it produced (Docker: reapEntryInterval + 5 reap periods). */
  reapNetworkIntervalMs(): number {
    return this.core.config.reapEntryIntervalMs + 5 * this.core.config.reapPeriodMs;
  }

  // ---------------------------------------------------------------- entries

  findEntry(nid: string, table: string, key: string): Entry | undefined {
    return this.entries.get(nid)?.get(table)?.get(key);
  }

  storeEntry(nid: string, table: string, key: string, e: Entry): void {
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

  /** Drop expired tombstones, left networks and long-gone nodes. */
  reap(): void {
    const now = this.core.clock.now();
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

  // ---------------------------------------------------------------- watchers

  emit(type: TableEventKind, table: string, nid: string, key: string, value: Buffer, owner: string): void {
    for (const w of this.watchers) {
      if (w.table !== table || (w.nid !== undefined && w.nid !== nid)) continue;
      const change = { type, table, nid, key, value, owner };
      if (w.held) w.held.push(change);
      else this.deliver(w, change);
    }
  }

  /**
   * List, then watch: add `w`, hand it every live entry it matches as a "create", then the
   * changes made meanwhile (by its own callback, say) in order, then live changes.
   */
  subscribe(w: Watcher): void {
    const current: TableChange[] = [];
    for (const [nid, tables] of this.entries) {
      if (w.nid !== undefined && w.nid !== nid) continue;
      const keys = tables.get(w.table);
      if (!keys) continue;
      for (const [key, e] of keys) {
        if (!e.deleting) current.push({ type: 'create', table: w.table, nid, key, value: e.value, owner: e.owner });
      }
    }
    w.held = [];
    this.watchers.add(w);
    for (const change of current) if (this.watchers.has(w)) this.deliver(w, change);
    while (w.held.length > 0 && this.watchers.has(w)) this.deliver(w, w.held.shift()!);
    w.held = null;
  }

  private deliver(w: Watcher, change: TableChange): void {
    try {
      w.cb(change);
    } catch (err) {
      this.core.protocolError(err);
    }
  }
}
