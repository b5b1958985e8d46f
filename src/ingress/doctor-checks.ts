// `vxmesh doctor`'s services checks: which load balancer runs (and that the kernel still has what it
// needs), every workload's VIP frontends and the ingress sandbox's port frontends as the kernel holds
// them against what the planes want (the LB's own dry-run reader), the host's published-port DNATs,
// and services without tasks / tasks without a service. Reads only; the agent repairs at its resync.
import { namedNs, nsExists, nsFromPath, type NsRef } from '../kernel/index.js';
import type { DoctorCheckResult } from '../model/api.js';
import type { EndpointRecord } from '../overlay/model.js';
import type { IngressExpected } from './ingress-controller.js';
import { INGRESS_TABLE } from './ingress-desired.js';
import type { LbFrontend, LbKind, LoadBalancer } from './lb/types.js';
import type { ServiceView } from './model.js';
import { errText } from '../errors.js';

export const RESYNC_FIX = 'the agent repairs this at its next resync (every 30 s by default, see --resync-interval); if it stays, restart the agent (vxmesh agent) and read its log';

export interface ServicesDoctorDeps {
  view: ServiceView;
  /** The load balancer in use: `chosenKind` undefined while the agent is starting. */
  lb: Pick<LoadBalancer, 'drift'> & { readonly chosenKind?: LbKind | undefined };
  /** --lb as given. */
  lbAsked: 'auto' | 'ipvs' | 'nftables';
  ipvsAvailable: () => Promise<boolean>;
  /** Per local workload namespace (path), the VIP frontends its LB should hold. */
  vipFrontends: () => Map<string, LbFrontend[]>;
  ingress: { expected(): IngressExpected; hostTableDrift(table: IngressExpected['hostTable']): Promise<string[]> };
  /** This host's endpoint records. */
  localEndpoints: () => EndpointRecord[];
  /** Whether a namespace exists (tests pass a stand-in). */
  nsExists?: (ns: NsRef) => boolean;
}

export type NamedCheck = { name: string; run: () => Promise<DoctorCheckResult[]> };

const short = (id: string) => id.slice(0, 12);

/** `lb.kind`: the load balancer in use; with IPVS, that the kernel still answers for ip_vs. */
export async function lbKindFindings(d: Pick<ServicesDoctorDeps, 'lb' | 'lbAsked' | 'ipvsAvailable'>): Promise<DoctorCheckResult[]> {
  const kind = d.lb.chosenKind;
  const check = 'lb.kind';
  if (!kind) return [{ check, ok: false, detail: `no load balancer chosen yet (--lb ${d.lbAsked}): the agent is still starting, or its start failed`, fix: 'wait for the agent to finish starting; if this stays, read the agent log and restart it (vxmesh agent)' }];
  if (kind === 'nftables') {
    const why = d.lbAsked === 'auto' ? ' (--lb auto: the kernel has no ip_vs, or ipvsadm is missing)' : ' (--lb nftables)';
    return [{ check, ok: true, detail: `services are balanced by nftables maps (table inet vxmesh_lb in each namespace)${why}` }];
  }
  if (await d.ipvsAvailable()) return [{ check, ok: true, detail: `services are balanced by IPVS fwmark services (--lb ${d.lbAsked}); ip_vs answers` }];
  return [{ check, ok: false, detail: 'the agent balances services with IPVS, but ipvsadm cannot reach ip_vs now (module unloaded, or ipvsadm removed)', fix: 'modprobe ip_vs (and apt-get install ipvsadm if it is missing), or restart the agent with --lb nftables' }];
}

/** `lb.vip`: per local workload namespace with VIPs, the LB holds exactly those frontends and backends. */
export async function lbVipFindings(d: Pick<ServicesDoctorDeps, 'lb' | 'view' | 'vipFrontends' | 'nsExists'>): Promise<DoctorCheckResult[]> {
  const check = 'lb.vip';
  if (d.view.caughtUp?.() === false) return [{ check, ok: true, detail: 'the service tables are still syncing after the agent started: VIP frontends are checked once they are' }];
  if (!d.lb.chosenKind || !d.lb.drift) return [];
  const exists = d.nsExists ?? nsExists;
  const out: DoctorCheckResult[] = [];
  for (const [netns, frontends] of [...d.vipFrontends()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!frontends.length) continue;
    const ns = nsFromPath(netns);
    const base = { check, subject: netns };
    if (!exists(ns)) {
      out.push({ ...base, ok: false, detail: `workload namespace ${netns} with ${frontends.length} VIP frontend(s) is gone`, fix: 'detach its endpoints (vxmesh endpoint ls, vxmesh endpoint detach ID)' });
      continue;
    }
    let drift: string[];
    try {
      drift = await d.lb.drift(ns, frontends);
    } catch (e) {
      out.push({ ...base, ok: false, detail: `cannot read the load balancer in ${netns}: ${errText(e)}`, fix: 'check that the namespace is usable (ip netns list) and nft/ipvsadm run' });
      continue;
    }
    const backends = frontends.reduce((n, f) => n + f.backends.length, 0);
    out.push(
      drift.length
        ? { ...base, ok: false, detail: `the ${d.lb.chosenKind} load balancer in ${netns} differs from the services' VIPs: ${drift.join('; ')}`, fix: `${RESYNC_FIX}; vxmesh service inspect NAME shows the tasks it should balance over` }
        : { ...base, ok: true, detail: `${netns}: ${frontends.length} VIP frontend(s), ${backends} backend(s), as expected` },
    );
  }
  if (!out.length) out.push({ check, ok: true, detail: 'no local workload is on a network with a service VIP' });
  return out;
}

/** `ingress.sandbox`: while a service publishes in ingress mode, the sandbox exists, has its leg, and balances every port. */
export async function ingressSandboxFindings(d: Pick<ServicesDoctorDeps, 'lb' | 'view' | 'ingress' | 'nsExists'>): Promise<DoctorCheckResult[]> {
  const e = d.ingress.expected();
  const exists = (d.nsExists ?? nsExists)(namedNs(e.sandbox));
  const base = { check: 'ingress.sandbox', subject: e.sandbox };
  if (!e.meshed.length) {
    return exists
      ? [{ ...base, ok: false, detail: `the ingress sandbox ${e.sandbox} exists though no service publishes in ingress mode`, fix: RESYNC_FIX }]
      : [{ ...base, ok: true, detail: 'no service publishes a port in ingress mode: no ingress sandbox needed' }];
  }
  const names = e.meshed.map((s) => s.name).join(', ');
  if (!e.network) return [{ ...base, ok: false, detail: `services ${names} publish in ingress mode but the ingress network is missing`, fix: RESYNC_FIX }];
  if (!exists) return [{ ...base, ok: false, detail: `the ingress sandbox ${e.sandbox} is missing (services ${names} publish in ingress mode)`, fix: RESYNC_FIX }];
  if (e.sandboxEndpoint?.state !== 'ready') {
    return [{ ...base, ok: false, detail: `the ingress sandbox ${e.sandbox} has no ready leg on the ingress network${e.sandboxEndpoint ? ` (endpoint ${short(e.sandboxEndpoint.id)} is ${e.sandboxEndpoint.state})` : ''}`, fix: RESYNC_FIX }];
  }
  const leg = `leg ${e.sandboxEndpoint.ipv4} on the ingress network`;
  if (!e.sandboxFrontends || d.view.caughtUp?.() === false || !d.lb.chosenKind || !d.lb.drift) {
    return [{ ...base, ok: true, detail: `the ingress sandbox ${e.sandbox} exists with its ${leg} (its frontends are checked once the service tables are synced)` }];
  }
  const drift = await d.lb.drift(namedNs(e.sandbox), e.sandboxFrontends);
  if (drift.length) {
    return [{ ...base, ok: false, detail: `the ingress sandbox's ${d.lb.chosenKind} load balancer differs from the published ports: ${drift.join('; ')}`, fix: `${RESYNC_FIX}; vxmesh service inspect NAME shows the tasks` }];
  }
  const backends = e.sandboxFrontends.reduce((n, f) => n + f.backends.length, 0);
  return [{ ...base, ok: true, detail: `the ingress sandbox ${e.sandbox} has its ${leg} and balances ${e.sandboxFrontends.length} published port(s) over ${backends} backend(s), as expected` }];
}

/** `ingress.ports`: the host table `inet vxmesh_ingress` DNATs exactly the ports published here. */
export async function ingressPortsFindings(d: Pick<ServicesDoctorDeps, 'ingress'>): Promise<DoctorCheckResult[]> {
  const e = d.ingress.expected();
  const check = 'ingress.ports';
  const table = `inet ${INGRESS_TABLE}`;
  const commands = await d.ingress.hostTableDrift(e.hostTable);
  const ports = e.hostTable ? (e.hostTable.chains.find((c) => c.name === 'prerouting')?.rules.length ?? 0) : 0;
  if (!commands.length) {
    return [{ check, ok: true, detail: ports ? `nft table ${table} DNATs the ${ports} port(s) published on this host, as expected` : `nothing is published on this host (no table ${table})` }];
  }
  const missing = commands.includes(`add table ${table}`);
  const what = !e.hostTable
    ? `nft table ${table} exists though nothing is published on this host`
    : missing
      ? `nft table ${table} is missing: the ${ports} published port(s) do not answer on this host`
      : `nft table ${table} differs from the published ports (${commands.length} change(s): ${commands.slice(0, 3).join('; ')}${commands.length > 3 ? '; ...' : ''})`;
  return [{ check, subject: table, ok: false, detail: what, fix: `${RESYNC_FIX}; vxmesh service ls shows what is published` }];
}

/** `services.tasks` (information): services without a live task, and this host's tasks whose service is gone. */
export async function serviceTaskFindings(d: Pick<ServicesDoctorDeps, 'view' | 'localEndpoints'>): Promise<DoctorCheckResult[]> {
  const check = 'services.tasks';
  const services = d.view.services();
  const known = new Set(services.map((s) => s.id));
  const out: DoctorCheckResult[] = [];
  for (const ep of d.localEndpoints()) {
    if (!ep.serviceId || ep.ingressLegOf || known.has(ep.serviceId)) continue;
    out.push({ check, subject: ep.name ?? short(ep.id), ok: true, detail: `(information) endpoint ${ep.name ?? short(ep.id)} is a task of service ${short(ep.serviceId)}, which no longer exists: it is balanced by nothing; detach it if it is not needed (vxmesh endpoint detach ${short(ep.id)})` });
  }
  let tasks = 0;
  for (const s of services) {
    const n = new Set(s.networks.flatMap((net) => d.view.tasks(s.id, net).map((t) => t.endpointId))).size;
    tasks += n;
    if (!n) out.push({ check, subject: s.name, ok: true, detail: `(information) service ${s.name} has no live task: its VIP and published ports refuse connections (attach one: vxmesh endpoint attach NETWORK --service ${s.name} ...)` });
  }
  out.unshift({ check, ok: true, detail: `${services.length} service(s) with ${tasks} live task(s) known to this host` });
  return out;
}

/** The services checks, in the order doctor runs them. */
export function servicesDoctorChecks(d: ServicesDoctorDeps): NamedCheck[] {
  return [
    { name: 'lb.kind', run: () => lbKindFindings(d) },
    { name: 'lb.vip', run: () => lbVipFindings(d) },
    { name: 'ingress.sandbox', run: () => ingressSandboxFindings(d) },
    { name: 'ingress.ports', run: () => ingressPortsFindings(d) },
    { name: 'services.tasks', run: () => serviceTaskFindings(d) },
  ];
}
