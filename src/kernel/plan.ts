import type { ActualLink, AddrSpec, FdbSpec, LinkSpec, NeighSpec, NsActual, NsDesired, RouteSpec } from './state.js';

/** The commands that move a namespace from `actual` to `desired`, and the state expected afterwards. */
export interface NsPlan {
  ipLines: string[];
  bridgeLines: string[];
  /** Desired links that could not be created here (created elsewhere, e.g. a veth peer) and were not found. */
  missing: string[];
  next: NsActual;
}

const addrKey = (a: AddrSpec) => `${a.dev} ${a.cidr}`;
const routeKey = (r: RouteSpec) => `${r.dev} ${r.dst} ${r.via ?? ''}`;
const neighKey = (n: NeighSpec) => `${n.dev} ${n.ip} ${n.mac}`;
const fdbKey = (f: FdbSpec) => `${f.dev} ${f.mac} ${f.dst}`;

function normCidr(c: string): string {
  // `ip` prints v6 compressed and lower-case; desired specs are produced canonical by IPAM.
  return c.toLowerCase();
}

export function planNs(desired: NsDesired, actual: NsActual): NsPlan {
  const ip: string[] = [];
  const br: string[] = [];
  const missing: string[] = [];
  const links = new Map(actual.links);
  const wanted = new Map(desired.links.map((l) => [l.name, l]));
  const adoptNames = new Set(desired.links.flatMap((l) => (l.adoptFrom ? [l.adoptFrom] : [])));

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
    if (!cur && spec.adoptFrom && links.has(spec.adoptFrom)) {
      const from = links.get(spec.adoptFrom)!;
      ip.push(`link set dev ${spec.adoptFrom} down`, `link set dev ${spec.adoptFrom} name ${spec.name}`);
      links.delete(spec.adoptFrom);
      cur = { ...from, name: spec.name, up: false };
      links.set(spec.name, cur);
    }
    if (!cur) {
      if (!spec.create) {
        missing.push(spec.name);
        continue;
      }
      ip.push(`link add ${spec.name}${spec.mtu ? ` mtu ${spec.mtu}` : ''} ${spec.create.join(' ')}`);
      cur = { name: spec.name, kind: spec.kind, mtu: spec.mtu ?? 0, mac: '', up: false };
      links.set(spec.name, cur);
    }
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
    (r) => `route del ${r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}`,
    (r) => `${r.family === 6 ? '-6 ' : ''}route replace ${r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}`);
  const neigh = syncList(actual.neigh, desired.neigh, neighKey, managed, links, ip,
    (n) => `neigh del ${n.ip} dev ${n.dev}`,
    (n) => `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent`);
  const fdb = syncList(actual.fdb, desired.fdb, fdbKey, managed, links, br,
    (f) => `fdb del ${f.mac} dev ${f.dev} dst ${f.dst} self`,
    (f) => `fdb append ${f.mac} dev ${f.dev} dst ${f.dst} self permanent`);

  return { ipLines: ip, bridgeLines: br, missing, next: { links, addrs, routes, neigh, fdb } };
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
