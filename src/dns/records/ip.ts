// IP text to bytes and to reverse (PTR) names, without node:net so the records layer stays pure.
import { VxError } from '../../errors.js';

export function parseIPv4(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

export function parseIPv6(text: string): Buffer | undefined {
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.') && lastColon >= 0) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const words = halves.length === 2 ? head.length + rest.length + tail.length : head.length + tail.length;
  if (halves.length === 2 ? words > 7 : words !== 8) return undefined;
  const all = [...head, ...new Array<number>(8 - words).fill(0), ...rest, ...tail];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** Bytes of an address from a record; `field` names it in the error. */
export function addressBytes(text: string, family: 4 | 6, field: string): Buffer {
  const b = family === 4 ? parseIPv4(text) : parseIPv6(text);
  if (!b) throw new VxError('INVALID_ARGUMENT', `${field}: "${text}" is not an IPv${family} address`);
  return b;
}

/** The PTR owner key for an address: "4.3.2.1.in-addr.arpa" or the ip6.arpa nibble name. */
export function reverseKey(ip: Buffer): string {
  let key = '';
  if (ip.length === 4) {
    for (let i = 3; i >= 0; i--) {
      const label = String(ip[i]);
      key += String.fromCharCode(label.length) + label;
    }
    return key + '\x07in-addr\x04arpa\x00';
  }
  for (let i = 15; i >= 0; i--) key += '\x01' + (ip[i]! & 0xf).toString(16) + '\x01' + (ip[i]! >> 4).toString(16);
  return key + '\x03ip6\x04arpa\x00';
}
