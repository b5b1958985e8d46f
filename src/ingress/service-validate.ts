// Syntax and limits of service requests, for the CLI (labels are flags: `--publish`), the gRPC API and
// the agent (`publish`). Pure. Semantics (networks exist, ports free) are the controller's.
import type { CreateServiceRequest, PublishSpec, UpdateServiceRequest } from '../model/api.js';
import { PORT_MAX, PORT_MIN } from '../model/limits.js';
import { apiFieldLabel, firstProblem, labelsProblem, nameProblem, quote, refProblem, type FieldLabel, type Problem } from '../model/validate.js';

/** How many networks and published ports one service may have (each costs a VIP / a claim in one txn). */
export const SERVICE_NETWORKS_MAX = 16;
export const SERVICE_PORTS_MAX = 64;

const ENDPOINT_MODES = ['vip', 'dnsrr'] as const;
const AFFINITIES = ['none', 'client-ip'] as const;

function oneOf(what: string, value: string | undefined, allowed: readonly string[]): Problem {
  return value === undefined || allowed.includes(value) ? undefined : `${what} must be ${allowed.join(' or ')}, got ${quote(value)}`;
}

function portProblem(what: string, value: number | undefined, optional: boolean): Problem {
  if (value === undefined || (optional && value === 0)) return optional ? undefined : `${what} is missing`;
  return Number.isInteger(value) && value >= PORT_MIN && value <= PORT_MAX ? undefined : `${what} must be a port from ${PORT_MIN} to ${PORT_MAX}, got ${String(value)}`;
}

/** One spec as it describes itself in messages: 8080:80/tcp (ingress). */
export function describeSpec(p: PublishSpec): string {
  return `${p.publishedPort ? String(p.publishedPort) : ''}:${p.targetPort}/${p.protocol ?? 'tcp'}${p.mode === 'host' ? ' (host mode)' : ''}`;
}

export function publishProblem(what: string, specs: readonly PublishSpec[]): Problem {
  if (specs.length > SERVICE_PORTS_MAX) return `${what}: ${specs.length} ports, at most ${SERVICE_PORTS_MAX}`;
  const seen = new Map<string, PublishSpec>();
  for (const p of specs) {
    const problem = firstProblem(
      () => portProblem(`${what} ${describeSpec(p)}: the target port`, p.targetPort, false),
      () => portProblem(`${what} ${describeSpec(p)}: the published port`, p.publishedPort, true),
      () => oneOf(`${what} ${describeSpec(p)}: the protocol`, p.protocol, ['tcp', 'udp']),
      () => oneOf(`${what} ${describeSpec(p)}: the mode`, p.mode, ['ingress', 'host']),
      () => (p.mode === 'host' && !p.publishedPort ? `${what} ${describeSpec(p)}: host mode needs a published port (e.g. mode=host,8080:${p.targetPort})` : undefined),
    );
    if (problem !== undefined) return problem;
    if (!p.publishedPort) continue;
    const key = `${p.protocol ?? 'tcp'}/${p.publishedPort}`;
    const earlier = seen.get(key);
    if (earlier) return `${what}: port ${key} is published twice (${describeSpec(earlier)} and ${describeSpec(p)}): publish each port once`;
    seen.set(key, p);
  }
  return undefined;
}

function ingressWithDnsrr(what: string, req: { endpointMode?: string; publish?: readonly PublishSpec[] }): Problem {
  const ingress = req.endpointMode === 'dnsrr' ? req.publish?.find((p) => (p.mode ?? 'ingress') === 'ingress') : undefined;
  return ingress ? `${what} ${describeSpec(ingress)}: a dnsrr service has no VIP for the routing mesh to balance over: publish it with mode=host, or use --endpoint-mode vip` : undefined;
}

export function createServiceProblem(req: CreateServiceRequest, label: FieldLabel = apiFieldLabel): Problem {
  const networks = req.networks ?? [];
  return firstProblem(
    () => nameProblem(label('name'), req.name),
    () => (networks.length === 0 ? `${label('network')} is required: the network(s) the service's tasks attach to` : undefined),
    () => (networks.length > SERVICE_NETWORKS_MAX ? `${label('network')}: ${networks.length} networks, at most ${SERVICE_NETWORKS_MAX}` : undefined),
    () => networks.map((n) => refProblem(label('network'), n)).find((p) => p !== undefined),
    () => (new Set(networks).size < networks.length ? `${label('network')}: a network is given twice` : undefined),
    () => oneOf(label('endpointMode'), req.endpointMode, ENDPOINT_MODES),
    () => oneOf(label('affinity'), req.affinity, AFFINITIES),
    () => (req.publish === undefined ? undefined : publishProblem(label('publish'), req.publish)),
    () => ingressWithDnsrr(label('publish'), req),
    () => (req.labels === undefined ? undefined : labelsProblem(label('labels'), req.labels)),
  );
}

export function updateServiceProblem(req: UpdateServiceRequest, label: FieldLabel = apiFieldLabel): Problem {
  return firstProblem(
    () => refProblem(label('service'), req.service),
    () => oneOf(label('affinity'), req.affinity, AFFINITIES),
    () => (req.publish === undefined ? undefined : publishProblem(label('publish'), req.publish)),
    () => (req.labels === undefined ? undefined : labelsProblem(label('labels'), req.labels)),
  );
}
