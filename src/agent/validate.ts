import { existsSync } from 'node:fs';
import { parseCidr, parseIp } from '../ipam/index.js';
import { nsExists, nsFromPath } from '../kernel/ns.js';
import { VxError } from '../errors.js';

// Edge checks for agent requests: every message names the bad value and what to do.

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function checkName(what: string, name: string | undefined): string {
  if (!name || !NAME_RE.test(name)) {
    throw new VxError('INVALID_ARGUMENT', `invalid ${what} name "${name ?? ''}": use 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return name;
}

export function checkCidr(what: string, text: string, family?: 4 | 6): void {
  const c = parseCidr(text, { strict: true });
  if (family && c.family !== family) {
    throw new VxError('INVALID_ARGUMENT', `${what} ${text} is not an IPv${family} subnet`);
  }
}

export function checkIp(what: string, text: string, family?: 4 | 6): string {
  const ip = parseIp(text);
  if (family && ip.family !== family) throw new VxError('INVALID_ARGUMENT', `${what} ${text} is not an IPv${family} address`);
  return text;
}

export function checkMtu(mtu: number | undefined): void {
  if (mtu === undefined) return;
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 9000) {
    throw new VxError('INVALID_ARGUMENT', `invalid mtu ${mtu}: use an integer from 1280 to 9000`);
  }
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
export function checkMac(mac: string): string {
  const m = mac.toLowerCase();
  if (!MAC_RE.test(m)) throw new VxError('INVALID_ARGUMENT', `invalid MAC address "${mac}": use the form 02:42:0a:00:01:02`);
  if (parseInt(m.slice(0, 2), 16) & 1) throw new VxError('INVALID_ARGUMENT', `MAC address ${mac} is a multicast address: the first octet must be even`);
  if (m === '00:00:00:00:00:00') throw new VxError('INVALID_ARGUMENT', 'MAC address 00:00:00:00:00:00 is not usable');
  return m;
}

export function checkNetnsPath(path: string | undefined): string {
  if (!path) throw new VxError('INVALID_ARGUMENT', 'missing netns: give the path of the workload network namespace, e.g. /run/netns/c1');
  if (!path.startsWith('/')) throw new VxError('INVALID_ARGUMENT', `netns "${path}" is not an absolute path; e.g. /run/netns/${path}`);
  if (!nsExists(nsFromPath(path))) {
    throw new VxError('NOT_FOUND', `network namespace ${path} does not exist${existsSync(path) ? ' (the path is there, but no namespace is mounted on it)' : ''}: create it first (ip netns add NAME)`);
  }
  return path;
}

export function checkLabels(labels: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (!k || k.length > 128 || typeof v !== 'string' || v.length > 1024) {
      throw new VxError('INVALID_ARGUMENT', `invalid label "${k}": keys are 1-128 characters, values at most 1024`);
    }
    out[k] = v;
  }
  return out;
}
