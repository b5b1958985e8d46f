// What the resolver reads of the services plane, and the resolver's record of one service (pure).
// The shapes are the subset of src/ingress/model.ts (ServiceRecord, ServiceTask, ServiceView) that DNS
// uses, declared here so src/dns does not import its sibling layer: the real ServiceView fits as is.
import type { ServiceRecord as DnsService } from './records/types.js';
import { nameKey } from './wire/name.js';

export interface ServiceSpec {
  readonly id: string;
  readonly name: string;
  readonly endpointMode: 'vip' | 'dnsrr';
  /** The service's networks (ids). The ingress network is not among them: no names are answered there. */
  readonly networks: readonly string[];
  readonly vips: readonly { readonly networkId: string; readonly ipv4?: string; readonly ipv6?: string }[];
  readonly ports: readonly { readonly protocol: 'tcp' | 'udp'; readonly targetPort: number; readonly publishedPort: number }[];
}

export interface ServiceTaskSpec {
  readonly endpointId: string;
  readonly name: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
}

/** src/ingress's ServiceView as the resolver uses it. */
export interface ServiceSource {
  services(): readonly ServiceSpec[];
  /** Live tasks of a service on one network (every host's). */
  tasks(serviceId: string, networkId: string): readonly ServiceTaskSpec[];
  /** Called after any service or task changes; returns the unsubscribe. */
  onChange(fn: () => void): () => void;
}

/**
 * The resolver's record of a service: NAME -> the VIP per network (vip) or the tasks (dnsrr),
 * tasks.NAME -> the tasks, PTR of VIPs and tasks, SRV for its ports. `tasksByNetwork[i]` are the
 * tasks on `s.networks[i]`.
 */
export function dnsServiceOf(s: ServiceSpec, tasksByNetwork: readonly (readonly ServiceTaskSpec[])[]): DnsService {
  const networks = new Set(s.networks);
  return {
    id: s.id,
    name: s.name,
    mode: s.endpointMode,
    networks: s.networks,
    vips: s.endpointMode === 'vip'
      ? s.vips.filter((v) => networks.has(v.networkId)).map((v) => ({ network: v.networkId, ...addresses(v) }))
      : [],
    // A task name DNS cannot carry (another host's entry) loses only its PTR, not the whole service.
    tasks: s.networks.flatMap((network, i) => (tasksByNetwork[i] ?? []).map((t) => ({ network, ...(dnsName(t.name) ? { name: t.name } : {}), ...addresses(t) }))),
    ports: s.ports.map((p) => ({ protocol: p.protocol, targetPort: p.targetPort, ...(p.publishedPort > 0 ? { publishedPort: p.publishedPort } : {}) })),
  };
}

function dnsName(name: string): boolean {
  try {
    nameKey(name);
    return name !== '';
  } catch {
    return false;
  }
}

function addresses(a: { ipv4?: string; ipv6?: string }): { ipv4?: string; ipv6?: string } {
  return { ...(a.ipv4 ? { ipv4: a.ipv4 } : {}), ...(a.ipv6 ? { ipv6: a.ipv6 } : {}) };
}
