// Desired/actual kernel state of one network namespace, as plain data.

import type { NsRef } from './ns.js';

export type LinkKind = 'bridge' | 'vxlan' | 'veth' | 'dummy' | 'other';

interface LinkCommon {
  name: string;
  mtu?: number;
  mac?: string;
  master?: string;
  up: boolean;
  /** Bridge port isolation (ports marked isolated cannot reach each other). */
  isolated?: boolean;
  /**
   * This link arrives under a temporary name (a veth end created from another namespace); when
   * `name` is missing and `adoptFrom` exists it is renamed. If neither exists it is reported missing.
   */
  adoptFrom?: string;
  /**
   * The link gets a clsact qdisc (for tc programs) when it is adopted, while it is still down: adding
   * one to an up device deactivates its transmit queues for an RCU grace period and drops what it sends.
   */
  clsact?: boolean;
}

export interface BridgeLinkSpec extends LinkCommon {
  kind: 'bridge';
}

export interface DummyLinkSpec extends LinkCommon {
  kind: 'dummy';
}

export interface VxlanLinkSpec extends LinkCommon {
  kind: 'vxlan';
  vni: number;
  /** UDP destination port (4789 is IANA's). */
  dstPort: number;
  /** Source address of the encapsulated packets (the underlay address). */
  local?: string;
  /** MAC learning from received packets; off (static FDB only) unless true. */
  learning?: boolean;
  /**
   * Answer ARP and IPv6 neighbour solicitations from this device's own (permanent) neighbour
   * entries instead of flooding them: remote endpoints are then reachable from static entries alone.
   */
  proxy?: boolean;
  /**
   * Create the device in another namespace under `tempName` and move it here: a vxlan device's
   * UDP socket lives in the namespace it is created in, so a sandbox's vxlan is created in the
   * host namespace (the underlay) and then moved into the sandbox and renamed.
   */
  createIn?: { ns: NsRef; tempName: string };
}

export interface VethLinkSpec extends LinkCommon {
  kind: 'veth';
  /**
   * The other end, created together with this one (in `ns`, default here). Without a peer this
   * end is made elsewhere and only adopted (`adoptFrom`) or reported missing.
   */
  peer?: { name: string; ns?: NsRef; mtu?: number };
}

/** A link vxmesh never creates (lo, the host's own interfaces): only its state is managed. */
export interface OtherLinkSpec extends LinkCommon {
  kind: 'other';
}

export type LinkSpec = BridgeLinkSpec | DummyLinkSpec | VxlanLinkSpec | VethLinkSpec | OtherLinkSpec;

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
   * Lists left as the kernel has them (the desired entries are added, nothing is removed): for
   * state whose source of truth is not known yet (the peer table before gossip caught up).
   */
  preserve?: { fdb?: boolean; neigh?: boolean };
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
  /** vxlan attributes as the kernel reports them (absent when not read). */
  vxlan?: { vni: number; dstPort: number; local?: string; proxy?: boolean };
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
