// Everything NetworkDB sends: node and network events through memberlist's broadcast queue,
// table events through our own per-network gossip rounds (UDP, to a few peers of that
// network), whole-table bulk syncs (TCP; on network join and periodically), and the
// re-contact of failed nodes.
import { TransmitLimitedQueue } from '../memberlist/broadcast-queue.js';
import { broadcastKey, type NetworkDBCore } from './db-core.js';
import type { NetworkDBState } from './db-state.js';
import {
  MessageType,
  NetworkEventType,
  NodeEventType,
  TableEventType,
  encodeBulkSyncMessage,
  encodeCompoundGossip,
  encodeNetworkEvent,
  encodeNodeEvent,
  encodeTableEvent,
  wrapGossip,
} from './proto.js';
import type { Entry, KnownNode } from './types.js';
import type { TimerHandle } from '../../util/clock.js';

/** Bytes memberlist adds for a user message plus our GossipMessage{COMPOUND} envelope. */
const COMPOUND_HEADER_OVERHEAD = 6;
/** Per part: CompoundMessage field tag + length, SimpleMessage tag + length (parts < 16 KiB). */
const COMPOUND_PART_OVERHEAD = 6;

export class Outbound {
  readonly networkBroadcasts: TransmitLimitedQueue;
  readonly nodeBroadcasts: TransmitLimitedQueue;
  private readonly bulkSyncWaiters = new Map<string, Array<() => void>>();

  constructor(
    private readonly core: NetworkDBCore,
    private readonly state: NetworkDBState,
  ) {
    const activeNodes = (): number => state.activeNodeCount();
    this.networkBroadcasts = new TransmitLimitedQueue(activeNodes, core.config.retransmitMult);
    this.nodeBroadcasts = new TransmitLimitedQueue(activeNodes, core.config.retransmitMult);
  }

  /** A queue for table events of a network we joined, sized by that network's membership. */
  newTableQueue(nid: string): TransmitLimitedQueue {
    return new TransmitLimitedQueue(() => this.state.networkNodes.get(nid)?.size ?? 0, this.core.config.retransmitMult);
  }

  /** Pending bulk syncs resolve as timed out. */
  close(): void {
    for (const waiters of this.bulkSyncWaiters.values()) for (const w of waiters) w();
    this.bulkSyncWaiters.clear();
  }

  // ---------------------------------------------------------------- broadcasts

  /** memberlist Delegate.getBroadcasts: network events first, then node events. */
  getBroadcasts(overhead: number, limit: number): Buffer[] {
    const net = this.networkBroadcasts.getBroadcasts(overhead, limit);
    let used = 0;
    for (const m of net) used += overhead + m.length;
    return net.concat(this.nodeBroadcasts.getBroadcasts(overhead, limit - used));
  }

  queueTableEvent(type: number, nid: string, table: string, key: string, e: Entry): void {
    this.requeueTableEvent(nid, table, key, wrapGossip(MessageType.TABLE_EVENT, this.encodeEntry(type, nid, table, key, e)));
  }

  /** Queue an (already encoded) table event for gossip in network `nid`, if we are in it. */
  requeueTableEvent(nid: string, table: string, key: string, msg: Buffer): void {
    this.state.localNetworks().get(nid)?.tableBroadcasts?.queueBroadcast({ name: broadcastKey(table, key), message: msg });
  }

  encodeEntry(type: number, nid: string, table: string, key: string, e: Entry): Buffer {
    const residualSec = e.deleting ? Math.max(0, Math.floor((e.reapAtMs - this.core.clock.now()) / 1000)) : 0;
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

  queueNetworkEvent(type: number, nid: string, lTime: bigint): void {
    const body = encodeNetworkEvent({ type, lTime, nodeName: this.core.nodeName, networkId: nid });
    this.requeueNetworkEvent(nid, this.core.nodeName, wrapGossip(MessageType.NETWORK_EVENT, body));
  }

  requeueNetworkEvent(nid: string, node: string, msg: Buffer): void {
    this.networkBroadcasts.queueBroadcast({ name: `${nid}|${node}`, message: msg });
  }

  queueNodeEvent(type: number): void {
    const body = encodeNodeEvent({ type, lTime: this.core.networkClock.increment(), nodeName: this.core.nodeName });
    this.nodeBroadcasts.queueBroadcast({ unique: true, message: wrapGossip(MessageType.NODE_EVENT, body) });
  }

  // ---------------------------------------------------------------- table gossip

  /** One gossip round: per joined network, send pending table events to a few random peers. */
  gossip(): void {
    const { core, state } = this;
    const cluster = core.cluster;
    if (!cluster) return;
    const budget = core.config.packetBufferSize - COMPOUND_HEADER_OVERHEAD;
    for (const [nid, n] of state.localNetworks()) {
      const q = n.tableBroadcasts;
      if (!q || q.numQueued() === 0) continue;
      const peers = state.randomPeers(nid, core.config.gossipFanout);
      if (peers.length === 0) continue;
      let msgs = q.getBroadcasts(COMPOUND_PART_OVERHEAD, budget);
      // A single event larger than a packet still has to go somewhere: send it alone.
      if (msgs.length === 0) msgs = q.getBroadcasts(COMPOUND_PART_OVERHEAD, Number.MAX_SAFE_INTEGER, 1);
      if (msgs.length === 0) continue;
      const packet = encodeCompoundGossip(msgs);
      for (const peer of peers) core.send(() => cluster.sendBestEffort(peer, packet));
    }
  }

  /**
   * Send network `nid`'s pending table events now, to every peer of that network (at most
   * `maxPeers`), instead of waiting for the next gossip round: a local write reaches the peers on
   * the next packet. Our own latest join event for the network rides in front, so a peer that has
   * not heard of our join yet (it travels on memberlist's slower broadcast queue) does not drop the
   * entries as coming from a non-member. Receivers ignore a join event they already have.
   */
  gossipNow(nid: string, maxPeers: number): void {
    const { core, state } = this;
    const cluster = core.cluster;
    const n = state.localNetworks().get(nid);
    const q = n?.tableBroadcasts;
    if (!cluster || !n || !q || q.numQueued() === 0) return;
    const peers = state.randomPeers(nid, maxPeers);
    if (peers.length === 0) return;
    const join = n.leaving ? [] : [wrapGossip(MessageType.NETWORK_EVENT, encodeNetworkEvent({ type: NetworkEventType.JOIN, lTime: n.lTime, nodeName: core.nodeName, networkId: nid }))];
    const budget = core.config.packetBufferSize - COMPOUND_HEADER_OVERHEAD - join.reduce((s, m) => s + m.length + COMPOUND_PART_OVERHEAD, 0);
    let msgs = q.getBroadcasts(COMPOUND_PART_OVERHEAD, budget);
    if (msgs.length === 0) msgs = q.getBroadcasts(COMPOUND_PART_OVERHEAD, Number.MAX_SAFE_INTEGER, 1);
    if (msgs.length === 0) return;
    const packet = encodeCompoundGossip([...join, ...msgs]);
    for (const peer of peers) core.send(() => cluster.sendBestEffort(peer, packet));
  }

  // ---------------------------------------------------------------- bulk sync

  /** Periodic bulk sync: each joined network with one random peer (covering shared networks). */
  async bulkSyncTables(): Promise<void> {
    let pending = this.state.joinedNetworks();
    while (pending.length > 0) {
      const nid = pending.shift() as string;
      const peers = this.state.networkPeerNames(nid);
      if (peers.length === 0) continue;
      const done = await this.bulkSync(peers, false);
      if (this.core.closed) return;
      pending = pending.filter((p) => !done.includes(p));
    }
  }

  /**
   * Bulk-sync with `nodes` (all of them, or just the first of two random ones that answers).
   * Returns the networks covered by the last successful sync.
   */
  async bulkSync(nodes: string[], all: boolean): Promise<string[]> {
    const targets = all ? nodes : this.pickRandom(nodes, 2);
    let covered: string[] = [];
    const tasks: Promise<void>[] = [];
    for (const node of targets) {
      if (node === this.core.nodeName) continue;
      const networks = this.state.commonNetworks(node);
      if (all) {
        tasks.push(this.bulkSyncNode(networks, node, true).catch((err) => this.core.protocolError(err)));
        covered = networks;
        continue;
      }
      try {
        await this.bulkSyncNode(networks, node, true);
        return networks;
      } catch (err) {
        this.core.protocolError(err);
      }
    }
    await Promise.all(tasks);
    return covered;
  }

  /** Send every entry (tombstones too) of `networks` to `node`; as initiator, wait for its answer. */
  async bulkSyncNode(networks: string[], node: string, unsolicited: boolean): Promise<void> {
    const { core } = this;
    const cluster = core.cluster;
    if (!cluster || core.closed) return;
    const parts: Buffer[] = [];
    for (const nid of networks) {
      const tables = this.state.entries.get(nid);
      if (!tables) continue;
      for (const [table, keys] of tables) {
        for (const [key, e] of keys) {
          // A tombstone with under a second left would go out with residual 0, which the
          // receiver reads as "no reap time" and keeps for a full interval: let it die instead.
          if (e.deleting && e.reapAtMs - core.clock.now() < 1000) continue;
          const type = e.deleting ? TableEventType.DELETE : TableEventType.CREATE;
          parts.push(wrapGossip(MessageType.TABLE_EVENT, this.encodeEntry(type, nid, table, key, e)));
        }
      }
    }
    // Always a COMPOUND, even an empty one, as Docker sends: an empty payload makes Docker log
    // "unknown message type 0" on every sync.
    const payload = encodeCompoundGossip(parts);
    const body = encodeBulkSyncMessage({ lTime: core.tableClock.time(), unsolicited, nodeName: core.nodeName, networks, payload });
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
      timer = core.clock.setTimeout(resolve, core.config.bulkSyncTimeoutMs);
      timer.unref?.();
    });
    try {
      await cluster.sendReliable(node, msg);
      await Promise.race([answer, timeout]);
    } finally {
      core.clock.clearTimeout(timer);
    }
    if (!answered) {
      core.stats.bulkSyncTimeouts++;
      throw new Error(`networkdb: bulk sync with ${node} got no answer within ${core.config.bulkSyncTimeoutMs} ms`);
    }
  }

  /** `node` answered a bulk sync we started. */
  bulkSyncAnswered(node: string): void {
    const waiters = this.bulkSyncWaiters.get(node);
    this.bulkSyncWaiters.delete(node);
    if (waiters) for (const w of waiters) w();
  }

  private pickRandom(list: string[], k: number): string[] {
    const copy = list.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.core.config.random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as string, copy[i] as string];
    }
    return copy.slice(0, k);
  }

  // ---------------------------------------------------------------- reconnect

  /**
   * Re-contact one random failed node (as Docker does every second): memberlist failure
   * detection never probes dead nodes again, so without this a healed partition stays split.
   */
  async reconnectNode(): Promise<void> {
    const { core } = this;
    const cluster = core.cluster;
    if (!cluster) return;
    const failed = [...this.state.nodes.values()].filter((n) => n.state === 'failed');
    if (failed.length === 0) return;
    const target = failed[Math.floor(core.config.random() * failed.length)] as KnownNode;
    const { addr, port, name } = target.info;
    const hostPort = addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
    try {
      await cluster.join([hostPort]);
    } catch {
      return; // still unreachable; try again next round
    }
    if (core.closed) return;
    this.queueNodeEvent(NodeEventType.JOIN);
    await this.bulkSync([name], true);
  }
}
