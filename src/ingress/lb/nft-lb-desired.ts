// The nftables load balancer's desired state, as pure functions (no kernel, no state).
// kube-proxy's nftables proxier is the model: a verdict map keyed by the destination sends a
// connection's first packet to a chain that picks a slot (`numgen random mod N`, or `jhash` of the
// client address for affinity) and DNATs through one big per-family backend map keyed by
// destination . slot. Unlike kube-proxy, chains are shared by every frontend with the same N (see
// pickChain): one backend more or less is a few map elements, whatever the number of services.
import { VxError } from '../../errors.js';
import type { NftActualTable, NftChain, NftDataType, NftSet, NftTable } from '../../kernel/index.js';
import { formatIp, parseIp } from '../../util/ip-addr.js';
import type { LbFrontend } from './types.js';

export const LB_TABLE = { family: 'inet', name: 'vxmesh_lb' } as const;

/** ct mark bits that carry "source-NAT this connection to snat address #k" from the DNAT chain to postrouting. */
export const SNAT_MARK_MASK = 0x00ff0000;
const SNAT_MARK_SHIFT = 16;
export const MAX_SNAT_ADDRESSES = 255;

export type LbMapName =
  | 'vips4' | 'vips6' | 'ports4' | 'ports6'
  | 'novips4' | 'novips6' | 'noports4' | 'noports6'
  | 'vipbe4' | 'vipbe6' | 'portbe4tcp' | 'portbe4udp' | 'portbe6tcp' | 'portbe6udp';

interface MapSpec {
  type: NftDataType[];
  value?: NftDataType[] | 'verdict';
  typeof?: { key: string; value: string };
}

/**
 * The maps: dispatch (destination -> pick chain), the frontends without backends (sets whose
 * connections the base chains refuse, so an empty frontend needs no chain) and backends
 * (destination . slot -> backend).
 */
export const LB_MAPS: Record<LbMapName, MapSpec> = {
  vips4: { type: ['ipv4_addr'], value: 'verdict' },
  vips6: { type: ['ipv6_addr'], value: 'verdict' },
  ports4: { type: ['inet_proto', 'inet_service'], value: 'verdict' },
  ports6: { type: ['inet_proto', 'inet_service'], value: 'verdict' },
  novips4: { type: ['ipv4_addr'] },
  novips6: { type: ['ipv6_addr'] },
  noports4: { type: ['inet_proto', 'inet_service'] },
  noports6: { type: ['inet_proto', 'inet_service'] },
  // The slot is a number with no type name: the maps are declared by the expressions that look them up.
  vipbe4: { type: ['ipv4_addr', 'integer'], value: ['ipv4_addr'], typeof: { key: 'ip daddr . numgen random mod 2', value: 'ip daddr' } },
  vipbe6: { type: ['ipv6_addr', 'integer'], value: ['ipv6_addr'], typeof: { key: 'ip6 daddr . numgen random mod 2', value: 'ip6 daddr' } },
  // Published ports: one map per family and protocol, declared with that protocol's `dport`. nft
  // 1.0.6 cannot share one map between tcp and udp: a typeof value of `th dport` is refused once
  // read back from the kernel ("conflicting protocols"), and `tcp dport` makes every rule using
  // the map match tcp only.
  portbe4tcp: { type: ['inet_service', 'integer'], value: ['ipv4_addr', 'inet_service'], typeof: { key: 'tcp dport . numgen random mod 2', value: 'ip daddr . tcp dport' } },
  portbe4udp: { type: ['inet_service', 'integer'], value: ['ipv4_addr', 'inet_service'], typeof: { key: 'udp dport . numgen random mod 2', value: 'ip daddr . udp dport' } },
  portbe6tcp: { type: ['inet_service', 'integer'], value: ['ipv6_addr', 'inet_service'], typeof: { key: 'tcp dport . numgen random mod 2', value: 'ip6 daddr . tcp dport' } },
  portbe6udp: { type: ['inet_service', 'integer'], value: ['ipv6_addr', 'inet_service'], typeof: { key: 'udp dport . numgen random mod 2', value: 'ip6 daddr . udp dport' } },
};
export const LB_MAP_NAMES = Object.keys(LB_MAPS) as LbMapName[];

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** Canonical dotted quads (what IPAM writes) skip the full parser: 10,000 services x 10 backends are checked at once. */
const CANON_V4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

function familyOf(ip: string): 4 | 6 | undefined {
  if (typeof ip === 'string' && CANON_V4.test(ip)) return 4;
  try {
    return parseIp(ip).family;
  } catch {
    return undefined;
  }
}

/** A VxError about one frontend, naming it. */
export const frontendError = (fe: { id?: unknown }, what: string) => new VxError('INVALID_ARGUMENT', `load balancer frontend ${JSON.stringify(fe.id)}: ${what}`);
const isPort = (p: unknown) => typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;

/** The frontend's address family. */
export function frontendFamily(fe: LbFrontend): 4 | 6 {
  return fe.match.kind === 'vip' ? (familyOf(fe.match.vip) ?? 4) : fe.match.family;
}

/**
 * Checks one frontend on its own; returns its family and a key that is equal for two frontends
 * that would catch the same traffic. Throws a VxError naming the frontend and the field.
 */
export function checkFrontend(fe: LbFrontend): { family: 4 | 6; matchKey: string } {
  if (typeof fe.id !== 'string' || fe.id === '') throw frontendError(fe, 'id must be a non-empty string');
  let family: 4 | 6;
  let matchKey: string;
  if (fe.match?.kind === 'vip') {
    const f = familyOf(fe.match.vip);
    if (!f) throw frontendError(fe, `match.vip ${JSON.stringify(fe.match.vip)} is not an IP address`);
    family = f;
    matchKey = `vip ${parseIp(fe.match.vip).value}/${f}`;
  } else if (fe.match?.kind === 'port') {
    const m = fe.match;
    if (m.protocol !== 'tcp' && m.protocol !== 'udp') throw frontendError(fe, `match.protocol must be tcp or udp (got ${JSON.stringify(m.protocol)})`);
    if (!isPort(m.port)) throw frontendError(fe, `match.port must be 1-65535 (got ${JSON.stringify(m.port)})`);
    if (m.family !== 4 && m.family !== 6) throw frontendError(fe, `match.family must be 4 or 6 (got ${JSON.stringify(m.family)})`);
    family = m.family;
    matchKey = `port ${m.protocol}/${m.port}/${m.family}`;
  } else throw frontendError(fe, 'match.kind must be "vip" or "port"');
  if (fe.targetPort !== undefined && !isPort(fe.targetPort)) throw frontendError(fe, `targetPort must be 1-65535 (got ${JSON.stringify(fe.targetPort)})`);
  if (fe.match.kind === 'port' && fe.targetPort === undefined) throw frontendError(fe, 'a port frontend needs targetPort');
  if (fe.affinity !== 'none' && fe.affinity !== 'client-ip') throw frontendError(fe, `affinity must be none or client-ip (got ${JSON.stringify(fe.affinity)})`);
  if (!Array.isArray(fe.backends)) throw frontendError(fe, 'backends must be a list of addresses');
  const seen = new Set<string>();
  for (const b of fe.backends) {
    if (familyOf(b) !== family) throw frontendError(fe, `backend ${JSON.stringify(b)} is not an IPv${family} address (the frontend is IPv${family})`);
    if (seen.has(b)) throw frontendError(fe, `backend ${b} is listed twice`);
    seen.add(b);
  }
  if (fe.snatTo !== undefined && familyOf(fe.snatTo) !== family) throw frontendError(fe, `snatTo ${JSON.stringify(fe.snatTo)} is not an IPv${family} address`);
  return { family, matchKey };
}

/** Checks that frontends do not share an id or catch the same traffic (given each one's matchKey). */
export class FrontendUniqueness {
  private readonly ids = new Set<string>();
  private readonly matches = new Map<string, string>();

  add(fe: LbFrontend, matchKey: string): void {
    if (this.ids.has(fe.id)) throw frontendError(fe, 'id is given twice');
    this.ids.add(fe.id);
    const other = this.matches.get(matchKey);
    if (other !== undefined) throw frontendError(fe, `matches the same traffic as frontend ${JSON.stringify(other)}`);
    this.matches.set(matchKey, fe.id);
  }
}

/** Throws a VxError naming the frontend and field when the list cannot be programmed. */
export function validateFrontends(frontends: readonly LbFrontend[]): void {
  const unique = new FrontendUniqueness();
  for (const fe of frontends) unique.add(fe, checkFrontend(fe).matchKey);
}

/**
 * Backend per slot (slot i answers `numgen ... mod N == i`). Backends that stay keep their slot;
 * a leaving backend's slot is taken by the last one, new backends are appended: one backend
 * more or less changes at most two slots, whatever N is.
 */
export function assignSlots(prev: readonly string[] | undefined, backends: readonly string[]): string[] {
  if (!prev) return [...backends];
  const want = new Set(backends);
  const slots = [...prev];
  for (let i = 0; i < slots.length; ) {
    if (want.has(slots[i]!)) {
      i++;
      continue;
    }
    const last = slots.pop()!;
    if (i < slots.length) slots[i] = last;
  }
  const kept = new Set(slots);
  for (const b of backends) if (!kept.has(b)) slots.push(b);
  return slots;
}

/** The ct mark value (within SNAT_MARK_MASK) for snat address number k (1..MAX_SNAT_ADDRESSES). */
export function snatMark(k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > MAX_SNAT_ADDRESSES) throw new Error(`snat address number ${k} is out of range 1-${MAX_SNAT_ADDRESSES}`);
  return k << SNAT_MARK_SHIFT;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * Where the frontend's traffic is sent: its key in the verdict map that jumps to its chain, or
 * (no backend) in the set whose connections are refused.
 */
export function dispatchOf(fe: LbFrontend): { map: LbMapName; refuse: LbMapName; key: string[] } {
  const f = frontendFamily(fe);
  if (fe.match.kind === 'vip') return { map: `vips${f}`, refuse: `novips${f}`, key: [fe.match.vip] };
  return { map: `ports${f}`, refuse: `noports${f}`, key: [fe.match.protocol, String(fe.match.port)] };
}

/** The backend map of a frontend, and its element (key, value) for each slot. */
export function backendElementsOf(fe: LbFrontend, slots: readonly string[]): { map: LbMapName; elements: { key: string[]; value: string[] }[] } {
  const f = frontendFamily(fe);
  if (fe.match.kind === 'vip') {
    const vip = fe.match.vip;
    return { map: f === 4 ? 'vipbe4' : 'vipbe6', elements: slots.map((b, i) => ({ key: [vip, String(i)], value: [b] })) };
  }
  const { protocol, port } = fe.match;
  const target = String(fe.targetPort);
  return { map: `portbe${f}${protocol}`, elements: slots.map((b, i) => ({ key: [String(port), String(i)], value: [b, target] })) };
}

/**
 * The chain that picks a slot and DNATs. Frontends share it when they pick alike (kind, family,
 * affinity, backend count, vip target port, snat mark): a handful of chains serve any number of
 * services, so a backend more or less is only element changes (the frontend's dispatch element
 * moves to the chain of its new count). One chain per service made this kernel (6.18) take
 * minutes to load 10,000 services (measured: 118 s of kernel time validating 10,000 jump targets).
 */
export function pickChain(fe: LbFrontend, slotCount: number, snatMark: number | undefined): NftChain {
  const f = frontendFamily(fe);
  const ip = f === 4 ? 'ip' : 'ip6';
  const affinity = fe.affinity === 'client-ip';
  const pick = affinity ? `jhash ${ip} saddr mod ${slotCount}` : `numgen random mod ${slotCount}`;
  let name = `pick_${fe.match.kind === 'vip' ? 'vip' : fe.match.protocol}${f}_${affinity ? 'sh' : 'rr'}_n${slotCount}`;
  let dnat: string;
  if (fe.match.kind === 'vip') {
    if (fe.targetPort === undefined) dnat = `dnat ${ip} to ${ip} daddr . ${pick} map @vipbe${f}`;
    else {
      dnat = `meta l4proto { tcp, udp } dnat ${ip} to ${ip} daddr . ${pick} map @vipbe${f} : ${fe.targetPort}`;
      name += `_p${fe.targetPort}`;
    }
  } else {
    const proto = fe.match.protocol;
    dnat = `meta l4proto ${proto} dnat ${ip} to ${proto} dport . ${pick} map @portbe${f}${proto}`;
  }
  if (snatMark !== undefined) {
    dnat = `ct mark set ct mark & ${hex(~SNAT_MARK_MASK >>> 0)} | ${hex(snatMark)} ${dnat}`;
    name += `_m${snatMark >>> SNAT_MARK_SHIFT}`;
  }
  return { name, rules: [{ match: dnat }] };
}

/** The base chains: dispatch on the destination (routed and local traffic), and source NAT by mark. */
export function baseChains(marks: ReadonlyMap<string, number>): NftChain[] {
  const refuse = (match: string) => [
    { match: `${match} meta l4proto tcp reject with tcp reset` },
    { match: `${match} reject with icmpx port-unreachable` },
  ];
  const dispatch = [
    // A no-op that holds a conntrack reference: nat chains run only for tracked packets, and a
    // namespace whose table has only refusals (no dnat/ct rule yet) would otherwise track nothing.
    { match: 'ct state invalid return', comment: 'vxmesh: keeps conntrack on' },
    ...refuse('ip daddr @novips4'),
    ...refuse('ip6 daddr @novips6'),
    ...refuse('meta nfproto ipv4 fib daddr type local meta l4proto . th dport @noports4'),
    ...refuse('meta nfproto ipv6 fib daddr type local meta l4proto . th dport @noports6'),
    { match: 'ip daddr vmap @vips4' },
    { match: 'ip6 daddr vmap @vips6' },
    { match: 'meta nfproto ipv4 fib daddr type local meta l4proto . th dport vmap @ports4' },
    { match: 'meta nfproto ipv6 fib daddr type local meta l4proto . th dport vmap @ports6' },
  ];
  const snat = [...marks].map(([addr, mark]) => ({
    match: `ct mark & ${hex(SNAT_MARK_MASK)} == ${hex(mark)} snat ${familyOf(addr) === 4 ? 'ip' : 'ip6'} to ${addr}`,
    comment: 'vxmesh: source NAT after the load balancer picked a backend',
  }));
  return [
    { name: 'prerouting', base: { type: 'nat', hook: 'prerouting', priority: { name: 'dstnat' }, policy: 'accept' }, rules: dispatch },
    { name: 'output', base: { type: 'nat', hook: 'output', priority: { name: 'dstnat' }, policy: 'accept' }, rules: dispatch },
    { name: 'postrouting', base: { type: 'nat', hook: 'postrouting', priority: { name: 'srcnat' }, policy: 'accept' }, rules: snat },
  ];
}

/** The whole table from its parts (the maps' elements are kept by the caller, e.g. as NftElements). */
export function lbTable(pickChains: Iterable<NftChain>, marks: ReadonlyMap<string, number>, elements: Record<LbMapName, NftSet['elements']>): NftTable {
  return {
    ...LB_TABLE,
    chains: [...baseChains(marks), ...pickChains],
    sets: LB_MAP_NAMES.map((name) => ({ name, ...LB_MAPS[name], elements: elements[name] })),
  };
}

/** Where a frontend's slots sit in the backend maps: `${map} ${key without the slot}` (kernel spelling). */
export function slotSeedKey(fe: LbFrontend): string {
  const f = frontendFamily(fe);
  if (fe.match.kind === 'vip') {
    const ip = parseIp(fe.match.vip);
    return `vipbe${f} ${formatIp(ip.family, ip.value)}`;
  }
  return `portbe${f}${fe.match.protocol} ${fe.match.port}`;
}

/**
 * The backend per slot of every frontend in a table read from the kernel (keyed as slotSeedKey),
 * so a restarted agent keeps each backend in its slot (client-ip affinity survives) and changes
 * nothing. Frontends whose slots are not 0..N-1 are left out.
 */
export function slotsFromKernel(table: NftActualTable | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!table) return out;
  for (const name of ['vipbe4', 'vipbe6', 'portbe4tcp', 'portbe4udp', 'portbe6tcp', 'portbe6udp'] as const) {
    const set = table.sets.get(name);
    if (!set) continue;
    for (const [key, value] of set.elements) {
      const cut = key.lastIndexOf(' . ');
      const slot = Number(key.slice(cut + 3));
      const seedKey = `${name} ${key.slice(0, cut)}`;
      const slots = out.get(seedKey) ?? [];
      slots[slot] = value.split(' . ')[0]!;
      out.set(seedKey, slots);
    }
  }
  for (const [k, slots] of out) if (slots.some((s) => s === undefined) || slots.length !== Object.keys(slots).length) out.delete(k);
  return out;
}
