import { run } from './exec.js';
import { inNs, type NsRef } from './ns.js';
import type { ActualLink, AddrSpec, FdbSpec, LinkKind, NeighSpec, NsActual, RouteSpec } from './state.js';

interface IpLinkJson {
  ifname: string;
  mtu: number;
  address?: string;
  master?: string;
  flags?: string[];
  linkinfo?: {
    info_kind?: string;
    info_slave_data?: { isolated?: boolean };
    info_data?: { id?: number; port?: number; local?: string; proxy?: boolean };
  };
}
interface IpAddrJson {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}
interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  type?: string;
  table?: string;
}
interface IpNeighJson {
  dst: string;
  dev: string;
  lladdr?: string;
}
interface BridgeFdbJson {
  mac: string;
  ifname: string;
  dst?: string;
  flags?: string[];
}

function kindOf(k: string | undefined): LinkKind {
  return k === 'bridge' || k === 'vxlan' || k === 'veth' || k === 'dummy' ? k : 'other';
}

/** What readNs asks `ip -j -d -batch` for; parseIpState expects the sections in this order. */
export const IP_STATE_BATCH =
  // `route show` lists IPv4 only and batch lines take no -6; `root ::/0` selects IPv6, which with
  // `table all` also yields the local table (filtered out below).
  'link show\naddr show\nroute show\nneigh show nud permanent\nroute show table all root ::/0\n';

/**
 * Parses `ip -j -d -batch` output of IP_STATE_BATCH: link show / addr show / route show (IPv4) /
 * neigh show nud permanent / and optionally IPv6 routes.
 */
export function parseIpState(stdout: string): Omit<NsActual, 'fdb'> {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 4) throw new Error(`unexpected ip -batch output (${lines.length} sections)`);
  const [linkJ, addrJ, routeJ, neighJ, route6J = []] = lines.map((l) => JSON.parse(l) as unknown[]) as [
    IpLinkJson[],
    IpAddrJson[],
    IpRouteJson[],
    IpNeighJson[],
    IpRouteJson[]?,
  ];
  const links = new Map<string, ActualLink>();
  for (const l of linkJ) {
    const link: ActualLink = {
      name: l.ifname,
      kind: kindOf(l.linkinfo?.info_kind),
      mtu: l.mtu,
      mac: (l.address ?? '').toLowerCase(),
      master: l.master,
      up: (l.flags ?? []).includes('UP'),
      isolated: l.linkinfo?.info_slave_data?.isolated,
    };
    const d = l.linkinfo?.info_data;
    if (link.kind === 'vxlan' && d?.id !== undefined) link.vxlan = { vni: d.id, dstPort: d.port ?? 0, local: d.local, ...(d.proxy !== undefined ? { proxy: d.proxy } : {}) };
    links.set(l.ifname, link);
  }
  const addrs: AddrSpec[] = [];
  for (const a of addrJ) {
    for (const i of a.addr_info ?? []) {
      if (i.scope === 'link' || i.scope === 'host') continue; // kernel-managed (fe80::, lo)
      addrs.push({ dev: a.ifname, cidr: `${i.local}/${i.prefixlen}` });
    }
  }
  const ours = (r: IpRouteJson) =>
    r.protocol !== 'kernel' &&
    (r.type === undefined || r.type === 'unicast') &&
    (r.table === undefined || r.table === 'main') &&
    r.dev !== undefined;
  const routes: RouteSpec[] = [
    ...routeJ.filter(ours).map((r) => ({ dst: r.dst, via: r.gateway, dev: r.dev!, family: 4 as const })),
    ...route6J.filter(ours).map((r) => ({ dst: r.dst, via: r.gateway, dev: r.dev!, family: 6 as const })),
  ];
  const neigh: NeighSpec[] = neighJ
    .filter((n) => n.lladdr)
    .map((n) => ({ ip: n.dst, mac: n.lladdr!.toLowerCase(), dev: n.dev }));
  return { links, addrs, routes, neigh };
}

export function parseFdb(stdout: string): FdbSpec[] {
  const entries = JSON.parse(stdout || '[]') as BridgeFdbJson[];
  return entries
    .filter((e) => e.dst && (e.flags ?? []).includes('self'))
    .map((e) => ({ mac: e.mac.toLowerCase(), dev: e.ifname, dst: e.dst! }));
}

/** Reads a namespace's links, addresses, routes and permanent neighbours in one process (+1 for FDB). */
export async function readNs(ns: NsRef, withFdb: boolean): Promise<NsActual> {
  const [cmd, args] = inNs(ns, 'ip', ['-j', '-d', '-batch', '-']);
  const ipOut = run(cmd, args, IP_STATE_BATCH);
  const fdbOut = withFdb ? run(...inNs(ns, 'bridge', ['-j', 'fdb', 'show'])) : Promise.resolve('[]');
  const [ipText, fdbText] = await Promise.all([ipOut, fdbOut]);
  return { ...parseIpState(ipText), fdb: parseFdb(fdbText) };
}
