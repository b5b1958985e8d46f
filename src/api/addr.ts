// Syntax-only address checks shared by the API edge and CLI flag parsing (semantics live in src/ipam).
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

export function isIpOfFamily(value: string, family: Family | 'any'): boolean {
  if (family === 4) return isIPv4(value);
  if (family === 6) return isIPv6(value);
  return isIPv4(value) || isIPv6(value);
}

/** "address/prefix" with an address of the given family and a prefix length in range. */
export function isCidr(value: string, family: Family): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const prefixText = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return false;
  const prefix = Number(prefixText);
  return isIpOfFamily(value.slice(0, slash), family) && prefix <= (family === 4 ? 32 : 128);
}
