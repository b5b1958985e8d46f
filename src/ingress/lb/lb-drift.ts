// What a namespace's load balancer holds in the kernel, compared with the frontends it should hold,
// as sentences for `vxmesh doctor` (pure: the caller reads the kernel). Compared by meaning, not by
// transaction: which frontends (VIP, or protocol/port) are dispatched or refused, and to which
// backends; a backend's slot or a chain's name is the load balancer's own business.
import type { IpvsService, NftActualTable } from '../../kernel/index.js';
import { formatIp, parseIp } from '../../util/ip-addr.js';
import { checkFrontends, IPVS_TABLE, marksFromTable, ownsMark, slotId } from './ipvs-plan.js';
import { LB_TABLE, frontendFamily, slotSeedKey } from './nft-lb-desired.js';
import type { LbFrontend } from './types.js';

/** At most this many differences are listed per namespace (the count says how many there are). */
const MAX_LISTED = 8;

function canonIp(text: string): string {
  const ip = parseIp(text);
  return formatIp(ip.family, ip.value);
}

/** How a frontend is named in a finding: `VIP 10.0.1.2` / `tcp/8080 (IPv4)`. */
export function frontendText(fe: LbFrontend): string {
  return fe.match.kind === 'vip' ? `VIP ${fe.match.vip}` : `${fe.match.protocol}/${fe.match.port} (IPv${fe.match.family})`;
}

const list = (xs: string[]) => (xs.length ? xs.join(', ') : 'none');

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

function capped(out: string[]): string[] {
  return out.length > MAX_LISTED ? [...out.slice(0, MAX_LISTED), `... ${out.length - MAX_LISTED} more`] : out;
}

/** The dispatch key of a frontend in `inet vxmesh_lb` (kernel spelling) and the maps it lives in. */
function nftDispatch(fe: LbFrontend): { map: string; refuse: string; key: string } {
  const f = frontendFamily(fe);
  if (fe.match.kind === 'vip') return { map: `vips${f}`, refuse: `novips${f}`, key: canonIp(fe.match.vip) };
  return { map: `ports${f}`, refuse: `noports${f}`, key: `${fe.match.protocol} . ${fe.match.port}` };
}

const NFT_BACKEND_MAPS = ['vipbe4', 'vipbe6', 'portbe4tcp', 'portbe4udp', 'portbe6tcp', 'portbe6udp'] as const;

/** Backend values per frontend (slotSeedKey spelling) as the kernel's backend maps hold them. */
function nftBackends(table: NftActualTable): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const name of NFT_BACKEND_MAPS) {
    for (const [key, value] of table.sets.get(name)?.elements ?? []) {
      const seed = `${name} ${key.slice(0, key.lastIndexOf(' . '))}`;
      out.set(seed, [...(out.get(seed) ?? []), value]);
    }
  }
  return out;
}

/** The backend map values a frontend should have: `addr` (VIP) or `addr . targetPort` (published port). */
function nftBackendValues(fe: LbFrontend): string[] {
  return fe.backends.map((b) => (fe.match.kind === 'vip' ? canonIp(b) : `${canonIp(b)} . ${fe.targetPort}`));
}

/**
 * `inet vxmesh_lb` (undefined: absent) against the frontends: each frontend with backends is
 * dispatched and its backend map holds exactly its backends; one without is refused; nothing else
 * is dispatched, refused or has backends; the hooked chains are there. Empty: as expected.
 */
export function nftLbDrift(table: NftActualTable | undefined, frontends: LbFrontend[]): string[] {
  const name = `${LB_TABLE.family} ${LB_TABLE.name}`;
  if (!table) return frontends.length ? [`nft table ${name} is missing (${frontends.length} frontend(s) expected)`] : [];
  const out: string[] = [];
  for (const chain of ['prerouting', 'output']) {
    const c = table.chains.get(chain);
    if (!c?.base || !c.rules.length) out.push(`chain ${chain} of ${name} is ${c ? 'empty or not hooked' : 'missing'}`);
  }
  const kernelBackends = nftBackends(table);
  const wantedDispatch = new Set<string>();
  const wantedSeeds = new Set<string>();
  for (const fe of frontends) {
    const d = nftDispatch(fe);
    const seed = slotSeedKey(fe);
    const has = (set: string) => table.sets.get(set)?.elements.has(d.key) ?? false;
    wantedDispatch.add(`${fe.backends.length ? d.map : d.refuse} ${d.key}`);
    if (!fe.backends.length) {
      if (!has(d.refuse)) out.push(`${frontendText(fe)} has no backend but is not refused (missing from set ${d.refuse})`);
      continue;
    }
    wantedSeeds.add(seed);
    if (!has(d.map)) out.push(`${frontendText(fe)} is not dispatched (missing from map ${d.map})`);
    const want = nftBackendValues(fe);
    const have = kernelBackends.get(seed) ?? [];
    if (!sameSet(want, have)) out.push(`${frontendText(fe)} has backends ${list(have)}, expected ${list(want)}`);
  }
  for (const set of ['vips4', 'vips6', 'ports4', 'ports6', 'novips4', 'novips6', 'noports4', 'noports6']) {
    for (const key of table.sets.get(set)?.elements.keys() ?? []) {
      if (!wantedDispatch.has(`${set} ${key}`)) out.push(`${key} in ${set} belongs to no expected frontend (stale)`);
    }
  }
  for (const [seed, values] of kernelBackends) if (!wantedSeeds.has(seed)) out.push(`backends ${list(values)} of ${seed} belong to no expected frontend (stale)`);
  return capped(out);
}

/**
 * IPVS (`inet vxmesh_ipvs` mark maps + `ipvsadm -S` services) against the frontends: each frontend
 * has a mark, an IPVS fwmark service of that mark whose serving destinations (weight > 0) are
 * exactly its backends; no other vxmesh mark or service. Draining destinations (weight 0) are fine.
 */
export function ipvsLbDrift(table: NftActualTable | undefined, services: IpvsService[], frontends: LbFrontend[]): string[] {
  const checked = checkFrontends(frontends);
  if (!table) return checked.length ? [`nft table inet ${IPVS_TABLE} (firewall marks) is missing (${checked.length} frontend(s) expected)`] : [];
  const out: string[] = [];
  const marks = marksFromTable(table.sets);
  const wantedMarks = new Set<number>();
  for (const c of checked) {
    const fe = c.frontend;
    const mark = marks.get(slotId(c.slot));
    if (mark === undefined) {
      out.push(`${frontendText(fe)} has no firewall mark in inet ${IPVS_TABLE} (map ${c.slot.map})`);
      continue;
    }
    wantedMarks.add(mark);
    const svc = services.find((s) => s.kind === 'fwmark' && Number(s.id) === mark && s.family === c.slot.family);
    const hex = `0x${mark.toString(16)}`;
    if (!svc) {
      out.push(`${frontendText(fe)}: no IPVS service for fwmark ${hex}`);
      continue;
    }
    const port = fe.targetPort ?? 0;
    const want = c.backends.map((b) => `${b}:${port}`);
    const have = svc.dests.filter((d) => d.weight > 0).map((d) => `${d.addr}:${d.port}`);
    if (!sameSet(want, have)) out.push(`${frontendText(fe)} (fwmark ${hex}) has destinations ${list(have)}, expected ${list(want)}`);
  }
  for (const [slot, mark] of marks) if (!wantedMarks.has(mark)) out.push(`firewall mark 0x${mark.toString(16)} for ${slot} belongs to no expected frontend (stale)`);
  for (const s of services) {
    if (s.kind === 'fwmark' && ownsMark(Number(s.id)) && !wantedMarks.has(Number(s.id))) out.push(`IPVS service fwmark 0x${Number(s.id).toString(16)} belongs to no expected frontend (stale)`);
  }
  return capped(out);
}
