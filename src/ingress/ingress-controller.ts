// The ingress routing mesh on this host (issue 10, section 3). While any service publishes a port in
// ingress mode: the `ingress` network exists (cluster-wide, through the networks controller's name
// claim), this host's ingress sandbox is attached to it (which also gives it a vxmesh_gwbridge leg),
// every local task of such a service has a leg on the ingress network, the sandbox balances each
// published port over the tasks' ingress addresses, and the host's `inet vxmesh_ingress` table DNATs
// the port (from outside and from the host itself) to the sandbox. mode=host ports go straight to a
// local task. Everything is derived from the store and the service view on every pass (ingress-desired.ts):
// a restart or crash is one more pass, nothing made twice, nothing left stale.

import type { Logger } from 'pino';
import { VxError, errText } from '../errors.js';
import { NftTableReconciler, SELF_NS, ensureSysctls, namedNs, nsExists, readNftTable, reconcileNamespaces, type KernelObserver, type NftTable } from '../kernel/index.js';
import type { Controller } from '../model/controller.js';
import type { ValidAttach } from '../overlay/attach-steps.js';
import type { EndpointsController } from '../overlay/endpoints-controller.js';
import type { EndpointRecord, NetworkRecord } from '../overlay/model.js';
import { GW_BRIDGE } from '../overlay/names.js';
import type { NetworksController } from '../overlay/networks-controller.js';
import type { OverlayRecords } from '../overlay/records.js';
import { Coalescer } from '../util/coalescer.js';
import { INGRESS_TABLE, hostDnats, hostIngressTable, ingressSandboxName, planLegs, publishedPorts, publishesIngress, sandboxFrontends } from './ingress-desired.js';
import type { LbFrontend, LoadBalancer } from './lb/types.js';
import { INGRESS_NETWORK_NAME, type ServiceRecord, type ServiceView } from './model.js';

export interface IngressControllerOptions {
  netnsPrefix: string;
  /** --ingress-subnet: the ingress network's subnet when this host is the one that makes it. */
  ingressSubnet: string;
}

export interface IngressExpected {
  /** The sandbox's namespace name. */
  sandbox: string;
  /** Services that publish a port in ingress mode. */
  meshed: ServiceRecord[];
  network?: NetworkRecord;
  sandboxEndpoint?: EndpointRecord;
  sandboxFrontends?: LbFrontend[];
  hostTable?: NftTable;
}

export class IngressController implements Controller {
  readonly name = 'ingress';
  private readonly coalesce = new Coalescer();
  private readonly nft: NftTableReconciler;
  private readonly unsubscribe: Array<() => void> = [];
  private running = false;
  /** Fingerprint of the sandbox frontends last applied ('' = none applied since start). */
  private sandboxApplied = '';
  /** The next pass reads the kernel afresh (start, periodic resync). */
  private fresh = true;
  private hadTable = false;

  constructor(
    private readonly records: OverlayRecords,
    private readonly networks: NetworksController,
    private readonly endpoints: EndpointsController,
    private readonly view: ServiceView,
    private readonly lb: LoadBalancer,
    private readonly opts: IngressControllerOptions,
    private readonly log: Logger,
    observer?: KernelObserver,
  ) {
    this.nft = new NftTableReconciler(observer);
  }

  /** The ingress sandbox's namespace name on this host. */
  get sandbox(): string {
    return ingressSandboxName(this.opts.netnsPrefix);
  }

  private get sandboxPath(): string {
    return `/run/netns/${this.sandbox}`;
  }

  /** The ingress network, if it exists (made by ensureIngressNetwork, or by hand with `network create ingress`). */
  ingressNetwork(): NetworkRecord | undefined {
    return this.records.networks.values().find((n) => n.name === INGRESS_NETWORK_NAME && n.state !== 'pending');
  }

  /**
   * Makes the `ingress` network unless it exists (the services controller calls this before it
   * allocates a service's ingress VIP). With a shared store the name claim makes it once for the
   * cluster: two hosts asking at once get the same network.
   */
  async ensureIngressNetwork(): Promise<NetworkRecord> {
    const have = this.ingressNetwork();
    if (have) return have;
    try {
      await this.networks.create({ name: INGRESS_NETWORK_NAME, subnet: this.opts.ingressSubnet, labels: {} });
    } catch (e) {
      // Another create of the name won (embedded store: a concurrent call on this host).
      if (!(e instanceof VxError && e.code === 'ALREADY_EXISTS')) throw e;
    }
    const made = this.ingressNetwork();
    if (!made) throw new VxError('INTERNAL', `the ${INGRESS_NETWORK_NAME} network was created but is not visible yet: try again`);
    this.log.info({ network: made.id.slice(0, 12), subnet: made.v4.subnet }, 'ingress network ready');
    return made;
  }

  async start(): Promise<void> {
    this.running = true;
    this.unsubscribe.push(this.view.onChange(() => this.kick()));
    this.unsubscribe.push(this.records.endpoints.onChange(() => this.kick()));
    this.unsubscribe.push(this.records.gateways.onChange(() => this.kick()));
    // A failure here must not keep the agent down (the mesh is retried at every change and resync).
    await this.sync().catch((e: unknown) => this.log.error({ err: errText(e) }, 'ingress: first pass failed (retried at the next change or resync)'));
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  async reconcile(): Promise<void> {
    this.fresh = true;
    this.sandboxApplied = '';
    await this.sync();
  }

  /** One pass; resolves once a pass that started after this call is done. */
  sync(): Promise<void> {
    return this.coalesce.request('ingress', () => this.pass());
  }

  private kick(): void {
    if (!this.running) return;
    this.sync().catch((e: unknown) => this.log.warn({ err: errText(e) }, 'ingress pass failed (retried at the next change or resync)'));
  }

  private async pass(): Promise<void> {
    const services = this.view.services();
    const meshed = services.filter(publishesIngress);
    const net = meshed.length ? await this.ensureIngressNetwork() : this.ingressNetwork();
    const sandboxEp = net ? this.sandboxEndpoint(net) : undefined;
    if (meshed.length && net) {
      await this.ensureSandbox(net, sandboxEp);
    }
    await this.syncLegs(net);
    const ep = net ? this.sandboxEndpoint(net) : undefined;
    const gw = this.records.gatewayIn(this.sandboxPath);
    // Until the service tables are synced after a start, the sandbox keeps the backends it has.
    if (meshed.length && net && ep && ep.state === 'ready' && this.view.caughtUp?.() !== false) {
      const frontends = sandboxFrontends(meshed, (id) => this.view.tasks(id, net.id), ep.ipv4);
      const fp = JSON.stringify(frontends);
      if (fp !== this.sandboxApplied) {
        await this.lb.sync(namedNs(this.sandbox), frontends, { fresh: this.fresh });
        this.sandboxApplied = fp;
        this.log.debug({ frontends: frontends.length, backends: frontends.reduce((n, f) => n + f.backends.length, 0) }, 'ingress sandbox frontends synced');
      }
    }
    await this.syncHostTable(services, ep?.state === 'ready' ? gw?.ip : undefined);
    if (!meshed.length) await this.dropSandbox(sandboxEp);
    this.fresh = false;
  }

  private sandboxEndpoint(net: NetworkRecord): EndpointRecord | undefined {
    return this.records.localEndpoints().find((e) => e.networkId === net.id && e.netns === this.sandboxPath);
  }

  /** The sandbox namespace (forwarding on), attached to the ingress network once. */
  private async ensureSandbox(net: NetworkRecord, ep: EndpointRecord | undefined): Promise<void> {
    const created = !nsExists(namedNs(this.sandbox));
    if (created) {
      await reconcileNamespaces(this.sandbox, [this.sandbox]);
      this.sandboxApplied = '';
      this.log.info({ netns: this.sandbox }, 'ingress sandbox created');
    }
    // The sandbox routes published-port traffic from its gwbridge leg to the ingress network (a spawn: only when made or resynced).
    if (created || this.fresh) await ensureSysctls(namedNs(this.sandbox), { 'net.ipv4.ip_forward': '1' });
    if (ep) return;
    const req: ValidAttach = { network: net.id, netns: this.sandboxPath, leaveInHost: false, aliases: [], labels: {}, preallocated: false, ingressSandbox: true };
    const info = await this.endpoints.attach(net, req);
    this.sandboxApplied = '';
    this.log.info({ netns: this.sandbox, ip: info.ipv4 }, 'ingress sandbox attached to the ingress network');
  }

  /** No service publishes in ingress mode any more: the sandbox's endpoint, LB state and namespace go. */
  private async dropSandbox(ep: EndpointRecord | undefined): Promise<void> {
    if (!ep && !nsExists(namedNs(this.sandbox))) return;
    if (ep?.state === 'ready') await this.endpoints.detach(ep.id);
    if (ep?.state === 'pending') return; // an attach in flight: the next pass removes it
    await this.lb.clear(namedNs(this.sandbox)).catch(() => undefined);
    await reconcileNamespaces(this.sandbox, []);
    this.sandboxApplied = '';
    this.log.info({ netns: this.sandbox }, 'ingress sandbox removed (no service publishes in ingress mode)');
  }

  /** Legs on the ingress network for this host's tasks of meshed services; stale legs go. */
  private async syncLegs(net: NetworkRecord | undefined): Promise<void> {
    const plan = planLegs(this.records.localEndpoints(), (id) => this.view.service(id), net?.id);
    const failed: string[] = [];
    for (const leg of plan.remove) {
      await this.endpoints.detach(leg.id).then(
        () => this.log.info({ endpoint: leg.id.slice(0, 12), task: leg.ingressLegOf?.slice(0, 12) }, 'ingress leg removed'),
        (e: unknown) => {
          if (!(e instanceof VxError && e.code === 'NOT_FOUND')) failed.push(`detach ${leg.id.slice(0, 12)}: ${errText(e)}`);
        },
      );
    }
    for (const task of net ? plan.add : []) {
      // No serviceId of its own: a leg is not a task (`service inspect`, DNS); the service table finds its service through the task.
      const req: ValidAttach = { network: net!.id, netns: task.netns, leaveInHost: false, aliases: [], labels: {}, preallocated: false, ingressLegOf: task.id };
      await this.endpoints.attach(net!, req).then(
        (info) => this.log.info({ task: task.id.slice(0, 12), ip: info.ipv4 }, 'ingress leg attached'),
        (e: unknown) => failed.push(`leg of ${task.id.slice(0, 12)}: ${errText(e)}`),
      );
    }
    if (failed.length) this.log.warn({ failed }, 'ingress legs not converged (retried at the next change or resync)');
  }

  /**
   * What this host's mesh should be now, for `vxmesh doctor`: the services publishing in ingress
   * mode, the ingress network and the sandbox's endpoint on it, the sandbox's LB frontends (once its
   * endpoint is ready) and the host's DNAT table (undefined: none).
   */
  expected(): IngressExpected {
    const services = this.view.services();
    const meshed = services.filter(publishesIngress);
    const network = this.ingressNetwork();
    const sandboxEndpoint = network ? this.sandboxEndpoint(network) : undefined;
    const ready = sandboxEndpoint?.state === 'ready' ? sandboxEndpoint : undefined;
    const frontends = meshed.length && network && ready ? sandboxFrontends(meshed, (id) => this.view.tasks(id, network.id), ready.ipv4) : undefined;
    const hostTable = this.desiredHostTable(services, ready ? this.records.gatewayIn(this.sandboxPath)?.ip : undefined);
    return { sandbox: this.sandbox, meshed, ...(network ? { network } : {}), ...(sandboxEndpoint ? { sandboxEndpoint } : {}), ...(frontends ? { sandboxFrontends: frontends } : {}), ...(hostTable ? { hostTable } : {}) };
  }

  /** Dry run of the host table's next pass: the nft commands it would apply (empty: as expected). Changes nothing. */
  async hostTableDrift(table: NftTable | undefined): Promise<string[]> {
    if (table) return this.nft.diff(SELF_NS, table);
    return (await readNftTable(SELF_NS, 'inet', INGRESS_TABLE)) ? [`delete table inet ${INGRESS_TABLE}`] : [];
  }

  private desiredHostTable(services: ReturnType<ServiceView['services']>, sandboxGwIp: string | undefined): NftTable | undefined {
    const local = this.records.localEndpoints().filter((e) => e.serviceId && !e.ingressLegOf && e.state === 'ready' && e.netns && !e.leaveInHost);
    const taskGw = (serviceId: string) =>
      local.filter((e) => e.serviceId === serviceId).sort((a, b) => (a.id < b.id ? -1 : 1)).map((e) => this.records.gatewayIn(e.netns)?.ip).find(Boolean);
    return hostIngressTable(hostDnats(publishedPorts(services), sandboxGwIp, taskGw));
  }

  /** The host's DNAT table: made with the first published port, removed with the last. */
  private async syncHostTable(services: ReturnType<ServiceView['services']>, sandboxGwIp: string | undefined): Promise<void> {
    const table = this.desiredHostTable(services, sandboxGwIp);
    if (!table) {
      if (this.fresh || this.hadTable) await this.nft.remove(SELF_NS, 'inet', INGRESS_TABLE);
      this.hadTable = false;
      return;
    }
    // Loopback-sourced connections to a published port are routed out of vxmesh_gwbridge (then masqueraded).
    await ensureSysctls(SELF_NS, { 'net.ipv4.ip_forward': '1', [`net.ipv4.conf.${GW_BRIDGE}.route_localnet`]: '1' }).catch((e: unknown) =>
      this.log.debug({ err: errText(e) }, 'route_localnet not set (no gwbridge yet)'),
    );
    await this.nft.reconcile(SELF_NS, table, { fresh: this.fresh });
    this.hadTable = true;
  }
}

