import { creatableHere, linkAddLine, tempNameOf, vxlanElsewhereLines } from './link-lines.js';
import type { NsRef } from './ns.js';
import type { ActualLink, AddrSpec, FdbSpec, LinkSpec, NeighSpec, NsActual, NsDesired, RouteSpec, VxlanLinkSpec } from './state.js';

/** The commands that move a namespace from `actual` to `desired`, and the state expected afterwards. */
export interface NsPlan {
  /**
   * `ip` batches to run first, in order, in other namespaces (a vxlan created in the underlay and
   * moved here) or here (a stale device under the temporary name removed before that).
   */
  pre: { ns: NsRef; ipLines: string[] }[];
  ipLines: string[];
  bridgeLines: string[];
  /** Desired links that could not be created here (created elsewhere, e.g. a veth peer) and were not found. */
  missing: string[];
  /** Desired names already held by an interface that is not ours (our new one waits under its temporary name). */
  conflicts: string[];
  /**
   * Desired links that are new devices in this namespace after the plan: made, moved in under their
   * temporary name, or deleted and made again. Per-device settings outside ip's reach (RPS masks, tc
   * programs) are theirs to be written afresh.
   */
  arrived: string[];
  /** Links (by the name they have before the batches) that get a clsact qdisc first (LinkSpec.clsact). */
  clsact: string[];
  next: NsActual;
}

const addrKey = (a: AddrSpec) => `${a.dev} ${a.cidr}`;
// Keys compare case-insensitively: the kernel prints MACs and v6 addresses lower-case. The route
// key carries the family, so an IPv4 and an IPv6 "default" on one link stay two routes.
const routeKey = (r: RouteSpec) => `${r.family} ${r.dev} ${r.dst.toLowerCase()} ${(r.via ?? '').toLowerCase()}`;
const neighKey = (n: NeighSpec) => `${n.dev} ${n.ip.toLowerCase()} ${n.mac.toLowerCase()}`;
const fdbKey = (f: FdbSpec) => `${f.dev} ${f.mac.toLowerCase()} ${f.dst.toLowerCase()}`;

/**
 * The route's destination as `ip -batch` needs it: batch lines take no `-6` option, so the family
 * comes from the prefix, and an IPv6 default must be spelled `::/0` (plain `default` means IPv4).
 */
const routeDst = (r: RouteSpec) => (r.family === 6 && r.dst === 'default' ? '::/0' : r.dst);

function normCidr(c: string): string {
  // `ip` prints v6 compressed and lower-case; desired specs are produced canonical by IPAM.
  return c.toLowerCase();
}

/** True when an existing vxlan device was made with other attributes than the spec's (it must be made again). */
function vxlanDiffers(spec: VxlanLinkSpec, cur: ActualLink): boolean {
  const v = cur.vxlan;
  if (cur.kind !== 'vxlan' || !v) return false;
  // proxy cannot be changed on a live device (the kernel refuses): a device made without it is made again.
  const proxyDiffers = spec.proxy !== undefined && v.proxy !== undefined && v.proxy !== spec.proxy;
  return v.vni !== spec.vni || v.dstPort !== spec.dstPort || (spec.local !== undefined && v.local !== undefined && v.local !== spec.local) || proxyDiffers;
}

/** An existing device that cannot serve as `spec`: another kind, or a vxlan with other attributes. */
function wrongDevice(spec: LinkSpec, cur: ActualLink): boolean {
  if (spec.kind !== 'other' && cur.kind !== 'other' && spec.kind !== cur.kind) return true;
  return spec.kind === 'vxlan' && vxlanDiffers(spec, cur);
}

/**
 * `here` is the namespace being planned: needed only when a vxlan spec has `createIn` (the
 * device is moved to `here` from there).
 */
export function planNs(desired: NsDesired, actual: NsActual, here?: NsRef): NsPlan {
  const pre: NsPlan['pre'] = [];
  const ip: string[] = [];
  const br: string[] = [];
  const missing: string[] = [];
  const conflicts: string[] = [];
  const links = new Map(actual.links);
  const wanted = new Map(desired.links.map((l) => [l.name, l]));
  const adoptNames = new Set(desired.links.flatMap((l) => tempNameOf(l) ?? []));
  /** Links deleted and made again: what the kernel held on the old device went with it. */
  const remade = new Set<string>();
  const arrived: string[] = [];
  const clsact: string[] = [];

  // 1. Owned links nobody wants go first (frees names and addresses).
  for (const [name] of actual.links) {
    if (desired.owns(name) && !wanted.has(name) && !adoptNames.has(name)) {
      ip.push(`link del dev ${name}`);
      links.delete(name);
    }
  }

  // 2. Create or adopt; bridges first so ports can be enslaved in the same batch.
  const ordered = [...desired.links].sort((a, b) => Number(b.kind === 'bridge') - Number(a.kind === 'bridge'));
  const present: LinkSpec[] = [];
  for (const spec of ordered) {
    let cur = links.get(spec.name);
    const temp = tempNameOf(spec);
    if (cur && desired.owns(spec.name) && wrongDevice(spec, cur)) {
      ip.push(`link del dev ${spec.name}`);
      links.delete(spec.name);
      remade.add(spec.name);
      cur = undefined;
    }
    if (cur && temp && links.has(temp)) {
      // Our new interface is waiting under its temporary name but the name is taken by something else.
      conflicts.push(spec.name);
      continue;
    }
    if (!cur && temp && links.has(temp) && wrongDevice(spec, links.get(temp)!)) {
      // The temporary name holds a device that cannot become this one (left by a crash): it goes
      // first, before a new device arrives under that name from elsewhere.
      if (spec.kind === 'vxlan' && spec.createIn) {
        if (!here) throw new Error(`planning vxlan ${spec.name} made in another namespace needs the namespace being planned`);
        pre.push({ ns: here, ipLines: [`link del dev ${temp}`] });
      } else ip.push(`link del dev ${temp}`);
      links.delete(temp);
    }
    if (!cur && spec.kind === 'vxlan' && spec.createIn && !links.has(spec.createIn.tempName)) {
      if (!here) throw new Error(`planning vxlan ${spec.name} made in another namespace needs the namespace being planned`);
      pre.push({ ns: spec.createIn.ns, ipLines: vxlanElsewhereLines(spec, here) });
      const tmp = spec.createIn.tempName;
      links.set(tmp, { name: tmp, kind: 'vxlan', mtu: 0, mac: '', up: false, vxlan: { vni: spec.vni, dstPort: spec.dstPort, local: spec.local } });
    }
    const absent = !cur;
    if (!cur && temp && links.has(temp)) {
      const from = links.get(temp)!;
      if (spec.clsact) clsact.push(temp);
      ip.push(`link set dev ${temp} down`, `link set dev ${temp} name ${spec.name}`);
      links.delete(temp);
      cur = { ...from, name: spec.name, up: false };
      links.set(spec.name, cur);
    }
    if (!cur) {
      if (!creatableHere(spec)) {
        missing.push(spec.name);
        continue;
      }
      const add = linkAddLine(spec);
      ip.push(add.line);
      cur = { name: spec.name, kind: spec.kind, mtu: add.mtu, mac: '', up: false };
      if (spec.kind === 'vxlan') cur.vxlan = { vni: spec.vni, dstPort: spec.dstPort, local: spec.local };
      links.set(spec.name, cur);
    }
    if (absent) arrived.push(spec.name);
    const sets: string[] = [];
    if (spec.mtu && cur.mtu !== spec.mtu) sets.push(`mtu ${spec.mtu}`);
    if (spec.mac && cur.mac !== spec.mac.toLowerCase()) sets.push(`address ${spec.mac}`);
    if (spec.master && cur.master !== spec.master) sets.push(`master ${spec.master}`);
    if (sets.length) ip.push(`link set dev ${spec.name} ${sets.join(' ')}`);
    if (spec.isolated !== undefined && Boolean(cur.isolated) !== spec.isolated) {
      br.push(`link set dev ${spec.name} isolated ${spec.isolated ? 'on' : 'off'}`);
    }
    links.set(spec.name, {
      ...cur,
      mtu: spec.mtu ?? cur.mtu,
      mac: spec.mac?.toLowerCase() ?? cur.mac,
      master: spec.master ?? cur.master,
      isolated: spec.isolated ?? cur.isolated,
    });
    present.push(spec);
  }

  const managed = (dev: string) => wanted.has(dev) || (desired.owns(dev) && links.has(dev));
  const survived = <T extends { dev: string }>(list: T[]) => (remade.size ? list.filter((x) => !remade.has(x.dev)) : list);
  actual = { ...actual, addrs: survived(actual.addrs), routes: survived(actual.routes), neigh: survived(actual.neigh), fdb: survived(actual.fdb) };

  // 3. Addresses on managed links.
  const wantAddrs = new Map(desired.addrs.map((a) => [addrKey({ ...a, cidr: normCidr(a.cidr) }), a]));
  const addrs: AddrSpec[] = [];
  for (const a of actual.addrs) {
    if (!links.has(a.dev)) continue;
    if (managed(a.dev) && !wantAddrs.has(addrKey({ ...a, cidr: normCidr(a.cidr) }))) {
      ip.push(`addr del ${a.cidr} dev ${a.dev}`);
    } else addrs.push(a);
  }
  const haveAddrs = new Set(addrs.map((a) => addrKey({ ...a, cidr: normCidr(a.cidr) })));
  for (const [k, a] of wantAddrs) {
    if (haveAddrs.has(k) || !links.has(a.dev)) continue;
    ip.push(`addr add ${a.cidr} dev ${a.dev}${a.cidr.includes(':') ? ' nodad' : ''}`);
    addrs.push(a);
  }

  // 4. Up after enslaving and addressing.
  for (const spec of present) {
    const cur = links.get(spec.name)!;
    if (spec.up && !cur.up) ip.push(`link set dev ${spec.name} up`);
    if (!spec.up && cur.up) ip.push(`link set dev ${spec.name} down`);
    links.set(spec.name, { ...cur, up: spec.up });
  }

  // 5. Routes, neighbours (ip) and FDB (bridge) on managed links.
  const routes = syncList(actual.routes, desired.routes, routeKey, managed, links, ip,
    (r) => `route del ${routeDst(r)}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}`,
    (r) => `route replace ${routeDst(r)}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}`);
  const neigh = syncList(actual.neigh, desired.neigh, neighKey, desired.preserve?.neigh ? () => false : managed, links, ip,
    (n) => `neigh del ${n.ip} dev ${n.dev}`,
    (n) => `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent`);
  const fdb = syncList(actual.fdb, desired.fdb, fdbKey, desired.preserve?.fdb ? () => false : managed, links, br,
    (f) => `fdb del ${f.mac} dev ${f.dev} dst ${f.dst} self`,
    (f) => `fdb append ${f.mac} dev ${f.dev} dst ${f.dst} self permanent`);

  return { pre, ipLines: ip, bridgeLines: br, missing, conflicts, arrived, clsact, next: { links, addrs, routes, neigh, fdb } };
}

function syncList<T extends { dev: string }>(
  actual: T[],
  desired: T[],
  key: (t: T) => string,
  managed: (dev: string) => boolean,
  links: Map<string, ActualLink>,
  out: string[],
  del: (t: T) => string,
  add: (t: T) => string,
): T[] {
  const want = new Map(desired.map((d) => [key(d), d]));
  const kept: T[] = [];
  for (const a of actual) {
    if (!links.has(a.dev)) continue;
    if (managed(a.dev) && !want.has(key(a))) out.push(del(a));
    else kept.push(a);
  }
  const have = new Set(kept.map(key));
  for (const [k, d] of want) {
    if (have.has(k) || !links.has(d.dev)) continue;
    out.push(add(d));
    kept.push(d);
  }
  return kept;
}
