import type { Logger } from 'pino';
import { VxError, errText } from '../errors.js';
import { IpamController } from '../ipam/store-ipam.js';
import { parseCidr } from '../ipam/index.js';
import { writeResolvConf, type DnsController } from '../dns/index.js';
import { probeKernel, type KernelFeatures } from '../kernel/index.js';
import { nsAccessDenied } from '../kernel/ns-identity.js';
import type {
  AgentApi,
  AttachRequest,
  CreateNetworkRequest,
  DoctorReport,
  EndpointInfo,
  GossipNode,
  GossipStatus,
  KeyOp,
  KeyOpResult,
  NetworkInfo,
  PoolGrant,
  PoolRequest,
  StatusInfo,
  TraceInfo,
  TraceRequest,
} from '../model/api.js';
import type { Controller } from '../model/controller.js';
import type { ValidAttach } from '../overlay/attach-steps.js';
import { EndpointsController } from '../overlay/endpoints-controller.js';
import { GW_BRIDGE } from '../overlay/names.js';
import { NetworksController } from '../overlay/networks-controller.js';
import { OverlayKernel } from '../overlay/overlay-kernel.js';
import { OverlayRecords } from '../overlay/records.js';
import type { VxMetrics } from '../metrics/metrics.js';
import { PeersController } from '../overlay/peers-controller.js';
import type { Store } from '../store/index.js';
import type { AgentConfig } from './config.js';
import { ControllerGroup } from './controller-group.js';
import { featureFindings, gossipFindings, runDoctor, storeFindings, sysctlFindings, type DoctorCheck } from './doctor.js';
import { dataPathFindings, firewallFindings, linkFindings, mtuFindings } from '../overlay/doctor-checks.js';
import { traceEndpoint } from '../overlay/trace.js';
import type { GossipService } from './gossip.js';
import type { ServicesController } from '../ingress/services-controller.js';
import type { CreateServiceRequest, ServiceInfo, ServicesApi, UpdateServiceRequest } from '../model/api.js';
import { buildServices } from './services-wiring.js';
import { buildDns } from './dns-wiring.js';
import type { AckLog } from '../store/ack-log.js';
import { buildMesh, defaultLbFactory, meshCounts, meshDoctorChecks, type Mesh } from './mesh-wiring.js';
import {
  checkAttachRequest,
  checkCidr,
  checkCreateNetworkRequest,
  checkIp,
  checkLabels,
  checkMac,
  checkMtu,
  checkName,
  checkNetnsPath,
  checkPoolRequest,
} from './validate.js';

export const VERSION = '0.1.0';
/** Bytes VXLAN adds over IPv4: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
const VXLAN_OVERHEAD = 50;

/** A namespace that cannot be inspected cannot be told apart from the host's: refused before anything else. */
async function checkedNetns(path: string | undefined): Promise<string> {
  if (path && (await nsAccessDenied(path))) {
    throw new VxError('FAILED_PRECONDITION', `refusing to attach into ${path}: it cannot be identified (permission denied), so it may be the machine's initial or the agent's own namespace`);
  }
  return checkNetnsPath(path);
}

export interface HostFacts {
  advertiseAddr?: string;
  underlayMtu: number;
  /** This host's node name: written into the records of its endpoints and gateway legs. */
  nodeName?: string;
  /** The store is shared by several hosts (--store etcd://...). */
  sharedStore?: boolean;
}

/** What the agent needs of gossip; until gossip is started its methods may throw FAILED_PRECONDITION. */
export type GossipSurface = Pick<GossipService, 'listNodes' | 'keyOp' | 'status' | 'db' | 'memberAddrs' | 'onMembersChange' | 'pingUdp'>;

export interface AgentDeps {
  config: AgentConfig;
  store: Store;
  log: Logger;
  facts: HostFacts;
  gossip: GossipSurface;
  /** When --metrics-addr is on: attaches, kernel batches and drift are counted here. */
  metrics?: VxMetrics;
  /** With a shared store: the host-local log attaches are acknowledged in (EndpointsOptions.acks). */
  acks?: { log: AckLog; acked: ReadonlySet<string> };
}

/**
 * The composition root of the data plane: builds the controllers (records, ipam, networks,
 * endpoints), starts them in order (rolling a half-done start back in reverse), runs the periodic
 * resync, and implements the API by validating requests at the edge and delegating.
 */
export class Agent implements AgentApi, ServicesApi, Controller {
  readonly name = 'agent';
  private readonly config: AgentConfig;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly facts: HostFacts;
  private readonly gossip: GossipSurface;
  private readonly records: OverlayRecords;
  private readonly ipam: IpamController;
  private readonly networks: NetworksController;
  private readonly endpoints: EndpointsController;
  /** The embedded resolver (absent with --no-embedded-dns). */
  private readonly dns: DnsController | undefined;
  private readonly peers: PeersController;
  private readonly services: ServicesController;
  /** Service view and table, load balancer, VIP plane, ingress mesh (mesh-wiring.ts). */
  private readonly mesh: Mesh;
  private readonly kernel: OverlayKernel;
  /** records, ipam, networks, endpoints, peers, services, dns: start order; stop is the reverse. */
  private readonly planes: ControllerGroup;
  private features: KernelFeatures = { vxlan: false, nftables: false, ipvs: false };
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly metrics: VxMetrics | undefined;

  constructor({ config, store, log, facts, gossip, metrics, acks }: AgentDeps) {
    this.metrics = metrics;
    this.config = config;
    this.store = store;
    this.log = log;
    this.facts = facts;
    this.gossip = gossip;
    this.records = new OverlayRecords(store, { node: facts.nodeName ?? '', shared: Boolean(facts.sharedStore), netnsPrefix: config.netnsPrefix });
    this.ipam = new IpamController(
      store,
      {
        defaults: {
          v4: config.defaultAddrPool.map((base) => ({ base, size: config.defaultAddrPoolSize })),
          v6: config.defaultAddrPoolV6.map((base) => ({ base, size: config.defaultAddrPoolSizeV6 })),
        },
        gwBridgePool: config.gwBridgePool,
        gwPoolOwner: GW_BRIDGE,
      },
      (poolId) => this.networks.poolUser(poolId),
      (revision, keys) => this.records.waitForRevision(revision, keys),
      log.child({ controller: 'ipam' }),
    );
    const gwPrefix = parseCidr(config.gwBridgePool, { strict: true }).prefix;
    const kernel = (this.kernel = new OverlayKernel(
      this.records,
      {
        advertiseAddr: facts.advertiseAddr,
        dataPathPort: config.dataPathPort,
        gwSubnet: () => ({ gateway: this.ipam.gateway.gateway, prefix: gwPrefix }),
      },
      { netnsPrefix: config.netnsPrefix, gwBridgePool: config.gwBridgePool, salvage: config.salvage, rps: config.rps },
      log,
      metrics?.kernel,
    ));
    this.networks = new NetworksController(
      store,
      this.records,
      this.ipam,
      kernel,
      { netnsPrefix: config.netnsPrefix, defaultMtu: facts.underlayMtu - VXLAN_OVERHEAD, salvage: config.salvage },
      log.child({ controller: 'networks' }),
    );
    this.endpoints = new EndpointsController(this.records, this.ipam, kernel, { advertiseAddr: facts.advertiseAddr, salvage: config.salvage, serviceName: (id) => this.services.nameOf(id), ...(acks ? { acks } : {}) }, log.child({ controller: 'endpoints' }));
    // `service inspect` lists tasks from the endpoint records (every host's, like `docker service ps`); the LBs use the service table.
    this.services = buildServices({ store, records: this.records, ipam: this.ipam, networks: this.networks, log }, { ensureIngressNetwork: () => this.mesh.ingress.ensureIngressNetwork() });
    this.dns = buildDns({ config, records: this.records, metrics, services: () => this.mesh.view, log });
    // Publishes once gossip runs (it starts after this group): until then the sandboxes keep their peer entries.
    this.peers = new PeersController(gossip.db, this.records, kernel, gossip, { vtep: facts.advertiseAddr, isLocal: (ep) => this.records.isMine(ep) }, log.child({ controller: 'peers' }));
    const { records, networks, endpoints, peers } = this;
    this.mesh = buildMesh({ config, store, records, networks, endpoints, peers, db: gossip.db, lbFactory: defaultLbFactory(metrics?.kernel), log, ...(metrics ? { observer: metrics.kernel, lbObserver: metrics.lb } : {}) });
    this.planes = new ControllerGroup('planes', [records, this.ipam, networks, endpoints, peers, this.services, ...this.mesh.controllers, ...(this.dns ? [this.dns] : [])], log);
    metrics?.watchPlanes({
      dns: () => {
        const s = this.dns?.stats();
        return s && { dropped: s.server.dropped, forwarded: s.forwarder?.forwarded ?? 0 };
      },
      vxlanDropped: () => this.kernel.vxlanDropped(),
      services: () => meshCounts(this.mesh.view),
      peerEntries: () => this.records.networks.values().filter((n) => this.records.wantsSandbox(n)).map((n) => {
        const e = this.peers.entriesFor(n);
        return { network: n.id, fdb: e?.fdb.length ?? 0, neigh: e?.neigh.length ?? 0 };
      }),
    });
  }

  // ---------------------------------------------------------------- lifecycle

  /** Starts the controllers in order; on a failure stops the started ones in reverse and rethrows. */
  async start(): Promise<void> {
    this.features = await probeKernel();
    await this.planes.start();
    this.log.info(
      { networks: this.networks.count(), endpoints: this.endpoints.count(), advertiseAddr: this.facts.advertiseAddr },
      'state reconciled with the kernel',
    );
    this.resyncTimer = setInterval(() => {
      this.reconcile().catch((e) => this.log.error({ err: errText(e) }, 'periodic resync failed'));
    }, this.config.resyncIntervalMs);
    this.resyncTimer.unref();
  }

  /** Stops timers and controllers in reverse; every kernel object stays, so workloads keep their network. */
  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    await this.planes.stop();
  }

  /** Drift repair, plane by plane, in start order. */
  reconcile(): Promise<void> {
    return this.planes.reconcile();
  }

  // ---------------------------------------------------------------- networks

  async createNetwork(req: CreateNetworkRequest): Promise<NetworkInfo> {
    checkCreateNetworkRequest(req); // the one set of limits the CLI and API use (the plugin calls here directly)
    const name = checkName('network', req.name);
    checkMtu(req.mtu);
    const fits = this.facts.underlayMtu - VXLAN_OVERHEAD;
    if (req.mtu !== undefined && req.mtu > fits) {
      throw new VxError('INVALID_ARGUMENT', `--mtu ${req.mtu} does not fit the underlay: its MTU is ${this.facts.underlayMtu} and VXLAN takes ${VXLAN_OVERHEAD} bytes, so at most ${fits} (leave --mtu out to get ${fits})`);
    }
    const labels = checkLabels(req.labels);
    if (req.subnet) checkCidr('subnet', req.subnet, 4);
    if (req.gateway) checkIp('gateway', req.gateway, 4);
    if (req.ipRange) checkCidr('ip-range', req.ipRange, 4);
    if (req.subnetV6) checkCidr('subnet-v6', req.subnetV6, 6);
    if (req.gatewayV6) checkIp('gateway-v6', req.gatewayV6, 6);
    if ((req.subnetV6 || req.gatewayV6 || req.ipRangeV6 || req.ipv6PoolId) && !req.ipv6) {
      throw new VxError('INVALID_ARGUMENT', 'an IPv6 subnet, gateway or range was given without --ipv6: add --ipv6');
    }
    if (req.ipRange && !req.subnet && !req.ipv4PoolId) {
      throw new VxError('INVALID_ARGUMENT', '--ip-range needs --subnet: give the subnet it lies in');
    }
    return this.networks.create({ ...req, name, labels });
  }

  listNetworks(): Promise<NetworkInfo[]> {
    return this.networks.list();
  }

  inspectNetwork(nameOrId: string): Promise<NetworkInfo> {
    return this.networks.inspect(nameOrId);
  }

  removeNetwork(nameOrId: string): Promise<void> {
    return this.networks.remove(nameOrId);
  }

  // ---------------------------------------------------------------- endpoints

  attach(req: AttachRequest): Promise<EndpointInfo> {
    const m = this.metrics;
    return m ? m.timed(m.attaches, m.attachDuration, () => this.attachNow(req)) : this.attachNow(req);
  }

  private async attachNow(req: AttachRequest): Promise<EndpointInfo> {
    checkAttachRequest(req);
    const net = this.networks.find(req.network);
    const leaveInHost = Boolean(req.leaveInHost);
    if (req.ip) checkIp('ip', req.ip, 4);
    if (req.ipv6) checkIp('ipv6', req.ipv6, 6);
    if (req.preallocated && !req.ip) throw new VxError('INVALID_ARGUMENT', 'preallocated needs ip');
    if (req.resolvConf && !this.dns) {
      throw new VxError('FAILED_PRECONDITION', 'resolv-conf: this agent runs with --no-embedded-dns, so nothing would answer at 127.0.0.11: drop --resolv-conf or start the agent with the embedded DNS');
    }
    const valid: ValidAttach = {
      ...req,
      leaveInHost,
      netns: leaveInHost ? '' : await checkedNetns(req.netns),
      ...(req.name ? { name: checkName('endpoint', req.name) } : { name: undefined }),
      aliases: (req.aliases ?? []).map((a) => checkName('alias', a)),
      ...(req.mac ? { mac: checkMac(req.mac) } : {}),
      labels: checkLabels(req.labels),
      preallocated: Boolean(req.preallocated),
      ...(req.service ? { serviceId: this.services.taskOf(req.service, net) } : {}),
    };
    const ep = await this.endpoints.attach(net, valid);
    if (this.dns && !leaveInHost) await this.dns.settled(valid.netns); // the workload may ask right away
    if (req.resolvConf) await this.writeResolvConfOrUndo(ep, req.resolvConf);
    return ep;
  }

  /** A workload without its resolv.conf is not what was asked for: the attach is undone, and the error says so. */
  private async writeResolvConfOrUndo(ep: EndpointInfo, path: string): Promise<void> {
    try {
      await writeResolvConf(path);
    } catch (e) {
      const why = errText(e);
      const undone = await this.endpoints.detach(ep.id).then(
        () => 'the endpoint was detached again (nothing kept)',
        (err: unknown) => `detaching the endpoint again failed too (${errText(err)}): detach ${ep.id.slice(0, 12)} by hand`,
      );
      throw new VxError('INVALID_ARGUMENT', `resolv-conf: cannot write ${path}: ${why}; ${undone}. Give a path in an existing, writable directory`);
    }
  }

  detach(endpointId: string): Promise<void> {
    const m = this.metrics;
    return m ? m.timed(m.detaches, undefined, () => this.endpoints.detach(endpointId)) : this.endpoints.detach(endpointId);
  }

  async listEndpoints(network?: string): Promise<EndpointInfo[]> {
    return this.endpoints.list(network ? this.networks.find(network).id : undefined);
  }

  async status(): Promise<StatusInfo> {
    const gossip = this.gossipStatus();
    return {
      version: VERSION,
      advertiseAddr: this.facts.advertiseAddr ?? '',
      dataDir: this.config.dataDir,
      networks: this.networks.count(),
      endpoints: this.endpoints.count(),
      services: this.mesh.view.services().length,
      features: { ...this.features },
      store: this.storeHealth(),
      vxlanDropped: await this.kernel.vxlanDropped().catch(() => 0),
      ...(this.mesh.lb.chosenKind ? { loadBalancer: this.mesh.lb.chosenKind } : {}),
      ...(gossip ? { gossip } : {}),
    };
  }

  private storeHealth(): NonNullable<StatusInfo['store']> {
    const h = this.store.health();
    const owed = this.endpoints.owedReady;
    return { ...(h.ok ? { ok: true } : { ok: false, error: `${h.error} (since ${h.since})` }), ...(owed ? { owedReady: owed } : {}) };
  }

  private gossipStatus(): GossipStatus | undefined {
    try {
      return this.gossip.status();
    } catch {
      return undefined; // not started (yet)
    }
  }

  /** The embedded resolver's counters (undefined with --no-embedded-dns): for status and metrics. */
  dnsStats(): ReturnType<DnsController['stats']> | undefined {
    return this.dns?.stats();
  }

  // ---------------------------------------------------------------- services (src/ingress)

  createService = (req: CreateServiceRequest): Promise<ServiceInfo> => this.services.createService(req);
  listServices = (): Promise<ServiceInfo[]> => this.services.listServices();
  inspectService = (nameOrId: string): Promise<ServiceInfo> => this.services.inspectService(nameOrId);
  updateService = (req: UpdateServiceRequest): Promise<ServiceInfo> => this.services.updateService(req);
  removeService = (nameOrId: string): Promise<void> => this.services.removeService(nameOrId);

  // ---------------------------------------------------------------- gossip

  async listNodes(): Promise<GossipNode[]> {
    return this.viaGossip(() => this.gossip.listNodes());
  }

  async gossipKey(op: KeyOp, key?: string): Promise<KeyOpResult> {
    return this.viaGossip(() => this.gossip.keyOp(op, key));
  }

  private async viaGossip<T>(call: () => T | Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof VxError) throw e;
      throw new VxError('FAILED_PRECONDITION', `gossip is not running on this agent: ${errText(e)}`);
    }
  }

  // ---------------------------------------------------------------- doctor

  /** Each plane's checks: one entry per plane (peers, services and DNS add theirs here). */
  private doctorChecks(): Array<{ name: string; run: DoctorCheck }> {
    const endpointIds = (sandbox: string) => this.records.endpoints.values().filter((e) => this.records.networks.get(e.networkId)?.sandbox === sandbox).map((e) => e.id);
    return [
      { name: 'kernel', run: async () => featureFindings(await probeKernel()) },
      { name: 'sysctl', run: sysctlFindings },
      { name: 'nft.table', run: () => firewallFindings(this.kernel) },
      { name: 'links', run: () => linkFindings(this.kernel, endpointIds) },
      { name: 'mtu', run: async () => mtuFindings(this.records.networks.values(), this.facts.underlayMtu) },
      { name: 'gossip.members', run: async () => gossipFindings(await this.listNodes().catch(() => []), (name, ms) => this.gossip.pingUdp(name, ms)) },
      { name: 'datapath.members', run: async () => dataPathFindings(await this.listNodes().catch(() => []), await this.kernel.vxlanAdmission()) },
      { name: 'store', run: () => storeFindings(this.store) },
      ...meshDoctorChecks(this.mesh, this.records, this.config, defaultLbFactory()),
    ];
  }

  doctor(): Promise<DoctorReport> {
    return runDoctor(this.doctorChecks());
  }

  async traceEndpoint(req: TraceRequest): Promise<TraceInfo> {
    for (const [field, value, hint] of [['endpoint', req.endpoint, 'an endpoint id or name'], ['to', req.to, 'IP, IP:PORT, NAME or NAME:PORT']] as const) {
      if (typeof value !== 'string' || value === '' || value.length > 255 || /[\s\u0000-\u001f]/.test(value)) {
        throw new VxError('INVALID_ARGUMENT', `${field} must be ${hint} (1 to 255 characters, no spaces)`);
      }
    }
    return traceEndpoint(this.records, req.endpoint, req.to);
  }

  // ---------------------------------------------------------------- docker IPAM surface

  async requestPool(req: PoolRequest): Promise<PoolGrant> {
    checkPoolRequest(req);
    if (req.pool) checkCidr('pool', req.pool, req.v6 ? 6 : 4);
    if (req.subPool) checkCidr('sub-pool', req.subPool, req.v6 ? 6 : 4);
    if (req.subPool && !req.pool) throw new VxError('INVALID_ARGUMENT', 'an ip range (sub-pool) needs a subnet: give --subnet too');
    return this.ipam.requestPool(req);
  }

  releasePool(poolId: string): Promise<void> {
    return this.ipam.releasePool(poolId);
  }

  async requestAddress(poolId: string, address?: string, purpose?: 'gateway' | 'endpoint'): Promise<string> {
    if (address) checkIp('address', address);
    return this.ipam.requestAddress(poolId, address, purpose);
  }

  async releaseAddress(poolId: string, address: string): Promise<void> {
    checkIp('address', address);
    return this.ipam.releaseAddress(poolId, address);
  }
}
