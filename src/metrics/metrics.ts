// Every metric vxmesh exports, defined in one place on a Registry the composition root makes and
// passes down (never prom-client's global registry). Names follow Prometheus conventions: counters end
// in _total, durations are _seconds, sizes _bytes. Planes added later get one field here each.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Reconcile-batch tools, as src/kernel's KernelObserver names them (structurally the same). */
type BatchTool = 'ip' | 'bridge' | 'nft';

/** A gossip member count by state, and NetworkDB entry counts: read when scraped. */
export interface GossipGaugeSource {
  memberStates(): string[];
  tableEntries(): { table: string; network: string; entries: number }[];
}

/** The planes' counters that live elsewhere (the DNS server's, the nft drop rule's, the peer table's): read when scraped. */
export interface PlaneGaugeSource {
  /** The embedded resolver's totals (undefined with --no-embedded-dns). */
  dns(): { dropped: number; forwarded: number } | undefined;
  /** Packets the members-only VXLAN rule dropped (the nft counter). */
  vxlanDropped(): Promise<number>;
  /** Remote peer-table entries each sandbox is programmed with, per network. */
  peerEntries(): { network: string; fdb: number; neigh: number }[];
  /** Services in the cluster and the live tasks (backends) this host knows of them. */
  services?(): { services: number; tasks: number };
}

/** Service load balancer kinds, as src/ingress's LbKind names them. */
type LbKindLabel = 'nftables' | 'ipvs';

/** DNS header rcodes as label values; anything else is "other". */
const RCODE_NAMES: Record<number, string> = { 0: 'noerror', 1: 'formerr', 2: 'servfail', 3: 'nxdomain', 4: 'notimp', 5: 'refused' };

/** DNS answers are fast: finer buckets at the low end. */
const DNS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class VxMetrics {
  readonly registry: Registry;
  readonly attaches: Counter<'result'>;
  readonly attachDuration: Histogram<'result'>;
  readonly detaches: Counter<'result'>;
  readonly kernelBatches: Counter<'tool'>;
  readonly kernelBatchErrors: Counter<'tool'>;
  readonly kernelBatchDuration: Histogram<'tool'>;
  readonly driftRepaired: Counter<'kind'>;
  readonly storeTxns: Counter;
  readonly storeTxnErrors: Counter<'error'>;
  readonly storeTxnDuration: Histogram;
  readonly gossipSuspectEvents: Counter;
  readonly gossipDeadEvents: Counter;
  readonly gossipBytesIn: Counter<'transport'>;
  readonly gossipBytesOut: Counter<'transport'>;
  readonly gossipMessagesIn: Counter<'transport'>;
  readonly gossipMessagesOut: Counter<'transport'>;
  readonly dnsQueries: Counter<'result'>;
  readonly dnsDuration: Histogram;
  readonly lbSyncs: Counter<'kind'>;
  readonly lbSyncErrors: Counter<'kind'>;
  private gossipSource: GossipGaugeSource | undefined;
  private planeSource: PlaneGaugeSource | undefined;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.attaches = new Counter({ name: 'vxmesh_attaches_total', help: 'Endpoint attaches, by result (ok, error).', labelNames: ['result'], registers });
    this.attachDuration = new Histogram({
      name: 'vxmesh_attach_duration_seconds', help: 'Time an endpoint attach took, by result.', labelNames: ['result'], buckets: SECONDS_BUCKETS, registers,
    });
    this.detaches = new Counter({ name: 'vxmesh_detaches_total', help: 'Endpoint detaches, by result (ok, error).', labelNames: ['result'], registers });
    this.kernelBatches = new Counter({ name: 'vxmesh_kernel_batches_total', help: 'Kernel batches run (ip -batch, bridge -batch, nft -f), by tool.', labelNames: ['tool'], registers });
    this.kernelBatchErrors = new Counter({ name: 'vxmesh_kernel_batch_errors_total', help: 'Kernel batches that failed, by tool.', labelNames: ['tool'], registers });
    this.kernelBatchDuration = new Histogram({
      name: 'vxmesh_kernel_batch_duration_seconds', help: 'Time a kernel batch took, by tool.', labelNames: ['tool'], buckets: SECONDS_BUCKETS, registers,
    });
    this.driftRepaired = new Counter({
      name: 'vxmesh_reconcile_drift_repaired_total',
      help: 'Commands a reconcile that read the kernel afresh applied to repair drift, by kind (links, nft).',
      labelNames: ['kind'], registers,
    });
    this.storeTxns = new Counter({ name: 'vxmesh_store_transactions_total', help: 'Store transactions attempted.', registers });
    this.storeTxnErrors = new Counter({
      name: 'vxmesh_store_transaction_errors_total', help: 'Store transactions that failed, by error (conflict, write, unavailable, other).', labelNames: ['error'], registers,
    });
    this.storeTxnDuration = new Histogram({ name: 'vxmesh_store_transaction_duration_seconds', help: 'Time a store transaction took.', buckets: SECONDS_BUCKETS, registers });
    this.gossipSuspectEvents = new Counter({ name: 'vxmesh_gossip_suspect_events_total', help: 'Gossip members this node saw become suspect.', registers });
    this.gossipDeadEvents = new Counter({ name: 'vxmesh_gossip_dead_events_total', help: 'Gossip members this node saw declared dead.', registers });
    const io = (dir: 'received' | 'sent', what: 'bytes' | 'messages') =>
      new Counter({
        name: `vxmesh_gossip_${dir}_${what}_total`,
        help: `Gossip ${what === 'bytes' ? 'bytes' : 'packets (udp) and stream writes/reads (tcp)'} ${dir}, by transport.`,
        labelNames: ['transport'], registers,
      });
    this.gossipBytesIn = io('received', 'bytes');
    this.gossipBytesOut = io('sent', 'bytes');
    this.gossipMessagesIn = io('received', 'messages');
    this.gossipMessagesOut = io('sent', 'messages');
    const source = () => this.gossipSource;
    new Gauge({
      name: 'vxmesh_gossip_members', help: 'Gossip members this node knows, by state (alive, suspect, dead, left).', labelNames: ['state'], registers,
      collect() {
        this.reset();
        const states = source()?.memberStates() ?? [];
        for (const state of ['alive', 'suspect', 'dead', 'left']) this.set({ state }, states.filter((s) => s === state).length);
      },
    });
    new Gauge({
      name: 'vxmesh_networkdb_entries', help: 'NetworkDB entries (tombstones not counted), by table and network.', labelNames: ['table', 'network'], registers,
      collect() {
        this.reset();
        for (const t of source()?.tableEntries() ?? []) this.set({ table: t.table, network: t.network }, t.entries);
      },
    });
    this.dnsQueries = new Counter({
      name: 'vxmesh_dns_queries_total',
      help: 'Replies of the embedded resolver, by result: the reply rcode (noerror, nxdomain, servfail, refused, formerr, notimp, other); dropped queries are in vxmesh_dns_dropped_total.',
      labelNames: ['result'], registers,
    });
    this.dnsDuration = new Histogram({ name: 'vxmesh_dns_query_duration_seconds', help: 'Time from a DNS query\'s receipt to its reply being sent.', buckets: DNS_BUCKETS, registers });
    const planes = () => this.planeSource;
    new Counter({
      name: 'vxmesh_dns_forwarded_total', help: 'DNS queries the embedded resolver forwarded upstream (names vxmesh does not own).', registers,
      collect() {
        this.reset();
        this.inc(planes()?.dns()?.forwarded ?? 0);
      },
    });
    new Counter({
      name: 'vxmesh_dns_dropped_total', help: 'DNS queries the embedded resolver dropped unanswered (unparseable, or a response).', registers,
      collect() {
        this.reset();
        this.inc(planes()?.dns()?.dropped ?? 0);
      },
    });
    new Counter({
      name: 'vxmesh_vxlan_dropped_nonmember_packets_total', help: 'VXLAN packets dropped because their source is not a gossip member (the nft input rule\'s counter).', registers,
      async collect() {
        this.reset();
        this.inc(await planes()?.vxlanDropped().catch(() => 0) ?? 0);
      },
    });
    new Gauge({
      name: 'vxmesh_peer_entries', help: 'Remote endpoints\' entries the peer table programs into a network\'s sandbox, by network and kind (fdb, neigh).', labelNames: ['network', 'kind'], registers,
      collect() {
        this.reset();
        for (const p of planes()?.peerEntries() ?? []) {
          this.set({ network: p.network, kind: 'fdb' }, p.fdb);
          this.set({ network: p.network, kind: 'neigh' }, p.neigh);
        }
      },
    });
    new Gauge({
      name: 'vxmesh_services', help: 'Services in the cluster (service records in the store).', registers,
      collect() {
        this.set(planes()?.services?.().services ?? 0);
      },
    });
    new Gauge({
      name: 'vxmesh_service_tasks', help: 'Live tasks (backends) of all services that this host knows (its own and, over the service tables, other hosts\' on its networks).', registers,
      collect() {
        this.set(planes()?.services?.().tasks ?? 0);
      },
    });
    this.lbSyncs = new Counter({ name: 'vxmesh_lb_syncs_total', help: 'Load balancer syncs (one namespace\'s frontends programmed in one batch), by kind (nftables, ipvs).', labelNames: ['kind'], registers });
    this.lbSyncErrors = new Counter({ name: 'vxmesh_lb_sync_errors_total', help: 'Load balancer syncs that failed, by kind.', labelNames: ['kind'], registers });
  }

  /** The services load balancer's LbSyncObserver (structurally the same). */
  readonly lb = {
    synced: (kind: LbKindLabel, ok: boolean): void => {
      this.lbSyncs.inc({ kind });
      if (!ok) this.lbSyncErrors.inc({ kind });
    },
  };

  /** Where the planes' scrape-time values are read from, once the agent exists. */
  watchPlanes(source: PlaneGaugeSource): void {
    this.planeSource = source;
  }

  /** The DNS server's DnsQueryObserver (structurally the same). */
  readonly dns = {
    answered: (rcode: number, seconds: number): void => {
      this.dnsQueries.inc({ result: RCODE_NAMES[rcode] ?? 'other' });
      this.dnsDuration.observe(seconds);
    },
  };

  /** Where the gossip gauges are read from, once gossip exists. */
  watchGossip(source: GossipGaugeSource): void {
    this.gossipSource = source;
  }

  /** src/kernel's KernelObserver. */
  readonly kernel = {
    batch: (tool: BatchTool, seconds: number, ok: boolean): void => {
      this.kernelBatches.inc({ tool });
      if (!ok) this.kernelBatchErrors.inc({ tool });
      this.kernelBatchDuration.observe({ tool }, seconds);
    },
    driftRepaired: (kind: 'links' | 'nft', changes: number): void => {
      this.driftRepaired.inc({ kind }, changes);
    },
  };

  /** Times one operation into a counter and histogram labelled by result. */
  async timed<T>(counter: Counter<'result'>, histogram: Histogram<'result'> | undefined, run: () => Promise<T>): Promise<T> {
    const end = histogram?.startTimer();
    try {
      const value = await run();
      counter.inc({ result: 'ok' });
      end?.({ result: 'ok' });
      return value;
    } catch (e) {
      counter.inc({ result: 'error' });
      end?.({ result: 'error' });
      throw e;
    }
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
