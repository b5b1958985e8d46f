import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  allocate,
  createPool,
  formatCidr,
  formatIp,
  isAllocated,
  parseCidr,
  parseIp,
  poolInfo,
  release,
  type DefaultPools,
  type PoolState,
} from '../ipam/index.js';
import {
  KernelError,
  LinkReconciler,
  NftReconciler,
  SELF_NS,
  ensureSysctls,
  ipBatch,
  namedNs,
  nsExists,
  nsFromPath,
  nsTarget,
  probeKernel,
  reconcileNamespaces,
  type ActualLink,
  type KernelFeatures,
  type NsActual,
} from '../kernel/index.js';
import { hostBridgeNftBody, hostDesired, hostNftBody, macFromIpv4, sandboxDesired, vxlanCreateLines, workloadDesired, type HostContext } from '../overlay/desired.js';
import { keys, type EndpointRecord, type GatewayRecord, type NetworkRecord } from '../overlay/model.js';
import { GW_BRIDGE, VXLAN, gatewayTempVeth, sandboxName, sandboxPrefix, workloadTempVeth } from '../overlay/names.js';
import type { Store, TxnOp } from '../store/index.js';
import { Coalescer } from '../util/coalescer.js';
import { Mutex } from '../util/mutex.js';
import type { AgentConfig } from './config.js';
import type { GossipService } from './gossip.js';
import { VxError } from '../errors.js';
import type { AgentApi, AttachRequest, CreateNetworkRequest, EndpointInfo, GossipNode, KeyOp, KeyOpResult, NetworkInfo, PoolGrant, PoolRequest, StatusInfo } from '../model/api.js';
import { checkCidr, checkIp, checkLabels, checkMac, checkMtu, checkName, checkNetnsPath } from './validate.js';

export const VERSION = '0.1.0';
const VNI_MIN = 4096;
const VNI_MAX = 16_777_215;
const GW_POOL_OWNER = GW_BRIDGE;

export interface HostFacts {
  advertiseAddr?: string;
  underlayMtu: number;
}

interface Pending {
  ops: TxnOp[];
  pools: Map<string, { state: PoolState; revision: number }>;
}

/**
 * The agent's core: desired state in the store, kernel state derived from it by reconcilers.
 * Store mutations are serialised by one mutex (they are short); kernel work runs outside it,
 * coalesced per namespace so concurrent changes share batches.
 */
export class Agent implements AgentApi {
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly gateways = new Map<string, GatewayRecord>();
  private readonly storeLock = new Mutex();
  private readonly netnsLock = new Mutex();
  private readonly coalesce = new Coalescer();
  private readonly links = new LinkReconciler();
  private readonly nft = new NftReconciler();
  private readonly host: HostContext;
  private gwPoolId = '';
  private features: KernelFeatures = { vxlan: false, nftables: false, ipvs: false };
  private resyncTimer: NodeJS.Timeout | undefined;
  /** Set by the composition root once gossip runs (src/agent/gossip.ts). */
  gossip: Pick<GossipService, 'listNodes' | 'keyOp' | 'status'> | undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly store: Store,
    private readonly log: Logger,
    private readonly facts: HostFacts,
  ) {
    const gw = parseCidr(config.gwBridgePool, { strict: true });
    this.host = {
      selfNsTarget: nsTarget(SELF_NS),
      advertiseAddr: facts.advertiseAddr,
      dataPathPort: config.dataPathPort,
      gwSubnet: { gateway: '', prefix: gw.prefix },
    };
  }

  private get defaults(): DefaultPools {
    return {
      v4: this.config.defaultAddrPool.map((base) => ({ base, size: this.config.defaultAddrPoolSize })),
      v6: this.config.defaultAddrPoolV6.map((base) => ({ base, size: this.config.defaultAddrPoolSizeV6 })),
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /** Loads the store, rolls back half-done work, and makes the kernel match (adopt, repair, remove). */
  async start(): Promise<void> {
    this.features = await probeKernel();
    await this.ensureGatewayPool();
    for (const kv of await this.store.list<NetworkRecord>('networks/')) this.networks.set(kv.value.id, kv.value);
    for (const kv of await this.store.list<EndpointRecord>('endpoints/')) this.endpoints.set(kv.value.id, kv.value);
    for (const kv of await this.store.list<GatewayRecord>('gateways/')) this.gateways.set(kv.value.id, kv.value);

    const stale = [...this.endpoints.values()].filter(
      (ep) => ep.state === 'pending' || (!ep.leaveInHost && !nsExists(nsFromPath(ep.netns))),
    );
    for (const ep of stale) {
      this.log.warn({ endpoint: ep.id, netns: ep.netns, state: ep.state }, 'removing endpoint left half-done or whose namespace is gone');
      await this.dropEndpoint(ep);
    }
    await this.dropUnusedGateways();
    await this.reconcileAll(true);
    this.log.info(
      { networks: this.networks.size, endpoints: this.endpoints.size, advertiseAddr: this.facts.advertiseAddr },
      'state reconciled with the kernel',
    );
    this.resyncTimer = setInterval(() => {
      this.resync().catch((e) => this.log.error({ err: String(e) }, 'periodic resync failed'));
    }, 30_000);
    this.resyncTimer.unref();
  }

  /** Stops timers; leaves every kernel object in place so workloads keep their connectivity. */
  async stop(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
  }

  /** Drift repair: endpoints whose namespace vanished are removed; the kernel is re-read and fixed. */
  async resync(): Promise<void> {
    for (const ep of [...this.endpoints.values()]) {
      if (ep.state === 'ready' && !ep.leaveInHost && !nsExists(nsFromPath(ep.netns))) {
        this.log.info({ endpoint: ep.id, netns: ep.netns }, 'workload namespace is gone: detaching its endpoint');
        await this.detach(ep.id).catch((e) => this.log.warn({ err: String(e) }, 'detach of orphan failed'));
      }
    }
    await this.reconcileAll(true);
  }

  private async ensureGatewayPool(): Promise<void> {
    await this.storeLock.run(async () => {
      const pools = await this.store.list<PoolState>('ipam/pools/');
      let gw = pools.find((p) => p.value.owner === GW_POOL_OWNER);
      if (gw && gw.value.subnet !== formatCidr(parseCidr(this.config.gwBridgePool, { strict: true }))) {
        throw new VxError('FAILED_PRECONDITION', `gwbridge subnet is ${gw.value.subnet} in the store but ${this.config.gwBridgePool} was configured; start with --gwbridge-subnet ${gw.value.subnet}`);
      }
      if (!gw) {
        const state = createPool({ owner: GW_POOL_OWNER, family: 4, subnet: this.config.gwBridgePool }, pools.map((p) => p.value), this.defaults);
        await this.store.txn([{ op: 'put', key: keys.pool(state.id), value: state, expectRevision: 0 }]);
        gw = { key: keys.pool(state.id), value: state, revision: 1 };
      }
      this.gwPoolId = gw.value.id;
      this.host.gwSubnet.gateway = gw.value.gateway!;
    });
  }

  // ---------------------------------------------------------------- kernel

  private netnsTargetOf(ep: EndpointRecord): string {
    return ep.leaveInHost ? this.host.selfNsTarget : nsTarget(nsFromPath(ep.netns));
  }

  private endpointsOf(networkId: string): EndpointRecord[] {
    return [...this.endpoints.values()].filter((e) => e.networkId === networkId);
  }

  private syncNamespaces(): Promise<void> {
    return this.netnsLock.run(async () => {
      const want = [...this.networks.values()].map((n) => n.sandbox);
      const { created, deleted } = await reconcileNamespaces(sandboxPrefix(this.config.netnsPrefix), want);
      for (const n of [...created, ...deleted]) this.links.forget(namedNs(n));
      if (deleted.length) this.log.info({ deleted }, 'removed sandbox namespaces nothing refers to');
    });
  }

  private syncSandbox(net: NetworkRecord, fresh = false): Promise<void> {
    return this.coalesce.request(`sandbox:${net.id}`, async () => {
      const cur = this.networks.get(net.id);
      if (!cur) return;
      const ns = namedNs(cur.sandbox);
      const eps = this.endpointsOf(cur.id).map((e) => ({ ...e, netnsTarget: this.netnsTargetOf(e) }));
      let r = await this.links.reconcile(ns, sandboxDesired(cur, eps), { fresh });
      if (r.missing.includes(VXLAN)) {
        await ipBatch(SELF_NS, vxlanCreateLines(cur, this.host));
        r = await this.links.reconcile(ns, sandboxDesired(cur, eps), { fresh: true });
      }
      if (r.missing.length) throw new KernelError(`links missing in ${cur.sandbox}: ${r.missing.join(', ')}`, 'reconcile', '');
    });
  }

  private syncHost(fresh = false): Promise<void> {
    return this.coalesce.request('host', async () => {
      // A leg whose namespace is gone cannot be (re)made; its records go at the next resync.
      const gws = [...this.gateways.values()]
        .filter((g) => nsExists(nsFromPath(g.netns)))
        .map((g) => ({ ...g, netnsTarget: nsTarget(nsFromPath(g.netns)) }));
      await this.links.reconcile(SELF_NS, hostDesired(gws, this.host), { fresh });
    });
  }

  private syncHostFirewall(force = false): Promise<void> {
    return this.coalesce.request('nft', async () => {
      const subnets = [...this.networks.values()].map((n) => n.v4.subnet).sort();
      await this.nft.apply(SELF_NS, hostNftBody(this.config.gwBridgePool, subnets), { force });
      await this.nft.apply(SELF_NS, hostBridgeNftBody(), { force, family: 'bridge' });
    });
  }

  private syncWorkload(netns: string, fresh = false, assume?: () => NsActual): Promise<void> {
    return this.coalesce.request(`workload:${netns}`, async () => {
      const eps = [...this.endpoints.values()]
        .filter((e) => !e.leaveInHost && e.netns === netns)
        .flatMap((ep) => {
          const net = this.networks.get(ep.networkId);
          return net ? [{ ep, net }] : [];
        });
      const gw = [...this.gateways.values()].find((g) => g.netns === netns);
      if (!eps.length && !gw) return;
      const r = await this.links.reconcile(nsFromPath(netns), workloadDesired(eps, gw, this.host), { fresh, assume });
      if (r.missing.length) throw new KernelError(`interfaces missing in ${netns}: ${r.missing.join(', ')}`, 'reconcile', '');
    });
  }

  private async reconcileAll(fresh: boolean): Promise<void> {
    if (fresh) this.links.forgetAll();
    await ensureSysctls(SELF_NS, { 'net.ipv4.ip_forward': '1' });
    await this.syncNamespaces();
    await this.syncHost(fresh);
    // One broken network or workload namespace must not keep the others (or the agent) down.
    const nets = [...this.networks.values()];
    this.logFailures('network sandbox', nets.map((n) => n.name), await Promise.allSettled(nets.map((n) => this.syncSandbox(n, fresh))));
    // Namespaces with an attach in flight are left to that attach.
    const busy = new Set([...this.endpoints.values()].filter((e) => e.state === 'pending').map((e) => e.netns));
    const netnses = new Set([...this.endpoints.values()].filter((e) => !e.leaveInHost && !busy.has(e.netns)).map((e) => e.netns));
    for (const g of this.gateways.values()) if (!busy.has(g.netns)) netnses.add(g.netns);
    const list = [...netnses];
    this.logFailures('workload namespace', list, await Promise.allSettled(list.map((p) => this.syncWorkload(p, fresh))));
    await this.syncHostFirewall(fresh);
  }

  private logFailures(what: string, names: string[], results: PromiseSettledResult<void>[]): void {
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.log.error({ [what]: names[i], err: errText(r.reason) }, `could not reconcile ${what}`);
    });
  }

  // ---------------------------------------------------------------- store helpers

  private async loadPool(poolId: string, pending?: Pending): Promise<{ state: PoolState; revision: number }> {
    const p = pending?.pools.get(poolId);
    if (p) return p;
    const kv = await this.store.get<PoolState>(keys.pool(poolId));
    if (!kv) throw new VxError('NOT_FOUND', `address pool ${poolId} not found`);
    return { state: kv.value, revision: kv.revision };
  }

  private stagePool(pending: Pending, poolId: string, state: PoolState, revision: number): void {
    pending.pools.set(poolId, { state, revision });
  }

  private async commit(pending: Pending): Promise<void> {
    const ops = [...pending.ops];
    for (const [id, { state, revision }] of pending.pools) {
      ops.push({ op: 'put', key: keys.pool(id), value: state, expectRevision: revision });
    }
    await this.store.txn(ops);
  }

  private newPending(): Pending {
    return { ops: [], pools: new Map() };
  }

  /** Removes an endpoint's record and releases what it holds (no kernel work). */
  private async dropEndpoint(ep: EndpointRecord): Promise<void> {
    await this.storeLock.run(async () => {
      const p = this.newPending();
      const net = this.networks.get(ep.networkId);
      if (net && !ep.preallocated) {
        await this.releaseInto(p, net.v4.poolId, ep.ipv4);
        if (ep.ipv6 && net.v6) await this.releaseInto(p, net.v6.poolId, ep.ipv6);
      }
      p.ops.push({ op: 'delete', key: keys.endpoint(ep.id) });
      await this.commit(p);
      this.endpoints.delete(ep.id);
    });
  }

  private async releaseInto(p: Pending, poolId: string, ip: string): Promise<void> {
    const pool = await this.loadPool(poolId, p).catch(() => undefined);
    if (!pool || !isAllocated(pool.state, ip)) return;
    this.stagePool(p, poolId, release(pool.state, ip), pool.revision);
  }

  /** Gateway legs whose namespace has no non-internal endpoint any more. Returns the removed ones. */
  private async dropUnusedGateways(): Promise<GatewayRecord[]> {
    return this.storeLock.run(async () => {
      const unused = [...this.gateways.values()].filter(
        (g) => g.state === 'pending' || !this.wantsGateway(g.netns),
      );
      if (!unused.length) return [];
      const p = this.newPending();
      for (const g of unused) {
        await this.releaseInto(p, this.gwPoolId, g.ip);
        p.ops.push({ op: 'delete', key: keys.gateway(g.id) });
      }
      await this.commit(p);
      for (const g of unused) this.gateways.delete(g.id);
      return unused;
    });
  }

  private wantsGateway(netns: string): boolean {
    return [...this.endpoints.values()].some(
      (e) => e.netns === netns && !e.leaveInHost && !this.networks.get(e.networkId)?.internal,
    );
  }

  // ---------------------------------------------------------------- networks

  private findNetwork(nameOrId: string): NetworkRecord {
    if (!nameOrId) throw new VxError('INVALID_ARGUMENT', 'missing network name');
    for (const n of this.networks.values()) if (n.name === nameOrId || n.id === nameOrId) return n;
    const byPrefix = [...this.networks.values()].filter((n) => nameOrId.length >= 6 && n.id.startsWith(nameOrId));
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new VxError('INVALID_ARGUMENT', `network id prefix ${nameOrId} is ambiguous: give more characters`);
    throw new VxError('NOT_FOUND', `network "${nameOrId}" not found: \`vxmesh network ls\` lists the networks`);
  }

  private networkInfo(n: NetworkRecord): NetworkInfo {
    const sub = (s: NetworkRecord['v4']) => ({ subnet: s.subnet, gateway: s.gateway, auxAddresses: {} as Record<string, string> });
    const info: NetworkInfo = {
      id: n.id,
      name: n.name,
      vni: n.vni,
      mtu: n.mtu,
      internal: n.internal,
      labels: { ...n.labels },
      ipv4: sub(n.v4),
      sandbox: n.sandbox,
      endpointCount: this.endpointsOf(n.id).length,
      createdAt: n.createdAt,
    };
    if (n.v6) info.ipv6 = sub(n.v6);
    return info;
  }

  private async networkInfoFull(n: NetworkRecord): Promise<NetworkInfo> {
    const info = this.networkInfo(n);
    const fill = async (s: NetworkRecord['v4'], into: NetworkInfo['ipv4']) => {
      const kv = await this.store.get<PoolState>(keys.pool(s.poolId));
      if (!kv) return;
      const pi = poolInfo(kv.value);
      into.auxAddresses = pi.auxAddresses;
      if (pi.ipRange) into.ipRange = pi.ipRange;
    };
    await fill(n.v4, info.ipv4);
    if (n.v6 && info.ipv6) await fill(n.v6, info.ipv6);
    return info;
  }

  async createNetwork(req: CreateNetworkRequest): Promise<NetworkInfo> {
    const name = checkName('network', req.name);
    checkMtu(req.mtu);
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
    const mtu = req.mtu ?? this.facts.underlayMtu - 50;

    const net = await this.storeLock.run(async () => {
      if ([...this.networks.values()].some((n) => n.name === name)) {
        throw new VxError('ALREADY_EXISTS', `network "${name}" already exists: pick another name or remove it first (vxmesh network rm ${name})`);
      }
      const p = this.newPending();
      const allPools = (await this.store.list<PoolState>('ipam/pools/')).map((kv) => kv.value);
      const v4 = await this.bindPool(p, allPools, req.ipv4PoolId, req.gateway, {
        owner: name, family: 4, subnet: req.subnet, gateway: req.gateway, ipRange: req.ipRange, auxAddresses: req.auxAddresses,
      });
      const v6 = req.ipv6
        ? await this.bindPool(p, [...allPools, ...[...p.pools.values()].map((x) => x.state)], req.ipv6PoolId, req.gatewayV6, {
            owner: name, family: 6, subnet: req.subnetV6, gateway: req.gatewayV6, ipRange: req.ipRangeV6,
          })
        : undefined;
      const id = randomBytes(32).toString('hex');
      const record: NetworkRecord = {
        id,
        name,
        vni: this.freeVni(),
        mtu,
        internal: Boolean(req.internal),
        labels,
        v4,
        ...(v6 ? { v6 } : {}),
        ownsPools: !req.ipv4PoolId,
        sandbox: sandboxName(this.config.netnsPrefix, id),
        createdAt: new Date().toISOString(),
      };
      p.ops.push({ op: 'put', key: keys.network(id), value: record, expectRevision: 0 });
      await this.commit(p);
      this.networks.set(id, record);
      return record;
    });

    try {
      await this.syncNamespaces();
      await this.syncSandbox(net, true);
      await this.syncHostFirewall();
    } catch (e) {
      this.log.error({ network: name, err: String(e) }, 'network create failed in the kernel: rolling back');
      await this.deleteNetworkRecord(net).catch(() => undefined);
      await this.syncNamespaces().catch(() => undefined);
      await this.syncHostFirewall().catch(() => undefined);
      throw new VxError('INTERNAL', `creating network "${name}" failed: ${errText(e)}; nothing was kept`);
    }
    this.log.info({ network: name, id: net.id, vni: net.vni, subnet: net.v4.subnet }, 'network created');
    return this.networkInfoFull(net);
  }

  private async bindPool(
    p: Pending,
    allPools: PoolState[],
    poolId: string | undefined,
    gateway: string | undefined,
    req: Parameters<typeof createPool>[0],
  ): Promise<NetworkRecord['v4']> {
    if (poolId) {
      if ([...this.networks.values()].some((n) => n.v4.poolId === poolId || n.v6?.poolId === poolId)) {
        throw new VxError('ALREADY_EXISTS', `address pool ${poolId} already belongs to a network`);
      }
      const pool = await this.loadPool(poolId, p);
      const info = poolInfo(pool.state);
      const gw = gateway ?? info.gateway;
      if (!gw) throw new VxError('INVALID_ARGUMENT', `address pool ${poolId} has no gateway: request one first`);
      return { poolId, subnet: info.subnet, gateway: gw, prefix: info.prefix };
    }
    const state = createPool(req, allPools, this.defaults);
    this.stagePool(p, state.id, state, 0);
    const info = poolInfo(state);
    return { poolId: state.id, subnet: info.subnet, gateway: info.gateway!, prefix: info.prefix };
  }

  private freeVni(): number {
    const used = new Set([...this.networks.values()].map((n) => n.vni));
    for (let v = VNI_MIN; v <= VNI_MAX; v++) if (!used.has(v)) return v;
    throw new VxError('RESOURCE_EXHAUSTED', 'no free VXLAN network identifier left');
  }

  private async deleteNetworkRecord(net: NetworkRecord, precondition?: () => void): Promise<void> {
    await this.storeLock.run(async () => {
      precondition?.();
      const ops: TxnOp[] = [{ op: 'delete', key: keys.network(net.id) }];
      if (net.ownsPools) {
        ops.push({ op: 'delete', key: keys.pool(net.v4.poolId) });
        if (net.v6) ops.push({ op: 'delete', key: keys.pool(net.v6.poolId) });
      }
      await this.store.txn(ops);
      this.networks.delete(net.id);
    });
  }

  async listNetworks(): Promise<NetworkInfo[]> {
    const nets = [...this.networks.values()].sort((a, b) => a.name.localeCompare(b.name));
    return Promise.all(nets.map((n) => this.networkInfoFull(n)));
  }

  async inspectNetwork(nameOrId: string): Promise<NetworkInfo> {
    return this.networkInfoFull(this.findNetwork(nameOrId));
  }

  async removeNetwork(nameOrId: string): Promise<void> {
    const net = this.findNetwork(nameOrId);
    await this.deleteNetworkRecord(net, () => {
      // checked under the store lock, so no attach can slip in between the check and the delete
      const eps = this.endpointsOf(net.id);
      if (eps.length) {
        throw new VxError(
          'FAILED_PRECONDITION',
          `network "${net.name}" has ${eps.length} attached endpoint(s) (${eps.slice(0, 3).map((e) => e.id.slice(0, 12)).join(', ')}${eps.length > 3 ? ', ...' : ''}): detach them first (vxmesh endpoint detach ID)`,
        );
      }
    });
    this.links.forget(namedNs(net.sandbox));
    await this.syncNamespaces();
    await this.syncHostFirewall();
    this.log.info({ network: net.name, id: net.id }, 'network removed');
  }

  // ---------------------------------------------------------------- endpoints

  private findEndpoint(id: string): EndpointRecord {
    if (!id) throw new VxError('INVALID_ARGUMENT', 'missing endpoint id');
    const exact = this.endpoints.get(id);
    if (exact) return exact;
    const m = [...this.endpoints.values()].filter((e) => id.length >= 6 && e.id.startsWith(id));
    if (m.length === 1) return m[0]!;
    if (m.length > 1) throw new VxError('INVALID_ARGUMENT', `endpoint id prefix ${id} is ambiguous: give more characters`);
    throw new VxError('NOT_FOUND', `endpoint ${id} not found: \`vxmesh endpoint ls\` lists the endpoints`);
  }

  private endpointInfo(ep: EndpointRecord): EndpointInfo {
    const net = this.networks.get(ep.networkId);
    const info: EndpointInfo = {
      id: ep.id,
      network: net?.name ?? '',
      networkId: ep.networkId,
      name: ep.name,
      aliases: [...ep.aliases],
      netns: ep.netns,
      ipv4: `${ep.ipv4}/${net?.v4.prefix ?? 32}`,
      mac: ep.mac,
      ifName: ep.ifName,
      labels: { ...ep.labels },
      createdAt: ep.createdAt,
    };
    if (net) info.gatewayIpv4 = net.v4.gateway;
    if (ep.ipv6 && net?.v6) {
      info.ipv6 = `${ep.ipv6}/${net.v6.prefix}`;
      info.gatewayIpv6 = net.v6.gateway;
    }
    return info;
  }

  private nextIfName(netns: string, skip: Set<string> = new Set()): string {
    const used = new Set<string>(skip);
    for (const e of this.endpoints.values()) if (e.netns === netns && !e.leaveInHost) used.add(e.ifName);
    for (const g of this.gateways.values()) if (g.netns === netns) used.add(g.ifName);
    for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
  }

  async attach(req: AttachRequest): Promise<EndpointInfo> {
    const net = this.findNetwork(req.network);
    const leaveInHost = Boolean(req.leaveInHost);
    const netns = leaveInHost ? '' : checkNetnsPath(req.netns);
    const name = req.name === undefined || req.name === '' ? undefined : checkName('endpoint', req.name);
    const aliases = (req.aliases ?? []).map((a) => checkName('alias', a));
    if (req.ip) checkIp('ip', req.ip, 4);
    if (req.ipv6) {
      checkIp('ipv6', req.ipv6, 6);
      if (!net.v6) throw new VxError('INVALID_ARGUMENT', `network "${net.name}" has no IPv6 subnet: create it with --ipv6 to use --ipv6 addresses`);
    }
    const mac = req.mac ? checkMac(req.mac) : undefined;
    const labels = checkLabels(req.labels);
    if (req.preallocated && !req.ip) throw new VxError('INVALID_ARGUMENT', 'preallocated needs ip');

    const t0 = performance.now();
    const { ep, gw } = await this.storeLock.run(async () => {
      if (!this.networks.has(net.id)) throw new VxError('NOT_FOUND', `network "${net.name}" was just removed`);
      if (name && this.endpointsOf(net.id).some((e) => e.name === name)) {
        throw new VxError('ALREADY_EXISTS', `network "${net.name}" already has an endpoint named "${name}"`);
      }
      if (!leaveInHost && this.endpointsOf(net.id).some((e) => e.netns === netns)) {
        throw new VxError('ALREADY_EXISTS', `${netns} is already attached to network "${net.name}"`);
      }
      const p = this.newPending();
      const v4 = await this.allocateFrom(p, net.v4.poolId, req.ip, Boolean(req.preallocated), net.name);
      const v6 = net.v6 ? await this.allocateFrom(p, net.v6.poolId, req.ipv6, Boolean(req.preallocated && req.ipv6), net.name) : undefined;
      const id = randomBytes(32).toString('hex');
      const macAddr = mac ?? macFromIpv4(v4);
      if (mac && [...this.endpoints.values()].some((e) => e.networkId === net.id && e.mac === macAddr)) {
        throw new VxError('ALREADY_EXISTS', `MAC address ${macAddr} is already used on network "${net.name}"`);
      }
      const ifName = leaveInHost ? `vd${id.slice(0, 12)}` : this.nextIfName(netns);
      const ep: EndpointRecord = {
        id,
        networkId: net.id,
        name: name ?? id.slice(0, 12),
        aliases,
        netns,
        ifName,
        ipv4: v4,
        ...(v6 ? { ipv6: v6 } : {}),
        mac: macAddr,
        leaveInHost,
        preallocated: Boolean(req.preallocated),
        labels,
        state: 'pending',
        createdAt: new Date().toISOString(),
      };
      p.ops.push({ op: 'put', key: keys.endpoint(id), value: ep, expectRevision: 0 });
      let gw: GatewayRecord | undefined;
      if (!leaveInHost && !net.internal && ![...this.gateways.values()].some((g) => g.netns === netns)) {
        const pool = await this.loadPool(this.gwPoolId, p);
        const a = allocate(pool.state, { purpose: `gateway leg of ${netns}` });
        this.stagePool(p, this.gwPoolId, a.pool, pool.revision);
        gw = {
          id: createHash('sha256').update(netns).digest('hex').slice(0, 12),
          netns,
          ifName: this.nextIfName(netns, new Set([ifName])),
          ip: a.ip,
          mac: macFromIpv4(a.ip),
          state: 'pending',
        };
        p.ops.push({ op: 'put', key: keys.gateway(gw.id), value: gw, expectRevision: 0 });
      }
      await this.commit(p);
      this.endpoints.set(id, ep);
      if (gw) this.gateways.set(gw.id, gw);
      return { ep, gw };
    });

    const t1 = performance.now();
    try {
      await this.applyEndpoint(net, ep, gw);
    } catch (e) {
      this.log.warn({ endpoint: ep.id, err: String(e) }, 'attach failed in the kernel: rolling back');
      await this.rollbackEndpoint(net, ep);
      throw new VxError('INTERNAL', `attaching ${netns || 'endpoint'} to network "${net.name}" failed: ${errText(e)}; nothing was kept`);
    }

    const t2 = performance.now();
    await this.storeLock.run(async () => {
      const ops: TxnOp[] = [{ op: 'put', key: keys.endpoint(ep.id), value: { ...ep, state: 'ready' } }];
      if (gw) ops.push({ op: 'put', key: keys.gateway(gw.id), value: { ...gw, state: 'ready' } });
      await this.store.txn(ops);
      ep.state = 'ready';
      if (gw) gw.state = 'ready';
    });
    this.log.info(
      { endpoint: ep.id, network: net.name, ip: ep.ipv4, netns: ep.netns, ms: { allocate: ms(t1 - t0), kernel: ms(t2 - t1), commit: ms(performance.now() - t2) } },
      'endpoint attached',
    );
    return this.endpointInfo(ep);
  }

  private async applyEndpoint(net: NetworkRecord, ep: EndpointRecord, gw: GatewayRecord | undefined): Promise<void> {
    // A namespace vxmesh has never put anything in holds (we assume) only lo plus the veth ends
    // the sandbox and host batches just moved in: plan against that instead of reading it.
    const firstInNs = !ep.leaveInHost && gw !== undefined && this.endpointsIn(ep.netns).length === 1;
    const assume = firstInNs ? () => freshWorkloadState(ep, gw) : undefined;
    const once = async (retry: boolean) => {
      await Promise.all([this.syncSandbox(net), gw ? this.syncHost() : Promise.resolve()]);
      if (!ep.leaveInHost) await this.syncWorkload(ep.netns, false, retry ? undefined : assume);
    };
    try {
      await once(false);
    } catch (e) {
      // A shared (coalesced) batch may have failed for another endpoint's reason; retry once on fresh state.
      this.log.debug({ endpoint: ep.id, err: String(e) }, 'kernel batch failed; retrying on fresh state');
      this.links.forget(namedNs(net.sandbox));
      if (!ep.leaveInHost) this.links.forget(nsFromPath(ep.netns));
      await once(true);
    }
  }

  private endpointsIn(netns: string): EndpointRecord[] {
    return [...this.endpoints.values()].filter((e) => e.netns === netns && !e.leaveInHost);
  }

  private async rollbackEndpoint(net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    await this.dropEndpoint(ep).catch((e) => this.log.error({ err: String(e) }, 'rollback: store'));
    const removedGw = await this.dropUnusedGateways().catch(() => []);
    this.links.forget(namedNs(net.sandbox));
    await this.syncSandbox(net, true).catch((e) => this.log.error({ err: String(e) }, 'rollback: sandbox'));
    if (removedGw.length) await this.syncHost(true).catch((e) => this.log.error({ err: String(e) }, 'rollback: host'));
    if (!ep.leaveInHost) this.links.forget(nsFromPath(ep.netns));
  }

  private async allocateFrom(p: Pending, poolId: string, ip: string | undefined, preallocated: boolean, netName: string): Promise<string> {
    const pool = await this.loadPool(poolId, p);
    if (preallocated && ip) {
      if (!isAllocated(pool.state, ip)) throw new VxError('FAILED_PRECONDITION', `address ${ip} was not requested from the pool of network "${netName}"`);
      return canonicalIp(ip);
    }
    const a = allocate(pool.state, ip ? { ip, purpose: 'endpoint' } : { purpose: 'endpoint' });
    this.stagePool(p, poolId, a.pool, pool.revision);
    return a.ip;
  }

  async detach(endpointId: string): Promise<void> {
    const ep = this.findEndpoint(endpointId);
    const net = this.networks.get(ep.networkId);
    await this.dropEndpoint(ep);
    const removedGw = await this.dropUnusedGateways();
    if (!ep.leaveInHost) this.links.forget(nsFromPath(ep.netns)); // its eth0 goes with the sandbox veth
    if (net) await this.syncSandbox(net);
    if (removedGw.length) await this.syncHost();
    this.log.info({ endpoint: ep.id, network: net?.name }, 'endpoint detached');
  }

  async listEndpoints(network?: string): Promise<EndpointInfo[]> {
    const netId = network ? this.findNetwork(network).id : undefined;
    return [...this.endpoints.values()]
      .filter((e) => !netId || e.networkId === netId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map((e) => this.endpointInfo(e));
  }

  async status(): Promise<StatusInfo> {
    return {
      version: VERSION,
      advertiseAddr: this.facts.advertiseAddr ?? '',
      dataDir: this.config.dataDir,
      networks: this.networks.size,
      endpoints: this.endpoints.size,
      features: { ...this.features },
      ...(this.gossip ? { gossip: this.gossip.status() } : {}),
    };
  }

  // ---------------------------------------------------------------- gossip

  async listNodes(): Promise<GossipNode[]> {
    return this.requireGossip().listNodes();
  }

  async gossipKey(op: KeyOp, key?: string): Promise<KeyOpResult> {
    return this.requireGossip().keyOp(op, key);
  }

  private requireGossip(): NonNullable<Agent['gossip']> {
    if (!this.gossip) throw new VxError('FAILED_PRECONDITION', 'gossip is not running on this agent');
    return this.gossip;
  }

  // ---------------------------------------------------------------- docker IPAM surface

  async requestPool(req: PoolRequest): Promise<PoolGrant> {
    if (req.pool) checkCidr('pool', req.pool, req.v6 ? 6 : 4);
    if (req.subPool) checkCidr('sub-pool', req.subPool, req.v6 ? 6 : 4);
    if (req.subPool && !req.pool) throw new VxError('INVALID_ARGUMENT', 'an ip range (sub-pool) needs a subnet: give --subnet too');
    return this.storeLock.run(async () => {
      const all = (await this.store.list<PoolState>('ipam/pools/')).map((kv) => kv.value);
      const state = createPool(
        { owner: req.owner ?? 'docker', family: req.v6 ? 6 : 4, subnet: req.pool, ipRange: req.subPool, noGateway: true },
        all,
        this.defaults,
      );
      await this.store.txn([{ op: 'put', key: keys.pool(state.id), value: state, expectRevision: 0 }]);
      return { poolId: state.id, pool: state.subnet };
    });
  }

  async releasePool(poolId: string): Promise<void> {
    await this.storeLock.run(async () => {
      const owner = [...this.networks.values()].find((n) => n.v4.poolId === poolId || n.v6?.poolId === poolId);
      if (owner && owner.ownsPools) throw new VxError('FAILED_PRECONDITION', `pool ${poolId} belongs to network "${owner.name}": remove the network instead`);
      if (poolId === this.gwPoolId) throw new VxError('FAILED_PRECONDITION', 'the gwbridge pool cannot be released');
      const kv = await this.store.get(keys.pool(poolId));
      if (!kv) throw new VxError('NOT_FOUND', `address pool ${poolId} not found`);
      await this.store.txn([{ op: 'delete', key: keys.pool(poolId), expectRevision: kv.revision }]);
    });
  }

  async requestAddress(poolId: string, address?: string, purpose?: 'gateway' | 'endpoint'): Promise<string> {
    if (address) checkIp('address', address);
    return this.storeLock.run(async () => {
      const pool = await this.loadPool(poolId);
      const a = allocate(pool.state, { ...(address ? { ip: address } : {}), purpose: purpose ?? 'endpoint' });
      await this.store.txn([{ op: 'put', key: keys.pool(poolId), value: a.pool, expectRevision: pool.revision }]);
      return `${a.ip}/${poolInfo(a.pool).prefix}`;
    });
  }

  async releaseAddress(poolId: string, address: string): Promise<void> {
    checkIp('address', address);
    await this.storeLock.run(async () => {
      const pool = await this.loadPool(poolId);
      const next = release(pool.state, address);
      await this.store.txn([{ op: 'put', key: keys.pool(poolId), value: next, expectRevision: pool.revision }]);
    });
  }
}

/** What a workload namespace holds right after vxmesh's first veth ends were moved into it. */
function freshWorkloadState(ep: EndpointRecord, gw: GatewayRecord): NsActual {
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

function canonicalIp(ip: string): string {
  const v = parseIp(ip);
  return formatIp(v.family, v.value);
}

const ms = (x: number) => Math.round(x * 10) / 10;

function errText(e: unknown): string {
  if (e instanceof VxError) return e.message;
  if (e instanceof KernelError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
