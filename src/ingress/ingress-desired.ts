// The ingress routing mesh's desired state, as data (pure): which published ports exist, the ingress
// sandbox's port frontends, the host's own nft table (published port -> ingress sandbox, or for
// mode=host straight to a local task), and which tasks need an ingress-network leg.

import type { NftChain, NftTable } from '../kernel/nft-model.js';
import type { EndpointRecord } from '../overlay/model.js';
import { GW_BRIDGE } from '../overlay/names.js';
import type { LbFrontend } from './lb/types.js';
import type { PortRecord, Protocol, ServiceRecord, ServiceTask } from './model.js';

/** The host namespace's table of the routing mesh (its own: the overlay's `inet vxmesh` is reconciled whole by its owner). */
export const INGRESS_TABLE = 'vxmesh_ingress';

/** The ingress sandbox's namespace name on this host. */
export const ingressSandboxName = (netnsPrefix: string) => `${netnsPrefix}ingress-sbox`;

export interface PublishedPort {
  serviceId: string;
  protocol: Protocol;
  publishedPort: number;
  targetPort: number;
  mode: PortRecord['mode'];
}

/** Every published port of every service (ports with publishedPort 0 are not published). */
export function publishedPorts(services: ServiceRecord[]): PublishedPort[] {
  return services
    .flatMap((s) => s.ports.filter((p) => p.publishedPort > 0).map((p) => ({ serviceId: s.id, protocol: p.protocol, publishedPort: p.publishedPort, targetPort: p.targetPort, mode: p.mode })))
    .sort((a, b) => a.publishedPort - b.publishedPort || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
}

export const publishesIngress = (s: ServiceRecord) => s.ports.some((p) => p.publishedPort > 0 && p.mode === 'ingress');

/**
 * The ingress sandbox's frontends: each ingress-mode published port balanced over the service's
 * tasks on the ingress network, the source rewritten to the sandbox's own ingress address (so the
 * replies come back through it).
 */
export function sandboxFrontends(services: ServiceRecord[], tasks: (serviceId: string) => ServiceTask[], snatTo: string): LbFrontend[] {
  const out: LbFrontend[] = [];
  for (const s of services) {
    for (const p of s.ports) {
      if (p.mode !== 'ingress' || p.publishedPort <= 0) continue;
      const backends = [...new Set(tasks(s.id).flatMap((t) => (t.ipv4 ? [t.ipv4] : [])))].sort();
      out.push({ id: `${s.id}/${p.protocol}/${p.publishedPort}`, match: { kind: 'port', protocol: p.protocol, port: p.publishedPort, family: 4 }, targetPort: p.targetPort, backends, affinity: s.affinity, snatTo });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** One DNAT of the host table: a published port to an address and port behind vxmesh_gwbridge. */
export interface HostDnat {
  protocol: Protocol;
  port: number;
  to: string;
  toPort: number;
  /** What it is for (rule comment): `ingress` or `host`. */
  mode: PortRecord['mode'];
}

/**
 * The host's DNATs: ingress-mode ports to the ingress sandbox's gwbridge address (when the sandbox
 * is there); host-mode ports to the first local task of the service (by endpoint id) that has a
 * gwbridge leg. Hosts without such a task publish nothing for a host-mode port.
 */
export function hostDnats(ports: PublishedPort[], sandboxGwIp: string | undefined, localTaskGwIp: (serviceId: string) => string | undefined): HostDnat[] {
  const out: HostDnat[] = [];
  for (const p of ports) {
    const to = p.mode === 'ingress' ? sandboxGwIp : localTaskGwIp(p.serviceId);
    if (!to) continue;
    out.push({ protocol: p.protocol, port: p.publishedPort, to, toPort: p.mode === 'ingress' ? p.publishedPort : p.targetPort, mode: p.mode });
  }
  return out;
}

/**
 * `inet vxmesh_ingress` in the host namespace: traffic to a local address on a published port, from
 * outside (prerouting) and from the host itself (output), is DNAT'ed behind vxmesh_gwbridge; the
 * host's own loopback-sourced connections are masqueraded on the way there (needs route_localnet).
 * One rule per port and hook; undefined when nothing is published here (the table is then removed).
 */
export function hostIngressTable(dnats: HostDnat[]): NftTable | undefined {
  if (!dnats.length) return undefined;
  const rules = dnats.map((d) => ({
    match: `fib daddr type local ${d.protocol} dport ${d.port} dnat ip to ${d.to}:${d.toPort}`,
    comment: `vxmesh: ${d.mode} ${d.protocol}/${d.port}`,
  }));
  const chains: NftChain[] = [
    { name: 'prerouting', base: { type: 'nat', hook: 'prerouting', priority: { name: 'dstnat' }, policy: 'accept' }, rules },
    { name: 'output', base: { type: 'nat', hook: 'output', priority: { name: 'dstnat' }, policy: 'accept' }, rules },
    {
      name: 'postrouting',
      base: { type: 'nat', hook: 'postrouting', priority: { name: 'srcnat' }, policy: 'accept' },
      rules: [{ match: `ip saddr 127.0.0.0/8 oifname "${GW_BRIDGE}" masquerade`, comment: 'vxmesh: published ports from the host loopback' }],
    },
  ];
  return { family: 'inet', name: INGRESS_TABLE, chains, sets: [] };
}

export interface LegPlan {
  /** Task endpoints that need an ingress leg and have none. */
  add: EndpointRecord[];
  /** Legs whose task is gone or whose service no longer publishes in ingress mode. */
  remove: EndpointRecord[];
}

/**
 * Ingress legs of this host's tasks: a ready task endpoint (serviceId set, in a workload namespace)
 * of a service that publishes an ingress-mode port gets one leg on the ingress network in its
 * namespace; every other leg goes. `local`: this host's endpoint records.
 */
export function planLegs(local: EndpointRecord[], service: (id: string) => ServiceRecord | undefined, ingressNetworkId: string | undefined): LegPlan {
  const legs = local.filter((e) => e.ingressLegOf);
  const tasks = new Map(local.filter((e) => e.serviceId && !e.ingressLegOf).map((e) => [e.id, e]));
  const wants = (t: EndpointRecord | undefined) => {
    if (!t || !ingressNetworkId || t.state !== 'ready' || !t.netns || t.leaveInHost || t.networkId === ingressNetworkId) return false;
    const s = service(t.serviceId!);
    return Boolean(s && publishesIngress(s));
  };
  const kept = new Set<string>();
  const remove: EndpointRecord[] = [];
  for (const leg of legs) {
    const task = tasks.get(leg.ingressLegOf!);
    if (wants(task) && leg.networkId === ingressNetworkId && leg.netns === task!.netns && !kept.has(task!.id)) kept.add(task!.id);
    else if (leg.state === 'ready') remove.push(leg);
  }
  // A leg still pending is an attach in flight: its task is not given a second one meanwhile.
  const pending = new Set(legs.filter((l) => l.state !== 'ready').map((l) => l.ingressLegOf!));
  const add = [...tasks.values()].filter((t) => wants(t) && !kept.has(t.id) && !pending.has(t.id)).sort((a, b) => (a.id < b.id ? -1 : 1));
  return { add, remove };
}
