// What the endpoints and services controllers feed the resolver. Every record belongs to one
// network; a query sees the records of the networks its namespace is on (its DnsView).

/** One endpoint on one network (an endpoint on two networks is two records with distinct ids). */
export interface EndpointRecord {
  /** Unique among endpoint records, e.g. `${endpointId}/${networkId}`. */
  readonly id: string;
  readonly network: string;
  /** Container/task name: answers A/AAAA and is the PTR target of the addresses. */
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly ipv4?: string;
  readonly ipv6?: string;
}

export interface ServicePort {
  readonly protocol: 'tcp' | 'udp';
  /** The port tasks listen on (what SRV answers). */
  readonly targetPort: number;
  /** The published (ingress) port, if any: `_<published>._<proto>.NAME` answers too. */
  readonly publishedPort?: number;
}

export interface ServiceVip {
  readonly network: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
}

export interface ServiceTask {
  readonly network: string;
  /** Task name, the PTR target of its addresses when given (endpoint records usually provide it). */
  readonly name?: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
}

/** A whole service: upsert replaces the previous version with the same id. */
export interface ServiceRecord {
  readonly id: string;
  readonly name: string;
  readonly aliases?: readonly string[];
  /** vip: NAME answers the VIP of each network; dnsrr: NAME answers the task addresses, shuffled. */
  readonly mode: 'vip' | 'dnsrr';
  readonly vips: readonly ServiceVip[];
  readonly tasks: readonly ServiceTask[];
  /** Networks the service is on (its names are owned there even with no task); those of vips and tasks count too. */
  readonly networks?: readonly string[];
  readonly ports?: readonly ServicePort[];
}

export interface DnsTtls {
  /** TTL of positive answers, seconds. */
  readonly answer: number;
  /** SOA TTL and MINIMUM of negative answers (RFC 2308), seconds. */
  readonly negative: number;
}

export const DEFAULT_TTLS: DnsTtls = { answer: 5, negative: 1 };
