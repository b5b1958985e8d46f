// The DNS plane: keeps the resolver's records equal to the endpoint records of the store (every
// host's, once the store is shared) and serves 127.0.0.11:53 in each workload namespace that has an
// endpoint of this host, through a view of that namespace's networks. Answers follow the records at
// once: the store's watch calls back here synchronously, before an attach or detach returns.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { nsExists, nsFromPath } from '../kernel/index.js';
import type { Controller } from '../model/controller.js';
import type { EndpointRecord as OverlayEndpoint } from '../overlay/model.js';
import type { OverlayRecords } from '../overlay/records.js';
import type { WatchEvent } from '../store/index.js';
import { Coalescer } from '../util/coalescer.js';
import { dnsRecordOf, localByNode, servedNamespaces, servesNamespace, type IsLocal } from './endpoint-names.js';
import { Forwarder, type ForwarderStats } from './forward/forwarder.js';
import { readResolvConf, type Upstream } from './forward/upstreams.js';
import { NamespaceResolvers, type Listen } from './namespace-resolvers.js';
import { RecordStore } from './records/record-store.js';
import { DnsServer, type DnsQueryObserver, type DnsServerStats } from './server/dns-server.js';
import { endpointFields } from '../overlay/log-fields.js';
import { ServiceFeed } from './service-feed.js';
import type { ServiceSource } from './service-names.js';

export interface DnsControllerOptions {
  /** Upstream resolvers (--dns); undefined: the nameservers of `resolvConfPath`, read at start. */
  readonly upstreams?: readonly Upstream[];
  /** Default /etc/resolv.conf (the host's: the agent runs in the host's mount namespace). */
  readonly resolvConfPath?: string;
  /** Per upstream attempt (ms); default the forwarder's 1 s. */
  readonly attemptTimeoutMs?: number;
  /** This host's endpoints among the store's (default: records without a node field). */
  readonly isLocal?: IsLocal;
  /** How sockets are made in a namespace (default: the native addon); tests pass their own. */
  readonly listen?: Listen;
  /** Whether a namespace path still exists (default: src/kernel's check). */
  readonly namespaceExists?: (nsPath: string) => boolean;
  /** Told of every reply the resolver sends (metrics). */
  readonly observer?: DnsQueryObserver;
  /** The services plane's view (src/ingress ServiceView): service names, tasks., VIP PTR, SRV. */
  readonly services?: ServiceSource;
}

export interface DnsControllerStats {
  upstreams: string[];
  namespaces: number;
  records: number;
  services: number;
  server: DnsServerStats;
  forwarder: ForwarderStats | undefined;
}

interface Running {
  readonly forwarder: Forwarder;
  readonly server: DnsServer;
  readonly resolvers: NamespaceResolvers;
  readonly unsubscribe: (() => void)[];
}

export class DnsController implements Controller {
  readonly name = 'dns';
  /** The resolver's records (one per agent); readable for status and tests. */
  readonly store = new RecordStore();
  private readonly isLocal: IsLocal;
  private readonly exists: (nsPath: string) => boolean;
  private readonly coalescer = new Coalescer();
  /** The latest sync requested per namespace, for settled(). */
  private readonly syncs = new Map<string, Promise<void>>();
  /** Endpoint id -> the namespace it made us serve (a delete event carries no value). */
  private readonly servedBy = new Map<string, string>();
  /** Endpoint ids the resolver answers (so a second start drops those deleted meanwhile). */
  private readonly answered = new Set<string>();
  /** The last serving failure per namespace, logged once rather than at every resync. */
  private readonly failures = new Map<string, string>();
  private running: Running | undefined;
  private readonly feed: ServiceFeed | undefined;

  constructor(
    private readonly records: OverlayRecords,
    private readonly options: DnsControllerOptions,
    private readonly log: Logger,
  ) {
    this.isLocal = options.isLocal ?? localByNode(undefined);
    this.exists = options.namespaceExists ?? ((p) => nsExists(nsFromPath(p)));
    this.feed = options.services && new ServiceFeed(options.services, this.store, (spec, err) =>
      this.log.warn({ service: spec.name, serviceId: spec.id, err: err.message }, 'dns: service record not answered'));
  }

  /** Loads every endpoint record, follows their changes, then serves every local workload namespace. */
  async start(): Promise<void> {
    if (this.running) return;
    const upstreams = this.upstreams();
    const forwarder = new Forwarder({ upstreams, ...(this.options.attemptTimeoutMs ? { attemptTimeoutMs: this.options.attemptTimeoutMs } : {}) });
    const server = new DnsServer({ forwarder, ...(this.options.observer ? { observer: this.options.observer } : {}) });
    const resolvers = new NamespaceResolvers(server, this.store, this.options.listen);
    this.running = { forwarder, server, resolvers, unsubscribe: [] };
    const current = this.records.endpoints.values();
    const ids = new Set(current.map((ep) => ep.id));
    for (const id of [...this.answered].filter((x) => !ids.has(x))) this.forget(id);
    for (const ep of current) this.putEndpoint(ep);
    this.feed?.start();
    this.running.unsubscribe.push(
      this.records.endpoints.onChange((ev) => this.onEndpoint(ev)),
      this.records.networks.onChange((ev) => this.onNetwork(ev.key.slice(this.records.networks.prefix.length))),
    );
    await this.serveAll();
    this.log.info({ upstreams: upstreams.map(text), namespaces: resolvers.list().length, records: this.store.stats().records, services: this.feed?.stats.services }, 'dns: serving 127.0.0.11 in workload namespaces');
  }

  /** Closes every served socket (a served socket keeps its namespace alive) and the forwarder's. */
  async stop(): Promise<void> {
    const r = this.running;
    if (!r) return;
    this.running = undefined;
    this.feed?.stop();
    for (const u of r.unsubscribe) u();
    await Promise.allSettled([...this.syncs.values()]);
    await r.resolvers.closeAll();
    r.forwarder.close();
  }

  /** Serves what should be served and stops serving namespaces that are gone or have no endpoint left. */
  reconcile(): Promise<void> {
    return this.serveAll();
  }

  /** Resolves once the namespace is served as its records say (serving errors are logged, not thrown). */
  async settled(nsPath: string): Promise<void> {
    await this.syncs.get(nsPath);
  }

  get enabled(): boolean {
    return this.running !== undefined;
  }

  served(): { nsPath: string; networks: readonly string[] }[] {
    return this.running?.resolvers.list() ?? [];
  }

  stats(): DnsControllerStats {
    const r = this.running;
    return {
      upstreams: (r?.forwarder.upstreams ?? []).map(text),
      namespaces: r?.resolvers.list().length ?? 0,
      records: this.store.stats().records,
      services: this.feed?.stats.services ?? 0,
      server: { ...(r?.server.stats ?? { queries: 0, dropped: 0, errors: 0, tcpConnections: 0 }) },
      forwarder: r ? { ...r.forwarder.stats } : undefined,
    };
  }

  private upstreams(): readonly Upstream[] {
    if (this.options.upstreams) return this.options.upstreams;
    const path = this.options.resolvConfPath ?? '/etc/resolv.conf';
    try {
      const found = readResolvConf(path);
      if (!found.length) this.log.warn({ path }, 'dns: no upstream nameserver in the host\'s resolv.conf: names vxmesh does not own get SERVFAIL (give --dns)');
      return found;
    } catch (e) {
      this.log.warn({ path, err: (e as Error).message }, 'dns: cannot read the host\'s resolv.conf: names vxmesh does not own get SERVFAIL (give --dns)');
      return [];
    }
  }

  // ---------------------------------------------------------------- records

  private onEndpoint(ev: WatchEvent<OverlayEndpoint>): void {
    const id = ev.key.slice(this.records.endpoints.prefix.length);
    const before = this.servedBy.get(id);
    if (ev.type === 'delete') {
      this.forget(id);
    } else {
      this.putEndpoint(ev.value);
    }
    const after = this.servedBy.get(id);
    if (before) void this.sync(before); // never rejects: apply() logs its failures
    if (after && after !== before) void this.sync(after);
  }

  /** A network came or went: its endpoints' records are answered only while it is known. */
  private onNetwork(networkId: string): void {
    for (const ep of this.records.endpointsOf(networkId)) this.putEndpoint(ep);
  }

  private forget(id: string): void {
    this.store.removeEndpoint(id);
    this.answered.delete(id);
    this.servedBy.delete(id);
  }

  private putEndpoint(ep: OverlayEndpoint): void {
    const record = dnsRecordOf(ep, this.records.networks.get(ep.networkId));
    try {
      if (record) {
        this.store.upsertEndpoint(record);
        this.answered.add(ep.id);
      } else {
        this.store.removeEndpoint(ep.id);
        this.answered.delete(ep.id);
      }
    } catch (e) {
      this.store.removeEndpoint(ep.id);
      this.answered.delete(ep.id);
      this.log.warn({ ...endpointFields(ep, this.records.networks.get(ep.networkId)), err: (e as Error).message }, 'dns: endpoint record not answered');
    }
    if (servesNamespace(ep, this.isLocal)) this.servedBy.set(ep.id, ep.netns);
    else this.servedBy.delete(ep.id);
  }

  // ---------------------------------------------------------------- namespaces

  private async serveAll(): Promise<void> {
    const r = this.running;
    if (!r) return;
    const wanted = servedNamespaces(this.records.endpoints.values(), this.isLocal);
    const all = new Set([...wanted.keys(), ...r.resolvers.list().map((s) => s.nsPath)]);
    await Promise.allSettled([...all].map((p) => this.sync(p)));
  }

  /** Serves `nsPath` as the records say now; coalesced per namespace, so changes never interleave. */
  private sync(nsPath: string): Promise<void> {
    const p = this.coalescer.request(nsPath, () => this.apply(nsPath));
    this.syncs.set(nsPath, p);
    const forget = () => {
      if (this.syncs.get(nsPath) === p) this.syncs.delete(nsPath);
    };
    p.then(forget, forget);
    return p;
  }

  private async apply(nsPath: string): Promise<void> {
    const r = this.running;
    if (!r) return;
    const networks = servedNamespaces(this.records.endpointsIn(nsPath), this.isLocal).get(nsPath);
    try {
      if (networks && this.exists(nsPath)) {
        const t0 = performance.now();
        const fresh = !r.resolvers.list().some((s) => s.nsPath === nsPath);
        await r.resolvers.attach(nsPath, networks);
        if (fresh) this.log.debug({ netns: nsPath, ms: Math.round((performance.now() - t0) * 100) / 100 }, 'dns: serving');
        if (this.failures.delete(nsPath)) this.log.info({ netns: nsPath }, 'dns: serving again');
      } else {
        this.failures.delete(nsPath);
        if (await r.resolvers.detach(nsPath)) this.log.debug({ netns: nsPath, gone: !networks ? 'last endpoint' : 'namespace' }, 'dns: stopped serving');
      }
    } catch (e) {
      const msg = (e as Error).message;
      if (this.failures.get(nsPath) !== msg) this.log.warn({ netns: nsPath, err: msg }, 'dns: cannot serve 127.0.0.11 in this namespace (retried at the next resync)');
      this.failures.set(nsPath, msg);
    }
  }
}

const text = (u: Upstream): string => (u.family === 6 ? `[${u.address}]:${u.port}` : `${u.address}:${u.port}`);
