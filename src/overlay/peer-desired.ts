// The peer table as kernel state (pure): remote endpoints of one network -> static FDB entries
// (MAC -> VTEP on vxlan0) and permanent neighbour entries (IP -> MAC on vxlan0, answered by the
// vxlan device's ARP/ND proxy) in that network's sandbox. Never for this host's own endpoints.
import type { FdbSpec, NeighSpec } from '../kernel/state.js';
import { VXLAN } from './names.js';
import type { PeerRecord } from './peer-record.js';

export interface RemotePeer {
  /** Table key: the endpoint id (a second entry `<id>-v6` carries a dual-stack endpoint's IPv6 address). */
  key: string;
  /** NetworkDB node that owns (published) the entry. */
  owner: string;
  record: PeerRecord;
}

export interface PeerKernelEntries {
  fdb: FdbSpec[];
  neigh: NeighSpec[];
}

export interface SelfView {
  /** This host's NetworkDB node name: its entries are never programmed here. */
  nodeName: string;
  /** This host's VTEP address: an entry pointing at it would loop traffic back. */
  vtep?: string;
  /** Ids of this host's endpoints (the local bridge already reaches them). */
  localEndpointIds: ReadonlySet<string>;
}

/** The endpoint id a table key names (`<id>` or `<id>-v6`). */
export function endpointIdOfKey(key: string): string {
  return key.endsWith(V6_SUFFIX) ? key.slice(0, -V6_SUFFIX.length) : key;
}

export const V6_SUFFIX = '-v6';

/**
 * FDB and neighbour entries for the remote peers of one network. Sorted by key so the choice is
 * stable: when two entries claim one MAC (or one IP), the first key wins.
 */
export function peerKernelEntries(peers: Iterable<RemotePeer>, self: SelfView): PeerKernelEntries {
  const fdb = new Map<string, FdbSpec>();
  const neigh = new Map<string, NeighSpec>();
  const sorted = [...peers].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const p of sorted) {
    if (p.owner === self.nodeName || self.localEndpointIds.has(endpointIdOfKey(p.key))) continue;
    if (self.vtep !== undefined && p.record.vtep === self.vtep) continue;
    const { mac, ip, vtep } = p.record;
    if (!fdb.has(mac)) fdb.set(mac, { mac, dev: VXLAN, dst: vtep });
    if (!neigh.has(ip)) neigh.set(ip, { ip, mac, dev: VXLAN });
  }
  return { fdb: [...fdb.values()], neigh: [...neigh.values()] };
}
