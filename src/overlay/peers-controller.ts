// The peer table plane (issue 9, section 2): publishes this host's endpoints in each network's
// NetworkDB `overlay_peer_table` and programs every other host's endpoints as static FDB and
// permanent neighbour entries in the network's sandbox. A host is in a NetworkDB network exactly
// while it has endpoints there. The remote side is list-then-watch on NetworkDB (a restart
// reconciles from the table's current state); a failed or departed owner's entries leave with it.
import type { Logger } from 'pino';
import type { NetworkDbTables } from '../gossip/networkdb/index.js';
import type { Controller } from '../model/controller.js';
import { Mutex } from '../util/mutex.js';
import type { EndpointRecord, NetworkRecord } from './model.js';
import { V6_SUFFIX, peerKernelEntries, type PeerKernelEntries, type RemotePeer } from './peer-desired.js';
import { PEER_TABLE, encodePeerRecord, parsePeerRecord } from './peer-record.js';
import type { OverlayRecords } from './records.js';
import { networkFields, networkIdFields } from './log-fields.js';
import { errText } from '../errors.js';

/** What the controller needs of NetworkDB (src/gossip/networkdb's NetworkDB has it): it also joins and leaves networks. */
export interface PeerTableDb extends NetworkDbTables {
  joinNetwork(nid: string): Promise<void>;
  /** Bulk-sync a joined network with its peers again. */
  syncNetwork(nid: string): Promise<void>;
  leaveNetwork(nid: string): void;
}

/** Gossip membership as the controller sees it. */
export interface PeerMembers {
  /** Members' advertise addresses; undefined until the membership is known (gossip running and joined). */
  memberAddrs(): string[] | undefined;
  onMembersChange(fn: () => void): () => void;
}

/** The kernel side (OverlayKernel): sandbox syncs program the peer entries, the host firewall the member set. */
export interface PeerKernel {
  setPeerSource(fn: (net: NetworkRecord) => PeerKernelEntries | undefined): void;
  setMemberSource(fn: () => string[] | undefined): void;
  syncSandbox(net: NetworkRecord): Promise<void>;
  syncHostFirewall(): Promise<void>;
}

export interface PeersOptions {
  /** This host's VTEP (data-path) address, published as tunnel_endpoint_ip. */
  vtep: string | undefined;
  /** Whether an endpoint record is this host's (a shared store holds every host's). */
  isLocal: (ep: EndpointRecord) => boolean;
  /** How long publishing waits for a network join's bulk sync (so our clock has seen the peers' first). */
  joinWaitMs?: number;
}

const DEFAULT_JOIN_WAIT_MS = 500;
/** The extra sync after a start: past a memberlist refutation round trip at the default timing. */
const RESYNC_AFTER_START_MS = 1_500;

export class PeersController implements Controller {
  readonly name = 'peers';
  /** network id -> table key -> a remote host's checked entry. */
  private readonly remote = new Map<string, Map<string, RemotePeer>>();
  /** Networks this controller joined in NetworkDB. */
  private readonly joined = new Set<string>();
  private readonly publishLock = new Mutex();
  private readonly dirty = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];
  private flushPlanned = false;
  private publishPlanned = false;
  /** Networks joined and synced as of the last publish (what readyNetworks() reports). */
  private ready: readonly string[] = [];
  private readonly readyListeners = new Set<() => void>();
  /** Set once the table has caught up after a start: until then sandboxes keep the entries they have. */
  private authoritative = false;
  private running = false;

  constructor(
    private readonly db: PeerTableDb,
    private readonly records: OverlayRecords,
    private readonly kernel: PeerKernel,
    private readonly members: PeerMembers,
    private readonly opts: PeersOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.kernel.setPeerSource((net) => this.entriesFor(net));
    this.kernel.setMemberSource(() => this.members.memberAddrs());
    this.unsubscribe.push(
      this.db.watch(PEER_TABLE, undefined, (c) => this.onTableChange(c.type, c.nid, c.key, c.value, c.owner)),
      this.records.endpoints.onChange(() => this.planPublish()),
      this.records.networks.onChange(() => this.planPublish()),
      this.members.onMembersChange(() => {
        void this.kernel.syncHostFirewall().catch((e) => this.log.error({ err: errText(e) }, 'could not update the VXLAN member filter'));
        this.planPublish();
      }),
    );
    this.planPublish();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
    // The sandboxes keep what they have: a restarted agent reconciles them from the table.
    this.kernel.setPeerSource(() => undefined);
    await this.publishLock.run(async () => undefined);
  }

  async reconcile(): Promise<void> {
    await this.publish();
  }

  /** Remote entries of a network, once the table caught up (undefined before: leave the kernel's). */
  entriesFor(net: NetworkRecord): PeerKernelEntries | undefined {
    if (!this.authoritative) return undefined;
    const localIds = new Set(this.records.endpointsOf(net.id).filter(this.opts.isLocal).map((e) => e.id));
    return peerKernelEntries(this.remote.get(net.id)?.values() ?? [], { nodeName: this.db.nodeName, vtep: this.opts.vtep, localEndpointIds: localIds });
  }

  /** Log fields for a network NetworkDB names by id. */
  private netFields(nid: string): ReturnType<typeof networkIdFields> {
    return networkIdFields(nid, (id) => this.records.networks.get(id));
  }

  /**
   * NetworkDB networks this controller joined whose join's bulk sync is done: other tables (the
   * service table) write only into these, and never join or leave networks themselves.
   */
  readyNetworks(): readonly string[] {
    return this.ready;
  }

  /**
   * Whether the first publish after start is done: the joined networks' tables (every table, not
   * just ours) have had their bulk sync, so what NetworkDB holds for them is no longer partial.
   */
  caughtUp(): boolean {
    return this.authoritative;
  }

  /** Called after readyNetworks() or caughtUp() changed. Returns the unsubscribe. */
  onReadyNetworksChange(fn: () => void): () => void {
    this.readyListeners.add(fn);
    return () => this.readyListeners.delete(fn);
  }

  private announceReady(force: boolean): void {
    const now = [...this.joined].sort();
    if (!force && now.length === this.ready.length && now.every((n, i) => n === this.ready[i])) return;
    this.ready = now;
    for (const fn of this.readyListeners) {
      try {
        fn();
      } catch (e) {
        this.log.error({ err: errText(e) }, 'a joined-networks listener failed');
      }
    }
  }

  /** How many remote entries are held, per network (for tests and status). */
  remoteCount(nid: string): number {
    return this.remote.get(nid)?.size ?? 0;
  }

  // ---------------------------------------------------------------- remote side

  private onTableChange(type: 'create' | 'update' | 'delete', nid: string, key: string, value: Buffer, owner: string): void {
    if (owner === this.db.nodeName) return; // our own entries: the local bridge already reaches them
    let table = this.remote.get(nid);
    if (type === 'delete') {
      if (!table?.delete(key)) return;
      if (table.size === 0) this.remote.delete(nid);
    } else {
      let record;
      try {
        record = parsePeerRecord(value);
      } catch (e) {
        this.log.warn({ ...this.netFields(nid), key, node: owner, err: errText(e) }, 'ignoring a peer table entry that does not check out');
        if (table?.delete(key)) this.markDirty(nid);
        return;
      }
      if (!table) this.remote.set(nid, (table = new Map()));
      table.set(key, { key, owner, record });
    }
    this.markDirty(nid);
  }

  /** Sandbox syncs for changed networks, batched: changes arriving together make one batch per namespace. */
  private markDirty(nid: string): void {
    this.dirty.add(nid);
    if (this.flushPlanned) return;
    this.flushPlanned = true;
    setImmediate(() => {
      this.flushPlanned = false;
      const nids = [...this.dirty];
      this.dirty.clear();
      if (!this.authoritative) return; // the first publish syncs every sandbox
      for (const nid of nids) this.syncNetwork(nid);
    });
  }

  private syncNetwork(nid: string): void {
    const net = this.records.networks.get(nid);
    // Only a host with endpoints there has the network's sandbox (and is in the NetworkDB network).
    if (!net || !this.joined.has(nid)) return;
    this.kernel.syncSandbox(net).catch((e) => this.log.error({ ...networkFields(net), err: errText(e) }, 'could not program the peer table into the sandbox'));
  }

  // ---------------------------------------------------------------- local side

  private planPublish(): void {
    if (this.publishPlanned || !this.running) return;
    this.publishPlanned = true;
    setImmediate(() => {
      this.publishPlanned = false;
      this.publish().catch((e) => this.log.error({ err: errText(e) }, 'could not publish endpoints in the peer table'));
    });
  }

  /** What this host publishes: network id -> key -> PeerRecord bytes. */
  private desired(): Map<string, Map<string, Buffer>> {
    const out = new Map<string, Map<string, Buffer>>();
    const vtep = this.opts.vtep ?? '';
    for (const ep of this.records.endpoints.values()) {
      if (!this.opts.isLocal(ep)) continue;
      const net = this.records.networks.get(ep.networkId);
      if (!net) continue;
      let entries = out.get(net.id);
      if (!entries) out.set(net.id, (entries = new Map()));
      entries.set(ep.id, encodePeerRecord({ endpointIp: `${ep.ipv4}/${net.v4.prefix}`, endpointMac: ep.mac, tunnelEndpointIp: vtep }));
      if (ep.ipv6 && net.v6) {
        entries.set(ep.id + V6_SUFFIX, encodePeerRecord({ endpointIp: `${ep.ipv6}/${net.v6.prefix}`, endpointMac: ep.mac, tunnelEndpointIp: vtep }));
      }
    }
    return out;
  }

  /** Joins/leaves NetworkDB networks and writes our entries so the table says what the records say. */
  publish(): Promise<void> {
    return this.publishLock.run(async () => {
      if (!this.running || this.members.memberAddrs() === undefined) return; // gossip not running (or not joined) yet
      const want = this.desired();
      const joins: Promise<void>[] = [];
      for (const nid of want.keys()) {
        if (this.joined.has(nid)) continue;
        this.joined.add(nid);
        if (!this.db.joinedNetworks().includes(nid)) joins.push(this.joinNetwork(nid));
      }
      // The join's bulk sync brings the peers' entries and clock; bounded, so a dead peer does not hold us up.
      await Promise.all(joins);
      for (const [nid, entries] of want) this.writeEntries(nid, entries);
      for (const nid of [...this.joined]) {
        if (want.has(nid)) continue;
        this.joined.delete(nid);
        // Deletes first: they go out at once as table events, while the leave rides memberlist's slower broadcasts.
        this.writeEntries(nid, new Map());
        try {
          this.db.leaveNetwork(nid); // our entries become tombstones; the others' are dropped (and reported)
        } catch (e) {
          this.log.warn({ ...this.netFields(nid), err: errText(e) }, 'leaving the NetworkDB network failed');
        }
        this.remote.delete(nid);
      }
      const first = !this.authoritative;
      this.authoritative = true;
      this.announceReady(first);
      if (first) {
        this.planResync();
        for (const nid of this.joined) this.syncNetwork(nid);
        await this.kernel.syncHostFirewall().catch((e) => this.log.error({ err: errText(e) }, 'could not update the VXLAN member filter'));
      } else {
        for (const nid of joins.length ? this.joined : []) this.syncNetwork(nid);
      }
    });
  }

  /**
   * After a start, sync the joined networks once more a little later: a peer that still held our
   * previous life as gone when the join's sync arrived (a quick restart) may not have answered it.
   */
  private planResync(): void {
    const t = setTimeout(() => {
      if (!this.running) return;
      for (const nid of this.joined) {
        this.db.syncNetwork(nid).catch((e) => this.log.debug({ ...this.netFields(nid), err: errText(e) }, 'peer table resync failed'));
      }
    }, RESYNC_AFTER_START_MS);
    t.unref();
  }

  private async joinNetwork(nid: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const wait = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.opts.joinWaitMs ?? DEFAULT_JOIN_WAIT_MS);
    });
    const join = this.db.joinNetwork(nid).catch((e) => this.log.warn({ ...this.netFields(nid), err: errText(e) }, 'joining the NetworkDB network failed'));
    await Promise.race([join, wait]);
    clearTimeout(timer);
  }

  private writeEntries(nid: string, entries: Map<string, Buffer>): void {
    const mine = new Map<string, Buffer>();
    for (const [key, e] of this.db.getTableByNetwork(PEER_TABLE, nid)) if (e.owner === this.db.nodeName) mine.set(key, e.value);
    try {
      for (const [key, value] of entries) {
        const have = mine.get(key);
        if (!have) this.db.createEntry(PEER_TABLE, nid, key, value);
        else if (!have.equals(value)) this.db.updateEntry(PEER_TABLE, nid, key, value);
      }
      for (const key of mine.keys()) if (!entries.has(key)) this.db.deleteEntry(PEER_TABLE, nid, key);
    } catch (e) {
      this.log.error({ ...this.netFields(nid), err: errText(e) }, 'could not write the peer table');
    }
  }
}

