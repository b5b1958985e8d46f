import { run } from './exec.js';
import { inNs, type NsRef } from './ns.js';
import type { ActualLink, AddrSpec, FdbSpec, LinkKind, NeighSpec, NsActual, RouteSpec } from './state.js';

interface IpLinkJson {
  ifname: string;
  mtu: number;
  address?: string;
  master?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string; info_slave_data?: { isolated?: boolean } };
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
  return k === 'bridge' || k === 'vxlan' || k === 'veth' ? k : 'other';
}

/** Parses `ip -j -d -batch` output of: link show / addr show / route show / neigh show nud permanent. */
export function parseIpState(stdout: string): Omit<NsActual, 'fdb'> {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 4) throw new Error(`unexpected ip -batch output (${lines.length} sections)`);
  const [linkJ, addrJ, routeJ, neighJ] = lines.map((l) => JSON.parse(l) as unknown[]) as [
    IpLinkJson[],
    IpAddrJson[],
    IpRouteJson[],
    IpNeighJson[],
  ];
  const links = new Map<string, ActualLink>();
  for (const l of linkJ) {
    links.set(l.ifname, {
      name: l.ifname,
      kind: kindOf(l.linkinfo?.info_kind),
      mtu: l.mtu,
      mac: (l.address ?? '').toLowerCase(),
      master: l.master,
      up: (l.flags ?? []).includes('UP'),
      isolated: l.linkinfo?.info_slave_data?.isolated,
    });
  }
  const addrs: AddrSpec[] = [];
  for (const a of addrJ) {
    for (const i of a.addr_info ?? []) {
      if (i.scope === 'link' || i.scope === 'host') continue; // kernel-managed (fe80::, lo)
      addrs.push({ dev: a.ifname, cidr: `${i.local}/${i.prefixlen}` });
    }
  }
  const routes: RouteSpec[] = routeJ
    .filter((r) => r.protocol !== 'kernel' && (r.type === undefined || r.type === 'unicast') && r.dev)
    .map((r) => ({ dst: r.dst, via: r.gateway, dev: r.dev!, family: r.dst.includes(':') ? 6 : 4 }));
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
  const ipOut = run(cmd, args, 'link show\naddr show\nroute show\nneigh show nud permanent\n');
  const fdbOut = withFdb ? run(...inNs(ns, 'bridge', ['-j', 'fdb', 'show'])) : Promise.resolve('[]');
  const [ipText, fdbText] = await Promise.all([ipOut, fdbOut]);
  return { ...parseIpState(ipText), fdb: parseFdb(fdbText) };
}
