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
  /**
   * Absolute path the agent writes the workload's resolv.conf to (nameserver 127.0.0.11, options
   * ndots:0) once the attach succeeded; if that write fails, the attach is rolled back.
   */
  resolvConf?: string;
  /** Service name or id: the endpoint is a task of that service (the service must be on this network). */
  service?: string;
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
  /** The service this endpoint is a task of (its name; the id if the service is gone). */
  service?: string;
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
  store?: {
    ok: boolean;
    error?: string;
    /** Shared store: attaches acknowledged on this host (in its ack log) whose `ready` record the store does not hold yet. */
    owedReady?: number;
  };
  gossip?: GossipStatus;
  /** Packets to the VXLAN port from hosts that are not gossip members, dropped by the host firewall. */
  vxlanDropped?: number;
  /** The service load balancer in use (`--lb auto` picks ipvs where the kernel has ip_vs). */
  loadBalancer?: 'nftables' | 'ipvs';
  /** Services in the cluster (the store's service records). */
  services?: number;
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
  /** `vxmesh doctor`: runs every check on this host; changes nothing. */
  doctor(): Promise<DoctorReport>;
  /** `vxmesh endpoint trace`: the path a packet from an endpoint would take, from state and kernel; sends nothing. */
  traceEndpoint(req: TraceRequest): Promise<TraceInfo>;
}

/** Services (issue 10): VIPs, load balancing, published ports through the ingress routing mesh. */
export interface ServicesApi {
  createService(req: CreateServiceRequest): Promise<ServiceInfo>;
  listServices(): Promise<ServiceInfo[]>;
  /** Accepts a name, an id or a unique id prefix. */
  inspectService(nameOrId: string): Promise<ServiceInfo>;
  updateService(req: UpdateServiceRequest): Promise<ServiceInfo>;
  removeService(nameOrId: string): Promise<void>;
}

/** `--publish [mode=ingress|host,]PUBLISHED:TARGET[/tcp|/udp]` (PUBLISHED may be empty: auto-assigned). */
export interface PublishSpec {
  /** 0 or absent: auto-assign from 30000-32767 (ingress mode only). */
  publishedPort?: number;
  targetPort: number;
  protocol?: 'tcp' | 'udp';
  mode?: 'ingress' | 'host';
}

export interface CreateServiceRequest {
  name: string;
  /** Network names or ids (at least one). */
  networks: string[];
  publish?: PublishSpec[];
  endpointMode?: 'vip' | 'dnsrr';
  affinity?: 'none' | 'client-ip';
  labels?: Record<string, string>;
}

/** Fields given replace the service's; absent ones stay. */
export interface UpdateServiceRequest {
  /** Name, id or unique id prefix of the service. */
  service: string;
  publish?: PublishSpec[];
  affinity?: 'none' | 'client-ip';
  labels?: Record<string, string>;
}

export interface ServicePortInfo {
  protocol: 'tcp' | 'udp';
  targetPort: number;
  publishedPort: number;
  mode: 'ingress' | 'host';
}

export interface ServiceVipInfo {
  network: string;
  networkId: string;
  /** CIDR form (the network's prefix length), like endpoint addresses. */
  ipv4?: string;
  ipv6?: string;
}

export interface ServiceTaskInfo {
  endpointId: string;
  name: string;
  network: string;
  ipv4?: string;
  ipv6?: string;
  node: string;
}

export interface ServiceInfo {
  id: string;
  name: string;
  endpointMode: 'vip' | 'dnsrr';
  affinity: 'none' | 'client-ip';
  networks: string[];
  vips: ServiceVipInfo[];
  ports: ServicePortInfo[];
  labels: Record<string, string>;
  /** Live tasks as this host knows them (every host's, from the service tables). */
  tasks: ServiceTaskInfo[];
  version: number;
  createdAt: string;
}

export interface TraceRequest {
  /** Endpoint id, unique id prefix, or name. */
  endpoint: string;
  /** IP, IP:PORT, NAME or NAME:PORT ([V6]:PORT for IPv6 with a port). */
  to: string;
}

export interface TraceHop {
  /** Where the packet is: "workload", "sandbox", "bridge", "vxlan", "gateway", ... */
  at: string;
  detail: string;
  /** False when this hop is where the packet would be lost (and the trace ends). */
  ok: boolean;
}

export interface TraceInfo {
  endpoint: string;
  network: string;
  /** The destination address (a name resolved to it). */
  to: string;
  port?: number;
  /** How a name was resolved, e.g. "endpoint api (alias) in network web". */
  resolved?: string;
  hops: TraceHop[];
  /** True when every hop is ok: the packet would reach its destination (or leave the host). */
  ok: boolean;
}

/** One finding of `vxmesh doctor`: a check passed, or what is wrong and the command that fixes it. */
export interface DoctorCheckResult {
  /** Dotted check name, e.g. "kernel.vxlan", "nft.table", "links.sandbox"; several findings may share one. */
  check: string;
  /** What was checked (a namespace, a member, a table), when the check has several subjects. */
  subject?: string;
  ok: boolean;
  /** ok: what was found fine; not ok: what is wrong. */
  detail: string;
  /** Not ok: what to run (or do) to fix it. */
  fix?: string;
}

export interface DoctorReport {
  /** True when every check passed. */
  ok: boolean;
  checks: DoctorCheckResult[];
}
