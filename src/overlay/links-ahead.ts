// Links made ahead of their records: an attach plans its endpoint (id, namespace) and gateway leg
// before its store transaction and has the kernel make their veths (the sandbox end on br0, the leg
// on the gwbridge, the workload ends moved in) while the transaction is in flight: none of that
// needs the store's answer (addresses and MACs are set in the workload's own batch, after it).
// The kernel's desired state is the stored records plus these, until the attach withdraws them
// (its records are stored, or it failed and the links must go). Only the kernel sees them: nothing
// lists, publishes or serves an endpoint that has no record.

import type { EndpointRecord, GatewayRecord } from './model.js';

export class LinksAhead {
  /** By endpoint id: the endpoint planned ahead, and its leg when it brings one. */
  private readonly planned = new Map<string, { ep: EndpointRecord; gw: GatewayRecord | undefined }>();

  /** Adds an attach's planned endpoint (and leg); returns the withdraw. */
  add(ep: EndpointRecord, gw: GatewayRecord | undefined): () => void {
    this.planned.set(ep.id, { ep, gw });
    return () => void this.planned.delete(ep.id);
  }

  /** Whether an attach in flight plans an endpoint on the network (its sandbox must exist). */
  hasNetwork(networkId: string): boolean {
    for (const { ep } of this.planned.values()) if (ep.networkId === networkId) return true;
    return false;
  }

  /** The network's stored local endpoints plus those planned ahead (a stored record wins). */
  endpointsOf(networkId: string, stored: EndpointRecord[]): EndpointRecord[] {
    if (!this.planned.size) return stored;
    const ids = new Set(stored.map((e) => e.id));
    const extra = [...this.planned.values()].filter(({ ep }) => ep.networkId === networkId && !ids.has(ep.id)).map(({ ep }) => ep);
    return extra.length ? [...stored, ...extra] : stored;
  }

  /** The stored gateway legs plus those planned ahead (one per id: legs are per namespace). */
  gateways(stored: GatewayRecord[]): GatewayRecord[] {
    if (!this.planned.size) return stored;
    const ids = new Set(stored.map((g) => g.id));
    const extra: GatewayRecord[] = [];
    for (const { gw } of this.planned.values()) {
      if (gw && !ids.has(gw.id)) {
        ids.add(gw.id);
        extra.push(gw);
      }
    }
    return extra.length ? [...stored, ...extra] : stored;
  }
}
