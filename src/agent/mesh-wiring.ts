// The services data planes in the agent: the load balancer `--lb` picks (auto: IPVS where the kernel
// has ip_vs, else nftables; decided when the planes start), the VIP plane and the ingress routing
// mesh. Kept out of agent.ts (the composition root stays small).
import type { Logger } from 'pino';
import { VxError, errText } from '../errors.js';
import { servicesDoctorChecks, type NamedCheck } from '../ingress/doctor-checks.js';
import { IngressController } from '../ingress/ingress-controller.js';
import { ingressSandboxName } from '../ingress/ingress-desired.js';
import type { ServiceView } from '../ingress/model.js';
import type { LbFrontend, LbKind, LbSyncObserver, LbSyncOptions, LoadBalancer } from '../ingress/lb/types.js';
import { ServiceTableController, type EndpointTableDb } from '../ingress/service-table.js';
import { StoreServiceView } from '../ingress/service-view.js';
import { VipController } from '../ingress/vip-controller.js';
import { NftTableReconciler, forgetFlowsTo, ipvsAvailable, nsKey, type KernelObserver, type NsRef } from '../kernel/index.js';
import { IpvsLoadBalancer } from '../ingress/lb/ipvs.js';
import { NftLoadBalancer } from '../ingress/lb/nft-lb.js';
import type { ServiceTaskInfo } from '../model/api.js';
import type { Controller } from '../model/controller.js';
import type { EndpointsController } from '../overlay/endpoints-controller.js';
import type { NetworksController } from '../overlay/networks-controller.js';
import type { PeersController } from '../overlay/peers-controller.js';
import type { OverlayRecords } from '../overlay/records.js';
import type { Store } from '../store/index.js';
import type { AgentConfig } from './config.js';

/** How the agent makes each kind of load balancer, and asks whether this kernel can do IPVS. */
export interface LbFactory {
  make(kind: LbKind): LoadBalancer;
  ipvsAvailable(): Promise<boolean>;
  /**
   * After a backend left a namespace's frontends: drops the conntrack entries that would still send
   * packets to it (unanswered TCP attempts, UDP flows). Absent: nothing is dropped.
   */
  forgetFlows?(kind: LbKind, ns: NsRef, backends: string[]): Promise<void>;
}

/**
 * The load balancer the agent uses, chosen at start from `--lb`: a Controller (started before the
 * planes that use it) and a LoadBalancer that hands every call to the chosen implementation.
 */
export class SelectedLoadBalancer implements LoadBalancer, Controller {
  readonly name = 'lb';
  private chosen: LoadBalancer | undefined;
  /** Per namespace, the backends of the frontends last synced there (to tell which ones left). */
  private readonly backends = new Map<string, Set<string>>();

  constructor(
    private readonly choice: AgentConfig['lb'],
    private readonly factory: LbFactory,
    private readonly log: Logger,
    private readonly observer?: LbSyncObserver,
  ) {}

  get kind(): LbKind {
    return this.impl.kind;
  }

  /** The kind in use, once started. */
  get chosenKind(): LbKind | undefined {
    return this.chosen?.kind;
  }

  private get impl(): LoadBalancer {
    if (!this.chosen) throw new VxError('FAILED_PRECONDITION', 'the load balancer is not chosen yet (the agent is starting)');
    return this.chosen;
  }

  async start(): Promise<void> {
    if (this.chosen) return;
    const ipvs = this.choice === 'nftables' ? false : await this.factory.ipvsAvailable();
    if (this.choice === 'ipvs' && !ipvs) {
      throw new VxError('FAILED_PRECONDITION', '--lb ipvs: this kernel has no ip_vs (or ipvsadm is missing): load the module (modprobe ip_vs), or start with --lb nftables or --lb auto');
    }
    const kind: LbKind = ipvs ? 'ipvs' : 'nftables';
    this.chosen = this.factory.make(kind);
    this.log.info({ lb: kind, asked: this.choice }, 'service load balancer chosen');
  }

  async stop(): Promise<void> {}

  async reconcile(): Promise<void> {}

  async sync(ns: NsRef, frontends: LbFrontend[], opts?: LbSyncOptions): Promise<void> {
    const impl = this.impl;
    try {
      await impl.sync(ns, frontends, opts);
    } catch (e) {
      this.observer?.synced(impl.kind, false);
      throw e;
    }
    this.observer?.synced(impl.kind, true);
    const now = new Set(frontends.flatMap((f) => f.backends));
    const before = this.backends.get(nsKey(ns));
    this.backends.set(nsKey(ns), now);
    const gone = before ? [...before].filter((b) => !now.has(b)) : [];
    if (!gone.length || !this.factory.forgetFlows) return;
    // A connection attempt still unanswered by a gone backend would keep retrying it (and a reused 5-tuple would too).
    await this.factory.forgetFlows(impl.kind, ns, gone).catch((e: unknown) =>
      this.log.warn({ ns: nsKey(ns), backends: gone, err: errText(e) }, 'could not drop the conntrack entries of backends that left'),
    );
  }

  async clear(ns: NsRef): Promise<void> {
    this.backends.delete(nsKey(ns));
    await this.impl.clear(ns);
  }

  async drift(ns: NsRef, frontends: LbFrontend[]): Promise<string[]> {
    const impl = this.impl;
    if (!impl.drift) return [];
    return impl.drift(ns, frontends);
  }
}

/** The real load balancers: nftables maps, or IPVS fwmark services. */
export function defaultLbFactory(observer?: KernelObserver): LbFactory {
  return {
    make: (kind) => (kind === 'ipvs' ? new IpvsLoadBalancer(observer ? { observer } : {}) : new NftLoadBalancer(new NftTableReconciler(observer))),
    ipvsAvailable: () => ipvsAvailable(),
    // IPVS expires connections to a deleted destination itself (expire_nodest_conn); nftables leaves them to conntrack.
    forgetFlows: (kind, ns, backends) => (kind === 'nftables' ? forgetFlowsTo(ns, backends) : Promise.resolve()),
  };
}

/**
 * A service's live tasks as the service table shows them (every host's that share a network with this
 * one), per network of the service; ingress legs are not tasks. The agent lists the endpoint records'
 * tasks in `service inspect` (every host's, like `docker service ps`); this is the LB's view of them.
 */
export function serviceTasks(view: ServiceView, records: OverlayRecords): (serviceId: string) => ServiceTaskInfo[] {
  return (serviceId) =>
    (view.service(serviceId)?.networks ?? []).flatMap((networkId) =>
      view.tasks(serviceId, networkId).map((t) => ({
        endpointId: t.endpointId,
        name: t.name,
        network: records.networks.get(networkId)?.name ?? networkId,
        ...(t.ipv4 ? { ipv4: t.ipv4 } : {}),
        ...(t.ipv6 ? { ipv6: t.ipv6 } : {}),
        node: t.node,
      })),
    );
}

export interface MeshDeps {
  config: AgentConfig;
  store: Store;
  records: OverlayRecords;
  networks: NetworksController;
  endpoints: EndpointsController;
  peers: PeersController;
  /** NetworkDB (the service table is written to and read from its endpoint_table). */
  db: EndpointTableDb;
  lbFactory: LbFactory;
  log: Logger;
  observer?: KernelObserver;
  /** Hears of every load balancer sync (metrics). */
  lbObserver?: LbSyncObserver;
}

export interface Mesh {
  view: StoreServiceView;
  lb: SelectedLoadBalancer;
  vip: VipController;
  ingress: IngressController;
  /** Start order (after the services controller): the service view, the table writer, the LB choice, the VIP plane, the ingress mesh. */
  controllers: Controller[];
}

export function buildMesh({ config, store, records, networks, endpoints, peers, db, lbFactory, log, observer, lbObserver }: MeshDeps): Mesh {
  const view = new StoreServiceView(store, records, db, log.child({ controller: 'service-view' }), peers);
  const table = new ServiceTableController(db, records, view, peers, log.child({ controller: 'service-table' }));
  const lb = new SelectedLoadBalancer(config.lb, lbFactory, log.child({ controller: 'lb' }), lbObserver);
  const ingress = new IngressController(records, networks, endpoints, view, lb, { netnsPrefix: config.netnsPrefix, ingressSubnet: config.ingressSubnet }, log.child({ controller: 'ingress' }), observer);
  const sandboxPath = `/run/netns/${ingressSandboxName(config.netnsPrefix)}`;
  const vip = new VipController(
    records,
    view,
    lb,
    {
      // The ingress network's VIPs are not balanced in workloads: its sandbox balances published ports.
      skipNetwork: (id) => ingress.ingressNetwork()?.id === id,
      skipNamespace: (netns) => netns === sandboxPath,
    },
    log.child({ controller: 'vip' }),
  );
  return { view, lb, vip, ingress, controllers: [view, table, lb, vip, ingress] };
}

/** `vxmesh doctor`'s services checks (src/ingress/doctor-checks.ts) over this agent's planes. */
export function meshDoctorChecks(mesh: Mesh, records: OverlayRecords, config: AgentConfig, lbFactory: Pick<LbFactory, 'ipvsAvailable'>): NamedCheck[] {
  return servicesDoctorChecks({
    view: mesh.view,
    lb: mesh.lb,
    lbAsked: config.lb,
    ipvsAvailable: () => lbFactory.ipvsAvailable(),
    vipFrontends: () => mesh.vip.desiredFrontends(),
    ingress: mesh.ingress,
    localEndpoints: () => records.localEndpoints(),
  });
}

/** Services in the cluster and the live tasks this host knows of them (each task once, whatever its networks): for metrics. */
export function meshCounts(view: ServiceView): { services: number; tasks: number } {
  const services = view.services();
  const tasks = new Set(services.flatMap((s) => s.networks.flatMap((n) => view.tasks(s.id, n).map((t) => t.endpointId))));
  return { services: services.length, tasks: tasks.size };
}
