// Typed gRPC client: implements AgentApi against a running agent's unix socket.
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { VxError } from '../errors.js';
import type { AgentApi, AttachRequest, CreateNetworkRequest, EndpointInfo, GossipNode, GossipNodeState, KeyOp, KeyOpResult, NetworkInfo, PoolGrant, PoolRequest, StatusInfo, SubnetInfo } from '../model/api.js';
import { grpcToErrorCode } from './errors.js';
import { loadVxmeshProto } from './proto.js';

export type ApiClient = AgentApi & { close(): void };

export interface ConnectOptions {
  /** Per-call deadline; attach on a loaded host can take seconds, so the default is generous. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

type WireObject = Record<string, unknown>;

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

// Proto3 messages come back with null for absent sub-messages; the TS types use absent properties.
function optional<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}

function withOptional<T extends object>(target: T, values: Partial<T>): T {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null) (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

function toSubnet(wire: WireObject): SubnetInfo {
  return withOptional<SubnetInfo>(
    {
      subnet: wire.subnet as string,
      gateway: wire.gateway as string,
      auxAddresses: (wire.auxAddresses as Record<string, string>) ?? {},
    },
    { ipRange: optional(wire.ipRange as string | undefined) },
  );
}

function toNetwork(wire: WireObject): NetworkInfo {
  const ipv6 = optional(wire.ipv6 as WireObject | null | undefined);
  return withOptional<NetworkInfo>(
    {
      id: wire.id as string,
      name: wire.name as string,
      vni: wire.vni as number,
      mtu: wire.mtu as number,
      internal: wire.internal as boolean,
      labels: (wire.labels as Record<string, string>) ?? {},
      ipv4: toSubnet((wire.ipv4 as WireObject | null) ?? { subnet: '', gateway: '' }),
      sandbox: wire.sandbox as string,
      endpointCount: wire.endpointCount as number,
      createdAt: wire.createdAt as string,
    },
    { ipv6: ipv6 === undefined ? undefined : toSubnet(ipv6) },
  );
}

function toEndpoint(wire: WireObject): EndpointInfo {
  return withOptional<EndpointInfo>(
    {
      id: wire.id as string,
      network: wire.network as string,
      networkId: wire.networkId as string,
      name: wire.name as string,
      aliases: (wire.aliases as string[]) ?? [],
      netns: wire.netns as string,
      ipv4: wire.ipv4 as string,
      mac: wire.mac as string,
      ifName: wire.ifName as string,
      labels: (wire.labels as Record<string, string>) ?? {},
      createdAt: wire.createdAt as string,
    },
    {
      ipv6: optional(wire.ipv6 as string | undefined),
      gatewayIpv4: optional(wire.gatewayIpv4 as string | undefined),
      gatewayIpv6: optional(wire.gatewayIpv6 as string | undefined),
    },
  );
}

function toStatus(wire: WireObject): StatusInfo & { store?: StoreStatus } {
  const features = (wire.features as WireObject | null) ?? {};
  return {
    version: wire.version as string,
    advertiseAddr: wire.advertiseAddr as string,
    dataDir: wire.dataDir as string,
    networks: wire.networks as number,
    endpoints: wire.endpoints as number,
    features: {
      vxlan: features.vxlan === true,
      nftables: features.nftables === true,
      ipvs: features.ipvs === true,
    },
    ...(wire.gossip ? { gossip: toGossipStatus(wire.gossip as WireObject) } : {}),
    ...(wire.store ? { store: toStoreStatus(wire.store as WireObject) } : {}),
  };
}

/** StatusInfo.store (added to src/model/api.ts with the store-health work); typed here until then. */
interface StoreStatus {
  ok: boolean;
  error?: string;
}

function toStoreStatus(wire: WireObject): StoreStatus {
  const error = optional(wire.error as string | null | undefined);
  return { ok: wire.ok === true, ...(error === undefined || error === '' ? {} : { error }) };
}

function toGossipStatus(wire: WireObject): NonNullable<StatusInfo['gossip']> {
  return {
    node: wire.node as string,
    addr: wire.addr as string,
    port: wire.port as number,
    alive: wire.alive as number,
    members: wire.members as number,
    encrypted: wire.encrypted === true,
  };
}

function toGossipNode(wire: WireObject): GossipNode {
  return {
    name: wire.name as string,
    addr: wire.addr as string,
    port: wire.port as number,
    state: wire.state as GossipNodeState,
    self: wire.self === true,
  };
}

function toKeyOpResult(wire: WireObject): KeyOpResult {
  return {
    keys: (wire.keys as string[]) ?? [],
    primary: (wire.primary as string) ?? '',
    nodes: wire.nodes as number,
    failed: ((wire.failed as WireObject[]) ?? []).map((f) => ({ node: f.node as string, error: f.error as string })),
  };
}

/** A client for the agent at `socketPath`; nothing is dialled until the first call. */
export function connectApi(socketPath: string, options: ConnectOptions = {}): ApiClient {
  const absolutePath = resolve(socketPath);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { clientConstructor } = loadVxmeshProto();
  const client = new clientConstructor(`unix:${absolutePath}`, grpc.credentials.createInsecure());

  const call = (method: string, request: object): Promise<WireObject> =>
    new Promise((resolvePromise, reject) => {
      const rpc = client[method] as (
        request: object,
        options: grpc.CallOptions,
        callback: (error: grpc.ServiceError | null, response: WireObject) => void,
      ) => void;
      rpc.call(client, request, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error) reject(toVxError(error, absolutePath));
        else resolvePromise(response);
      });
    });

  return {
    async status() {
      return toStatus(await call('Status', {}));
    },
    async createNetwork(request: CreateNetworkRequest) {
      return toNetwork(await call('CreateNetwork', request));
    },
    async listNetworks() {
      const response = await call('ListNetworks', {});
      return ((response.networks as WireObject[]) ?? []).map(toNetwork);
    },
    async inspectNetwork(nameOrId: string) {
      return toNetwork(await call('InspectNetwork', { nameOrId }));
    },
    async removeNetwork(nameOrId: string) {
      await call('RemoveNetwork', { nameOrId });
    },
    async attach(request: AttachRequest) {
      return toEndpoint(await call('Attach', request));
    },
    async detach(endpointId: string) {
      await call('Detach', { endpointId });
    },
    async listEndpoints(network?: string) {
      const response = await call('ListEndpoints', network === undefined ? {} : { network });
      return ((response.endpoints as WireObject[]) ?? []).map(toEndpoint);
    },
    async requestPool(request: PoolRequest): Promise<PoolGrant> {
      const response = await call('RequestPool', request);
      return { poolId: response.poolId as string, pool: response.pool as string };
    },
    async releasePool(poolId: string) {
      await call('ReleasePool', { poolId });
    },
    async requestAddress(poolId: string, address?: string, purpose?: 'gateway' | 'endpoint') {
      const response = await call('RequestAddress', withOptional<object>({ poolId }, { address, purpose }));
      return response.address as string;
    },
    async releaseAddress(poolId: string, address: string) {
      await call('ReleaseAddress', { poolId, address });
    },
    async listNodes() {
      const response = await call('ListNodes', {});
      return ((response.nodes as WireObject[]) ?? []).map(toGossipNode);
    },
    async gossipKey(op: KeyOp, key?: string) {
      return toKeyOpResult(await call('GossipKey', withOptional<object>({ op }, { key })));
    },
    close() {
      client.close();
    },
  };
}
