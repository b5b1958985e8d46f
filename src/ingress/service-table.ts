// The service table's write side (issue 10): publishes this host's task endpoints in each of their
// networks' NetworkDB `endpoint_table` (Docker's name and EndpointRecord encoding, keyed by endpoint
// id), rewrites them when their service changes (VIP, ports) and deletes them on detach or service
// rm. It writes only into networks the peers controller has joined (a host is in a NetworkDB
// network exactly while it has endpoints there) and never joins or leaves one itself: when the
// peers controller leaves, NetworkDB turns our entries into tombstones. The read side (other hosts'
// entries) is RemoteTasks, which the service view owns.
import type { Logger } from 'pino';
import type { NetworkDbTables } from '../gossip/networkdb/index.js';
import type { Controller } from '../model/controller.js';
import type { EndpointRecord, NetworkRecord } from '../overlay/model.js';
import type { OverlayRecords } from '../overlay/records.js';
import { networkIdFields } from '../overlay/log-fields.js';
import { ENDPOINT_TABLE, encodeEndpointRecord, type IngressPortWire } from './endpoint-table.js';
import { INGRESS_NETWORK_NAME, type ServiceRecord } from './model.js';
import { errText } from '../errors.js';

/** What the writer needs of NetworkDB (src/gossip/networkdb's NetworkDB has it). */
export type EndpointTableDb = NetworkDbTables;

/** The networks this host is in (PeersController has these). */
export interface JoinedNetworkSource {
  /** NetworkDB networks joined, with the join's bulk sync done. */
  readyNetworks(): readonly string[];
  onReadyNetworksChange(fn: () => void): () => void;
}

/** Services by id, with a hook on their changes (StoreServiceView has these). */
export interface ServiceSource {
  service(id: string): ServiceRecord | undefined;
  onServicesChange(fn: () => void): () => void;
}

/** The service a local endpoint is a task of: its own, or (an ingress leg) that of the task it serves. */
export function taskServiceId(ep: EndpointRecord, records: Pick<OverlayRecords, 'endpoints'>): string | undefined {
  if (ep.serviceId) return ep.serviceId;
  return ep.ingressLegOf ? records.endpoints.get(ep.ingressLegOf)?.serviceId : undefined;
}

/** Whether an endpoint's entry carries the service's ingress ports (Docker: only on the ingress network). */
function onIngressNetwork(ep: EndpointRecord, net: NetworkRecord): boolean {
  return ep.ingressLegOf !== undefined || net.name === INGRESS_NETWORK_NAME;
}

export function ingressPortsOf(svc: ServiceRecord): IngressPortWire[] {
  return svc.ports
    .filter((p) => p.mode === 'ingress' && p.publishedPort > 0)
    .map((p) => ({ name: '', protocol: p.protocol, targetPort: p.targetPort, publishedPort: p.publishedPort }));
}

/** The entry this host publishes for a task endpoint on its network. */
export function taskEntry(ep: EndpointRecord, net: NetworkRecord, svc: ServiceRecord): Buffer {
  return encodeEndpointRecord({
    name: ep.name,
    serviceName: svc.name,
    serviceId: svc.id,
    virtualIp: svc.vips.find((v) => v.networkId === net.id)?.ipv4 ?? '',
    endpointIp: ep.ipv4,
    ingressPorts: onIngressNetwork(ep, net) ? ingressPortsOf(svc) : [],
    aliases: [], // vxmesh services have no aliases of their own
    taskAliases: ep.aliases,
    serviceDisabled: false,
    endpointIpv6: ep.ipv6 ?? '',
  });
}

export interface ServiceTableStats {
  /** Entries this host has in the table, over every network. */
  published: number;
  /** Writes (create/update/delete) since start. */
  writes: number;
  /** Publish passes since start (changes arriving together share one). */
  passes: number;
}

export class ServiceTableController implements Controller {
  readonly name = 'service-table';
  private readonly unsubscribe: (() => void)[] = [];
  private planned = false;
  private running = false;
  /** Set while we write: the table reports our own writes back, and those need no second look. */
  private writing = false;
  readonly stats: ServiceTableStats = { published: 0, writes: 0, passes: 0 };

  constructor(
    private readonly db: EndpointTableDb,
    private readonly records: OverlayRecords,
    private readonly services: ServiceSource,
    private readonly joined: JoinedNetworkSource,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.unsubscribe.push(
      this.records.endpoints.onChange(() => this.plan()),
      this.records.networks.onChange(() => this.plan()),
      this.services.onServicesChange(() => this.plan()),
      this.joined.onReadyNetworksChange(() => this.plan()),
      // Entries under our name that a peer hands back (a previous life's, after a restart): checked at once.
      this.db.watch(ENDPOINT_TABLE, undefined, (c) => {
        if (c.owner === this.db.nodeName && !this.writing) this.plan();
      }),
    );
    this.publish();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
    // Our entries stay: a restarted agent reconciles them (and a dead one's leave with it).
  }

  async reconcile(): Promise<void> {
    if (this.running) this.publish();
  }

  /**
   * One publish per burst of changes (a re-list reports many keys in a row, synchronously), before
   * what the event loop has queued: a detach's kernel work (process spawns) must not hold back the
   * endpoint_table delete that takes the task out of every other host's LB and DNS.
   */
  private plan(): void {
    if (this.planned || !this.running) return;
    this.planned = true;
    queueMicrotask(() => {
      this.planned = false;
      if (this.running) this.publish();
    });
  }

  /** What this host publishes: network id -> endpoint id -> EndpointRecord bytes (joined networks only). */
  desired(): Map<string, Map<string, Buffer>> {
    const ready = new Set(this.joined.readyNetworks());
    const inDb = new Set(this.db.joinedNetworks());
    const out = new Map<string, Map<string, Buffer>>();
    for (const nid of ready) if (inDb.has(nid)) out.set(nid, new Map());
    for (const ep of this.records.localEndpoints()) {
      const entries = out.get(ep.networkId);
      if (!entries || ep.state !== 'ready') continue;
      const sid = taskServiceId(ep, this.records);
      const svc = sid ? this.services.service(sid) : undefined;
      const net = this.records.networks.get(ep.networkId);
      if (!svc || !net) continue;
      try {
        entries.set(ep.id, taskEntry(ep, net, svc));
      } catch (e) {
        // A record this version cannot encode (written by a newer one?): the others still go out.
        this.log.error({ endpointId: ep.id.slice(0, 12), serviceId: svc.id.slice(0, 12), err: errText(e) }, 'could not encode a task for the service table');
      }
    }
    return out;
  }

  /** Makes our entries in every joined network say what the records say (synchronous: NetworkDB writes are). */
  publish(): void {
    let published = 0;
    this.stats.passes++;
    this.writing = true;
    try {
      for (const [nid, entries] of this.desired()) {
        this.writeEntries(nid, entries);
        published += entries.size;
      }
    } finally {
      this.writing = false;
    }
    this.stats.published = published;
  }

  private writeEntries(nid: string, entries: Map<string, Buffer>): void {
    const mine = new Map<string, Buffer>();
    for (const [key, e] of this.db.getTableByNetwork(ENDPOINT_TABLE, nid)) if (e.owner === this.db.nodeName) mine.set(key, e.value);
    try {
      for (const [key, value] of entries) {
        const have = mine.get(key);
        if (have?.equals(value)) continue;
        if (have) this.db.updateEntry(ENDPOINT_TABLE, nid, key, value);
        else this.db.createEntry(ENDPOINT_TABLE, nid, key, value);
        this.stats.writes++;
      }
      // Ours but not wanted: detached tasks, removed services, and what a previous life of this node left.
      for (const key of mine.keys()) {
        if (entries.has(key)) continue;
        this.db.deleteEntry(ENDPOINT_TABLE, nid, key);
        this.stats.writes++;
      }
    } catch (e) {
      const fields = networkIdFields(nid, (id) => this.records.networks.get(id));
      this.log.error({ ...fields, err: errText(e) }, 'could not write the service table');
    }
  }
}
