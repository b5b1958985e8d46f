// Records the agent keeps in its store: the desired state every reconcile derives from.

export interface SubnetRecord {
  poolId: string;
  subnet: string; // CIDR
  gateway: string; // IP
  prefix: number;
}

export interface NetworkRecord {
  id: string; // 64 hex
  name: string;
  vni: number;
  mtu: number;
  internal: boolean;
  labels: Record<string, string>;
  v4: SubnetRecord;
  v6?: SubnetRecord;
  /** Pools this network created (and so releases); adopted docker pools are released by docker. */
  ownsPools: boolean;
  sandbox: string; // namespace name
  /** pending: recorded before its kernel objects were made; rolled back on restart (absent = ready). */
  state?: 'pending' | 'ready';
  createdAt: string;
  /** The host that created it (a pending record is rolled back only by its creator). */
  node?: string;
  /** Shared store: a `network rm` is checking that no host has endpoints on it; attaches are refused meanwhile. */
  removing?: boolean;
}

/** A network name claimed cluster-wide (shared store): two creates of one name make one network. */
export interface NetworkNameClaim {
  id: string;
}

export interface EndpointRecord {
  id: string; // 64 hex
  networkId: string;
  name: string;
  aliases: string[];
  /** Workload namespace path; '' in docker mode until dockerd moves the interface. */
  netns: string;
  /** Interface name in the workload (eth0...) or, in docker mode, the veth left in the agent's namespace. */
  ifName: string;
  ipv4: string; // IP without prefix
  ipv6?: string;
  mac: string;
  leaveInHost: boolean;
  preallocated: boolean;
  labels: Record<string, string>;
  /** pending: allocated, kernel work not confirmed; rolled back on restart. */
  state: 'pending' | 'ready';
  createdAt: string;
  /** The host whose namespace holds it (absent in stores from before node names: this host's). */
  node?: string;
  /** Id of the service this endpoint is a task of (`attach --service`), absent for plain endpoints. */
  serviceId?: string;
  /** Id of the task endpoint this one is the ingress-network leg of (made by the ingress plane). */
  ingressLegOf?: string;
}

/** The north-south leg of one workload namespace on vxmesh_gwbridge (one per namespace). */
export interface GatewayRecord {
  id: string; // 12 hex, derived from the netns path
  netns: string;
  ifName: string; // eth1...
  ip: string;
  mac: string;
  /** false: the namespace had a default route of its own, which attach left alone (absent = true). */
  defaultRoute?: boolean;
  state: 'pending' | 'ready';
  /** The host it lives on (absent in stores from before node names: this host's). */
  node?: string;
}

export const keys = {
  network: (id: string) => `networks/${id}`,
  endpoint: (id: string) => `endpoints/${id}`,
  gateway: (id: string) => `gateways/${id}`,
  pool: (poolId: string) => `ipam/pools/${poolId}`,
  networkName: (name: string) => `network-names/${name}`,
};
