// The networks plane: network records, their pools and VNIs (allocated in the store), the sandbox
// namespaces (one per network) and the host firewall that keeps overlay subnets off the gwbridge.

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { VxError, errText } from '../errors.js';
import { poolInfo, type PoolRequest, type PoolState } from '../ipam/index.js';
import { inContext, type IpamController } from '../ipam/store-ipam.js';
import { ipamKeys, type IpamTxn, type VniClaim } from '../ipam/store-allocator.js';
import type { CreateNetworkRequest, NetworkInfo } from '../model/api.js';
import type { Controller } from '../model/controller.js';
import type { Store } from '../store/index.js';
import { keys, type EndpointRecord, type NetworkNameClaim, type NetworkRecord, type SubnetRecord } from './model.js';
import { sandboxName } from './names.js';
import { type OverlayKernel } from './overlay-kernel.js';
import { summarize } from './ownership.js';
import { Coalescer } from '../util/coalescer.js';
import { createOptionsMismatch } from './network-match.js';
import type { OverlayRecords } from './records.js';
import { networkFields } from './log-fields.js';

export interface NetworksOptions {
  netnsPrefix: string;
  /** MTU of a network created without one (underlay MTU - VXLAN overhead). */
  defaultMtu: number;
  /** The store was salvaged: a pending network may have lost its confirmation, so it is adopted, not rolled back. */
  salvage: boolean;
}

/** A create request whose fields were validated at the edge (names, CIDRs, MTU, labels). */
export type ValidCreateNetwork = CreateNetworkRequest & { labels: Record<string, string> };

export class NetworksController implements Controller {
  readonly name = 'networks';
  /** Rolled-back networks whose store delete failed (e.g. disk full): retried before the next write. */
  private readonly leftovers = new Map<string, NetworkRecord>();
  private readonly follow = new Coalescer();
  private unwatch: (() => void) | undefined;
  /** Planes above (services) that may refuse a network's removal; run under the write lock. */
  private readonly removeGuards: Array<(net: NetworkRecord) => Promise<void>> = [];

  constructor(
    private readonly store: Store,
    private readonly records: OverlayRecords,
    private readonly ipam: IpamController,
    private readonly kernel: OverlayKernel,
    private readonly opts: NetworksOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Rolls back networks a crash left half-created, records VNIs the store does not hold yet, and
   * makes the sandbox namespaces and the firewall match. (Each sandbox's links hold endpoint veths
   * too: the endpoints controller reconciles them once it has repaired its records.)
   */
  async start(): Promise<void> {
    // A pending network of another host is that host's create in flight, not a crash left-over.
    const halfDone = this.records.networks.values().filter((n) => n.state === 'pending' && this.records.isMine(n));
    if (halfDone.length && this.opts.salvage) {
      this.log.warn(summarize(halfDone.map((n) => n.name)), 'salvage: adopting networks left pending (their confirmation may have been in the damaged part of the store)');
      await this.ipam.write(async (t) => halfDone.forEach((n) => t.put(keys.network(n.id), { ...n, state: 'ready' } satisfies NetworkRecord)));
    } else if (halfDone.length) {
      this.log.warn(summarize(halfDone.map((n) => n.name)), 'rolling back networks a crash left half-created');
      for (const n of halfDone) await this.deleteRecord(n);
    }
    if (!this.records.local.shared) await this.claimRecordedVnis();
    if (this.opts.salvage) await this.recreateLostPools();
    await this.kernel.syncNamespaces();
    await this.kernel.syncHostFirewall(true);
    // Networks created or removed by another host (shared store): firewall and sandboxes follow at once.
    this.unwatch = this.records.networks.onChange(() => void this.followRecords());
  }

  private followRecords(): Promise<void> {
    return this.follow.request('records', async () => {
      try {
        await this.kernel.syncNamespaces();
        await this.kernel.syncHostFirewall();
      } catch (e) {
        this.log.warn({ err: errText(e) }, 'could not follow a network change (retried at the next resync)');
      }
    });
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  async reconcile(): Promise<void> {
    await this.retryLeftovers();
    await this.kernel.syncNamespaces();
    await this.kernel.syncHostFirewall(true);
  }

  /**
   * Salvage: a network whose pool record was lost gets its pool back from what the network record
   * says (subnet, gateway; an ip range or aux addresses are not recorded there and are named as lost).
   */
  private async recreateLostPools(): Promise<void> {
    const restored = await this.ipam.write(async (t) => {
      const out: string[] = [];
      for (const n of this.records.networks.values()) {
        for (const [s, family] of [[n.v4, 4], [n.v6, 6]] as const) {
          if (!s || (await t.hasPool(s.poolId))) continue;
          const state = await t.createPool({ owner: n.name, family, subnet: s.subnet, gateway: s.gateway });
          if (state.id !== s.poolId) throw new VxError('FAILED_PRECONDITION', `salvage: the pool of network "${n.name}" (${s.poolId}) is lost and cannot be made again under its id`);
          out.push(`${n.name}:${s.subnet}`);
        }
      }
      return out;
    });
    if (restored.length) this.log.warn(summarize(restored), 'salvage: pools lost from the store were made again from their networks (ip ranges and aux addresses are not recorded there)');
  }

  /** Stores written before VNIs were allocated in the store hold them only in network records. */
  private async claimRecordedVnis(): Promise<void> {
    const held = new Set((await this.store.list<VniClaim>(ipamKeys.vniPrefix)).map((kv) => kv.key));
    const missing = this.records.networks.values().filter((n) => !held.has(ipamKeys.vni(n.vni)));
    if (!missing.length) return;
    await this.ipam.write(async (t) => missing.forEach((n) => t.claimVni(n.vni, n.id)));
    this.log.info(summarize(missing.map((n) => `${n.name}:${n.vni}`)), 'recorded VNIs of existing networks in the store');
  }

  /** `guard` throws (a clear VxError) while something of its plane still uses the network. */
  guardRemoval(guard: (net: NetworkRecord) => Promise<void>): void {
    this.removeGuards.push(guard);
  }

  // ---------------------------------------------------------------- lookups

  find(nameOrId: string): NetworkRecord {
    if (!nameOrId) throw new VxError('INVALID_ARGUMENT', 'missing network name');
    const all = this.records.networks.values().filter((n) => n.state !== 'pending');
    for (const n of all) if (n.name === nameOrId || n.id === nameOrId) return n;
    const byPrefix = all.filter((n) => nameOrId.length >= 6 && n.id.startsWith(nameOrId));
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new VxError('INVALID_ARGUMENT', `network id prefix ${nameOrId} is ambiguous: give more characters`);
    throw new VxError('NOT_FOUND', `network "${nameOrId}" not found: \`vxmesh network ls\` lists the networks`);
  }

  /** The network a pool belongs to, if any (for the IPAM controller). */
  poolUser(poolId: string): { name: string; ownsPools: boolean } | undefined {
    const n = this.records.networks.values().find((x) => x.v4.poolId === poolId || x.v6?.poolId === poolId);
    return n ? { name: n.name, ownsPools: n.ownsPools } : undefined;
  }

  /** Networks that were acknowledged (a create in flight is not counted). */
  count(): number {
    return this.records.networks.values().filter((n) => n.state !== 'pending').length;
  }

  async list(): Promise<NetworkInfo[]> {
    const nets = this.records.networks.values().filter((n) => n.state !== 'pending').sort((a, b) => a.name.localeCompare(b.name));
    return Promise.all(nets.map((n) => this.info(n)));
  }

  async inspect(nameOrId: string): Promise<NetworkInfo> {
    return this.info(this.find(nameOrId));
  }

  private async info(n: NetworkRecord): Promise<NetworkInfo> {
    const sub = async (s: SubnetRecord) => {
      const kv = await this.store.get<PoolState>(ipamKeys.pool(s.poolId));
      const pi = kv ? poolInfo(kv.value) : undefined;
      return { subnet: s.subnet, gateway: s.gateway, auxAddresses: pi?.auxAddresses ?? {}, ...(pi?.ipRange ? { ipRange: pi.ipRange } : {}) };
    };
    return {
      id: n.id,
      name: n.name,
      vni: n.vni,
      mtu: n.mtu,
      internal: n.internal,
      labels: { ...n.labels },
      ipv4: await sub(n.v4),
      ...(n.v6 ? { ipv6: await sub(n.v6) } : {}),
      sandbox: n.sandbox,
      endpointCount: this.records.endpointsOf(n.id).length,
      hosts: this.records.hostsOf(n.id),
      createdAt: n.createdAt,
    };
  }

  // ---------------------------------------------------------------- create / remove

  async create(req: ValidCreateNetwork): Promise<NetworkInfo> {
    await this.retryLeftovers();
    if (this.records.local.shared) return this.createShared(req);
    const net = await this.recordIntent(req).catch((e: unknown) => {
      throw inContext(`creating network "${req.name}"`, e);
    });
    try {
      await this.kernel.syncNamespaces();
      await this.kernel.syncSandbox(net, true);
      await this.kernel.syncHostFirewall();
      const ready: NetworkRecord = { ...net, state: 'ready' };
      await this.ipam.write(async (t) => t.put(keys.network(net.id), ready));
      this.log.info({ ...networkFields(net), vni: net.vni, subnet: net.v4.subnet }, 'network created');
      return this.info(ready);
    } catch (e) {
      this.log.error({ ...networkFields(net), err: errText(e) }, 'network create failed: rolling back');
      // Memory first, so the kernel sync removes its sandbox; the store delete may have to wait.
      this.records.networks.hide(net.id);
      await this.kernel.syncNamespaces().catch(() => undefined);
      await this.kernel.syncHostFirewall().catch(() => undefined);
      this.leftovers.set(net.id, net);
      await this.retryLeftovers();
      throw new VxError(e instanceof VxError ? e.code : 'INTERNAL', `creating network "${net.name}" failed: ${errText(e)}; nothing was kept`);
    }
  }

  /**
   * Shared store: the network is one record for the cluster, its name claimed in the same transaction,
   * so two creates of one name (on any hosts, at any moment) make one network; the other gets it back
   * when its options match, a clear error when they differ. No kernel work: each host makes the sandbox
   * when it gets its first endpoint there.
   */
  private async createShared(req: ValidCreateNetwork): Promise<NetworkInfo> {
    const outcome = await this.ipam
      .write(async (t) => {
        const claimed = async () => {
          const claim = await this.store.get<NetworkNameClaim>(keys.networkName(req.name));
          const existing = claim ? await this.store.get<NetworkRecord>(keys.network(claim.value.id)) : undefined;
          return { claim, existing };
        };
        const { claim, existing } = await claimed();
        if (existing) return { record: existing.value, created: false };
        try {
          const record = await this.stageNetwork(t, req, 'ready');
          t.put(keys.networkName(req.name), { id: record.id } satisfies NetworkNameClaim, claim ? claim.revision : 0);
          return { record, created: true };
        } catch (e) {
          // Another host's create of this name committed after the claim was read (its subnet now overlaps).
          const late = await claimed();
          if (late.existing) return { record: late.existing.value, created: false };
          throw e;
        }
      })
      .catch((e: unknown) => {
        throw inContext(`creating network "${req.name}"`, e);
      });
    const info = await this.info(this.records.networks.get(outcome.record.id) ?? outcome.record);
    if (outcome.created) {
      await this.kernel.syncHostFirewall();
      this.log.info({ ...networkFields(outcome.record), vni: outcome.record.vni, subnet: outcome.record.v4.subnet }, 'network created');
      return info;
    }
    const mismatch = createOptionsMismatch(req, info);
    if (mismatch) {
      throw new VxError('ALREADY_EXISTS', `network "${req.name}" already exists with ${mismatch}: create it with the same options, or pick another name`);
    }
    return info;
  }

  /** Allocates pools and a VNI and records the network as pending, in one transaction. */
  private recordIntent(req: ValidCreateNetwork): Promise<NetworkRecord> {
    const name = req.name;
    return this.ipam.write(
      async (t) => {
        if (this.records.networks.values().some((n) => n.name === name)) {
          throw new VxError('ALREADY_EXISTS', `network "${name}" already exists: pick another name or remove it first (vxmesh network rm ${name})`);
        }
        return this.stageNetwork(t, req, 'pending');
      },
    );
  }

  /** Stages a new network's pools, VNI and record in `t`. */
  private async stageNetwork(t: IpamTxn, req: ValidCreateNetwork, state: 'pending' | 'ready'): Promise<NetworkRecord> {
    const name = req.name;
    const id = randomBytes(32).toString('hex');
    const v4 = await this.bindPool(t, name, req.ipv4PoolId, req.gateway, {
      owner: name, family: 4, subnet: req.subnet, gateway: req.gateway, ipRange: req.ipRange, auxAddresses: req.auxAddresses,
    });
    const v6 = req.ipv6
      ? await this.bindPool(t, name, req.ipv6PoolId, req.gatewayV6, { owner: name, family: 6, subnet: req.subnetV6, gateway: req.gatewayV6, ipRange: req.ipRangeV6 })
      : undefined;
    const record: NetworkRecord = {
      id,
      name,
      vni: await t.allocateVni(id),
      mtu: req.mtu ?? this.opts.defaultMtu,
      internal: Boolean(req.internal),
      labels: req.labels,
      v4,
      ...(v6 ? { v6 } : {}),
      ownsPools: !req.ipv4PoolId,
      sandbox: sandboxName(this.opts.netnsPrefix, id),
      state,
      createdAt: new Date().toISOString(),
      node: this.records.node,
    };
    t.put(keys.network(id), record, 0);
    return record;
  }

  /** A new pool for the network, or (docker IPAM) one requested earlier, now named after the network. */
  private async bindPool(t: IpamTxn, netName: string, poolId: string | undefined, gateway: string | undefined, req: PoolRequest): Promise<SubnetRecord> {
    if (poolId) {
      if (this.poolUser(poolId)) throw new VxError('ALREADY_EXISTS', `address pool ${poolId} already belongs to a network`);
      const info = poolInfo(await t.pool(poolId));
      const gw = gateway ?? info.gateway;
      if (!gw) throw new VxError('INVALID_ARGUMENT', `address pool ${poolId} has no gateway: request one first`);
      // Overlap errors and listings name the pool's network, not "docker".
      await t.setPoolOwner(poolId, netName);
      return { poolId, subnet: info.subnet, gateway: gw, prefix: info.prefix };
    }
    const info = poolInfo(await t.createPool(req));
    return { poolId: info.id, subnet: info.subnet, gateway: info.gateway!, prefix: info.prefix };
  }

  private async retryLeftovers(): Promise<void> {
    for (const net of [...this.leftovers.values()]) {
      try {
        await this.deleteRecord(net);
        this.leftovers.delete(net.id);
        this.records.networks.unhide(net.id);
      } catch (e) {
        this.log.warn({ ...networkFields(net), err: errText(e) }, 'store still refuses to drop a rolled-back network; retrying before the next write');
        return;
      }
    }
  }

  /** Deletes the record with its VNI (and its pools when it made them). `check` runs under the write lock. */
  private async deleteRecord(net: NetworkRecord, check?: () => void | Promise<void>): Promise<void> {
    await this.ipam.write(async (t) => {
      await check?.();
      t.delete(keys.network(net.id));
      if (this.records.local.shared) t.delete(keys.networkName(net.name));
      t.releaseVni(net.vni);
      if (net.ownsPools) {
        await t.deletePool(net.v4.poolId).catch(() => undefined);
        if (net.v6) await t.deletePool(net.v6.poolId).catch(() => undefined);
      }
    });
  }

  /**
   * Shared store: marks the network first (every attach compares the network's revision, so none can
   * commit after the mark), then reads every host's endpoints from the store; with none it is deleted,
   * otherwise the mark is taken back and the refusal names the hosts.
   */
  private async removeShared(net: NetworkRecord, check: () => Promise<void>): Promise<void> {
    await this.ipam.write(async (t) => {
      const cur = await this.store.get<NetworkRecord>(keys.network(net.id));
      if (!cur) throw new VxError('NOT_FOUND', `network "${net.name}" was just removed`);
      t.put(keys.network(net.id), { ...cur.value, removing: true } satisfies NetworkRecord, cur.revision);
    });
    try {
      await this.deleteRecord(net, check);
    } catch (e) {
      await this.ipam
        .write(async (t) => {
          const cur = await this.store.get<NetworkRecord>(keys.network(net.id));
          if (!cur) return;
          const { removing: _removing, ...rest } = cur.value;
          t.put(keys.network(net.id), rest satisfies NetworkRecord, cur.revision);
        })
        .catch((err: unknown) => this.log.error({ ...networkFields(net), err: errText(err) }, 'could not take back the removal mark (resolved at the next network rm)'));
      throw e;
    }
  }

  async remove(nameOrId: string): Promise<void> {
    const net = this.find(nameOrId);
    const check = async () => {
      // under the write lock, so no attach of this host can slip in between the check and the delete;
      // with a shared store the endpoints are read from the store itself (another host's may be newer).
      const eps = this.records.local.shared
        ? (await this.store.list<EndpointRecord>(keys.endpoint(''))).map((kv) => kv.value).filter((e) => e.networkId === net.id)
        : this.records.endpointsOf(net.id);
      const hosts = [...new Set(eps.map((e) => this.records.nodeOf(e)))].sort();
      if (eps.length && this.records.local.shared) {
        throw new VxError(
          'FAILED_PRECONDITION',
          `network "${net.name}" has ${eps.length} endpoint(s) on host(s) ${hosts.join(', ')}: detach them there first (vxmesh endpoint detach ID on each host)`,
        );
      }
      if (eps.length) {
        throw new VxError(
          'FAILED_PRECONDITION',
          `network "${net.name}" has ${eps.length} attached endpoint(s) (${eps.slice(0, 3).map((e) => e.id.slice(0, 12)).join(', ')}${eps.length > 3 ? ', ...' : ''}): detach them first (vxmesh endpoint detach ID)`,
        );
      }
      for (const guard of this.removeGuards) await guard(net);
      const unknown = this.kernel.unaccountedIn(net.sandbox);
      if (unknown.length) {
        throw new VxError(
          'FAILED_PRECONDITION',
          `network "${net.name}" has ${unknown.length} interface(s) in its sandbox ${net.sandbox} that the salvaged store does not account for (${unknown.join(', ')}): a workload may still use them; delete them by hand first (ip -n ${net.sandbox} link del NAME)`,
        );
      }
    };
    const removal = this.records.local.shared ? this.removeShared(net, check) : this.deleteRecord(net, check);
    await removal.catch((e: unknown) => {
      throw inContext(`removing network "${net.name}"`, e);
    });
    this.kernel.forgetSandbox(net);
    await this.kernel.syncNamespaces();
    await this.kernel.syncHostFirewall();
    this.log.info(networkFields(net), 'network removed');
  }
}
