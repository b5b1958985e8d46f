// Turns the overlay's records into kernel state, one namespace at a time: sandbox namespaces (one
// per network), each sandbox's links, the gateway legs in the agent's namespace, workload
// namespaces, and the host firewall. Shared by the networks and endpoints controllers: a sandbox
// holds the network's bridge and vxlan device and its endpoints' veths.

import type { Logger } from 'pino';
import {
  KernelError,
  LinkReconciler,
  NftReconciler,
  SELF_NS,
  ensureSysctls,
  ipBatch,
  listNamespaces,
  namedNs,
  nsExists,
  nsFromPath,
  nsTarget,
  readNs,
  reconcileNamespaces,
  type ActualLink,
  type NsActual,
} from '../kernel/index.js';
import { Coalescer } from '../util/coalescer.js';
import { Mutex } from '../util/mutex.js';
import { hostBridgeNftBody, hostDesired, hostNftBody, sandboxDesired, vxlanCreateLines, workloadDesired, type HostContext } from './desired.js';
import type { EndpointRecord, GatewayRecord, NetworkRecord } from './model.js';
import { GW_BRIDGE, VXLAN, gatewayTempVeth, gatewayVeth, isHostOwnedLink, sandboxPrefix, workloadTempVeth } from './names.js';
import { decideGc, sandboxPattern, summarize } from './ownership.js';
import type { OverlayRecords } from './records.js';

/** The agent's namespace as the desired-state functions see it; the gwbridge subnet is known once IPAM started. */
export interface HostFacts extends Omit<HostContext, 'gwSubnet'> {
  gwSubnet: () => HostContext['gwSubnet'];
}

export interface OverlayKernelOptions {
  netnsPrefix: string;
  gwBridgePool: string;
  /** Remove nothing the store cannot account for (see ownership.ts). */
  salvage: boolean;
}

export class OverlayKernel {
  private readonly links = new LinkReconciler();
  private readonly nft = new NftReconciler();
  private readonly coalesce = new Coalescer();
  private readonly netnsLock = new Mutex();

  constructor(
    private readonly records: OverlayRecords,
    private readonly facts: HostFacts,
    private readonly opts: OverlayKernelOptions,
    private readonly log: Logger,
  ) {}

  private get host(): HostContext {
    return { ...this.facts, gwSubnet: this.facts.gwSubnet() };
  }

  /** Where an endpoint's workload end lives: its namespace, or (docker mode) the agent's own. */
  private netnsTargetOf(ep: EndpointRecord): string {
    return ep.leaveInHost ? this.host.selfNsTarget : nsTarget(nsFromPath(ep.netns));
  }

  /** Drops what is known about a namespace, so the next sync reads it again. */
  forgetSandbox(net: NetworkRecord): void {
    this.links.forget(namedNs(net.sandbox));
  }

  forgetWorkload(netns: string): void {
    if (netns) this.links.forget(nsFromPath(netns));
  }

  /**
   * Makes the sandbox namespaces match the network records: creates missing ones, removes this
   * agent's unaccounted ones (never another agent's: see ownership.ts; none at all with salvage).
   */
  syncNamespaces(): Promise<void> {
    return this.netnsLock.run(async () => {
      const prefix = sandboxPrefix(this.opts.netnsPrefix);
      const ours = sandboxPattern(this.opts.netnsPrefix);
      const want = new Set(this.records.networks.values().map((n) => n.sandbox));
      const found = await listNamespaces(prefix);
      const gc = decideGc(found, (n) => ours.test(n), want, this.opts.salvage);
      const remove = new Set(gc.remove);
      // Everything found that must not go is "wanted" too: reconcileNamespaces removes only the rest.
      const keep = [...want, ...found.filter((n) => !remove.has(n))];
      const { created, deleted } = await reconcileNamespaces(prefix, new Set(keep));
      for (const n of [...created, ...deleted]) this.links.forget(namedNs(n));
      if (deleted.length) this.log.info(summarize(deleted), 'removed sandbox namespaces of this agent that no network refers to');
      if (gc.kept.length) {
        this.log.warn(summarize(gc.kept), 'salvage: keeping sandbox namespaces the store does not account for (remove them by hand once unused)');
      }
    });
  }

  syncSandbox(net: NetworkRecord, fresh = false): Promise<void> {
    return this.coalesce.request(`sandbox:${net.id}`, async () => {
      const cur = this.records.networks.get(net.id);
      if (!cur) return;
      const ns = namedNs(cur.sandbox);
      const eps = this.records.endpointsOf(cur.id).map((e) => ({ ...e, netnsTarget: this.netnsTargetOf(e) }));
      let r = await this.links.reconcile(ns, sandboxDesired(cur, eps), { fresh });
      if (r.missing.includes(VXLAN)) {
        await ipBatch(SELF_NS, vxlanCreateLines(cur, this.host));
        r = await this.links.reconcile(ns, sandboxDesired(cur, eps), { fresh: true });
      }
      if (r.missing.length) throw new KernelError(`links missing in ${cur.sandbox}: ${r.missing.join(', ')}`, 'reconcile', '');
    });
  }

  /** vxmesh_gwbridge and the gateway legs in the agent's namespace. */
  syncHost(fresh = false): Promise<void> {
    return this.coalesce.request('host', async () => {
      // A leg whose namespace is gone cannot be (re)made; its records go at the next resync.
      const gws = this.records.gateways
        .values()
        .filter((g) => nsExists(nsFromPath(g.netns)))
        .map((g) => ({ ...g, netnsTarget: nsTarget(nsFromPath(g.netns)) }));
      const desired = hostDesired(gws, this.host);
      if (this.opts.salvage) {
        // Only legs the store accounts for are managed; unknown vxmesh-named links stay.
        const recorded = new Set(this.records.gateways.values().map((g) => gatewayVeth(g.id)));
        desired.owns = (n) => n === GW_BRIDGE || recorded.has(n);
      }
      await this.links.reconcile(SELF_NS, desired, { fresh });
    });
  }

  /** Salvage: names the vxmesh-named links in the agent's namespace no record accounts for (one line). */
  async reportUnaccountedHostLinks(): Promise<void> {
    if (!this.opts.salvage) return;
    const actual = await readNs(SELF_NS, false);
    const recorded = new Set([GW_BRIDGE, ...this.records.gateways.values().map((g) => gatewayVeth(g.id))]);
    const kept = decideGc(actual.links.keys(), isHostOwnedLink, recorded, true).kept;
    if (kept.length) this.log.warn(summarize(kept), 'salvage: keeping links the store does not account for (remove them by hand once unused)');
  }

  syncHostFirewall(force = false): Promise<void> {
    return this.coalesce.request('nft', async () => {
      const subnets = this.records.networks.values().map((n) => n.v4.subnet).sort();
      await this.nft.apply(SELF_NS, hostNftBody(this.opts.gwBridgePool, subnets), { force });
      await this.nft.apply(SELF_NS, hostBridgeNftBody(), { force, family: 'bridge' });
    });
  }

  /** A workload namespace: exactly the interfaces (and the route) vxmesh put there. */
  syncWorkload(netns: string, fresh = false, assume?: () => NsActual): Promise<void> {
    return this.coalesce.request(`workload:${netns}`, async () => {
      const eps = this.records.endpointsIn(netns).flatMap((ep) => {
        const net = this.records.networks.get(ep.networkId);
        return net ? [{ ep, net }] : [];
      });
      const gw = this.records.gatewayIn(netns);
      if (!eps.length && !gw) return;
      const r = await this.links.reconcile(nsFromPath(netns), workloadDesired(eps, gw, this.host), { fresh, assume });
      if (r.missing.length) throw new KernelError(`interfaces missing in ${netns}: ${r.missing.join(', ')}`, 'reconcile', '');
    });
  }

  /** Every sandbox's links, the gateway legs and the workload namespaces; one failure never stops the rest. */
  async syncAllLinks(fresh: boolean): Promise<void> {
    if (fresh) this.links.forgetAll();
    await ensureSysctls(SELF_NS, { 'net.ipv4.ip_forward': '1' });
    await this.syncHost(fresh);
    const nets = this.records.networks.values();
    this.logFailures('network sandbox', nets.map((n) => n.name), await Promise.allSettled(nets.map((n) => this.syncSandbox(n, fresh))));
    // Namespaces with an attach in flight are left to that attach.
    const eps = this.records.endpoints.values();
    const busy = new Set(eps.filter((e) => e.state === 'pending').map((e) => e.netns));
    const netnses = new Set(eps.filter((e) => !e.leaveInHost && !busy.has(e.netns)).map((e) => e.netns));
    for (const g of this.records.gateways.values()) if (!busy.has(g.netns)) netnses.add(g.netns);
    const list = [...netnses];
    this.logFailures('workload namespace', list, await Promise.allSettled(list.map((p) => this.syncWorkload(p, fresh))));
  }

  private logFailures(what: string, names: string[], results: PromiseSettledResult<void>[]): void {
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${names[i]}: ${errText(r.reason)}`] : []));
    if (failed.length) this.log.error(summarize(failed), `could not reconcile ${failed.length} ${what}(s)`);
  }
}

/** What a workload namespace holds right after vxmesh's first veth ends were moved into it. */
export function freshWorkloadState(ep: EndpointRecord, gw: GatewayRecord): NsActual {
  const veth = (name: string): [string, ActualLink] => [name, { name, kind: 'veth', mtu: 0, mac: '', up: false }];
  return {
    links: new Map([
      ['lo', { name: 'lo', kind: 'other', mtu: 65536, mac: '00:00:00:00:00:00', up: false }],
      veth(workloadTempVeth(ep.id)),
      veth(gatewayTempVeth(gw.id)),
    ]),
    addrs: [],
    routes: [],
    neigh: [],
    fdb: [],
  };
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
