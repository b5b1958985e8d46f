// The services plane's records: services, their VIPs and published ports, kept in the store. Every
// change (create, update, rm) is one store transaction: the record, its name claim, its port claims
// and its VIP allocations commit together or not at all, so nothing is ever half-made.

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { VxError } from '../errors.js';
import { inContext, type IpamController } from '../ipam/store-ipam.js';
import type { IpamTxn } from '../ipam/store-allocator.js';
import type { CreateServiceRequest, ServiceInfo, ServicesApi, ServiceTaskInfo, UpdateServiceRequest } from '../model/api.js';
import type { Controller } from '../model/controller.js';
import { orThrow } from '../model/validate.js';
import { keys, type NetworkRecord } from '../overlay/model.js';
import { RecordSet, type OverlayRecords } from '../overlay/records.js';
import type { Store } from '../store/index.js';
import { serviceKeys, type PortRecord, type ServiceRecord, type ServiceVipRecord } from './model.js';
import { portRecordOf, releasePorts, stagePorts } from './published-ports.js';
import { createServiceProblem, describeSpec, updateServiceProblem } from './service-validate.js';

export interface ServicesOptions {
  /** The ingress network, made on demand by the ingress plane; absent: ingress-mode publishing is refused. */
  ensureIngressNetwork?: () => Promise<NetworkRecord>;
  /** Live tasks of a service as this host knows them; default: endpoint records attached with --service. */
  tasks?: (serviceId: string) => ServiceTaskInfo[];
}

/** A service name claimed cluster-wide: two creates of one name (on any hosts) make one service. */
interface ServiceNameClaim {
  id: string;
}

export class ServicesController implements Controller, ServicesApi {
  readonly name = 'services';
  readonly services: RecordSet<ServiceRecord>;

  constructor(
    private readonly store: Store,
    private readonly records: OverlayRecords,
    private readonly ipam: IpamController,
    /** A network by name, id or unique id prefix (NOT_FOUND names the command that lists them). */
    private readonly findNetwork: (nameOrId: string) => NetworkRecord,
    private readonly opts: ServicesOptions,
    private readonly log: Logger,
  ) {
    this.services = new RecordSet<ServiceRecord>(store, serviceKeys.service(''));
    records.follow(this.services); // writes through ipam.write wait for this cache too
  }

  async start(): Promise<void> {
    await this.services.start();
    await this.reclaim();
  }

  /**
   * A salvaged store may hold pools or claims older than the service records using them: each VIP is
   * claimed in its pool again and each port claim made again, so neither is handed out twice. When all
   * are held (the normal case) the transaction writes nothing.
   */
  private async reclaim(): Promise<void> {
    const fixed = await this.ipam.write(async (t) => {
      const out: string[] = [];
      const claims = new Map((await this.store.list<{ serviceId: string }>('published-ports/')).map((kv) => [kv.key, kv.value.serviceId]));
      for (const s of this.services.values()) {
        for (const v of s.vips) {
          const net = this.records.networks.get(v.networkId);
          for (const [poolId, ip] of [[net?.v4.poolId, v.ipv4], [net?.v6?.poolId, v.ipv6]] as const) {
            if (!poolId || !ip) continue;
            const r = await t.claimAddress(poolId, ip);
            if (r !== 'held') out.push(`${s.name}: VIP ${ip} ${r === 'claimed' ? 'claimed again' : `not claimable (${r})`}`);
          }
        }
        for (const p of s.ports) {
          const key = serviceKeys.publishedPort(p.protocol, p.publishedPort);
          if (claims.has(key)) continue;
          t.put(key, { serviceId: s.id }, 0);
          claims.set(key, s.id);
          out.push(`${s.name}: port ${p.publishedPort}/${p.protocol} claimed again`);
        }
      }
      return out;
    });
    if (fixed.length) this.log.warn({ fixed }, 'service VIPs or published ports the store had lost were claimed again');
  }

  async stop(): Promise<void> {
    this.services.stop();
  }

  async reconcile(): Promise<void> {}

  // ---------------------------------------------------------------- lookups

  find(nameOrId: string): ServiceRecord {
    if (!nameOrId) throw new VxError('INVALID_ARGUMENT', 'missing service name');
    const all = this.services.values();
    for (const s of all) if (s.name === nameOrId || s.id === nameOrId) return s;
    const byPrefix = all.filter((s) => nameOrId.length >= 6 && s.id.startsWith(nameOrId));
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new VxError('INVALID_ARGUMENT', `service id prefix ${nameOrId} is ambiguous: give more characters`);
    throw new VxError('NOT_FOUND', `service "${nameOrId}" not found: \`vxmesh service ls\` lists the services`);
  }

  /** `attach --service`: the id of the service, which must be on the attach's network. */
  taskOf(nameOrId: string, net: NetworkRecord): string {
    const s = this.find(nameOrId);
    if (!s.networks.includes(net.id)) {
      const on = s.networks.map((id) => this.records.networks.get(id)?.name ?? id.slice(0, 12)).join(', ');
      throw new VxError('INVALID_ARGUMENT', `service "${s.name}" is not on network "${net.name}" (it is on ${on}): attach to one of those, or create the service with --network ${net.name}`);
    }
    return s.id;
  }

  nameOf(serviceId: string): string | undefined {
    return this.services.get(serviceId)?.name;
  }

  async listServices(): Promise<ServiceInfo[]> {
    return this.services.values().sort((a, b) => a.name.localeCompare(b.name)).map((s) => this.info(s));
  }

  async inspectService(nameOrId: string): Promise<ServiceInfo> {
    return this.info(this.find(nameOrId));
  }

  private info(s: ServiceRecord): ServiceInfo {
    const netName = (id: string) => this.records.networks.get(id)?.name ?? '';
    const vips = s.vips.map((v) => {
      const net = this.records.networks.get(v.networkId);
      return {
        network: net?.name ?? '',
        networkId: v.networkId,
        ...(v.ipv4 ? { ipv4: `${v.ipv4}/${net?.v4.prefix ?? 32}` } : {}),
        ...(v.ipv6 ? { ipv6: `${v.ipv6}/${net?.v6?.prefix ?? 128}` } : {}),
      };
    });
    return {
      id: s.id,
      name: s.name,
      endpointMode: s.endpointMode,
      affinity: s.affinity,
      networks: s.networks.map(netName),
      vips,
      ports: s.ports.map((p) => ({ ...p })),
      labels: { ...s.labels },
      tasks: (this.opts.tasks ?? ((id) => this.recordedTasks(id)))(s.id),
      version: s.version,
      createdAt: s.createdAt,
    };
  }

  /** Tasks from the endpoint records (every host's with a shared store), sorted by endpoint id. */
  private recordedTasks(serviceId: string): ServiceTaskInfo[] {
    return this.records.endpoints
      .values()
      .filter((e) => e.serviceId === serviceId && e.state === 'ready')
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((e) => ({
        endpointId: e.id,
        name: e.name,
        network: this.records.networks.get(e.networkId)?.name ?? '',
        ipv4: e.ipv4,
        ...(e.ipv6 ? { ipv6: e.ipv6 } : {}),
        node: this.records.nodeOf(e),
      }));
  }

  // ---------------------------------------------------------------- create / update / rm

  async createService(req: CreateServiceRequest): Promise<ServiceInfo> {
    orThrow(createServiceProblem(req));
    const nets = [...new Map(req.networks.map((n) => this.findNetwork(n)).map((n) => [n.id, n])).values()];
    const ports = (req.publish ?? []).map(portRecordOf);
    const ingress = ports.some((p) => p.mode === 'ingress') ? await this.ingressNetwork(ports) : undefined;
    const endpointMode = req.endpointMode ?? 'vip';
    const record = await this.ipam
      .write(async (t) => {
        const claim = await this.store.get<ServiceNameClaim>(serviceKeys.serviceName(req.name));
        if (claim) throw new VxError('ALREADY_EXISTS', `service "${req.name}" already exists: pick another name, or remove it first (vxmesh service rm ${req.name})`);
        for (const n of [...nets, ...(ingress ? [ingress] : [])]) await this.checkNetwork(t, n);
        const id = randomBytes(32).toString('hex');
        const vips: ServiceVipRecord[] = [];
        if (endpointMode === 'vip') for (const n of nets) vips.push(await this.allocateVip(t, req.name, n));
        if (ingress && !nets.some((n) => n.id === ingress.id)) vips.push(await this.allocateVip(t, req.name, ingress));
        const s: ServiceRecord = {
          id,
          name: req.name,
          endpointMode,
          affinity: req.affinity ?? 'none',
          networks: nets.map((n) => n.id),
          vips,
          ports: await stagePorts(t, this.store, { id, name: req.name, ports: [] }, ports),
          labels: { ...req.labels },
          createdAt: new Date().toISOString(),
          version: 1,
          node: this.records.node,
        };
        t.put(serviceKeys.service(id), s, 0);
        t.put(serviceKeys.serviceName(req.name), { id } satisfies ServiceNameClaim, 0);
        return s;
      })
      .catch((e: unknown) => {
        throw inContext(`creating service "${req.name}"`, e);
      });
    this.log.info({ service: record.name, id: record.id.slice(0, 12), vips: record.vips.map((v) => v.ipv4 ?? v.ipv6), ports: record.ports.map(describeSpec) }, 'service created');
    return this.info(this.services.get(record.id) ?? record);
  }

  async updateService(req: UpdateServiceRequest): Promise<ServiceInfo> {
    orThrow(updateServiceProblem(req));
    const found = this.find(req.service);
    const ports = req.publish?.map(portRecordOf);
    const wantsIngress = ports?.some((p) => p.mode === 'ingress') ?? false;
    if (wantsIngress && found.endpointMode === 'dnsrr') {
      orThrow(createServiceProblem({ name: found.name, networks: found.networks, endpointMode: 'dnsrr', ...(req.publish ? { publish: req.publish } : {}) }));
    }
    const ingress = wantsIngress && ports ? await this.ingressNetwork(ports) : undefined;
    const next = await this.ipam
      .write(async (t) => {
        const cur = await this.store.get<ServiceRecord>(serviceKeys.service(found.id));
        if (!cur) throw new VxError('NOT_FOUND', `service "${found.name}" was just removed`);
        const s = cur.value;
        const updated: ServiceRecord = {
          ...s,
          affinity: req.affinity ?? s.affinity,
          labels: req.labels ? { ...req.labels } : s.labels,
          version: s.version + 1,
        };
        if (ports) {
          updated.ports = await stagePorts(t, this.store, s, ports);
          updated.vips = await this.stageIngressVip(t, s, ingress);
        }
        t.put(serviceKeys.service(s.id), updated, cur.revision);
        return updated;
      })
      .catch((e: unknown) => {
        throw inContext(`updating service "${found.name}"`, e);
      });
    this.log.info({ service: next.name, version: next.version, ports: next.ports.map(describeSpec) }, 'service updated');
    return this.info(this.services.get(next.id) ?? next);
  }

  async removeService(nameOrId: string): Promise<void> {
    const found = this.find(nameOrId);
    await this.ipam
      .write(async (t) => {
        const cur = await this.store.get<ServiceRecord>(serviceKeys.service(found.id));
        if (!cur) throw new VxError('NOT_FOUND', `service "${found.name}" was just removed`);
        for (const v of cur.value.vips) await this.releaseVip(t, v);
        await releasePorts(t, this.store, found.id);
        const claim = await this.store.get<ServiceNameClaim>(serviceKeys.serviceName(found.name));
        if (claim?.value.id === found.id) t.delete(claim.key, claim.revision);
        t.delete(cur.key, cur.revision);
      })
      .catch((e: unknown) => {
        throw inContext(`removing service "${found.name}"`, e);
      });
    this.log.info({ service: found.name, id: found.id.slice(0, 12) }, 'service removed');
  }

  /**
   * `network rm` asks first: a network with a service on it (a VIP or a listed network) stays. Read
   * from the store, under the write lock, so a service another host just created counts too.
   */
  async refuseNetworkRemoval(net: NetworkRecord): Promise<void> {
    const users = (await this.store.list<ServiceRecord>(serviceKeys.service(''))).map((kv) => kv.value).filter((s) => s.networks.includes(net.id) || s.vips.some((v) => v.networkId === net.id));
    if (!users.length) return;
    const names = users.map((s) => s.name).sort();
    throw new VxError(
      'FAILED_PRECONDITION',
      `network ${net.name} is used by service ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}: remove the service first (vxmesh service rm ${names.slice(0, 3).join(' ')})`,
    );
  }

  // ---------------------------------------------------------------- steps

  private async ingressNetwork(ports: PortRecord[]): Promise<NetworkRecord> {
    const first = ports.find((p) => p.mode === 'ingress')!;
    if (!this.opts.ensureIngressNetwork) {
      throw new VxError('FAILED_PRECONDITION', `publish ${describeSpec(first)}: this agent runs no ingress routing mesh, so ingress-mode ports cannot be published: publish with mode=host (e.g. mode=host,${first.publishedPort || 8080}:${first.targetPort})`);
    }
    return this.opts.ensureIngressNetwork();
  }

  /** The network is still there and not being removed; the commit fails if it changes meanwhile. */
  private async checkNetwork(t: IpamTxn, net: NetworkRecord): Promise<void> {
    const cur = await this.store.get<NetworkRecord>(keys.network(net.id));
    if (!cur || cur.value.state === 'pending') throw new VxError('NOT_FOUND', `network "${net.name}" was just removed`);
    if (cur.value.removing) throw new VxError('FAILED_PRECONDITION', `network "${net.name}" is being removed (vxmesh network rm): try again if that is refused`);
    t.check(keys.network(net.id), cur.revision);
  }

  private async allocateVip(t: IpamTxn, service: string, net: NetworkRecord): Promise<ServiceVipRecord> {
    const what = `network "${net.name}"`;
    const purpose = { purpose: `the VIP of service "${service}"` };
    try {
      const ipv4 = await t.allocateAddress(net.v4.poolId, purpose, what);
      const ipv6 = net.v6 ? await t.allocateAddress(net.v6.poolId, purpose, what) : undefined;
      return { networkId: net.id, ipv4, ...(ipv6 ? { ipv6 } : {}) };
    } catch (e) {
      if (!(e instanceof VxError)) throw e;
      throw new VxError(e.code, `no VIP for service "${service}" on network "${net.name}": ${e.message}; nothing was made`);
    }
  }

  private async releaseVip(t: IpamTxn, v: ServiceVipRecord): Promise<void> {
    const net = this.records.networks.get(v.networkId);
    if (!net) return; // its pool went with it
    if (v.ipv4) await t.releaseAddress(net.v4.poolId, v.ipv4);
    if (v.ipv6 && net.v6) await t.releaseAddress(net.v6.poolId, v.ipv6);
  }

  /** The VIPs after an update of the ports: the ingress network's is kept, made or released. */
  private async stageIngressVip(t: IpamTxn, s: ServiceRecord, ingress: NetworkRecord | undefined): Promise<ServiceVipRecord[]> {
    const onIngress = (v: ServiceVipRecord) => !s.networks.includes(v.networkId);
    const had = s.vips.find(onIngress);
    if (ingress && !had && !s.networks.includes(ingress.id)) {
      await this.checkNetwork(t, ingress);
      return [...s.vips, await this.allocateVip(t, s.name, ingress)];
    }
    if (!ingress && had) {
      await this.releaseVip(t, had);
      return s.vips.filter((v) => !onIngress(v));
    }
    return s.vips;
  }
}
