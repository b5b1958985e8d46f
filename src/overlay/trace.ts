// `vxmesh endpoint trace`: explains the path a packet from an endpoint would take, from the records and
// the kernel's state (read, never changed; no packet is sent): the workload's interface, its bridge port
// in the network's sandbox, then either another endpoint's port (same host), the FDB entry that sends
// it over VXLAN to a remote VTEP, or the gateway leg out of the overlay.
import { VxError } from '../errors.js';
import { namedNs, nsExists, nsFromPath, readNs, type NsActual } from '../kernel/index.js';
import type { TraceHop, TraceInfo } from '../model/api.js';
import { cidrContains, parseCidr, parseIp } from '../util/ip-addr.js';
import type { EndpointRecord, NetworkRecord } from './model.js';
import { BRIDGE, GW_BRIDGE, VXLAN, sandboxVeth } from './names.js';
import type { OverlayRecords } from './records.js';

/** Splits IP, IP:PORT, [V6]:PORT, NAME, NAME:PORT. */
export function parseTraceTarget(to: string): { host: string; port?: number } {
  const bad = () => new VxError('INVALID_ARGUMENT', `--to ${JSON.stringify(to)} is not IP, IP:PORT, NAME or NAME:PORT`);
  const v6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(to);
  // two colons or more without brackets: a bare IPv6 address (a port needs [V6]:PORT)
  const m = v6 ?? (to.split(':').length > 2 ? [to, to, undefined] : /^([^:]+)(?::(\d{1,5}))?$/.exec(to));
  if (!m || !m[1] || ((v6 || to.split(':').length > 2) && !isIp(m[1]))) throw bad();
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw bad();
  return { host: m[1], ...(port === undefined ? {} : { port }) };
}

function isIp(text: string): boolean {
  try {
    parseIp(text);
    return true;
  } catch {
    return false;
  }
}

export function findEndpoint(records: OverlayRecords, ref: string): EndpointRecord {
  const all = records.endpoints.values();
  const exact = all.find((e) => e.id === ref) ?? all.find((e) => e.name !== '' && e.name === ref);
  if (exact) return exact;
  const byPrefix = ref.length >= 4 ? all.filter((e) => e.id.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  throw new VxError(byPrefix.length > 1 ? 'INVALID_ARGUMENT' : 'NOT_FOUND', byPrefix.length > 1 ? `endpoint id prefix ${ref} is ambiguous: give more of the id` : `no endpoint ${ref} (vxmesh endpoint ls lists them)`);
}

/** A name: an endpoint's name or alias in the same network (the DNS plane answers the same way once it lands). */
function resolveName(records: OverlayRecords, net: NetworkRecord, name: string): { ip: string; how: string } {
  const eps = records.endpointsOf(net.id);
  const byName = eps.find((e) => e.name === name);
  if (byName) return { ip: byName.ipv4, how: `endpoint ${name} in network ${net.name}` };
  const byAlias = eps.find((e) => e.aliases.includes(name));
  if (byAlias) return { ip: byAlias.ipv4, how: `alias ${name} of endpoint ${byAlias.name || byAlias.id.slice(0, 12)} in network ${net.name}` };
  throw new VxError('NOT_FOUND', `no endpoint or alias named ${name} in network ${net.name}`);
}

function linkHop(at: string, state: NsActual, name: string, where: string, master?: string): TraceHop {
  const link = state.links.get(name);
  if (!link) return { at, ok: false, detail: `${name} is missing in ${where} (vxmesh doctor names the fix)` };
  if (!link.up) return { at, ok: false, detail: `${name} in ${where} is down` };
  if (master && link.master !== master) return { at, ok: false, detail: `${name} in ${where} is not a port of ${master}` };
  return { at, ok: true, detail: `${name} in ${where}${master ? ` (port of ${master})` : ''}, mtu ${link.mtu}` };
}

export async function traceEndpoint(records: OverlayRecords, ref: string, to: string): Promise<TraceInfo> {
  const ep = findEndpoint(records, ref);
  const net = records.networks.get(ep.networkId);
  if (!net) throw new VxError('NOT_FOUND', `endpoint ${ref} belongs to no known network`);
  const target = parseTraceTarget(to);
  const named = isIp(target.host) ? undefined : resolveName(records, net, target.host);
  const ip = named?.ip ?? target.host;
  const hops: TraceHop[] = [];
  const done = (): TraceInfo => ({
    endpoint: ep.id, network: net.name, to: ip, ...(target.port === undefined ? {} : { port: target.port }),
    ...(named ? { resolved: named.how } : {}), hops, ok: hops.every((h) => h.ok),
  });
  const add = (hop: TraceHop): boolean => (hops.push(hop), hop.ok);

  if (!ep.leaveInHost && ep.netns) {
    const wns = nsFromPath(ep.netns);
    if (!add(nsExists(wns) ? { at: 'workload', ok: true, detail: `namespace ${ep.netns}, address ${ep.ipv4}` } : { at: 'workload', ok: false, detail: `namespace ${ep.netns} is gone` })) return done();
    if (!add(linkHop('workload', await readNs(wns, false), ep.ifName, ep.netns))) return done();
  }
  const sns = namedNs(net.sandbox);
  if (!add(nsExists(sns) ? { at: 'sandbox', ok: true, detail: `network ${net.name} (vni ${net.vni}) in sandbox ${net.sandbox}` } : { at: 'sandbox', ok: false, detail: `sandbox ${net.sandbox} is missing` })) return done();
  const sandbox = await readNs(sns, true);
  if (!add(linkHop('bridge', sandbox, sandboxVeth(ep.id), net.sandbox, BRIDGE))) return done();

  const inSubnet = parseIp(ip).family === 4 && cidrContains(parseCidr(net.v4.subnet), parseIp(ip).value);
  if (!inSubnet) {
    const gw = records.gatewayIn(ep.netns);
    if (net.internal) add({ at: 'gateway', ok: false, detail: `${ip} is outside ${net.v4.subnet} and network ${net.name} is internal: no way out` });
    else if (!gw) add({ at: 'gateway', ok: false, detail: `${ip} is outside ${net.v4.subnet} and the endpoint has no gateway leg` });
    else add({ at: 'gateway', ok: true, detail: `${ip} is outside ${net.v4.subnet}: leaves by ${gw.ifName} (${gw.ip}) onto ${GW_BRIDGE}, masqueraded by nft table inet vxmesh` });
    return done();
  }
  const local = records.endpointsOf(net.id).find((e) => e.ipv4 === ip);
  if (local && (sandbox.links.has(sandboxVeth(local.id)))) {
    add(linkHop('bridge', sandbox, sandboxVeth(local.id), net.sandbox, BRIDGE));
    hops[hops.length - 1]!.detail = `delivered on this host to endpoint ${local.name || local.id.slice(0, 12)} (${local.netns || 'docker'}) through ${hops[hops.length - 1]!.detail}`;
    return done();
  }
  const neigh = sandbox.neigh.find((n) => n.ip === ip && n.dev === VXLAN);
  const fdb = neigh && sandbox.fdb.find((f) => f.dev === VXLAN && f.mac.toLowerCase() === neigh.mac.toLowerCase());
  if (!neigh) add({ at: 'vxlan', ok: false, detail: `no endpoint on this host has ${ip} and ${VXLAN} in ${net.sandbox} has no neighbour entry for it: no remote endpoint with this address is known` });
  else if (!fdb) add({ at: 'vxlan', ok: false, detail: `${ip} is ${neigh.mac} (neighbour entry on ${VXLAN}) but no FDB entry says which host has that MAC` });
  else {
    const vx = sandbox.links.get(VXLAN)?.vxlan;
    add({ at: 'vxlan', ok: true, detail: `${ip} is ${neigh.mac}: FDB entry ${neigh.mac} -> VTEP ${fdb.dst} over ${VXLAN} (vni ${vx?.vni ?? net.vni}, udp ${vx?.dstPort ?? '?'})` });
  }
  return done();
}
