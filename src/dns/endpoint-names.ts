// What the dns controller derives from the overlay's records (pure): the resolver's record of an
// endpoint, and which workload namespaces this host serves with which networks.
import type { EndpointRecord as OverlayEndpoint, NetworkRecord } from '../overlay/model.js';
import type { EndpointRecord } from './records/types.js';

/** Which endpoint records are this host's own (a shared store holds every host's). */
export type IsLocal = (ep: OverlayEndpoint) => boolean;

/**
 * Records without a `node` field are the single-host store's and so ours; with one (a shared store),
 * only those naming `nodeName`.
 */
export function localByNode(nodeName: string | undefined): IsLocal {
  return (ep) => {
    const node = (ep as { node?: unknown }).node;
    return node === undefined || node === '' || (nodeName !== undefined && node === nodeName);
  };
}

/** The resolver's record of an acknowledged endpoint whose network is known; undefined: not answered. */
export function dnsRecordOf(ep: OverlayEndpoint, network: NetworkRecord | undefined): EndpointRecord | undefined {
  // An ingress-network leg answers nothing: the ingress network is the routing mesh's, not a place
  // where tasks of unrelated services find each other by name (Swarm does the same).
  if (ep.state !== 'ready' || !network || ep.ingressLegOf) return undefined;
  return {
    id: ep.id,
    network: ep.networkId,
    name: ep.name,
    aliases: ep.aliases,
    ipv4: ep.ipv4,
    ...(ep.ipv6 ? { ipv6: ep.ipv6 } : {}),
  };
}

/** An endpoint whose namespace this host serves: local, acknowledged, in a workload namespace (not docker's). */
export function servesNamespace(ep: OverlayEndpoint, isLocal: IsLocal): boolean {
  return ep.state === 'ready' && !ep.leaveInHost && ep.netns !== '' && isLocal(ep);
}

/** Workload namespace path -> the networks its endpoints are on (what its view may see). */
export function servedNamespaces(endpoints: Iterable<OverlayEndpoint>, isLocal: IsLocal): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const ep of endpoints) {
    if (!servesNamespace(ep, isLocal) || ep.ingressLegOf) continue;
    const nets = out.get(ep.netns);
    if (!nets) out.set(ep.netns, [ep.networkId]);
    else if (!nets.includes(ep.networkId)) nets.push(ep.networkId);
  }
  return out;
}
