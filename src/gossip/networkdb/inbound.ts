// Everything NetworkDB receives: gossip messages (node, network and table events, compounds,
// bulk syncs), memberlist push/pull state, and memberlist's join/leave/update events. Events
// are applied by Lamport time; news is re-queued so it spreads epidemically.
import type { NodeInfo } from '../memberlist/types.js';
import type { NetworkDBCore } from './db-core.js';
import type { NetworkDBState } from './db-state.js';
import type { Outbound } from './outbound.js';
import {
  MessageType,
  NetworkEventType,
  NodeEventType,
  TableEventType,
  decodeBulkSyncMessage,
  decodeCompoundMessage,
  decodeGossipMessage,
  decodeNetworkEvent,
  decodeNetworkPushPull,
  decodeNodeEvent,
  decodeTableEvent,
  type TableEvent,
} from './proto.js';
import { ProtoDecodeError } from './proto-wire.js';
import type { Entry } from './types.js';

/** Bound on COMPOUND nesting so crafted input cannot recurse deeply. */
const MAX_COMPOUND_DEPTH = 4;

interface NetworkEventView {
  type: number;
  lTime: bigint;
  nodeName: string;
  networkId: string;
}

export class Inbound {
  constructor(
    private readonly core: NetworkDBCore,
    private readonly state: NetworkDBState,
    private readonly out: Outbound,
  ) {}

  // ---------------------------------------------------------------- memberlist events

  notifyJoin(node: NodeInfo): void {
    this.state.purgeReincarnation(node);
    const known = this.state.nodes.get(node.name);
    this.state.nodes.set(node.name, { info: node, state: 'active', lTime: known?.lTime ?? 0n, reapAtMs: 0 });
  }

  notifyLeave(node: NodeInfo): void {
    const known = this.state.nodes.get(node.name);
    // A node that said goodbye (NodeEvent LEAVE) is already "left"; otherwise it failed.
    if (known && known.state === 'active' && node.name !== this.core.nodeName) this.state.markGone(node.name, 'failed');
  }

  notifyUpdate(node: NodeInfo): void {
    const known = this.state.nodes.get(node.name);
    if (known) known.info = node;
  }

  /** memberlist push/pull user state: a PUSH_PULL GossipMessage with every node's memberships. */
  mergeRemoteState(buf: Buffer): void {
    try {
      const g = decodeGossipMessage(buf);
      if (g.type !== MessageType.PUSH_PULL) {
        throw new ProtoDecodeError(`push/pull state has message type ${g.type}, expected PUSH_PULL`);
      }
      const pp = decodeNetworkPushPull(g.data);
      this.handleNodeEvent({ type: NodeEventType.JOIN, lTime: pp.lTime, nodeName: pp.nodeName });
      for (const n of pp.networks) {
        const type = n.leaving ? NetworkEventType.LEAVE : NetworkEventType.JOIN;
        this.handleNetworkEvent({ type, lTime: n.lTime, nodeName: n.nodeName, networkId: n.networkId });
      }
    } catch (err) {
      this.core.protocolError(err);
    }
  }

  // ---------------------------------------------------------------- gossip messages

  handleMessage(buf: Uint8Array, isBulkSync: boolean, depth: number): void {
    try {
      const g = decodeGossipMessage(buf);
      switch (g.type) {
        case MessageType.NETWORK_EVENT: {
          const ev = decodeNetworkEvent(g.data);
          if (this.handleNetworkEvent(ev)) this.out.requeueNetworkEvent(ev.networkId, ev.nodeName, Buffer.from(buf));
          break;
        }
        case MessageType.TABLE_EVENT: {
          const ev = decodeTableEvent(g.data);
          if (ev.nodeName === this.core.nodeName) break;
          if (this.handleTableEvent(ev, isBulkSync)) this.out.requeueTableEvent(ev.networkId, ev.tableName, ev.key, Buffer.from(buf));
          break;
        }
        case MessageType.NODE_EVENT: {
          const ev = decodeNodeEvent(g.data);
          if (this.handleNodeEvent(ev)) this.out.nodeBroadcasts.queueBroadcast({ unique: true, message: Buffer.from(buf) });
          break;
        }
        case MessageType.BULK_SYNC:
          this.handleBulkSync(g.data);
          break;
        case MessageType.COMPOUND: {
          if (depth >= MAX_COMPOUND_DEPTH) throw new ProtoDecodeError('COMPOUND nested too deeply');
          for (const part of decodeCompoundMessage(g.data).messages) this.handleMessage(part, isBulkSync, depth + 1);
          break;
        }
        default:
          // PUSH_PULL only travels through memberlist push/pull; unknown types are ignored.
          break;
      }
    } catch (err) {
      this.core.protocolError(err);
    }
  }

  private handleNodeEvent(ev: { type: number; lTime: bigint; nodeName: string }): boolean {
    this.core.networkClock.witness(ev.lTime);
    if (ev.nodeName === this.core.nodeName) return false;
    const n = this.state.nodes.get(ev.nodeName);
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
      this.state.markGone(ev.nodeName, 'left');
      return true;
    }
    return false;
  }

  /** Apply a remote network join/leave; true when it was news worth re-broadcasting. */
  private handleNetworkEvent(ev: NetworkEventView): boolean {
    const { core, state } = this;
    core.networkClock.witness(ev.lTime);
    if (ev.nodeName === core.nodeName || ev.networkId === '') return false;
    if (ev.type !== NetworkEventType.JOIN && ev.type !== NetworkEventType.LEAVE) return false;
    const leaving = ev.type === NetworkEventType.LEAVE;
    let nodeNets = state.networks.get(ev.nodeName);
    const n = nodeNets?.get(ev.networkId);
    if (n) {
      if (n.lTime >= ev.lTime) return false;
      n.lTime = ev.lTime;
      n.leaving = leaving;
      if (leaving) {
        n.reapAtMs = core.clock.now() + state.reapNetworkIntervalMs();
        // Tombstone its entries, so bulk syncs carry the deletion onward.
        state.deleteNodeNetworkEntries(ev.networkId, ev.nodeName);
        state.deleteNetworkNode(ev.networkId, ev.nodeName);
      } else {
        n.reapAtMs = 0;
        state.addNetworkNode(ev.networkId, ev.nodeName);
      }
      return true;
    }
    if (leaving) return false;
    // Only track nodes memberlist told us about: otherwise we would never learn they died.
    const known = state.nodes.get(ev.nodeName);
    if (!known || known.state !== 'active') return false;
    if (!nodeNets) {
      nodeNets = new Map();
      state.networks.set(ev.nodeName, nodeNets);
    }
    nodeNets.set(ev.networkId, { lTime: ev.lTime, leaving: false, reapAtMs: 0, inSync: false });
    state.addNetworkNode(ev.networkId, ev.nodeName);
    return true;
  }

  /** Apply a remote table event; true when it should be re-gossiped. */
  private handleTableEvent(ev: TableEvent, isBulkSync: boolean): boolean {
    const { core, state } = this;
    core.tableClock.witness(ev.lTime);
    if (ev.type < TableEventType.CREATE || ev.type > TableEventType.DELETE) return false;
    if (ev.tableName === '' || ev.networkId === '') return false;
    const network = state.localNetworks().get(ev.networkId);
    // Ignore networks we are not in (or leaving), and owners no longer in the network.
    if (!network || network.leaving) return false;
    if (!state.networkNodes.get(ev.networkId)?.has(ev.nodeName)) return false;

    const deleting = ev.type === TableEventType.DELETE;
    const old = state.findEntry(ev.networkId, ev.tableName, ev.key);
    if (old) {
      if (old.lTime >= ev.lTime) return false; // stale: what we hold is newer
    } else if (deleting && !isBulkSync) {
      // Unknown entry deleted by gossip: its residual reap time may be stale, so ignore it.
      // Bulk syncs carry fresh reap times and are applied below.
      return false;
    }

    const now = core.clock.now();
    let reapAtMs = 0;
    if (deleting) {
      const residualMs = ev.residualReapTime === 0 ? core.config.reapEntryIntervalMs : ev.residualReapTime * 1000;
      reapAtMs = now + residualMs;
    }
    const e: Entry = { lTime: ev.lTime, owner: ev.nodeName, value: ev.value, deleting, reapAtMs };
    state.storeEntry(ev.networkId, ev.tableName, ev.key, e);

    if (!old && deleting) {
      // A tombstone we never saw alive: keep it (so stale creates lose) and pass it on only
      // while it has a good part of its life left.
      return network.inSync && reapAtMs - now > core.config.reapEntryIntervalMs / 6;
    }
    const wasLive = old !== undefined && !old.deleting;
    if (deleting) {
      if (wasLive) state.emit('delete', ev.tableName, ev.networkId, ev.key, ev.value, ev.nodeName);
    } else {
      state.emit(wasLive ? 'update' : 'create', ev.tableName, ev.networkId, ev.key, ev.value, ev.nodeName);
    }
    return network.inSync;
  }

  private handleBulkSync(body: Uint8Array): void {
    const bsm = decodeBulkSyncMessage(body);
    if (bsm.lTime > 0n) this.core.tableClock.witness(bsm.lTime);
    if (bsm.payload.length > 0) this.handleMessage(bsm.payload, true, 1);
    if (!bsm.unsolicited) {
      // This is the answer to a bulk sync we started.
      this.out.bulkSyncAnswered(bsm.nodeName);
      return;
    }
    if (bsm.nodeName === '' || bsm.nodeName === this.core.nodeName) return;
    this.out.bulkSyncNode(bsm.networks, bsm.nodeName, false).catch((err) => this.core.protocolError(err));
  }
}
