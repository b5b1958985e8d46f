// The pure parts of attach: what is asked for (validated), and the records it produces.

import { createHash, randomBytes } from 'node:crypto';
import { VxError } from '../errors.js';
import type { AttachRequest } from '../model/api.js';
import type { NsActual } from '../kernel/index.js';
import { macFromIpv4 } from './desired.js';
import type { EndpointRecord, GatewayRecord, NetworkRecord } from './model.js';
import { dockerVeth, gatewayTempVeth, workloadTempVeth } from './names.js';
import type { OverlayRecords } from './records.js';

/** An attach request whose fields were validated at the edge (names, addresses, MAC, labels, netns path). */
export interface ValidAttach extends AttachRequest {
  leaveInHost: boolean;
  netns: string; // '' in docker mode
  aliases: string[];
  labels: Record<string, string>;
  preallocated: boolean;
  /** The service (resolved from `service`, checked to be on this network) the endpoint is a task of. */
  serviceId?: string;
  /** Set by the ingress plane only: the task endpoint this one is the ingress-network leg of. */
  ingressLegOf?: string;
  /** Set by the ingress plane only: the target is this host's ingress sandbox (exempt from the sandbox refusal). */
  ingressSandbox?: boolean;
}

/** An attach after its target was checked: the network, and the namespace's state as read. */
export interface AttachTarget {
  req: ValidAttach;
  net: NetworkRecord;
  /** The workload namespace as read before attach (absent in docker mode). */
  before?: NsActual;
  /** The namespace routes by default on its own: attach adds no default route. */
  ownDefaultRoute: boolean;
}

/** Uniqueness within the network; run under the write lock, against current records. */
export function checkUnique(records: OverlayRecords, t: AttachTarget): void {
  const { net, req } = t;
  if (!records.networks.has(net.id)) throw new VxError('NOT_FOUND', `network "${net.name}" was just removed`);
  if (records.networks.get(net.id)?.removing) throw new VxError('FAILED_PRECONDITION', `network "${net.name}" is being removed (vxmesh network rm): try again if that is refused`);
  const peers = records.endpointsOf(net.id);
  if (req.name && peers.some((e) => e.name === req.name)) {
    throw new VxError('ALREADY_EXISTS', `network "${net.name}" already has an endpoint named "${req.name}"`);
  }
  if (!req.leaveInHost && records.endpointsIn(req.netns).some((e) => e.networkId === net.id)) {
    throw new VxError('ALREADY_EXISTS', `${req.netns} is already attached to network "${net.name}"`);
  }
  if (req.mac && peers.some((e) => e.mac === req.mac)) {
    throw new VxError('ALREADY_EXISTS', `MAC address ${req.mac} is already used on network "${net.name}"`);
  }
}

/** The first ethN neither vxmesh nor anything else uses in the namespace (`skip`: names found there). */
export function nextIfName(records: OverlayRecords, netns: string, skip: Iterable<string> = []): string {
  const used = new Set<string>(skip);
  for (const e of records.endpointsIn(netns)) used.add(e.ifName);
  const gw = records.gatewayIn(netns);
  if (gw) used.add(gw.ifName);
  for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
}

export function endpointRecord(records: OverlayRecords, t: AttachTarget, v4: string, v6: string | undefined): EndpointRecord {
  const { req, net } = t;
  const id = randomBytes(32).toString('hex');
  return {
    id,
    networkId: net.id,
    name: req.name || id.slice(0, 12),
    aliases: req.aliases,
    netns: req.netns,
    ifName: req.leaveInHost ? dockerVeth(id) : nextIfName(records, req.netns, namesIn(t)),
    ipv4: v4,
    ...(v6 ? { ipv6: v6 } : {}),
    mac: req.mac ?? macFromIpv4(v4),
    leaveInHost: req.leaveInHost,
    preallocated: req.preallocated,
    labels: req.labels,
    ...(req.serviceId ? { serviceId: req.serviceId } : {}),
    state: 'pending',
    createdAt: new Date().toISOString(),
    node: records.node,
    ...(req.serviceId ? { serviceId: req.serviceId } : {}),
    ...(req.ingressLegOf ? { ingressLegOf: req.ingressLegOf } : {}),
  };
}

/** A workload namespace's first non-internal endpoint also gets a north-south leg on the gwbridge. */
export function needsGateway(records: OverlayRecords, t: AttachTarget): boolean {
  return !t.req.leaveInHost && !t.net.internal && !records.gatewayIn(t.req.netns);
}

export function gatewayRecord(records: OverlayRecords, t: AttachTarget, ep: EndpointRecord, ip: string): GatewayRecord {
  return {
    id: gatewayId(t.req.netns, records.local.shared ? records.node : undefined),
    netns: t.req.netns,
    ifName: nextIfName(records, t.req.netns, [...namesIn(t), ep.ifName]),
    ip,
    mac: macFromIpv4(ip),
    ...(t.ownDefaultRoute ? { defaultRoute: false } : {}),
    state: 'pending',
    node: records.node,
  };
}

/** Interface names the namespace held before attach: a workload's own eth0 is never taken over. */
const namesIn = (t: AttachTarget): string[] => [...(t.before?.links.keys() ?? [])];

/** A leg's id: from its namespace path (and, in a shared store, the host: paths repeat across hosts). */
export const gatewayId = (netns: string, node?: string) => createHash('sha256').update(node === undefined ? netns : `${node}\u0000${netns}`).digest('hex').slice(0, 12);

/**
 * The namespace right after the first veth ends were moved in: what it held before attach plus
 * them. Planning against it saves reading the namespace again.
 */
export function stateAfterMove(before: NsActual, ep: EndpointRecord, gw: GatewayRecord | undefined): NsActual {
  const links = new Map(before.links);
  const veth = (name: string) => links.set(name, { name, kind: 'veth', mtu: 0, mac: '', up: false });
  veth(workloadTempVeth(ep.id));
  if (gw) veth(gatewayTempVeth(gw.id));
  return { links, addrs: [...before.addrs], routes: [...before.routes], neigh: [...before.neigh], fdb: [...before.fdb] };
}
