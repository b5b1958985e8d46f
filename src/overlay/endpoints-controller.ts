// The endpoints plane: endpoint records, their north-south gateway legs, and the workload
// namespaces they are plumbed into. Attach is: check the target, reserve (addresses + a pending
// record, one store transaction), plumb the kernel, confirm (record ready); a failure at any step
// after reserve unwinds exactly what was done, in the kernel, in memory and in the store.

import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { VxError, errText } from '../errors.js';
import { inContext, type IpamController } from '../ipam/store-ipam.js';
import type { IpamTxn } from '../ipam/store-allocator.js';
import { nsExists, nsFromPath } from '../kernel/index.js';
import type { EndpointInfo } from '../model/api.js';
import type { Controller } from '../model/controller.js';
import { checkUnique, endpointRecord, gatewayRecord, needsGateway, stateAfterMove, type AttachTarget, type ValidAttach } from './attach-steps.js';
import { keys, type EndpointRecord, type GatewayRecord, type NetworkRecord } from './model.js';
import { type OverlayKernel } from './overlay-kernel.js';
import { summarize } from './ownership.js';
import type { OverlayRecords } from './records.js';
import { checkAttachTarget, hasOwnDefaultRoute, protectedNamespaces } from './self-protection.js';
import { endpointFields, networkFields } from './log-fields.js';
import { ReadyWriter } from './ready-writer.js';
import type { AckLog } from '../store/ack-log.js';

export interface EndpointsOptions {
  advertiseAddr?: string;
  /** The store was salvaged: a pending record may have lost its confirmation, so it is adopted, not rolled back. */
  salvage: boolean;
  /** The name of a service by id (for the `service` of a task's EndpointInfo). */
  serviceName?: (serviceId: string) => string | undefined;
  /**
   * A shared store (etcd): attach acknowledges in this host-local log and writes `ready` to the store
   * off its path (ready-writer.ts); `acked` is what the log held at start.
   */
  acks?: { log: AckLog; acked: ReadonlySet<string> };
}

/** Records whose kernel objects are gone but whose store delete failed (e.g. disk full): retried. */
interface Leftover {
  ep: EndpointRecord;
  net: NetworkRecord | undefined;
  legs: GatewayRecord[];
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  private readonly leftovers = new Map<string, Leftover>();
  private readonly ready: ReadyWriter | undefined;

  constructor(
    private readonly records: OverlayRecords,
    private readonly ipam: IpamController,
    private readonly kernel: OverlayKernel,
    private readonly opts: EndpointsOptions,
    private readonly log: Logger,
  ) {
    this.ready = opts.acks ? new ReadyWriter(records, ipam, opts.acks, log) : undefined;
  }

  /** Drops endpoints a crash left half-done or whose namespace vanished, then reconciles every link. */
  async start(): Promise<void> {
    const gone = (ep: EndpointRecord) => !ep.leaveInHost && !nsExists(nsFromPath(ep.netns));
    // Attaches acknowledged before a crash are finished first: the repair below drops `pending` records.
    await this.ready?.finishAcknowledged();
    // Only this host's: another host's endpoints live in namespaces this host cannot see.
    const all = this.records.localEndpoints();
    if (this.opts.salvage) {
      await this.adoptPending(all.filter((ep) => !gone(ep)));
      await this.reclaimAddresses();
    }
    const stale = all.filter((ep) => gone(ep) || (!this.opts.salvage && ep.state === 'pending'));
    if (stale.length) {
      this.log.warn(summarize(stale.map((e) => `${e.id.slice(0, 12)}@${e.netns || 'docker'}(${e.state})`)), 'removing endpoint left half-done or whose namespace is gone (each one named)');
      for (const ep of stale) await this.dropRecords(ep);
    }
    if (this.opts.salvage) await this.forgetUnusedLegsKeepingAddresses();
    else await this.dropUnusedGateways(true);
    await this.kernel.findUnaccountedLinks();
    await this.kernel.syncAllLinks(true);
  }

  /**
   * Salvage: a pool record may be older than the records of the endpoints and legs using it (the
   * newer one was damaged): every address a record holds is claimed again, so none is handed out twice.
   */
  private async reclaimAddresses(): Promise<void> {
    const outcome = await this.ipam.write(async (txn) => {
      const claimed: string[] = [];
      const failed: string[] = [];
      const claim = async (poolId: string, ip: string, who: string) => {
        const r = await txn.claimAddress(poolId, ip);
        if (r === 'claimed') claimed.push(`${who}:${ip}`);
        else if (r !== 'held') failed.push(`${who}:${ip} (${r})`);
      };
      for (const ep of this.records.localEndpoints()) {
        const net = this.records.networks.get(ep.networkId);
        if (!net || ep.preallocated) continue;
        await claim(net.v4.poolId, ep.ipv4, `endpoint ${ep.id.slice(0, 12)}`);
        if (ep.ipv6 && net.v6) await claim(net.v6.poolId, ep.ipv6, `endpoint ${ep.id.slice(0, 12)}`);
      }
      for (const g of this.records.gateways.values()) await claim(this.ipam.gateway.poolId, g.ip, `gateway leg ${g.id}`);
      return { claimed, failed };
    });
    if (outcome.claimed.length) this.log.warn(summarize(outcome.claimed), 'salvage: addresses in use that their pools had lost were claimed again');
    if (outcome.failed.length) this.log.error(summarize(outcome.failed), 'salvage: addresses in use that could not be claimed again (they may be handed out twice)');
  }

  /**
   * Salvage: a pending endpoint (or leg) whose namespace is still there may be one whose confirmation
   * was in the damaged part of the store; it keeps its interfaces and is listed again.
   */
  private async adoptPending(live: EndpointRecord[]): Promise<void> {
    const eps = live.filter((e) => e.state === 'pending');
    const legs = this.records.gateways.values().filter((g) => g.state === 'pending' && nsExists(nsFromPath(g.netns)));
    if (!eps.length && !legs.length) return;
    this.log.warn(
      summarize([...eps.map((e) => `endpoint ${e.id.slice(0, 12)}@${e.netns || 'docker'}`), ...legs.map((g) => `gateway leg ${g.id}@${g.netns}`)]),
      'salvage: adopting records left pending (their confirmation may have been in the damaged part of the store)',
    );
    await this.ipam.write(async (txn) => {
      for (const e of eps) txn.put(keys.endpoint(e.id), { ...e, state: 'ready' } satisfies EndpointRecord);
      for (const g of legs) txn.put(keys.gateway(g.id), { ...g, state: 'ready' } satisfies GatewayRecord);
    });
  }

  async stop(): Promise<void> {
    await this.ready?.stop();
  }

  /** Drift repair: endpoints whose namespace vanished are detached; the kernel is re-read and fixed. */
  async reconcile(): Promise<void> {
    await this.retryLeftovers();
    const orphans = this.records.localEndpoints().filter((ep) => ep.state === 'ready' && !ep.leaveInHost && !nsExists(nsFromPath(ep.netns)));
    if (orphans.length) {
      this.log.info(summarize(orphans.map((e) => `${e.id.slice(0, 12)}@${e.netns}`)), 'workload namespaces are gone: detaching their endpoints');
      const failed: string[] = [];
      for (const ep of orphans) await this.detach(ep.id).catch((e: unknown) => failed.push(`${ep.id.slice(0, 12)}: ${errText(e)}`));
      if (failed.length) this.log.warn(summarize(failed), 'could not detach endpoints whose namespace is gone (retried at the next resync)');
    }
    await this.kernel.syncAllLinks(true);
  }

  // ---------------------------------------------------------------- lookups

  find(id: string): EndpointRecord {
    if (!id) throw new VxError('INVALID_ARGUMENT', 'missing endpoint id');
    const ready = this.records.endpoints.values().filter((e) => e.state === 'ready');
    const exact = ready.find((e) => e.id === id);
    if (exact) return exact;
    const m = ready.filter((e) => id.length >= 6 && e.id.startsWith(id));
    if (m.length === 1) return m[0]!;
    if (m.length > 1) throw new VxError('INVALID_ARGUMENT', `endpoint id prefix ${id} is ambiguous: give more characters`);
    throw new VxError('NOT_FOUND', `endpoint ${id} not found: \`vxmesh endpoint ls\` lists the endpoints`);
  }

  /** Acknowledged endpoints only: an attach in flight (or being unwound) is not listed. */
  list(networkId?: string): EndpointInfo[] {
    return this.records.endpoints
      .values()
      .filter((e) => e.state === 'ready' && (!networkId || e.networkId === networkId))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map((e) => this.info(e));
  }

  /** Shared store: attaches acknowledged here whose `ready` record the store does not hold yet. */
  get owedReady(): number {
    return this.ready?.backlog ?? 0;
  }

  /** This host's acknowledged endpoints. */
  count(): number {
    return this.records.localEndpoints().filter((e) => e.state === 'ready').length;
  }

  private info(ep: EndpointRecord): EndpointInfo {
    const net = this.records.networks.get(ep.networkId);
    return {
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
      ...(net ? { gatewayIpv4: net.v4.gateway } : {}),
      ...(ep.serviceId ? { service: this.opts.serviceName?.(ep.serviceId) ?? ep.serviceId } : {}),
      ...(ep.ipv6 && net?.v6 ? { ipv6: `${ep.ipv6}/${net.v6.prefix}`, gatewayIpv6: net.v6.gateway } : {}),
    };
  }

  // ---------------------------------------------------------------- attach

  async attach(net: NetworkRecord, req: ValidAttach): Promise<EndpointInfo> {
    const t0 = performance.now();
    await this.retryLeftovers();
    const target = await this.checkTarget(net, req);
    const tReserve = performance.now();
    const { ep, gw } = await this.reserve(target).catch((e: unknown) => {
      throw inContext(`attaching ${req.netns || 'endpoint'} to network "${net.name}"`, e);
    });
    const t1 = performance.now();
    try {
      await this.plumb(target, ep, gw);
    } catch (e) {
      await this.unwind(net, ep, 'the kernel', e);
      throw new VxError('INTERNAL', `attaching ${req.netns || 'endpoint'} to network "${net.name}" failed: ${errText(e)}; nothing was kept`);
    }
    const t2 = performance.now();
    try {
      await this.confirm(ep, gw);
    } catch (e) {
      await this.unwind(net, ep, this.ready ? 'the ack log' : 'the store', e);
      throw inContext(`attaching ${req.netns || 'endpoint'} to network "${net.name}"`, e);
    }
    this.log.info(
      { ...endpointFields(ep, net), ip: ep.ipv4, netns: ep.netns, ms: { allocate: ms(t1 - t0), reserve: ms(t1 - tReserve), kernel: ms(t2 - t1), commit: ms(performance.now() - t2) } },
      'endpoint attached',
    );
    return this.info(this.records.endpoints.get(ep.id)!);
  }

  /** Step 1: per-network checks, and refusing namespaces attach must never touch (self-protection). */
  private async checkTarget(net: NetworkRecord, req: ValidAttach): Promise<AttachTarget> {
    if (req.ipv6 && !net.v6) throw new VxError('INVALID_ARGUMENT', `network "${net.name}" has no IPv6 subnet: create it with --ipv6 to use --ipv6 addresses`);
    if (req.leaveInHost) return { req, net, ownDefaultRoute: false };
    const sandboxes = this.records.networks.values().map((n) => n.sandbox);
    const exempt = req.ingressSandbox ? ingressSandboxOf(req.netns, this.records.local.netnsPrefix) : undefined;
    const before = await checkAttachTarget(req.netns, await protectedNamespaces(this.opts.advertiseAddr, sandboxes), exempt);
    // A namespace that already routes by default keeps its route: attach neither replaces it nor (at detach) removes it.
    const ownDefaultRoute = !this.records.gatewayIn(req.netns) && hasOwnDefaultRoute(before);
    return { req, net, before, ownDefaultRoute };
  }

  /** Step 2: addresses and pending records (the intent), in one store transaction. */
  private reserve(t: AttachTarget): Promise<{ ep: EndpointRecord; gw: GatewayRecord | undefined }> {
    const { net, req } = t;
    return this.ipam.write(
      async (txn) => {
        checkUnique(this.records, t);
        // The pools this attach may take from, read in one round (each read is a round trip to etcd).
        await Promise.all([net.v4.poolId, net.v6?.poolId, needsGateway(this.records, t) ? this.ipam.gateway.poolId : undefined].flatMap((id) => (id ? [txn.hasPool(id)] : [])));
        // Shared store: the endpoint is only written if the network was not touched meanwhile (a network rm on another host marks it first).
        if (this.records.local.shared) txn.check(keys.network(net.id), this.records.networks.revisionOf(net.id));
        const v4 = await txn.allocateAddress(net.v4.poolId, { ...(req.ip ? { ip: req.ip } : {}), purpose: 'endpoint', preallocated: req.preallocated }, `network "${net.name}"`);
        const v6 = net.v6
          ? await txn.allocateAddress(net.v6.poolId, { ...(req.ipv6 ? { ip: req.ipv6 } : {}), purpose: 'endpoint', preallocated: req.preallocated && Boolean(req.ipv6) }, `network "${net.name}"`)
          : undefined;
        const ep = endpointRecord(this.records, t, v4, v6);
        txn.put(keys.endpoint(ep.id), ep, 0);
        let gw: GatewayRecord | undefined;
        if (needsGateway(this.records, t)) {
          const ip = await txn.allocateAddress(this.ipam.gateway.poolId, { purpose: `gateway leg of ${req.netns}` }, 'the gateway bridge');
          gw = gatewayRecord(this.records, t, ep, ip);
          txn.put(keys.gateway(gw.id), gw, 0);
        }
        return { ep, gw };
      },
    );
  }

  /** Step 3: the sandbox veth (+ the gateway leg), then the workload's interfaces; once more on fresh state. */
  private async plumb(t: AttachTarget, ep: EndpointRecord, gw: GatewayRecord | undefined): Promise<void> {
    const assume = t.before ? () => stateAfterMove(t.before!, ep, gw) : undefined;
    const once = async (fresh: boolean) => {
      await Promise.all([this.kernel.syncSandbox(t.net), gw ? this.kernel.syncHost() : Promise.resolve()]);
      if (!ep.leaveInHost) {
        if (!fresh) this.kernel.forgetWorkload(ep.netns); // plan against what was read, plus the moved-in veths
        await this.kernel.syncWorkload(ep.netns, false, fresh ? undefined : assume);
      }
    };
    try {
      await once(false);
    } catch (e) {
      // A shared (coalesced) batch may have failed for another endpoint's reason: retry once on fresh state.
      this.log.debug({ ...endpointFields(ep, t.net), err: errText(e) }, 'kernel batch failed; retrying on fresh state');
      this.kernel.forgetSandbox(t.net);
      this.kernel.forgetWorkload(ep.netns);
      await once(true);
    }
    await this.kernel.steerDockerVeth(ep);
  }

  /**
   * Step 4: the records become ready: from here on the endpoint is acknowledged and listed. On a
   * shared store the acknowledgement is the host-local ack log and the store write follows.
   */
  private async confirm(ep: EndpointRecord, gw: GatewayRecord | undefined): Promise<void> {
    if (this.ready) return this.ready.acknowledge(ep, gw);
    const readyEp: EndpointRecord = { ...ep, state: 'ready' };
    const readyGw: GatewayRecord | undefined = gw ? { ...gw, state: 'ready' } : undefined;
    await this.ipam.write(async (txn) => {
      txn.put(keys.endpoint(ep.id), readyEp);
      if (readyGw) txn.put(keys.gateway(readyGw.id), readyGw);
    });
  }

  /**
   * Undoes a reserved attach: memory first (so nothing lists it and the kernel sync removes its
   * objects), then the kernel, then the store; a store that cannot take the delete now (disk full)
   * gets it again before the next write.
   */
  private async unwind(net: NetworkRecord, ep: EndpointRecord, where: string, cause: unknown): Promise<void> {
    this.log.warn({ ...endpointFields(ep, net), err: errText(cause) }, `attach failed in ${where}: rolling back`);
    this.records.endpoints.hide(ep.id);
    const legs = this.unusedGateways(false);
    for (const g of legs) this.records.gateways.hide(g.id);
    this.kernel.forgetSandbox(net);
    await this.kernel.syncSandbox(net, true).catch((e) => this.log.error({ ...networkFields(net), err: errText(e) }, 'rollback: sandbox'));
    if (legs.length) await this.kernel.syncHost(true).catch((e) => this.log.error({ err: errText(e) }, 'rollback: host'));
    this.kernel.forgetWorkload(ep.netns);
    this.leftovers.set(ep.id, { ep, net, legs });
    await this.retryLeftovers();
  }

  /** Store deletes that failed earlier (their kernel objects and memory are already gone). */
  private async retryLeftovers(): Promise<void> {
    for (const [id, { ep, net, legs }] of [...this.leftovers]) {
      try {
        await this.ipam.write(async (txn) => {
          await this.releaseInto(txn, ep, net);
          await this.releaseLegs(txn, legs);
        });
        this.leftovers.delete(id);
        this.records.endpoints.unhide(ep.id);
        for (const g of legs) this.records.gateways.unhide(g.id);
      } catch (e) {
        this.log.warn({ ...endpointFields(ep, net), err: errText(e) }, 'store still refuses to drop a rolled-back endpoint; retrying before the next write');
        return;
      }
    }
  }

  // ---------------------------------------------------------------- detach

  /** Store first, then the kernel: removes exactly the interfaces (and route) attach made. */
  async detach(endpointId: string): Promise<void> {
    await this.retryLeftovers();
    const ep = this.find(endpointId);
    if (!this.records.isMine(ep)) {
      throw new VxError('FAILED_PRECONDITION', `endpoint ${ep.id.slice(0, 12)} lives on host ${this.records.nodeOf(ep)}: detach it there (its interfaces are in that host's namespaces)`);
    }
    const net = this.records.networks.get(ep.networkId);
    await this.dropRecords(ep).catch((e: unknown) => {
      throw inContext(`detaching endpoint ${ep.id.slice(0, 12)}`, e);
    });
    const removedGw = await this.dropUnusedGateways(false);
    this.kernel.forgetWorkload(ep.leaveInHost ? '' : ep.netns); // its eth0 goes with the sandbox veth
    if (net) await this.kernel.syncSandbox(net);
    if (removedGw.length) await this.kernel.syncHost();
    this.log.info(endpointFields(ep, net), 'endpoint detached');
  }

  /** Deletes an endpoint's record and releases its addresses (no kernel work). */
  private async dropRecords(ep: EndpointRecord): Promise<void> {
    const net = this.records.networks.get(ep.networkId);
    await this.ipam.write((txn) => this.releaseInto(txn, ep, net));
  }

  private async releaseInto(txn: IpamTxn, ep: EndpointRecord, net: NetworkRecord | undefined): Promise<void> {
    if (net && !ep.preallocated) {
      await txn.releaseAddress(net.v4.poolId, ep.ipv4);
      if (ep.ipv6 && net.v6) await txn.releaseAddress(net.v6.poolId, ep.ipv6);
    }
    txn.delete(keys.endpoint(ep.id));
  }

  private async releaseLegs(txn: IpamTxn, legs: GatewayRecord[]): Promise<void> {
    for (const g of legs) {
      await txn.releaseAddress(this.ipam.gateway.poolId, g.ip);
      txn.delete(keys.gateway(g.id));
    }
  }

  private unusedGateways(dropPending: boolean): GatewayRecord[] {
    const wanted = (netns: string) => this.records.endpointsIn(netns).some((e) => !this.records.networks.get(e.networkId)?.internal);
    return this.records.gateways.values().filter((g) => (dropPending && g.state === 'pending') || !wanted(g.netns));
  }

  /**
   * Salvage: a leg whose endpoints' records were lost is no longer accounted for, but its link stays
   * (a workload may use it): its record goes, its address stays taken so nothing else gets it.
   */
  private async forgetUnusedLegsKeepingAddresses(): Promise<void> {
    await this.ipam.write(async (txn) => this.unusedGateways(false).forEach((g) => txn.delete(keys.gateway(g.id))));
  }

  /** Gateway legs whose namespace has no non-internal endpoint any more (+ pending ones at start). */
  private async dropUnusedGateways(atStart: boolean): Promise<GatewayRecord[]> {
    return this.ipam.write(async (txn) => {
      const unused = this.unusedGateways(atStart);
      await this.releaseLegs(txn, unused);
      return unused;
    });
  }
}

/** The ingress sandbox name a path names when it is this host's (`/run/netns/<prefix>ingress-sbox`), else undefined. */
const ingressSandboxOf = (netns: string, prefix: string) => (netns === `/run/netns/${prefix}ingress-sbox` ? `${prefix}ingress-sbox` : undefined);

const ms = (x: number) => Math.round(x * 10) / 10;
