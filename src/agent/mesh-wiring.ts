// The services data planes in the agent: the load balancer `--lb` picks (auto: IPVS where the kernel
// has ip_vs, else nftables; decided when the planes start), the VIP plane and the ingress routing
// mesh. Kept out of agent.ts (the composition root stays small).
import type { Logger } from 'pino';
import { VxError } from '../errors.js';
import { IngressController } from '../ingress/ingress-controller.js';
import { ingressSandboxName } from '../ingress/ingress-desired.js';
import type { LbFrontend, LbKind, LoadBalancer } from '../ingress/lb/types.js';
import type { ServiceView } from '../ingress/model.js';
import { VipController } from '../ingress/vip-controller.js';
import type { KernelObserver, NsRef } from '../kernel/index.js';
import type { Controller } from '../model/controller.js';
import type { EndpointsController } from '../overlay/endpoints-controller.js';
import type { NetworksController } from '../overlay/networks-controller.js';
import type { OverlayRecords } from '../overlay/records.js';
import type { AgentConfig } from './config.js';

/** How the agent makes each kind of load balancer, and asks whether this kernel can do IPVS. */
export interface LbFactory {
  make(kind: LbKind): LoadBalancer;
  ipvsAvailable(): Promise<boolean>;
}

/**
 * The load balancer the agent uses, chosen at start from `--lb`: a Controller (started before the
 * planes that use it) and a LoadBalancer that hands every call to the chosen implementation.
 */
export class SelectedLoadBalancer implements LoadBalancer, Controller {
  readonly name = 'lb';
  private chosen: LoadBalancer | undefined;

  constructor(
    private readonly choice: AgentConfig['lb'],
    private readonly factory: LbFactory,
    private readonly log: Logger,
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

  sync(ns: NsRef, frontends: LbFrontend[]): Promise<void> {
    return this.impl.sync(ns, frontends);
  }

  clear(ns: NsRef): Promise<void> {
    return this.impl.clear(ns);
  }
}

export interface MeshDeps {
  config: AgentConfig;
  records: OverlayRecords;
  networks: NetworksController;
  endpoints: EndpointsController;
  view: ServiceView;
  lbFactory: LbFactory;
  log: Logger;
  observer?: KernelObserver;
}

export interface Mesh {
  lb: SelectedLoadBalancer;
  vip: VipController;
  ingress: IngressController;
  /** Start order: the LB choice, the VIP plane, the ingress mesh (after the services and table controllers). */
  controllers: Controller[];
}

export function buildMesh({ config, records, networks, endpoints, view, lbFactory, log, observer }: MeshDeps): Mesh {
  const lb = new SelectedLoadBalancer(config.lb, lbFactory, log.child({ controller: 'lb' }));
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
  return { lb, vip, ingress, controllers: [lb, vip, ingress] };
}
