// Service records as the store holds them (cluster-wide, like networks): the desired state the
// services, load-balancer, ingress and DNS planes derive from. Shared contract of src/ingress.

export type Protocol = 'tcp' | 'udp';
/** ingress: published on every host through the routing mesh; host: only where a task runs, to the local task. */
export type PublishMode = 'ingress' | 'host';
export type EndpointMode = 'vip' | 'dnsrr';
/** client-ip: one client address keeps reaching one task (IPVS sh / nft jhash of the source). */
export type Affinity = 'none' | 'client-ip';

export interface PortRecord {
  protocol: Protocol;
  /** The port tasks listen on. */
  targetPort: number;
  /** The published port (given, or auto-assigned from 30000-32767 at create); 0: not published. */
  publishedPort: number;
  mode: PublishMode;
}

/** The service's virtual IP on one of its networks (allocated from that network's subnet through the store). */
export interface ServiceVipRecord {
  networkId: string;
  ipv4?: string; // IP without prefix
  ipv6?: string;
}

export interface ServiceRecord {
  id: string; // 64 hex
  name: string;
  endpointMode: EndpointMode;
  affinity: Affinity;
  /** Network ids, in the order given. */
  networks: string[];
  /** One per network in vip mode (none in dnsrr mode), plus the ingress network's when a port is published in ingress mode. */
  vips: ServiceVipRecord[];
  ports: PortRecord[];
  labels: Record<string, string>;
  createdAt: string;
  /** Bumped by every update (shown by inspect; lets a reader tell two versions apart). */
  version: number;
  /** The host that created it. */
  node?: string;
}

/** A published port claimed cluster-wide: one service per protocol and port. */
export interface PublishedPortClaim {
  serviceId: string;
}

/** Default ingress network (issue 10): every host has a sandbox on it; `--ingress-subnet` changes it. */
export const INGRESS_NETWORK_NAME = 'ingress';
export const DEFAULT_INGRESS_SUBNET = '10.255.0.0/16';
/** Auto-assigned published ports come from here (Swarm's range). */
export const PUBLISHED_PORT_RANGE = { first: 30000, last: 32767 } as const;

export const serviceKeys = {
  service: (id: string) => `services/${id}`,
  serviceName: (name: string) => `service-names/${name}`,
  publishedPort: (protocol: Protocol, port: number) => `published-ports/${protocol}/${port}`,
};

/**
 * One task (backend) of a service on one network, as every host learns it: this host's from its
 * store records, other hosts' from the network's NetworkDB `endpoint_table` (Docker's encoding).
 */
export interface ServiceTask {
  /** Endpoint id (the endpoint_table key). */
  endpointId: string;
  serviceId: string;
  networkId: string;
  /** Task (endpoint) name. */
  name: string;
  ipv4?: string;
  ipv6?: string;
  aliases: string[];
  /** Node that runs it. */
  node: string;
}

/** What the LB, ingress and DNS planes read: services and their live tasks, with a change hook. */
export interface ServiceView {
  services(): ServiceRecord[];
  service(id: string): ServiceRecord | undefined;
  /** Live tasks of a service on one network (every host's), sorted by endpoint id. */
  tasks(serviceId: string, networkId: string): ServiceTask[];
  /** Called (coalesced is fine) after any service or task changes; returns the unsubscribe. */
  onChange(fn: () => void): () => void;
  /**
   * False after an agent start until gossip has synced other hosts' tasks (onChange fires when it turns
   * true): until then tasks() is partial. Absent: always caught up.
   */
  caughtUp?(): boolean;
}
