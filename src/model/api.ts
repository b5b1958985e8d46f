// The agent's public surface (the API contract): what the gRPC API, the CLI and the docker plugin adapt onto.
// Every method validates its input and throws VxError with a clear, user-facing message.

export interface CreateNetworkRequest {
  name: string;
  /** IPv4 subnet in CIDR form; when absent one is carved from the default pool. */
  subnet?: string;
  gateway?: string;
  /** Allocation is restricted to this CIDR (inside subnet). */
  ipRange?: string;
  /** Reserved addresses: name -> IP. */
  auxAddresses?: Record<string, string>;
  ipv6?: boolean;
  /** IPv6 subnet; when ipv6 is set and this is absent one is carved from the default v6 pool. */
  subnetV6?: string;
  gatewayV6?: string;
  ipRangeV6?: string;
  mtu?: number;
  internal?: boolean;
  labels?: Record<string, string>;
  /** Adopt a pool made earlier by requestPool (docker IPAM) instead of creating one. */
  ipv4PoolId?: string;
  ipv6PoolId?: string;
}

export interface SubnetInfo {
  subnet: string;
  gateway: string;
  ipRange?: string;
  auxAddresses: Record<string, string>;
}

export interface NetworkInfo {
  id: string;
  name: string;
  vni: number;
  mtu: number;
  internal: boolean;
  labels: Record<string, string>;
  ipv4: SubnetInfo;
  ipv6?: SubnetInfo;
  /** Name of the sandbox network namespace holding the bridge and vxlan device. */
  sandbox: string;
  endpointCount: number;
  createdAt: string;
  /** Node names of the hosts with endpoints on the network (with a shared store: any host), sorted. */
  hosts?: string[];
}

export interface AttachRequest {
  network: string;
  /** Path of the workload's network namespace, e.g. /run/netns/c1 or /proc/PID/ns/net. */
  netns?: string;
  name?: string;
  aliases?: string[];
  ip?: string;
  ipv6?: string;
  mac?: string;
  /**
   * Docker mode: do not move the interface into a workload netns; leave the veth end named
   * `hostIfName` in the agent's own namespace for dockerd to move (libnetwork Join).
   */
  leaveInHost?: boolean;
  /** Extra labels recorded with the endpoint (e.g. docker endpoint id). */
  labels?: Record<string, string>;
  /** The given ip/ipv6 were already allocated through requestAddress (docker IPAM): do not allocate again. */
  preallocated?: boolean;
}

export interface PoolRequest {
  /** Docker's AddressSpace ("LocalDefault"/"GlobalDefault"); default "local". */
  addressSpace?: string;
  /** CIDR; absent -> carve one from the default pools. */
  pool?: string;
  /** CIDR inside pool: allocation restricted to it (docker --ip-range). */
  subPool?: string;
  v6: boolean;
  /** Who asked, for error messages (e.g. "docker"). */
  owner?: string;
}

export interface PoolGrant {
  poolId: string;
  pool: string; // CIDR
}

export interface EndpointInfo {
  id: string;
  network: string;
  networkId: string;
  name: string;
  aliases: string[];
  netns: string;
  ipv4: string; // CIDR form, e.g. 10.0.1.2/24
  ipv6?: string;
  mac: string;
  /** Name of the workload-side interface before it was moved (docker mode) or "eth0". */
  ifName: string;
  gatewayIpv4?: string;
  gatewayIpv6?: string;
  labels: Record<string, string>;
  createdAt: string;
}

export interface FeatureProbe {
  vxlan: boolean;
  nftables: boolean;
  ipvs: boolean;
}

export interface StatusInfo {
  version: string;
  advertiseAddr: string;
  dataDir: string;
  networks: number;
  endpoints: number;
  features: FeatureProbe;
  /** Whether the agent's store takes writes; after a write failure (disk full, I/O error) ok is false until it recovers. */
  store?: { ok: boolean; error?: string };
  gossip?: GossipStatus;
  /** Packets to the VXLAN port from hosts that are not gossip members, dropped by the host firewall. */
  vxlanDropped?: number;
}

export interface GossipStatus {
  node: string;
  addr: string;
  port: number;
  /** Alive members, self included, and all members ever seen (dead/left too). */
  alive: number;
  members: number;
  encrypted: boolean;
}

export type GossipNodeState = 'alive' | 'suspect' | 'dead' | 'left';

export interface GossipNode {
  name: string;
  addr: string;
  port: number;
  state: GossipNodeState;
  /** This agent's own node. */
  self: boolean;
}

export type KeyOp = 'list' | 'install' | 'use' | 'remove';

export interface KeyOpResult {
  /** This node's keyring after the operation, base64, primary first. */
  keys: string[];
  primary: string;
  /** Nodes the operation was sent to (alive members, self included) and those that failed, with why. */
  nodes: number;
  failed: { node: string; error: string }[];
}

export interface AgentApi {
  status(): Promise<StatusInfo>;
  createNetwork(req: CreateNetworkRequest): Promise<NetworkInfo>;
  listNetworks(): Promise<NetworkInfo[]>;
  /** Accepts a name or an id (or unique id prefix). */
  inspectNetwork(nameOrId: string): Promise<NetworkInfo>;
  removeNetwork(nameOrId: string): Promise<void>;
  attach(req: AttachRequest): Promise<EndpointInfo>;
  detach(endpointId: string): Promise<void>;
  listEndpoints(network?: string): Promise<EndpointInfo[]>;
  // IPAM surface for the docker IPAM driver: pools may exist before their network does.
  requestPool(req: PoolRequest): Promise<PoolGrant>;
  releasePool(poolId: string): Promise<void>;
  /** Returns "ip/len". Without address: the next free one. purpose 'gateway' reserves it as the gateway. */
  requestAddress(poolId: string, address?: string, purpose?: 'gateway' | 'endpoint'): Promise<string>;
  releaseAddress(poolId: string, address: string): Promise<void>;
  // Gossip (memberlist): members, and cluster-wide keyring rotation.
  listNodes(): Promise<GossipNode[]>;
  /** list: this node's keys; install/use/remove: applied on every alive member (key is base64 16/24/32 bytes). */
  gossipKey(op: KeyOp, key?: string): Promise<KeyOpResult>;
}
