// IP address and CIDR text <-> bigint, plus the prefix arithmetic the allocator needs. The one IP codec:
// in src/util (the lowest layer) so the validation module in src/model, src/ipam and the gossip code share it.
// Parsing is strict on purpose: a value that reaches the kernel or the store must mean exactly one thing.

import { VxError } from '../errors.js';

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** The masked base address (host bits zero). */
  network: bigint;
  prefix: number;
}

export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Number of addresses in a prefix of the given length. */
export function blockSize(family: Family, prefix: number): bigint {
  return 1n << BigInt(familyBits(family) - prefix);
}

export function cidrSize(c: Cidr): bigint {
  return blockSize(c.family, c.prefix);
}

export function cidrLast(c: Cidr): bigint {
  return c.network + cidrSize(c) - 1n;
}

function hostMask(family: Family, prefix: number): bigint {
  return blockSize(family, prefix) - 1n;
}

const V4_PART = /^(0|[1-9][0-9]{0,2})$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

function invalidIp(text: string, why: string): VxError {
  return new VxError('INVALID_ARGUMENT', `"${text}" is not a valid IP address: ${why}`);
}

function parseV4(text: string, whole: string): bigint {
  const parts = text.split('.');
  if (parts.length !== 4) throw invalidIp(whole, 'an IPv4 address has four dot-separated numbers, e.g. 10.0.1.5');
  let value = 0n;
  for (const part of parts) {
    if (!V4_PART.test(part)) {
      throw invalidIp(
        whole,
        /^0[0-9]+$/.test(part)
          ? `"${part}" has a leading zero (ambiguous octal); write it without leading zeros`
          : `"${part}" is not a number from 0 to 255`,
      );
    }
    const n = Number(part);
    if (n > 255) throw invalidIp(whole, `${part} is larger than 255`);
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseV6Groups(text: string, whole: string): number[] {
  if (text === '') return [];
  const groups: number[] = [];
  for (const g of text.split(':')) {
    if (!V6_GROUP.test(g)) throw invalidIp(whole, `"${g}" is not a group of 1 to 4 hex digits`);
    groups.push(parseInt(g, 16));
  }
  return groups;
}

function parseV6(text: string): bigint {
  if (text.includes('%')) throw invalidIp(text, 'zone indexes (%iface) are not accepted here; drop the %... part');
  let body = text;
  // An embedded IPv4 tail (e.g. ::ffff:10.0.0.1) stands for the last two groups.
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(body.slice(lastColon + 1), text);
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    body = body.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::"; "64:ff9b::1.2.3.4" leaves "64:ff9b::"; "1:2:3:4:5:6:1.2.3.4" leaves "...6:".
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) throw invalidIp(text, '"::" may appear only once');
  let groups: number[];
  if (halves.length === 2) {
    const head = parseV6Groups(halves[0] ?? '', text);
    const rest = parseV6Groups(halves[1] ?? '', text).concat(tail);
    const missing = 8 - head.length - rest.length;
    if (missing < 1) throw invalidIp(text, '"::" must stand for at least one group of zeros; there are already 8 groups');
    groups = head.concat(new Array<number>(missing).fill(0), rest);
  } else {
    groups = parseV6Groups(body, text).concat(tail);
    if (groups.length !== 8) {
      throw invalidIp(text, `an IPv6 address has 8 groups (or uses "::" for zeros); found ${groups.length}`);
    }
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

/** Parses a plain IPv4 or IPv6 address (no prefix, no zone, no brackets). */
export function parseIp(text: string): { family: Family; value: bigint } {
  if (typeof text !== 'string' || text === '') {
    throw new VxError('INVALID_ARGUMENT', 'an IP address is required, e.g. 10.0.1.5 or fd00::5');
  }
  if (text.trim() !== text) throw invalidIp(text, 'it has surrounding whitespace');
  if (text.includes('/')) throw invalidIp(text, 'it has a prefix length; pass the address alone, e.g. 10.0.1.5');
  if (text.includes(':')) return { family: 6, value: parseV6(text) };
  if (text.includes('.')) return { family: 4, value: parseV4(text, text) };
  throw invalidIp(text, 'expected IPv4 (10.0.1.5) or IPv6 (fd00::5) form');
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** Canonical text: dotted quad for IPv4; RFC 5952 for IPv6 (lowercase, longest zero run as "::"). */
export function formatIp(family: Family, value: bigint): string {
  const max = 1n << BigInt(familyBits(family));
  if (typeof value !== 'bigint' || value < 0n || value >= max) {
    throw new VxError('INVALID_ARGUMENT', `${String(value)} is not an IPv${family} address value`);
  }
  if (family === 4) return formatV4(value);
  // RFC 5952 section 5: IPv4-mapped addresses keep the dotted tail.
  if (value >> 32n === 0xffffn) return `::ffff:${formatV4(value & 0xffffffffn)}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  // Longest run of two or more zero groups; the first one wins a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export interface ParseCidrOptions {
  /** Reject host bits instead of masking them off. */
  strict?: boolean;
  /** What the value is, for error messages, e.g. "subnet" or "ip range". */
  what?: string;
}

/** Parses "address/prefix". Without `strict`, host bits are masked off. */
export function parseCidr(text: string, opts: ParseCidrOptions = {}): Cidr {
  const what = opts.what ?? 'CIDR';
  if (typeof text !== 'string' || text === '') {
    throw new VxError('INVALID_ARGUMENT', `a ${what} is required in address/prefix form, e.g. 10.0.1.0/24`);
  }
  const slash = text.indexOf('/');
  if (slash < 0) {
    throw new VxError('INVALID_ARGUMENT', `${what} "${text}" has no prefix length; use address/prefix form, e.g. 10.0.1.0/24`);
  }
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  let addr: { family: Family; value: bigint };
  try {
    addr = parseIp(addrText);
  } catch (err) {
    const why = err instanceof VxError ? err.message : String(err);
    throw new VxError('INVALID_ARGUMENT', `${what} "${text}" is invalid: ${why}`);
  }
  const bits = familyBits(addr.family);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
    throw new VxError(
      'INVALID_ARGUMENT',
      `${what} "${text}" has an invalid prefix length "${prefixText}"; it must be a number from 0 to ${bits}`,
    );
  }
  const prefix = Number(prefixText);
  const network = addr.value & ~hostMask(addr.family, prefix);
  if (opts.strict && network !== addr.value) {
    const masked = formatCidr({ family: addr.family, network, prefix });
    throw new VxError('INVALID_ARGUMENT', `${what} ${text} has host bits set; did you mean ${masked}?`);
  }
  return { family: addr.family, network, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.family, c.network)}/${c.prefix}`;
}

/** True when `inner` (a prefix, or an address value of the same family) lies entirely inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr | bigint): boolean {
  if (typeof inner === 'bigint') {
    return inner >= outer.network && inner <= cidrLast(outer);
  }
  return (
    inner.family === outer.family &&
    inner.prefix >= outer.prefix &&
    (inner.network & ~hostMask(outer.family, outer.prefix)) === outer.network
  );
}

/** Two prefixes overlap exactly when one contains the other (prefixes are aligned blocks). */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && (cidrContains(a, b) || cidrContains(b, a));
}
