// The VIP plane's desired state, as data: per local workload namespace, the load-balancer frontends
// of every vip-mode service on a network the namespace is attached to (Swarm balances a VIP inside
// each task's own namespace, so a connection to the VIP never leaves the client's host undecided).

import type { EndpointRecord } from '../overlay/model.js';
import type { LbFrontend } from './lb/types.js';
import type { ServiceRecord, ServiceTask } from './model.js';

/** What the desired function reads: the service view's services and tasks. */
export interface VipSource {
  services(): ServiceRecord[];
  tasks(serviceId: string, networkId: string): ServiceTask[];
}

/** Endpoint of this host in a workload namespace (docker-mode ones without a namespace yet are left out by the caller). */
export type LocalEndpoint = Pick<EndpointRecord, 'netns' | 'networkId' | 'state'>;

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** The frontends of one service's VIP(s) on one network (v4 and v6 are separate frontends). */
export function vipFrontends(svc: ServiceRecord, networkId: string, tasks: ServiceTask[]): LbFrontend[] {
  if (svc.endpointMode !== 'vip') return [];
  const vip = svc.vips.find((v) => v.networkId === networkId);
  if (!vip) return [];
  const out: LbFrontend[] = [];
  const id = `${svc.id}/${networkId}`;
  if (vip.ipv4) out.push({ id, match: { kind: 'vip', vip: vip.ipv4 }, backends: sorted(tasks.flatMap((t) => (t.ipv4 ? [t.ipv4] : []))), affinity: svc.affinity });
  if (vip.ipv6) out.push({ id: `${id}/6`, match: { kind: 'vip', vip: vip.ipv6 }, backends: sorted(tasks.flatMap((t) => (t.ipv6 ? [t.ipv6] : []))), affinity: svc.affinity });
  return out;
}

/**
 * Namespace path -> its frontends (sorted by id), for every namespace with a ready endpoint.
 * `skipNetwork`: a network whose VIPs this plane leaves alone (the ingress network: its sandbox
 * balances published ports, not VIPs). A namespace with endpoints but no service gets [] (so a
 * service removed after the last frontend empties the namespace's LB state).
 */
export function desiredVipFrontends(endpoints: LocalEndpoint[], source: VipSource, skipNetwork?: (networkId: string) => boolean): Map<string, LbFrontend[]> {
  const nets = new Map<string, Set<string>>();
  for (const ep of endpoints) {
    if (!ep.netns || ep.state !== 'ready') continue;
    let s = nets.get(ep.netns);
    if (!s) nets.set(ep.netns, (s = new Set()));
    if (!skipNetwork?.(ep.networkId)) s.add(ep.networkId);
  }
  const byNetwork = new Map<string, LbFrontend[]>();
  const frontendsOn = (networkId: string) => {
    let f = byNetwork.get(networkId);
    if (!f) {
      f = source.services().filter((s) => s.networks.includes(networkId)).flatMap((s) => vipFrontends(s, networkId, source.tasks(s.id, networkId)));
      byNetwork.set(networkId, f);
    }
    return f;
  };
  const out = new Map<string, LbFrontend[]>();
  for (const [netns, networkIds] of nets) {
    out.set(netns, [...networkIds].flatMap(frontendsOn).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  }
  return out;
}

/** A stable text of a namespace's frontends: equal texts need no sync. */
export function frontendsFingerprint(frontends: LbFrontend[]): string {
  return JSON.stringify(frontends);
}
