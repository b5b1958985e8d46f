// Typed gRPC client: implements AgentApi against a running agent's unix socket.
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { VxError } from '../errors.js';
import type {
  AgentApi, AttachRequest, CreateNetworkRequest, DoctorCheckResult, TraceInfo, TraceRequest, EndpointInfo, GossipNode, GossipNodeState, GossipStatus, KeyOp, KeyOpResult, NetworkInfo,
  PoolGrant, PoolRequest, StatusInfo, SubnetInfo, ServicesApi, CreateServiceRequest, UpdateServiceRequest, ServiceInfo, ServiceVipInfo, ServiceTaskInfo,
} from '../model/api.js';
import type { ServiceInfo__Output } from './generated/vxmesh/v1/ServiceInfo.js';
import type { ListServicesResponse__Output } from './generated/vxmesh/v1/ListServicesResponse.js';
import type { UpdateServiceRequest as UpdateServiceWire } from './generated/vxmesh/v1/UpdateServiceRequest.js';
import type { EndpointInfo__Output } from './generated/vxmesh/v1/EndpointInfo.js';
import type { GossipKeyRequest } from './generated/vxmesh/v1/GossipKeyRequest.js';
import type { GossipKeyResponse__Output } from './generated/vxmesh/v1/GossipKeyResponse.js';
import type { GossipNode__Output } from './generated/vxmesh/v1/GossipNode.js';
import type { GossipStatus__Output } from './generated/vxmesh/v1/GossipStatus.js';
import type { ListEndpointsResponse__Output } from './generated/vxmesh/v1/ListEndpointsResponse.js';
import type { ListNetworksResponse__Output } from './generated/vxmesh/v1/ListNetworksResponse.js';
import type { ListNodesResponse__Output } from './generated/vxmesh/v1/ListNodesResponse.js';
import type { NetworkInfo__Output } from './generated/vxmesh/v1/NetworkInfo.js';
import type { PoolGrant__Output } from './generated/vxmesh/v1/PoolGrant.js';
import type { RequestAddressRequest } from './generated/vxmesh/v1/RequestAddressRequest.js';
import type { RequestAddressResponse__Output } from './generated/vxmesh/v1/RequestAddressResponse.js';
import type { DoctorReport__Output } from './generated/vxmesh/v1/DoctorReport.js';
import type { TraceInfo__Output } from './generated/vxmesh/v1/TraceInfo.js';
import type { StatusInfo__Output } from './generated/vxmesh/v1/StatusInfo.js';
import type { StoreStatus__Output } from './generated/vxmesh/v1/StoreStatus.js';
import type { SubnetInfo__Output } from './generated/vxmesh/v1/SubnetInfo.js';
import { grpcToErrorCode } from './errors.js';
import { loadVxmeshProto } from './proto.js';

export type ApiClient = AgentApi & ServicesApi & { close(): void };

export interface ConnectOptions {
  /** Per-call deadline; attach on a loaded host can take seconds, so the default is generous. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** No agent answers on the socket (missing, refused): every further call would fail the same way. */
export class AgentUnreachableError extends VxError {
  constructor(
    readonly socketPath: string,
    permissionDenied = false,
  ) {
    super(
      'FAILED_PRECONDITION',
      permissionDenied
        ? `cannot reach the vxmesh agent at ${socketPath}: permission denied (the socket is root-only: run as root)`
        : `cannot reach the vxmesh agent at ${socketPath}: is \`vxmesh agent\` running? (set --socket or VXMESH_SOCKET)`,
    );
    this.name = 'AgentUnreachableError';
  }
}

/** A failed call as the VxError the agent raised (same code and message), or why the agent was not reached. */
export function toVxError(error: unknown, socketPath: string): VxError {
  const serviceError = error as Partial<grpc.ServiceError>;
  if (typeof serviceError.code !== 'number') {
    return new VxError('INTERNAL', error instanceof Error ? error.message : String(error));
  }
  // The server never answers UNAVAILABLE itself: it means no connection to the socket.
  if (serviceError.code === grpc.status.UNAVAILABLE) {
    return new AgentUnreachableError(socketPath, /\bEACCES\b/.test(serviceError.details ?? ''));
  }
  if (serviceError.code === grpc.status.DEADLINE_EXCEEDED) {
    return new VxError('INTERNAL', `the vxmesh agent at ${socketPath} did not answer in time`);
  }
  return new VxError(grpcToErrorCode(serviceError.code), serviceError.details || serviceError.message || 'unknown error');
}

// Responses are typed by the code generated from proto/vxmesh.proto (src/api/generated; test/unit/api-generated.test.ts says how to refresh them);
// mapping them onto src/model/api.ts is where proto3's nulls and defaults become absent properties.

/** Proto3 gives null for an absent message and "" for an absent plain string; the model leaves both out. */
function present<T>(value: T | null | undefined): T | undefined {
  return value === null || value === '' ? undefined : value;
}

function withOptional<T extends object>(target: T, values: Partial<T>): T {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null) (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

function missing(what: string): VxError {
  return new VxError('INTERNAL', `the agent's answer has no ${what}: is the agent older than this CLI?`);
}

function toSubnet(wire: SubnetInfo__Output): SubnetInfo {
  return withOptional<SubnetInfo>(
    { subnet: wire.subnet, gateway: wire.gateway, auxAddresses: wire.auxAddresses },
    { ipRange: present(wire.ipRange) },
  );
}

function toNetwork(wire: NetworkInfo__Output): NetworkInfo {
  if (!wire.ipv4) throw missing('IPv4 subnet');
  const ipv6 = present(wire.ipv6);
  return withOptional<NetworkInfo>(
    {
      id: wire.id,
      name: wire.name,
      vni: wire.vni,
      mtu: wire.mtu,
      internal: wire.internal,
      labels: wire.labels,
      ipv4: toSubnet(wire.ipv4),
      sandbox: wire.sandbox,
      endpointCount: wire.endpointCount,
      createdAt: wire.createdAt,
    },
    { ipv6: ipv6 === undefined ? undefined : toSubnet(ipv6), hosts: wire.hosts.length ? wire.hosts : undefined },
  );
}

function toEndpoint(wire: EndpointInfo__Output): EndpointInfo {
  return withOptional<EndpointInfo>(
    {
      id: wire.id,
      network: wire.network,
      networkId: wire.networkId,
      name: wire.name,
      aliases: wire.aliases,
      netns: wire.netns,
      ipv4: wire.ipv4,
      mac: wire.mac,
      ifName: wire.ifName,
      labels: wire.labels,
      createdAt: wire.createdAt,
    },
    { ipv6: wire.ipv6, gatewayIpv4: wire.gatewayIpv4, gatewayIpv6: wire.gatewayIpv6, service: present(wire.service) },
  );
}

const oneOf = <T extends string>(what: string, value: string, allowed: readonly T[]): T => {
  const known = allowed.find((a) => a === value);
  if (known === undefined) throw new VxError('INTERNAL', `the agent reported an unknown ${what} "${value}"`);
  return known;
};

function toService(wire: ServiceInfo__Output): ServiceInfo {
  return {
    id: wire.id,
    name: wire.name,
    endpointMode: oneOf('endpoint mode', wire.endpointMode, ['vip', 'dnsrr'] as const),
    affinity: oneOf('affinity', wire.affinity, ['none', 'client-ip'] as const),
    networks: wire.networks,
    vips: wire.vips.map((v) => withOptional<ServiceVipInfo>({ network: v.network, networkId: v.networkId }, { ipv4: present(v.ipv4), ipv6: present(v.ipv6) })),
    ports: wire.ports.map((p) => ({
      protocol: oneOf('protocol', p.protocol, ['tcp', 'udp'] as const),
      targetPort: p.targetPort,
      publishedPort: p.publishedPort,
      mode: oneOf('publish mode', p.mode, ['ingress', 'host'] as const),
    })),
    labels: wire.labels,
    tasks: wire.tasks.map((t) => withOptional<ServiceTaskInfo>({ endpointId: t.endpointId, name: t.name, network: t.network, node: t.node }, { ipv4: present(t.ipv4), ipv6: present(t.ipv6) })),
    version: wire.version,
    createdAt: wire.createdAt,
  };
}

/** Proto3 cannot send an absent list or map: set_publish / set_labels say they were given. */
function toUpdateWire(req: UpdateServiceRequest): UpdateServiceWire {
  return withOptional<UpdateServiceWire>(
    { service: req.service, setPublish: req.publish !== undefined, setLabels: req.labels !== undefined },
    { publish: req.publish, labels: req.labels, affinity: req.affinity },
  );
}

/** StatusInfo.store (added to src/model/api.ts with the store-health work); typed here until then. */
interface StoreStatus {
  ok: boolean;
  error?: string;
  owedReady?: number;
}

function toStoreStatus(wire: StoreStatus__Output): StoreStatus {
  return withOptional<StoreStatus>({ ok: wire.ok }, { error: present(wire.error), owedReady: present(wire.owedReady) });
}

function toGossipStatus(wire: GossipStatus__Output): GossipStatus {
  return { node: wire.node, addr: wire.addr, port: wire.port, alive: wire.alive, members: wire.members, encrypted: wire.encrypted };
}

function toStatus(wire: StatusInfo__Output): StatusInfo & { store?: StoreStatus } {
  const features = wire.features ?? { vxlan: false, nftables: false, ipvs: false };
  const gossip = present(wire.gossip);
  const store = present(wire.store);
  return {
    version: wire.version,
    advertiseAddr: wire.advertiseAddr,
    dataDir: wire.dataDir,
    networks: wire.networks,
    endpoints: wire.endpoints,
    features: { vxlan: features.vxlan, nftables: features.nftables, ipvs: features.ipvs },
    ...(gossip ? { gossip: toGossipStatus(gossip) } : {}),
    ...(store ? { store: toStoreStatus(store) } : {}),
    ...(wire.vxlanDropped !== undefined && wire.vxlanDropped !== null ? { vxlanDropped: Number(wire.vxlanDropped) } : {}),
    ...(wire.loadBalancer === 'nftables' || wire.loadBalancer === 'ipvs' ? { loadBalancer: wire.loadBalancer } : {}),
    ...(wire.services !== undefined && wire.services !== null ? { services: wire.services } : {}),
  };
}

const NODE_STATES: readonly GossipNodeState[] = ['alive', 'suspect', 'dead', 'left'];

function toGossipNode(wire: GossipNode__Output): GossipNode {
  const state = NODE_STATES.find((known) => known === wire.state);
  if (state === undefined) throw new VxError('INTERNAL', `the agent reported node ${wire.name} in an unknown state "${wire.state}"`);
  return { name: wire.name, addr: wire.addr, port: wire.port, state, self: wire.self };
}

function toKeyOpResult(wire: GossipKeyResponse__Output): KeyOpResult {
  return {
    keys: wire.keys,
    primary: wire.primary,
    nodes: wire.nodes,
    failed: wire.failed.map((failure) => ({ node: failure.node, error: failure.error })),
  };
}

/** A client for the agent at `socketPath`; nothing is dialled until the first call. */
export function connectApi(socketPath: string, options: ConnectOptions = {}): ApiClient {
  const absolutePath = resolve(socketPath);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { clientConstructor } = loadVxmeshProto();
  const client = new clientConstructor(`unix:${absolutePath}`, grpc.credentials.createInsecure());

  /** One unary call with a deadline; errors become the VxError the agent raised. */
  const call = <T>(invoke: (options: grpc.CallOptions, done: grpc.requestCallback<T>) => unknown): Promise<T> =>
    new Promise((resolvePromise, reject) => {
      invoke({ deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error) reject(toVxError(error, absolutePath));
        else if (response === undefined) reject(missing('response'));
        else resolvePromise(response);
      });
    });

  return {
    async status() {
      return toStatus(await call<StatusInfo__Output>((o, done) => client.Status({}, o, done)));
    },
    async createNetwork(request: CreateNetworkRequest) {
      return toNetwork(await call<NetworkInfo__Output>((o, done) => client.CreateNetwork(request, o, done)));
    },
    async listNetworks() {
      const response = await call<ListNetworksResponse__Output>((o, done) => client.ListNetworks({}, o, done));
      return response.networks.map(toNetwork);
    },
    async inspectNetwork(nameOrId: string) {
      return toNetwork(await call<NetworkInfo__Output>((o, done) => client.InspectNetwork({ nameOrId }, o, done)));
    },
    async removeNetwork(nameOrId: string) {
      await call((o, done) => client.RemoveNetwork({ nameOrId }, o, done));
    },
    async attach(request: AttachRequest) {
      return toEndpoint(await call<EndpointInfo__Output>((o, done) => client.Attach(request, o, done)));
    },
    async detach(endpointId: string) {
      await call((o, done) => client.Detach({ endpointId }, o, done));
    },
    async listEndpoints(network?: string) {
      const response = await call<ListEndpointsResponse__Output>((o, done) => client.ListEndpoints(network === undefined ? {} : { network }, o, done));
      return response.endpoints.map(toEndpoint);
    },
    async requestPool(request: PoolRequest): Promise<PoolGrant> {
      const response = await call<PoolGrant__Output>((o, done) => client.RequestPool(request, o, done));
      return { poolId: response.poolId, pool: response.pool };
    },
    async releasePool(poolId: string) {
      await call((o, done) => client.ReleasePool({ poolId }, o, done));
    },
    async requestAddress(poolId: string, address?: string, purpose?: 'gateway' | 'endpoint') {
      const request = withOptional<RequestAddressRequest>({ poolId }, { address, purpose });
      const response = await call<RequestAddressResponse__Output>((o, done) => client.RequestAddress(request, o, done));
      return response.address;
    },
    async releaseAddress(poolId: string, address: string) {
      await call((o, done) => client.ReleaseAddress({ poolId, address }, o, done));
    },
    async listNodes() {
      const response = await call<ListNodesResponse__Output>((o, done) => client.ListNodes({}, o, done));
      return response.nodes.map(toGossipNode);
    },
    async gossipKey(op: KeyOp, key?: string) {
      const request = withOptional<GossipKeyRequest>({ op }, { key });
      return toKeyOpResult(await call<GossipKeyResponse__Output>((o, done) => client.GossipKey(request, o, done)));
    },
    async doctor() {
      const wire = await call<DoctorReport__Output>((o, done) => client.Doctor({}, o, done));
      return {
        ok: wire.ok,
        checks: wire.checks.map((c) => withOptional<DoctorCheckResult>({ check: c.check, ok: c.ok, detail: c.detail }, { subject: present(c.subject), fix: present(c.fix) })),
      };
    },
    async traceEndpoint(request: TraceRequest) {
      const wire = await call<TraceInfo__Output>((o, done) => client.TraceEndpoint(request, o, done));
      return withOptional<TraceInfo>(
        { endpoint: wire.endpoint, network: wire.network, to: wire.to, ok: wire.ok, hops: wire.hops.map((h) => ({ at: h.at, detail: h.detail, ok: h.ok })) },
        { port: present(wire.port), resolved: present(wire.resolved) },
      );
    },
    async createService(request: CreateServiceRequest) {
      return toService(await call<ServiceInfo__Output>((o, done) => client.CreateService(request, o, done)));
    },
    async listServices() {
      const response = await call<ListServicesResponse__Output>((o, done) => client.ListServices({}, o, done));
      return response.services.map(toService);
    },
    async inspectService(nameOrId: string) {
      return toService(await call<ServiceInfo__Output>((o, done) => client.InspectService({ nameOrId }, o, done)));
    },
    async updateService(request: UpdateServiceRequest) {
      return toService(await call<ServiceInfo__Output>((o, done) => client.UpdateService(toUpdateWire(request), o, done)));
    },
    async removeService(nameOrId: string) {
      await call((o, done) => client.RemoveService({ nameOrId }, o, done));
    },
    close() {
      client.close();
    },
  };
}
