// Pure parts of the IPVS load balancer: frontend validation, firewall-mark allocation, the nft
// table that marks packets (and SNATs what IPVS forwarded), and the IPVS fwmark services.
// A frontend's identity in the kernel is its match (VIP, or protocol + port + family): the mark maps
// in `table inet vxmesh_ipvs` hold match -> mark, which is how a new instance finds the marks
// an earlier one allocated.
import { VxError } from '../../errors.js';
import type { IpvsFwmarkSpec, NftElement, NftTable } from '../../kernel/index.js';
import { formatIp, parseIp } from '../../util/ip-addr.js';
import type { LbFrontend } from './types.js';

/** vxmesh's fwmarks: 0x58000001..0x58ffffff (0x58 = 'X'); IPVS services with other marks are not ours. */
export const MARK_BASE = 0x5800_0000;
export const MARK_MASK = 0xff00_0000;
export const MARK_MAX_INDEX = 0x00ff_ffff;
export const IPVS_TABLE = 'vxmesh_ipvs';
/** Policy routing that delivers marked packets locally (IPVS schedules in LOCAL_IN). */
export const MARK_ROUTING = { fwmark: MARK_BASE, mask: MARK_MASK, table: 0x5800, pref: 5800 } as const;

export function ownsMark(fwmark: number): boolean {
  return (fwmark & MARK_MASK) >>> 0 === MARK_BASE && fwmark !== MARK_BASE;
}

/** The map a frontend's match lives in, and its key there. */
export interface MatchSlot {
  map: 'vip4' | 'vip6' | 'port4' | 'port6';
  key: string[];
  family: 4 | 6;
}

/** `vip4 10.0.0.5`, `port4 tcp 8080`: one string per match, unique in a namespace. */
export function slotId(s: MatchSlot): string {
  return `${s.map} ${s.key.join(' ')}`;
}

function canonIp(text: string, what: string): { addr: string; family: 4 | 6 } {
  try {
    const ip = parseIp(text);
    return { addr: formatIp(ip.family, ip.value), family: ip.family };
  } catch {
    throw new VxError('INVALID_ARGUMENT', `${what}: "${text}" is not an IP address`);
  }
}

export interface CheckedFrontend {
  frontend: LbFrontend;
  slot: MatchSlot;
  backends: string[];
  snatTo?: string;
}

/** Validates frontends (clear errors, nothing applied on a bad one) and puts them in canonical form. */
export function checkFrontends(frontends: LbFrontend[]): CheckedFrontend[] {
  const ids = new Set<string>();
  const slots = new Map<string, string>();
  return frontends.map((f) => {
    const what = `load-balancer frontend "${f.id}"`;
    if (!f.id) throw new VxError('INVALID_ARGUMENT', 'load-balancer frontend without an id');
    if (ids.has(f.id)) throw new VxError('INVALID_ARGUMENT', `${what} is given twice`);
    ids.add(f.id);
    let slot: MatchSlot;
    if (f.match.kind === 'vip') {
      const vip = canonIp(f.match.vip, `${what} vip`);
      slot = { map: vip.family === 4 ? 'vip4' : 'vip6', key: [vip.addr], family: vip.family };
    } else {
      const { protocol, port, family } = f.match;
      if (protocol !== 'tcp' && protocol !== 'udp') throw new VxError('INVALID_ARGUMENT', `${what}: protocol must be tcp or udp, not "${String(protocol)}"`);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new VxError('INVALID_ARGUMENT', `${what}: port ${port} is not in 1-65535`);
      if (family !== 4 && family !== 6) throw new VxError('INVALID_ARGUMENT', `${what}: family must be 4 or 6`);
      slot = { map: family === 4 ? 'port4' : 'port6', key: [protocol, String(port)], family };
    }
    const other = slots.get(slotId(slot));
    if (other !== undefined) throw new VxError('INVALID_ARGUMENT', `${what} matches the same traffic as "${other}" (${slotId(slot)})`);
    slots.set(slotId(slot), f.id);
    if (f.targetPort !== undefined && (!Number.isInteger(f.targetPort) || f.targetPort < 1 || f.targetPort > 65535)) {
      throw new VxError('INVALID_ARGUMENT', `${what}: targetPort ${f.targetPort} is not in 1-65535`);
    }
    if (f.affinity !== 'none' && f.affinity !== 'client-ip') throw new VxError('INVALID_ARGUMENT', `${what}: affinity must be none or client-ip`);
    const backends = [...new Set(f.backends.map((b) => sameFamily(canonIp(b, `${what} backend`), slot.family, what, 'backend')))].sort();
    const snatTo = f.snatTo === undefined ? undefined : sameFamily(canonIp(f.snatTo, `${what} snatTo`), slot.family, what, 'snatTo');
    return { frontend: f, slot, backends, ...(snatTo !== undefined ? { snatTo } : {}) };
  });
}

function sameFamily(ip: { addr: string; family: 4 | 6 }, family: 4 | 6, what: string, field: string): string {
  if (ip.family !== family) throw new VxError('INVALID_ARGUMENT', `${what}: ${field} ${ip.addr} is IPv${ip.family}, the match is IPv${family}`);
  return ip.addr;
}

/**
 * Marks for the wanted slots: a slot keeps the mark it has; a new one takes the lowest index not
 * held by any slot known now (so a mark freed in this change set is not reused in the same one).
 */
export function allocateMarks(wanted: string[], existing: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Set<number>(existing.values());
  let next = 1;
  for (const slot of wanted) {
    const have = existing.get(slot);
    if (have !== undefined) {
      out.set(slot, have);
      continue;
    }
    while (taken.has(MARK_BASE + next)) next++;
    if (next > MARK_MAX_INDEX) throw new VxError('RESOURCE_EXHAUSTED', `no free IPVS firewall mark left (${MARK_MAX_INDEX} frontends in one namespace)`);
    out.set(slot, MARK_BASE + next);
    taken.add(MARK_BASE + next);
  }
  return out;
}

/** The IPVS fwmark services for the frontends (masquerade, weight 1; sh for client-ip affinity). */
export function ipvsServices(checked: CheckedFrontend[], marks: ReadonlyMap<string, number>): IpvsFwmarkSpec[] {
  return checked.map((c) => ({
    fwmark: marks.get(slotId(c.slot))!,
    family: c.slot.family,
    scheduler: c.frontend.affinity === 'client-ip' ? 'sh' : 'rr',
    dests: c.backends.map((addr) => ({ addr, port: c.frontend.targetPort ?? 0 })),
  }));
}

// The mark goes on the packet (IPVS picks the service by it; the policy route delivers it locally)
// and on the connection (postrouting SNATs by ct mark).
const MARK_RULES = [
  'meta mark set ip daddr map @vip4 ct mark set meta mark',
  'meta mark set ip6 daddr map @vip6 ct mark set meta mark',
  // A published port on any local address; replies (ct reply) never get a mark.
  'meta nfproto ipv4 ct direction original fib daddr type local meta mark set meta l4proto . th dport map @port4 ct mark set meta mark',
  'meta nfproto ipv6 ct direction original fib daddr type local meta mark set meta l4proto . th dport map @port6 ct mark set meta mark',
];
/**
 * First in output: a packet IPVS forwards to a backend passes the output hook again still carrying
 * its mark, and NAT's re-route would send it down the policy route to the local stack (measured:
 * the SYN got a RST from the LB namespace). Clearing our mark re-routes it normally; packets that
 * really go to a frontend are marked again by the rules after this one.
 */
const CLEAR_OWN_MARK = `meta mark & 0x${MARK_MASK.toString(16)} == 0x${MARK_BASE.toString(16)} meta mark set 0x0`;


/** `table inet vxmesh_ipvs`: match -> mark maps, mark rules (prerouting + output) and SNAT by mark. */
export function ipvsMarkTable(checked: CheckedFrontend[], marks: ReadonlyMap<string, number>): NftTable {
  const elements = (map: MatchSlot['map']): NftElement[] =>
    checked.filter((c) => c.slot.map === map).map((c) => ({ key: c.slot.key, value: [String(marks.get(slotId(c.slot)))] }));
  const snat = (family: 4 | 6): NftElement[] =>
    checked
      .filter((c) => c.slot.family === family && c.snatTo !== undefined)
      .map((c) => ({ key: [String(marks.get(slotId(c.slot)))], value: [c.snatTo!] }));
  return {
    family: 'inet',
    name: IPVS_TABLE,
    sets: [
      { name: 'vip4', type: ['ipv4_addr'], value: ['mark'], elements: elements('vip4') },
      { name: 'vip6', type: ['ipv6_addr'], value: ['mark'], elements: elements('vip6') },
      { name: 'port4', type: ['inet_proto', 'inet_service'], value: ['mark'], elements: elements('port4') },
      { name: 'port6', type: ['inet_proto', 'inet_service'], value: ['mark'], elements: elements('port6') },
      { name: 'snat4', type: ['mark'], value: ['ipv4_addr'], elements: snat(4) },
      { name: 'snat6', type: ['mark'], value: ['ipv6_addr'], elements: snat(6) },
    ],
    chains: [
      { name: 'prerouting', base: { type: 'filter', hook: 'prerouting', priority: { name: 'mangle' }, policy: 'accept' }, rules: MARK_RULES.map((match) => ({ match })) },
      // type route: a mark set on a locally made packet re-routes it (policy route -> local -> IPVS).
      { name: 'output', base: { type: 'route', hook: 'output', priority: { name: 'mangle' }, policy: 'accept' }, rules: [CLEAR_OWN_MARK, ...MARK_RULES].map((match) => ({ match })) },
      {
        name: 'postrouting',
        base: { type: 'nat', hook: 'postrouting', priority: { name: 'srcnat' }, policy: 'accept' },
        rules: [{ match: 'meta nfproto ipv4 snat ip to ct mark map @snat4' }, { match: 'meta nfproto ipv6 snat ip6 to ct mark map @snat6' }],
      },
    ],
  };
}

/** Slot -> mark as a kernel table holds them (the maps of an earlier instance); marks outside vxmesh's range are ignored. */
export function marksFromTable(sets: ReadonlyMap<string, { elements: ReadonlyMap<string, string> }>): Map<string, number> {
  const out = new Map<string, number>();
  for (const map of ['vip4', 'vip6', 'port4', 'port6'] as const) {
    for (const [key, value] of sets.get(map)?.elements ?? []) {
      const mark = Number(value);
      if (ownsMark(mark)) out.set(slotId({ map, key: key.split(' . '), family: map.endsWith('4') ? 4 : 6 }), mark);
    }
  }
  return out;
}
