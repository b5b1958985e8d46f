// Desired/actual kernel state of one network namespace, as plain data.

export type LinkKind = 'bridge' | 'vxlan' | 'veth' | 'other';

export interface LinkSpec {
  name: string;
  kind: LinkKind;
  mtu?: number;
  mac?: string;
  master?: string;
  up: boolean;
  /** `ip link add NAME` arguments used when the link is missing, e.g. ['type','veth','peer','name','x']. */
  create?: string[];
  /** Bridge port isolation (ports marked isolated cannot reach each other). */
  isolated?: boolean;
  /**
   * This link is created elsewhere (veth peer, vxlan moved in) under a temporary name; when `name`
   * is missing and `adoptFrom` exists it is renamed. If neither exists the reconciler reports it.
   */
  adoptFrom?: string;
}

export interface AddrSpec {
  dev: string;
  cidr: string; // "10.0.1.2/24" or "fd00::2/64"
}

export interface RouteSpec {
  dst: string; // "default" or CIDR
  via?: string;
  dev: string;
  family: 4 | 6;
}

export interface FdbSpec {
  mac: string;
  dev: string;
  dst: string;
}

export interface NeighSpec {
  ip: string;
  mac: string;
  dev: string;
}

export interface NsDesired {
  links: LinkSpec[];
  addrs: AddrSpec[];
  routes: RouteSpec[];
  fdb: FdbSpec[];
  neigh: NeighSpec[];
  /**
   * Which existing links this reconcile owns: owned links that are not desired are deleted, and
   * their addresses/routes/fdb are managed. Links outside the scope are never touched.
   */
  owns: (linkName: string) => boolean;
}

export interface ActualLink {
  name: string;
  kind: LinkKind;
  mtu: number;
  mac: string;
  master?: string;
  up: boolean;
  isolated?: boolean;
}

export interface NsActual {
  links: Map<string, ActualLink>;
  addrs: AddrSpec[];
  routes: RouteSpec[];
  fdb: FdbSpec[];
  neigh: NeighSpec[];
}

export function emptyDesired(owns: (n: string) => boolean): NsDesired {
  return { links: [], addrs: [], routes: [], fdb: [], neigh: [], owns };
}
