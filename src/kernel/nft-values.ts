// Element values in one canonical spelling, so what vxmesh wants and what the kernel prints
// (`nft -j`) compare as strings: lower case, IPv6 compressed, prefixes masked, numbers decimal,
// protocol numbers as names. Components of a concatenation are joined with ' . '.
import { blockSize, familyBits, formatIp, parseIp } from '../util/ip-addr.js';
import type { NftDataType, NftElement, NftSet } from './nft-model.js';

const PROTO_NAMES: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'ipv6-icmp', '132': 'sctp', '136': 'udplite' };
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const CANON_V4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const CANON_NUM = /^(?:0|[1-9]\d{0,9})$/;
function canonAddr(type: 'ipv4_addr' | 'ipv6_addr', text: string): string {
  const slash = text.indexOf('/');
  const dash = text.indexOf('-');
  if (dash > 0) return `${canonAddr(type, text.slice(0, dash))}-${canonAddr(type, text.slice(dash + 1))}`;
  const family = type === 'ipv4_addr' ? 4 : 6;
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const len = slash >= 0 ? Number(text.slice(slash + 1)) : undefined;
  const max = familyBits(family);
  if (len !== undefined && !(Number.isInteger(len) && len >= 0 && len <= max)) throw new Error(`"${text}" has a bad prefix length`);
  let ip: { family: 4 | 6; value: bigint };
  try {
    ip = parseIp(addr);
  } catch {
    ip = { family: family === 4 ? 6 : 4, value: 0n };
  }
  if (ip.family !== family) throw new Error(`"${addr}" is not an IPv${family} address`);
  // The one IP codec (src/util/ip-addr.ts); a prefix masks the host bits, as nft prints them.
  const value = len === undefined ? ip.value : ip.value & ~(blockSize(family, len) - 1n);
  return len === undefined || len === max ? formatIp(family, value) : `${formatIp(family, value)}/${len}`;
}

/** One component of an element, as the kernel prints it. Throws on a value that cannot be of the type. */
export function canonComponent(type: NftDataType | 'verdict', text: string): string {
  // Fast path: most values arrive canonical already (IPAM formats them); maps hold thousands.
  if (type === 'ipv4_addr' ? CANON_V4.test(text) : (type === 'inet_service' || type === 'mark' || type === 'integer') && CANON_NUM.test(text)) return text;
  const t = text.trim();
  switch (type) {
    case 'ipv4_addr':
    case 'ipv6_addr':
      return canonAddr(type, t);
    case 'inet_service':
    case 'mark':
    case 'iface_index':
    case 'integer': {
      const n = Number(t);
      if (!Number.isInteger(n) || n < 0) throw new Error(`"${text}" is not a number (${type})`);
      return String(n);
    }
    case 'inet_proto':
      return PROTO_NAMES[t] ?? t.toLowerCase();
    case 'ether_addr':
      if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(t)) throw new Error(`"${text}" is not a MAC address`);
      return t.toLowerCase();
    case 'ifname':
      return t.replace(/^"(.*)"$/, '$1');
    case 'verdict':
      return t.replace(/\s+/g, ' ');
  }
}

function canonParts(types: readonly (NftDataType | 'verdict')[], parts: readonly string[], what: () => string): string {
  if (parts.length !== types.length) throw new Error(`${what()} has ${parts.length} part(s), its type has ${types.length} (${types.join(' . ')})`);
  if (parts.length === 1) return canonComponent(types[0]!, parts[0]!);
  let out = canonComponent(types[0]!, parts[0]!);
  for (let i = 1; i < parts.length; i++) out += ` . ${canonComponent(types[i]!, parts[i]!)}`;
  return out;
}

export function elementKey(set: NftSet, e: NftElement): string {
  return canonParts(set.type, e.key, () => `element ${e.key.join(' . ')} of "${set.name}"`);
}

export function elementValue(set: NftSet, e: NftElement): string {
  if (set.value === undefined) {
    if (e.value !== undefined) throw new Error(`element ${e.key.join(' . ')} of set "${set.name}" has a value, but "${set.name}" is not a map`);
    return '';
  }
  if (e.value === undefined) throw new Error(`element ${e.key.join(' . ')} of map "${set.name}" has no value`);
  return canonParts(set.value === 'verdict' ? ['verdict'] : set.value, e.value, () => `value of ${e.key.join(' . ')} in "${set.name}"`);
}

/** nft text of a canonical key or value: interface names are quoted, everything else is as is. */
export function renderParts(types: readonly (NftDataType | 'verdict')[], canon: string): string {
  if (!types.includes('ifname')) return canon;
  return canon
    .split(' . ')
    .map((p, i) => (types[i] === 'ifname' ? JSON.stringify(p) : p))
    .join(' . ');
}

/** One value of `nft -j` element output, in the canonical spelling above. */
export function jsonValueText(v: unknown): string {
  if (typeof v === 'string') return v; // the kernel already prints canonical text
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('concat' in o) return (o.concat as unknown[]).map(jsonValueText).join(' . ');
    if ('prefix' in o) {
      const p = o.prefix as { addr: string; len: number };
      return `${p.addr}/${p.len}`;
    }
    if ('range' in o) {
      const [a, b] = o.range as [unknown, unknown];
      return `${jsonValueText(a)}-${jsonValueText(b)}`;
    }
    if ('elem' in o) return jsonValueText((o.elem as { val: unknown }).val);
    if ('goto' in o) return `goto ${(o.goto as { target: string }).target}`;
    if ('jump' in o) return `jump ${(o.jump as { target: string }).target}`;
    for (const verdict of ['accept', 'drop', 'return', 'continue']) if (verdict in o) return verdict;
  }
  throw new Error(`unexpected nft element value ${JSON.stringify(v)}`);
}
