// An in-memory AgentApi with real pool behaviour, for the plugin's unit tests: real enough to catch wrong
// mappings (pools overlap, ranges are enforced, addresses run out, names clash), with no kernel behind it.
// Gossip is a single self node without encryption (the plugin never asks for it).
import { VxError } from '../../src/errors.js';
import { type AgentApi, type AttachRequest, type CreateNetworkRequest, type EndpointInfo, type GossipNode, type KeyOp, type KeyOpResult, type NetworkInfo, type PoolGrant, type PoolRequest } from '../../src/model/api.js';
import { cidrContains, cidrOverlaps, formatCidr, formatIp, parseCidr, parseIp, type Cidr } from '../../src/ipam/index.js';

interface FakePool {
  id: string;
  cidr: Cidr;
  range: Cidr;
  used: Set<bigint>;
  gateway?: bigint;
  network?: string; // id of the network that adopted it
  owned: boolean; // made by createNetwork (released with it) rather than requestPool
}

export class FakePoolAgent implements AgentApi {
  readonly networks = new Map<string, NetworkInfo>();
  readonly endpoints = new Map<string, EndpointInfo>();
  readonly pools = new Map<string, FakePool>();
  readonly calls: string[] = [];
  /** Set to make the next call of that method throw. */
  failNext: Partial<Record<keyof AgentApi, Error>> = {};
  private seq = 0;
  private nextSubnet = 0;

  private enter(method: keyof AgentApi): void {
    this.calls.push(method);
    const err = this.failNext[method];
    if (err) {
      delete this.failNext[method];
      throw err;
    }
  }

  async status() {
    this.enter('status');
    return { version: 'fake', advertiseAddr: '198.51.100.1', dataDir: '/nonexistent', networks: this.networks.size, endpoints: this.endpoints.size, features: { vxlan: true, nftables: true, ipvs: false } };
  }

  private makePool(pool: string | undefined, subPool: string | undefined, v6: boolean, owned: boolean): FakePool {
    const cidr = pool !== undefined ? parseCidr(pool, { strict: true, what: 'subnet' }) : parseCidr(v6 ? `fd76:786d:0:${++this.nextSubnet}::/64` : `10.${(++this.nextSubnet) >> 8}.${this.nextSubnet & 255}.0/24`);
    for (const p of this.pools.values()) {
      if (p.cidr.family === cidr.family && cidrOverlaps(p.cidr, cidr)) {
        throw new VxError('ALREADY_EXISTS', `subnet ${formatCidr(cidr)} overlaps ${formatCidr(p.cidr)} of pool ${p.id}; choose another --subnet`);
      }
    }
    const range = subPool !== undefined ? parseCidr(subPool, { strict: true, what: 'ip range' }) : cidr;
    if (!cidrContains(cidr, range)) throw new VxError('INVALID_ARGUMENT', `ip range ${subPool} is not inside ${formatCidr(cidr)}`);
    const id = `local/${formatCidr(cidr)}`;
    const fp: FakePool = { id, cidr, range, used: new Set(), owned };
    this.pools.set(id, fp);
    return fp;
  }

  private pool(poolId: string): FakePool {
    const p = this.pools.get(poolId);
    if (!p) throw new VxError('NOT_FOUND', `no pool ${poolId}`);
    return p;
  }

  private take(p: FakePool, address: string | undefined): bigint {
    if (address !== undefined) {
      const v = parseIp(address).value;
      if (!cidrContains(p.cidr, v)) throw new VxError('INVALID_ARGUMENT', `${address} is not in ${formatCidr(p.cidr)}`);
      if (p.used.has(v)) throw new VxError('ALREADY_EXISTS', `address ${address} is already in use`);
      p.used.add(v);
      return v;
    }
    const size = 1n << BigInt((p.cidr.family === 4 ? 32 : 128) - p.range.prefix);
    for (let i = 1n; i < size - (p.cidr.family === 4 ? 1n : 0n); i++) {
      const v = p.range.network + i;
      if (!p.used.has(v) && v !== p.cidr.network) {
        p.used.add(v);
        return v;
      }
    }
    throw new VxError('RESOURCE_EXHAUSTED', `no free address left in ${formatCidr(p.range)}; widen --ip-range or remove containers`);
  }

  private cidrOf(p: FakePool, v: bigint): string {
    return `${formatIp(p.cidr.family, v)}/${p.cidr.prefix}`;
  }

  async requestPool(req: PoolRequest): Promise<PoolGrant> {
    this.enter('requestPool');
    const p = this.makePool(req.pool, req.subPool, req.v6, false);
    return { poolId: p.id, pool: formatCidr(p.cidr) };
  }

  async releasePool(poolId: string) {
    this.enter('releasePool');
    this.pool(poolId);
    this.pools.delete(poolId);
  }

  async requestAddress(poolId: string, address?: string, purpose?: 'gateway' | 'endpoint') {
    this.enter('requestAddress');
    const p = this.pool(poolId);
    const v = purpose === 'gateway' && address === undefined ? this.take(p, formatIp(p.cidr.family, p.cidr.network + 1n)) : this.take(p, address);
    if (purpose === 'gateway') p.gateway = v;
    return this.cidrOf(p, v);
  }

  async releaseAddress(poolId: string, address: string) {
    this.enter('releaseAddress');
    this.pool(poolId).used.delete(parseIp(address).value);
  }

  async createNetwork(req: CreateNetworkRequest): Promise<NetworkInfo> {
    this.enter('createNetwork');
    if ([...this.networks.values()].some((n) => n.name === req.name)) throw new VxError('ALREADY_EXISTS', `network "${req.name}" already exists`);
    const p = req.ipv4PoolId !== undefined ? this.pool(req.ipv4PoolId) : this.makePool(req.subnet, req.ipRange, false, true);
    if (req.ipv4PoolId === undefined && req.gateway) p.gateway = this.take(p, req.gateway);
    if (req.ipv4PoolId === undefined) for (const a of Object.values(req.auxAddresses ?? {})) this.take(p, a);
    const gateway = p.gateway ?? this.take(p, undefined);
    const id = `net${++this.seq}`;
    p.network = id;
    const info: NetworkInfo = {
      id,
      name: req.name,
      vni: 4096 + this.seq,
      mtu: req.mtu ?? 1450,
      internal: req.internal ?? false,
      labels: { ...(req.labels ?? {}) },
      ipv4: { subnet: formatCidr(p.cidr), gateway: formatIp(4, gateway), auxAddresses: req.auxAddresses ?? {} },
      sandbox: `vxfake-${id}`,
      endpointCount: 0,
      createdAt: new Date(0).toISOString(),
    };
    this.networks.set(id, info);
    return info;
  }

  async listNetworks() {
    this.enter('listNetworks');
    return [...this.networks.values()].map((n) => ({ ...n, endpointCount: [...this.endpoints.values()].filter((e) => e.networkId === n.id).length }));
  }

  async inspectNetwork(nameOrId: string) {
    this.enter('inspectNetwork');
    const n = [...this.networks.values()].find((x) => x.id === nameOrId || x.name === nameOrId);
    if (!n) throw new VxError('NOT_FOUND', `no network ${nameOrId}`);
    return n;
  }

  private poolOfNetwork(networkId: string): FakePool | undefined {
    return [...this.pools.values()].find((p) => p.network === networkId && p.cidr.family === 4);
  }

  async removeNetwork(nameOrId: string) {
    this.enter('removeNetwork');
    const n = await this.inspectNetwork(nameOrId);
    if ([...this.endpoints.values()].some((e) => e.networkId === n.id)) throw new VxError('FAILED_PRECONDITION', `network ${n.name} has endpoints`);
    this.networks.delete(n.id);
    const p = this.poolOfNetwork(n.id);
    if (p?.owned) this.pools.delete(p.id);
    else if (p) delete p.network;
  }

  async attach(req: AttachRequest): Promise<EndpointInfo> {
    this.enter('attach');
    const n = await this.inspectNetwork(req.network);
    const p = this.poolOfNetwork(n.id);
    if (!p) throw new VxError('INTERNAL', 'network without pool');
    let ip: bigint;
    if (req.preallocated) {
      if (req.ip === undefined) throw new VxError('INVALID_ARGUMENT', 'preallocated without ip');
      ip = parseIp(req.ip).value;
      if (!p.used.has(ip)) throw new VxError('FAILED_PRECONDITION', `preallocated ${req.ip} was never requested`);
    } else {
      ip = this.take(p, req.ip);
    }
    const id = `ep${++this.seq}`;
    const ep: EndpointInfo = {
      id,
      network: n.name,
      networkId: n.id,
      name: req.name ?? id,
      aliases: req.aliases ?? [],
      netns: req.netns ?? '',
      ipv4: this.cidrOf(p, ip),
      mac: req.mac ?? `02:42:00:00:00:${(this.seq & 255).toString(16).padStart(2, '0')}`,
      ifName: req.leaveInHost ? `vxh${id}` : 'eth0',
      gatewayIpv4: n.ipv4.gateway,
      labels: { ...(req.labels ?? {}), ...(req.preallocated ? { 'fake.preallocated': 'yes' } : {}) },
      createdAt: new Date(0).toISOString(),
    };
    this.endpoints.set(id, ep);
    return ep;
  }

  async detach(endpointId: string) {
    this.enter('detach');
    const ep = this.endpoints.get(endpointId);
    if (!ep) throw new VxError('NOT_FOUND', `no endpoint ${endpointId}`);
    this.endpoints.delete(endpointId);
    const p = this.poolOfNetwork(ep.networkId);
    if (p && ep.labels['fake.preallocated'] !== 'yes') p.used.delete(parseIp(ep.ipv4.split('/')[0]!).value);
  }

  async listEndpoints(network?: string) {
    this.enter('listEndpoints');
    return [...this.endpoints.values()].filter((e) => network === undefined || e.networkId === network || e.network === network);
  }

  async listNodes(): Promise<GossipNode[]> {
    this.enter('listNodes');
    return [{ name: 'fake', addr: '198.51.100.1', port: 7946, state: 'alive', self: true }];
  }

  async traceEndpoint(req: { endpoint: string; to: string }): Promise<{ endpoint: string; network: string; to: string; hops: []; ok: boolean }> {
    this.enter('traceEndpoint');
    return { endpoint: req.endpoint, network: 'fake', to: req.to, hops: [], ok: true };
  }

  async doctor(): Promise<{ ok: boolean; checks: [] }> {
    this.enter('doctor');
    return { ok: true, checks: [] };
  }

  async gossipKey(op: KeyOp): Promise<KeyOpResult> {
    this.enter('gossipKey');
    if (op !== 'list') throw new VxError('FAILED_PRECONDITION', 'gossip encryption is not enabled: start the agent with --gossip-key-file');
    return { keys: [], primary: '', nodes: 1, failed: [] };
  }
}
