// Turns the overlay's records into kernel state, one namespace at a time: sandbox namespaces (one
// per network), each sandbox's links, the gateway legs in the agent's namespace, workload
// namespaces, and the host firewall. Shared by the networks and endpoints controllers: a sandbox
// holds the network's bridge and vxlan device and its endpoints' veths.

import type { Logger } from 'pino';
import {
  KernelError,
  LinkReconciler,
  NftTableReconciler,
  SELF_NS,
  ensureSysctls,
  listNamespaces,
  namedNs,
  nsExists,
  nsFromPath,
  readNftTable,
  readNs,
  reconcileNamespaces,
  ruleCounters,
  setSymmetricFlowHashTcx,
  type ActualLink,
  type KernelObserver,
  type LinkDrift,
  type NsRef,
  type NsActual,
  type NsDesired,
} from '../kernel/index.js';
import { Coalescer } from '../util/coalescer.js';
import { Mutex } from '../util/mutex.js';
import { SANDBOX_RPS, Steering, WORKLOAD_FLOW_HASH } from './rx-steering.js';
import { SANDBOX_SYSCTLS, VXLAN_DROP_COMMENT, flowHashLinks, rpsLinks, hostBridgeFirewall, hostDesired, hostFirewall, sandboxDesired, workloadDesired, type HostContext } from './desired.js';
import type { EndpointRecord, GatewayRecord, NetworkRecord } from './model.js';
import { NFT_TABLE, dockerVeth, gatewayTempVeth, sandboxPrefix, workloadTempVeth } from './names.js';
import type { PeerKernelEntries } from './peer-desired.js';
import { decideGc, sandboxPattern, summarize } from './ownership.js';
import type { OverlayRecords } from './records.js';
import { errText } from '../errors.js';

/** The agent's namespace as the desired-state functions see it; the gwbridge subnet is known once IPAM started. */
export interface KernelHost extends Omit<HostContext, 'gwSubnet'> {
  gwSubnet: () => HostContext['gwSubnet'];
}

export interface OverlayKernelOptions {
  netnsPrefix: string;
  gwBridgePool: string;
  /** Remove nothing the store cannot account for (see ownership.ts). */
  salvage: boolean;
  /** RPS on the sandboxes' veth ends and the symmetric flow hash feeding it (desired.ts rpsLinks, flowHashLinks); --no-rps turns both off. */
  rps: boolean;
}

export class OverlayKernel {
  private readonly links: LinkReconciler;
  private readonly nft: NftTableReconciler;
  private readonly coalesce = new Coalescer();
  private readonly netnsLock = new Mutex();
  /**
   * Salvage: links found at start that no record accounts for, per namespace ('self' or a sandbox
   * name). They are never touched (a workload may still use them); everything else is managed as usual.
   */
  private readonly kept = new Map<string, Set<string>>();
  /** Salvage: sandbox namespaces found unaccounted at start (kept for good). */
  private keptNamespaces: Set<string> | undefined;
  /** The peer table's entries for a network's sandbox (undefined: not known yet, leave the kernel's). */
  private peerSource: (net: NetworkRecord) => PeerKernelEntries | undefined = () => undefined;
  /** Gossip members' advertise addresses for the VXLAN filter (undefined: not known yet). */
  private memberSource: () => string[] | undefined = () => undefined;
  /** RPS on the sandboxes' veth ends. */
  private readonly sandboxRps: Steering;
  /** The symmetric flow hash on the workloads' overlay interfaces (part of RPS). */
  private readonly flowHash: Steering;
  /** A docker endpoint's flow hash failed once already (logged at warn once, then at debug). */
  private dockerFlowHashFailed = false;

  constructor(
    private readonly records: OverlayRecords,
    private readonly facts: KernelHost,
    private readonly opts: OverlayKernelOptions,
    private readonly log: Logger,
    /** Hears of every kernel batch and repaired drift (metrics). */
    observer?: KernelObserver,
  ) {
    this.links = new LinkReconciler(observer);
    this.nft = new NftTableReconciler(observer);
    this.sandboxRps = new Steering(opts.rps, log, SANDBOX_RPS);
    this.flowHash = new Steering(opts.rps, log, WORKLOAD_FLOW_HASH);
  }

  private get host(): HostContext {
    return { ...this.facts, gwSubnet: this.facts.gwSubnet() };
  }

  /** The peers controller plugs the peer table in here; every sandbox sync then programs its entries. */
  setPeerSource(fn: (net: NetworkRecord) => PeerKernelEntries | undefined): void {
    this.peerSource = fn;
  }

  /** The peers controller plugs gossip membership in here; the host firewall then admits VXLAN from members only. */
  setMemberSource(fn: () => string[] | undefined): void {
    this.memberSource = fn;
  }

  /** Packets of VXLAN from non-members dropped so far (0 when the rule is not there yet). */
  async vxlanDropped(): Promise<number> {
    const table = await readNftTable(SELF_NS, 'inet', NFT_TABLE);
    return table ? (ruleCounters(table).get(VXLAN_DROP_COMMENT)?.packets ?? 0) : 0;
  }

  /**
   * What the kernel's members-only VXLAN filter admits right now (for doctor): whether its drop rule
   * is in place, and the addresses in its member sets. Read afresh; changes nothing.
   */
  async vxlanAdmission(): Promise<{ port: number; filtered: boolean; admitted: Set<string> }> {
    const table = await readNftTable(SELF_NS, 'inet', NFT_TABLE);
    const filtered = table ? ruleCounters(table).has(VXLAN_DROP_COMMENT) : false;
    const admitted = new Set([...(table?.sets.get('members4')?.elements.keys() ?? []), ...(table?.sets.get('members6')?.elements.keys() ?? [])]);
    return { port: this.facts.dataPathPort, filtered, admitted };
  }

  /** Drops what is known about a namespace, so the next sync reads it again. */
  forgetSandbox(net: NetworkRecord): void {
    this.links.forget(namedNs(net.sandbox));
    this.sandboxRps.forget(net.sandbox);
  }

  forgetWorkload(netns: string): void {
    if (!netns) return;
    this.links.forget(nsFromPath(netns));
    this.flowHash.forget(netns); // an interface name (eth0) comes back with the next endpoint
  }

  /**
   * Makes the sandbox namespaces match the network records: creates missing ones, removes this
   * agent's unaccounted ones (never another agent's: see ownership.ts). With salvage, the ones
   * unaccounted at start are kept for good; one removed later (network rm) goes as usual.
   */
  syncNamespaces(): Promise<void> {
    return this.netnsLock.run(async () => {
      const prefix = sandboxPrefix(this.opts.netnsPrefix);
      const ours = sandboxPattern(this.opts.netnsPrefix);
      const want = new Set(this.records.networks.values().filter((n) => this.records.wantsSandbox(n)).map((n) => n.sandbox));
      const found = await listNamespaces(prefix);
      const firstSalvage = this.opts.salvage && !this.keptNamespaces;
      const gc = decideGc(found, (n) => ours.test(n) && !this.keptNamespaces?.has(n), want, firstSalvage);
      if (firstSalvage) this.keptNamespaces = new Set(gc.kept);
      const remove = new Set(gc.remove);
      // Everything found that must not go is "wanted" too: reconcileNamespaces removes only the rest.
      const keep = [...want, ...found.filter((n) => !remove.has(n))];
      const { created, deleted } = await reconcileNamespaces(prefix, new Set(keep));
      for (const n of [...created, ...deleted]) {
        this.links.forget(namedNs(n));
        this.sandboxRps.forget(n);
      }
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
      // Shared store: the sandbox comes with this host's first endpoint on the network and goes after its last.
      const wanted = this.records.wantsSandbox(cur);
      let made = false;
      if (wanted !== nsExists(ns)) {
        await this.syncNamespaces();
        this.links.forget(ns);
        made = wanted;
      }
      if (!wanted) return;
      // vxlan0 is made in the agent's namespace (its socket lives on the underlay) and moved in by the reconciler.
      const desired = this.keepUnaccounted(cur.sandbox, sandboxDesired(cur, this.records.localEndpointsOf(cur.id), this.host, this.peerSource(cur)));
      // Sysctls when the namespace is made and at each full resync (a module loaded later, e.g. br_netfilter, starts them at its defaults).
      const sysctls = made || fresh ? this.sandboxSysctls(ns, cur.sandbox) : undefined;
      const [r] = await Promise.all([this.links.reconcile(ns, desired, { fresh }), sysctls]);
      if (r.missing.length) throw new KernelError(`links missing in ${cur.sandbox}: ${r.missing.join(', ')}`, 'reconcile', '');
      // RPS: off the attach's path (see rx-steering.ts), once per device; a full resync waits for it.
      await this.sandboxRps.update(ns, cur.sandbox, rpsLinks(desired), { wait: fresh, renew: r.arrived });
    });
  }

  /** A failure here costs throughput, not function: logged, never failing the sync. */
  private async sandboxSysctls(ns: NsRef, name: string): Promise<void> {
    try {
      await ensureSysctls(ns, SANDBOX_SYSCTLS, { ignoreMissing: true });
    } catch (e) {
      this.log.warn({ sandbox: name, err: errText(e) }, 'could not set the sandbox sysctls (bridged traffic keeps passing br_netfilter)');
    }
  }

  /** vxmesh_gwbridge and the gateway legs in the agent's namespace. */
  syncHost(fresh = false): Promise<void> {
    return this.coalesce.request('host', async () => {
      // A leg whose namespace is gone cannot be (re)made; its records go at the next resync.
      const gws = this.records.gateways.values().filter((g) => nsExists(nsFromPath(g.netns)));
      await this.links.reconcile(SELF_NS, this.keepUnaccounted('self', hostDesired(gws, this.host)), { fresh });
    });
  }

  /** Salvage: links in a sandbox that no record accounts for (a network rm would take them down). */
  unaccountedIn(sandbox: string): string[] {
    return [...(this.kept.get(sandbox) ?? [])].sort();
  }

  private keepUnaccounted(nsName: string, desired: NsDesired): NsDesired {
    const kept = this.kept.get(nsName);
    if (!kept?.size) return desired;
    const owns = desired.owns;
    return { ...desired, owns: (n) => owns(n) && !kept.has(n) };
  }

  /**
   * Salvage, at start: finds the links vxmesh would manage in the agent's namespace and in each
   * sandbox that no record accounts for, keeps them out of every reconcile, and names them in one line.
   */
  async findUnaccountedLinks(): Promise<void> {
    if (!this.opts.salvage) return;
    const names: string[] = [];
    const note = (nsName: string, desired: NsDesired, actual: NsActual) => {
      const wanted = new Set(desired.links.map((l) => l.name));
      const kept = decideGc(actual.links.keys(), desired.owns, wanted, true).kept;
      if (kept.length) this.kept.set(nsName, new Set(kept));
      names.push(...kept.map((k) => (nsName === 'self' ? k : `${nsName}/${k}`)));
    };
    const gws = this.records.gateways.values().filter((g) => nsExists(nsFromPath(g.netns)));
    note('self', hostDesired(gws, this.host), await readNs(SELF_NS, false));
    for (const net of this.records.networks.values()) {
      if (!nsExists(namedNs(net.sandbox))) continue;
      note(net.sandbox, sandboxDesired(net, this.records.localEndpointsOf(net.id), this.host), await readNs(namedNs(net.sandbox), false));
    }
    if (names.length) this.log.warn(summarize(names), 'salvage: keeping links the store does not account for (remove them by hand once unused)');
  }

  syncHostFirewall(force = false): Promise<void> {
    return this.coalesce.request('nft', async () => {
      const subnets = this.records.networks.values().map((n) => n.v4.subnet).sort();
      // One transaction per table with only what differs (a network is one set element); fresh reads repair drift.
      const vxlan = { port: this.facts.dataPathPort, members: this.memberSource() };
      await this.nft.reconcile(SELF_NS, hostFirewall(this.opts.gwBridgePool, subnets, vxlan), { fresh: force });
      await this.nft.reconcile(SELF_NS, hostBridgeFirewall(), { fresh: force });
    });
  }

  /**
   * Dry run of syncAllLinks (for `vxmesh doctor`): per namespace vxmesh manages, what a fresh
   * reconcile would change. Changes nothing; a namespace that is gone is reported as such.
   */
  async linkDrift(): Promise<NamespaceDrift[]> {
    const host = this.host;
    const out: NamespaceDrift[] = [];
    const check = async (drift: Omit<NamespaceDrift, 'exists' | 'drift'>, ns: NsRef, desired: () => NsDesired) => {
      if (!nsExists(ns)) return void out.push({ ...drift, exists: false });
      try {
        out.push({ ...drift, exists: true, drift: await this.links.diff(ns, desired()) });
      } catch (e) {
        out.push({ ...drift, exists: true, error: errText(e) });
      }
    };
    const gws = this.records.gateways.values().filter((g) => nsExists(nsFromPath(g.netns)));
    await check({ kind: 'host', name: 'host' }, SELF_NS, () => this.keepUnaccounted('self', hostDesired(gws, host)));
    // As syncAllLinks: only the sandboxes this host keeps, with its own endpoints and the peer table's entries.
    for (const net of this.records.networks.values().filter((n) => this.records.wantsSandbox(n))) {
      await check({ kind: 'sandbox', name: net.sandbox, network: `${net.name} ${net.id}` }, namedNs(net.sandbox), () =>
        this.keepUnaccounted(net.sandbox, sandboxDesired(net, this.records.localEndpointsOf(net.id), host, this.peerSource(net))));
    }
    const eps = this.records.localEndpoints().filter((e) => !e.leaveInHost && e.state === 'ready');
    for (const netns of new Set(eps.map((e) => e.netns))) {
      const mine = this.records.endpointsIn(netns).flatMap((ep) => {
        const net = this.records.networks.get(ep.networkId);
        return net ? [{ ep, net }] : [];
      });
      await check({ kind: 'workload', name: netns, endpoints: mine.map((m) => m.ep.id) }, nsFromPath(netns), () =>
        workloadDesired(mine, this.records.gatewayIn(netns), host));
    }
    return out;
  }

  /** Dry run of syncHostFirewall: the nft commands each of vxmesh's tables would need (none: no drift). */
  async firewallDrift(): Promise<{ table: string; commands: string[] }[]> {
    const subnets = this.records.networks.values().map((n) => n.v4.subnet).sort();
    const out = [];
    const vxlan = { port: this.facts.dataPathPort, members: this.memberSource() };
    for (const t of [hostFirewall(this.opts.gwBridgePool, subnets, vxlan), hostBridgeFirewall()]) {
      out.push({ table: `${t.family} ${t.name}`, commands: await this.nft.diff(SELF_NS, t) });
    }
    return out;
  }

  /**
   * Docker mode: the flow-hash program on the veth end the runtime is about to move into the
   * container. It goes on now, on tcx egress, because it must survive the move (a qdisc and its
   * filters do not) and the agent never enters the container's namespace. Part of the attach (the
   * runtime moves the veth once the attach returns); never fails it: without the program the
   * container's flows keep the socket's hash (RPS still spreads them, by chance).
   */
  async steerDockerVeth(ep: EndpointRecord): Promise<void> {
    if (!this.opts.rps || !ep.leaveInHost) return;
    try {
      await setSymmetricFlowHashTcx(SELF_NS, dockerVeth(ep.id));
    } catch (e) {
      const fields = { endpoint: ep.id.slice(0, 12), err: errText(e) };
      const what = "could not put the flow-hash program on a docker endpoint's veth (its flows keep the socket's hash: RPS may split a connection's data and ACKs)";
      if (this.dockerFlowHashFailed) this.log.debug(fields, what);
      else this.log.warn(fields, `${what}; later failures are logged at debug`);
      this.dockerFlowHashFailed = true;
    }
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
      const r = await this.links.reconcile(nsFromPath(netns), workloadDesired(eps, gw, this.host, this.opts.rps), { fresh, assume });
      if (r.missing.length) throw new KernelError(`interfaces missing in ${netns}: ${r.missing.join(', ')}`, 'reconcile', '');
      if (r.clsactFailed.length) this.log.warn({ netns, failed: r.clsactFailed }, 'could not add the clsact qdisc to a new overlay interface (the flow-hash write adds it later, dropping what the interface sends for a moment)');
      // The flow hash for RPS: off the attach's path, as the sandbox's masks; a full resync waits for it.
      await this.flowHash.update(nsFromPath(netns), netns, flowHashLinks(eps), { wait: fresh, renew: r.arrived });
    });
  }

  /** Every sandbox's links, the gateway legs and the workload namespaces; one failure never stops the rest. */
  async syncAllLinks(fresh: boolean): Promise<void> {
    if (fresh) this.links.forgetAll();
    await ensureSysctls(SELF_NS, { 'net.ipv4.ip_forward': '1' });
    await this.syncHost(fresh);
    const nets = this.records.networks.values().filter((n) => this.records.wantsSandbox(n));
    this.logFailures('network sandbox', nets.map((n) => n.name), await Promise.allSettled(nets.map((n) => this.syncSandbox(n, fresh))));
    // Namespaces with an attach in flight are left to that attach.
    const eps = this.records.localEndpoints();
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

/** One namespace's drift, as linkDrift() reports it. */
export interface NamespaceDrift {
  kind: 'host' | 'sandbox' | 'workload';
  /** The namespace: 'host', a sandbox name, or a workload's path. */
  name: string;
  /** Sandbox: its network's name and id ("NAME ID", as the CLI lists it). */
  network?: string;
  /** Workload: the endpoints in it. */
  endpoints?: string[];
  exists: boolean;
  drift?: LinkDrift;
  /** The namespace could not be read. */
  error?: string;
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

