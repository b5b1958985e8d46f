// An in-memory AgentApi for API and CLI tests: enough behaviour to exercise every RPC and error path.
import { VxError } from '../../src/errors.js';
import { type AgentApi, type ServicesApi, type ServiceInfo, type CreateServiceRequest, type UpdateServiceRequest, type AttachRequest, type CreateNetworkRequest, type EndpointInfo, type GossipNode, type KeyOp, type KeyOpResult, type NetworkInfo, type PoolGrant, type PoolRequest, type StatusInfo } from '../../src/model/api.js';

export interface FakeAgent extends AgentApi, ServicesApi {
  /** Every request as the agent received it, in order, to check what crossed the wire. */
  calls: Array<{ method: string; args: unknown[] }>;
  /** When set, the next call throws this (then it is cleared). */
  failNext?: unknown;
  /** Gossip members listNodes returns; key operations count the alive ones. */
  nodes: GossipNode[];
  /** This node's keyring, base64, primary first; empty means gossip is not encrypted. */
  keyring: string[];
  /** Nodes that report these errors on install/use/remove (the local keyring still changes). */
  keyFailures: Array<{ node: string; error: string }>;
  /** Store health status reports when set (StatusInfo.store, from the store-health work). */
  store?: { ok: boolean; error?: string };
}

/** Three members, self second, one of them IPv6 and one suspect. */
export function defaultFakeNodes(): GossipNode[] {
  return [
    { name: 'node-c', addr: '203.0.113.3', port: 7946, state: 'suspect', self: false },
    { name: 'node-a', addr: '198.51.100.1', port: 7946, state: 'alive', self: true },
    { name: 'node-b', addr: '2001:db8::2', port: 7947, state: 'alive', self: false },
  ];
}

export function createFakeAgent(): FakeAgent {
  const networks = new Map<string, NetworkInfo>();
  const endpoints = new Map<string, EndpointInfo>();
  const pools = new Map<string, PoolGrant>();
  const services = new Map<string, ServiceInfo>();
  const findService = (nameOrId: string): ServiceInfo => {
    const s = [...services.values()].find((x) => x.name === nameOrId || x.id.startsWith(nameOrId));
    if (!s) throw new VxError('NOT_FOUND', `service "${nameOrId}" not found`);
    return s;
  };
  const servicePorts = (publish: CreateServiceRequest['publish']) =>
    (publish ?? []).map((p, i) => ({ protocol: p.protocol ?? 'tcp', targetPort: p.targetPort, publishedPort: p.publishedPort || 30000 + i, mode: p.mode ?? 'ingress' }) as const);
  let counter = 0;
  const nextId = (): string => {
    counter += 1;
    return counter.toString(16).padStart(4, '0') + 'ab'.repeat(30);
  };

  const serviceMethods: ServicesApi = {
    async createService(req: CreateServiceRequest): Promise<ServiceInfo> {
      record('createService', req);
      if ([...services.values()].some((x) => x.name === req.name)) throw new VxError('ALREADY_EXISTS', `service "${req.name}" already exists`);
      const nets = req.networks.map(findNetwork);
      const s: ServiceInfo = {
        id: nextId(),
        name: req.name,
        endpointMode: req.endpointMode ?? 'vip',
        affinity: req.affinity ?? 'none',
        networks: nets.map((n) => n.name),
        vips: req.endpointMode === 'dnsrr' ? [] : nets.map((n) => ({ network: n.name, networkId: n.id, ipv4: n.ipv4.subnet.replace(/\.0\/(\d+)$/, '.250/$1') })),
        ports: servicePorts(req.publish),
        labels: req.labels ?? {},
        tasks: [],
        version: 1,
        createdAt: '2026-01-01T00:00:00.000Z',
      };
      services.set(s.id, s);
      return s;
    },
    async listServices(): Promise<ServiceInfo[]> {
      record('listServices');
      return [...services.values()];
    },
    async inspectService(nameOrId: string): Promise<ServiceInfo> {
      record('inspectService', nameOrId);
      return findService(nameOrId);
    },
    async updateService(req: UpdateServiceRequest): Promise<ServiceInfo> {
      record('updateService', req);
      const s = findService(req.service);
      const next: ServiceInfo = { ...s, ...(req.publish ? { ports: servicePorts(req.publish) } : {}), ...(req.affinity ? { affinity: req.affinity } : {}), ...(req.labels ? { labels: req.labels } : {}), version: s.version + 1 };
      services.set(s.id, next);
      return next;
    },
    async removeService(nameOrId: string): Promise<void> {
      record('removeService', nameOrId);
      services.delete(findService(nameOrId).id);
    },
  };

  const fake: FakeAgent = {
    ...serviceMethods,
    calls: [],
    nodes: defaultFakeNodes(),
    keyring: [],
    keyFailures: [],
    async status(): Promise<StatusInfo> {
      record('status');
      return {
        version: '9.9.9-fake',
        advertiseAddr: '198.51.100.7',
        dataDir: '/tmp/fake-data',
        networks: networks.size,
        endpoints: endpoints.size,
        services: services.size,
        features: { vxlan: true, nftables: true, ipvs: false },
        ...(fake.store === undefined ? {} : { store: { ...fake.store } }),
      };
    },
    async createNetwork(req: CreateNetworkRequest): Promise<NetworkInfo> {
      record('createNetwork', req);
      if ([...networks.values()].some((n) => n.name === req.name)) {
        throw new VxError('ALREADY_EXISTS', `network ${req.name} already exists`);
      }
      const index = networks.size + 1;
      const subnet = req.subnet ?? `10.0.${index}.0/24`;
      const network: NetworkInfo = {
        id: nextId(),
        name: req.name,
        vni: 4096 + index,
        mtu: req.mtu ?? 1450,
        internal: req.internal ?? false,
        labels: req.labels ?? {},
        ipv4: {
          subnet,
          gateway: req.gateway ?? subnet.replace(/\.0\/\d+$/, '.1'),
          auxAddresses: req.auxAddresses ?? {},
          ...(req.ipRange === undefined ? {} : { ipRange: req.ipRange }),
        },
        ...(req.ipv6 === true
          ? { ipv6: { subnet: req.subnetV6 ?? `fd76:786d:${index}::/64`, gateway: req.gatewayV6 ?? `fd76:786d:${index}::1`, auxAddresses: {} } }
          : {}),
        sandbox: `vx-sb-${index}`,
        endpointCount: 0,
        createdAt: '2026-01-02T03:04:05.000Z',
      };
      networks.set(network.id, network);
      return network;
    },
    async listNetworks() {
      record('listNetworks');
      return [...networks.values()];
    },
    async inspectNetwork(nameOrId: string) {
      record('inspectNetwork', nameOrId);
      return findNetwork(nameOrId);
    },
    async removeNetwork(nameOrId: string) {
      record('removeNetwork', nameOrId);
      const network = findNetwork(nameOrId);
      if (network.endpointCount > 0) {
        throw new VxError('FAILED_PRECONDITION', `network ${network.name} has ${network.endpointCount} active endpoints`);
      }
      networks.delete(network.id);
    },
    async attach(req: AttachRequest) {
      record('attach', req);
      const network = findNetwork(req.network);
      network.endpointCount += 1;
      const endpoint: EndpointInfo = {
        id: nextId(),
        network: network.name,
        networkId: network.id,
        name: req.name ?? `ep${network.endpointCount}`,
        aliases: req.aliases ?? [],
        netns: req.netns ?? '',
        ipv4: `${req.ip ?? network.ipv4.subnet.replace(/\.0\/\d+$/, `.${network.endpointCount + 1}`)}/24`,
        ...(req.ipv6 === undefined ? {} : { ipv6: `${req.ipv6}/64` }),
        mac: req.mac ?? '02:42:0a:00:00:02',
        ifName: 'eth0',
        gatewayIpv4: network.ipv4.gateway,
        labels: req.labels ?? {},
        createdAt: '2026-01-02T03:04:06.000Z',
      };
      endpoints.set(endpoint.id, endpoint);
      return endpoint;
    },
    async detach(endpointId: string) {
      record('detach', endpointId);
      const endpoint = endpoints.get(endpointId);
      if (!endpoint) throw new VxError('NOT_FOUND', `endpoint ${endpointId} not found`);
      endpoints.delete(endpointId);
      const network = networks.get(endpoint.networkId);
      if (network) network.endpointCount -= 1;
    },
    async listEndpoints(network?: string) {
      record('listEndpoints', network);
      const all = [...endpoints.values()];
      if (network === undefined) return all;
      const found = findNetwork(network);
      return all.filter((e) => e.networkId === found.id);
    },
    async requestPool(req: PoolRequest) {
      record('requestPool', req);
      const grant = { poolId: `pool-${pools.size + 1}`, pool: req.pool ?? (req.v6 ? 'fd00:1::/64' : '10.9.0.0/24') };
      pools.set(grant.poolId, grant);
      return grant;
    },
    async releasePool(poolId: string) {
      record('releasePool', poolId);
      if (!pools.delete(poolId)) throw new VxError('NOT_FOUND', `pool ${poolId} not found`);
    },
    async requestAddress(poolId: string, address?: string, purpose?: 'gateway' | 'endpoint') {
      record('requestAddress', poolId, address, purpose);
      const pool = pools.get(poolId);
      if (!pool) throw new VxError('NOT_FOUND', `pool ${poolId} not found`);
      if (address === '10.9.0.99') throw new VxError('RESOURCE_EXHAUSTED', `pool ${poolId} is full`);
      return `${address ?? '10.9.0.2'}/24`;
    },
    async releaseAddress(poolId: string, address: string) {
      record('releaseAddress', poolId, address);
    },
    async listNodes() {
      record('listNodes');
      return fake.nodes.map((node) => ({ ...node }));
    },
    async traceEndpoint(req: { endpoint: string; to: string }) {
      record('traceEndpoint', req.endpoint, req.to);
      return { endpoint: req.endpoint, network: 'web', to: req.to, hops: [], ok: true };
    },
    async doctor() {
      record('doctor');
      return { ok: true, checks: [{ check: 'store', ok: true, detail: 'fake' }] };
    },
    async gossipKey(op: KeyOp, key?: string): Promise<KeyOpResult> {
      record('gossipKey', op, key);
      // Mirrors memberlist's keyring rules (src/gossip/memberlist/keyring.ts).
      if (op !== 'list') {
        if (key === undefined) throw new VxError('INVALID_ARGUMENT', `key is required for op ${op}`);
        if (op === 'install' && !fake.keyring.includes(key)) fake.keyring.push(key);
        if (op === 'use') {
          if (!fake.keyring.includes(key)) throw new VxError('NOT_FOUND', 'the key is not installed: install it first');
          fake.keyring = [key, ...fake.keyring.filter((k) => k !== key)];
        }
        if (op === 'remove') {
          if (fake.keyring[0] === key) throw new VxError('FAILED_PRECONDITION', 'cannot remove the primary key: use another key first');
          fake.keyring = fake.keyring.filter((k) => k !== key);
        }
      }
      const alive = fake.nodes.filter((node) => node.state === 'alive').length;
      return {
        keys: [...fake.keyring],
        primary: fake.keyring[0] ?? '',
        nodes: op === 'list' ? 1 : alive,
        failed: op === 'list' ? [] : fake.keyFailures.map((failure) => ({ ...failure })),
      };
    },
  };


  function record(method: string, ...args: unknown[]): void {
    fake.calls.push({ method, args });
    if (fake.failNext !== undefined) {
      const failure = fake.failNext;
      fake.failNext = undefined;
      throw failure;
    }
  }

  function findNetwork(nameOrId: string): NetworkInfo {
    for (const network of networks.values()) {
      if (network.name === nameOrId || network.id === nameOrId) return network;
    }
    const byPrefix = [...networks.values()].filter((n) => n.id.startsWith(nameOrId));
    if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0];
    throw new VxError('NOT_FOUND', `network ${nameOrId} not found`);
  }

  return fake;
}
