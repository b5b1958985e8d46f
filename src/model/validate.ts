// The one validation module: syntax and limits of every user value, for the CLI (labels are flags:
// `--subnet-v6`), the gRPC API and the agent (labels are the same names without dashes: `subnet-v6`).
// Pure: no fs, no kernel. Checks return a Problem (the message, or undefined when the value is fine);
// `orThrow` turns one into VxError('INVALID_ARGUMENT'). Semantics (overlaps, existence) live elsewhere.
import { VxError } from '../errors.js';
import { parseCidr, parseIp, type Family } from '../util/ip-addr.js';
import type { AttachRequest, CreateNetworkRequest, PoolRequest } from './api.js';
import {
  ADDRESS_TEXT_MAX, ALIASES_MAX, AUX_ADDRESSES_MAX, GOSSIP_KEY_SIZES, GOSSIP_KEY_TEXT_MAX, ID_MAX, LABEL_KEY_MAX,
  LABEL_VALUE_MAX, LABELS_MAX, MTU_MAX, MTU_MIN, NAME_MAX, NAME_MIN, NAME_PATTERN, PATH_MAX, PORT_MAX, PORT_MIN,
} from './limits.js';

export type Problem = string | undefined;

/** Throws the problem as an INVALID_ARGUMENT VxError; returns quietly when there is none. */
export function orThrow(problem: Problem): void {
  if (problem !== undefined) throw new VxError('INVALID_ARGUMENT', problem);
}

/** The first problem of several checks, run in order. */
export function firstProblem(...checks: Array<() => Problem>): Problem {
  for (const check of checks) {
    const problem = check();
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** A value as it appears in a message: quoted, control characters escaped, long ones cut. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const NAME_RULE = `use ${NAME_MIN} to ${NAME_MAX} letters, digits, '_', '.' or '-', starting with a letter or digit`;

export function nameProblem(what: string, value: string): Problem {
  if (value.length < NAME_MIN || value.length > NAME_MAX || !NAME_PATTERN.test(value)) {
    return `invalid ${what} ${quote(value)}: ${NAME_RULE}`;
  }
  return undefined;
}

/** A reference to an object by name, id or id prefix: not empty, printable, not absurdly long. */
export function refProblem(what: string, value: string): Problem {
  if (value === '') return `${what} must not be empty`;
  if (value.length > ID_MAX) return `${what} is too long (${value.length} characters, at most ${ID_MAX})`;
  if (CONTROL.test(value)) return `${what} ${quote(value)} must not contain control characters`;
  return undefined;
}

function familyWord(family: Family | undefined): string {
  return family === undefined ? 'IP' : `IPv${family}`;
}

export function ipProblem(what: string, value: string, family?: Family): Problem {
  if (value.length > ADDRESS_TEXT_MAX) return `${what} is too long to be an ${familyWord(family)} address`;
  try {
    const ip = parseIp(value);
    if (family !== undefined && ip.family !== family) return `${what} ${quote(value)} is not an IPv${family} address`;
    return undefined;
  } catch (error) {
    return `${what}: ${(error as Error).message}`;
  }
}

/** address/prefix with no host bits set (10.1.0.0/24, not 10.1.0.5/24). */
export function cidrProblem(what: string, value: string, family?: Family): Problem {
  const kind = family === undefined ? 'a CIDR' : `an IPv${family} CIDR`;
  const bad = (why?: string): string =>
    `${what} ${quote(value)} is not ${kind} (e.g. ${family === 6 ? 'fd00:1::/64' : '10.1.0.0/24'})${why === undefined ? '' : `: ${why}`}`;
  if (value.length > ADDRESS_TEXT_MAX) return bad(`longer than ${ADDRESS_TEXT_MAX} characters`);
  const slash = value.indexOf('/');
  if (slash < 0) return bad('it has no /prefix length');
  let address: { family: Family };
  try {
    address = parseIp(value.slice(0, slash));
  } catch (error) {
    return bad((error as Error).message);
  }
  if (family !== undefined && address.family !== family) return bad();
  const bits = address.family === 4 ? 32 : 128;
  const prefix = value.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > bits) return bad(`the prefix length must be a number from 0 to ${bits}`);
  try {
    parseCidr(value, { strict: true, what });
    return undefined;
  } catch (error) {
    return (error as Error).message; // host bits set: names the CIDR meant
  }
}

/** An address alone or with a prefix length ("10.1.0.5" or "10.1.0.5/24"), as docker's IPAM passes them. */
export function ipOrCidrProblem(what: string, value: string): Problem {
  const slash = value.indexOf('/');
  if (slash < 0) return ipProblem(what, value);
  const prefix = value.slice(slash + 1);
  const ip = ipProblem(what, value.slice(0, slash));
  if (ip !== undefined) return ip;
  const bits = value.includes(':') ? 128 : 32;
  return /^(0|[1-9][0-9]{0,2})$/.test(prefix) && Number(prefix) <= bits
    ? undefined
    : `${what} ${quote(value)} has an invalid prefix length: use a number from 0 to ${bits}`;
}

const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function macProblem(what: string, value: string): Problem {
  const mac = value.toLowerCase();
  if (!MAC_PATTERN.test(mac)) return `${what} ${quote(value)} is not a MAC address: use the form 02:42:0a:00:01:02`;
  if (parseInt(mac.slice(0, 2), 16) & 1) return `${what} ${value} is a multicast address: the first octet must be even`;
  if (mac === '00:00:00:00:00:00') return `${what} 00:00:00:00:00:00 is not usable`;
  return undefined;
}

/** The form the kernel reports and the store keeps. */
export function normalizeMac(value: string): string {
  return value.toLowerCase();
}

export function integerProblem(what: string, value: number, min: number, max: number): Problem {
  return Number.isInteger(value) && value >= min && value <= max
    ? undefined
    : `${what} must be an integer from ${min} to ${max}, got ${String(value)}`;
}

/** An integer given as text (flags, variables): digits only, then the range. */
export function integerTextProblem(what: string, text: string, min: number, max: number): Problem {
  const number = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  return number >= min && number <= max ? undefined : `${what} must be an integer from ${min} to ${max}, got ${quote(text)}`;
}

export function mtuProblem(what: string, value: number): Problem {
  return integerProblem(what, value, MTU_MIN, MTU_MAX);
}

export function netnsPathProblem(what: string, value: string): Problem {
  if (value === '') return `${what} must not be empty: give the path of the workload network namespace, e.g. /run/netns/c1`;
  if (value.length > PATH_MAX) return `${what} is too long (at most ${PATH_MAX} characters)`;
  if (CONTROL.test(value)) return `${what} ${quote(value)} must not contain control characters`;
  if (!value.startsWith('/')) return `${what} ${quote(value)} is not an absolute path: e.g. /run/netns/${value} or /proc/PID/ns/net`;
  return undefined;
}

export function labelsProblem(what: string, labels: Record<string, string>): Problem {
  const entries = Object.entries(labels);
  if (entries.length > LABELS_MAX) return `${what}: ${entries.length} labels, at most ${LABELS_MAX}`;
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > LABEL_KEY_MAX || CONTROL.test(key)) {
      return `${what}: invalid key ${quote(key)}: keys are 1 to ${LABEL_KEY_MAX} printable characters`;
    }
    if (typeof value !== 'string') return `${what} ${key}: the value must be a string`;
    if (value.length > LABEL_VALUE_MAX) return `${what} ${key}: the value is ${value.length} characters, at most ${LABEL_VALUE_MAX}`;
  }
  return undefined;
}

export function aliasesProblem(what: string, aliases: readonly string[]): Problem {
  if (aliases.length > ALIASES_MAX) return `${what}: ${aliases.length} aliases, at most ${ALIASES_MAX}`;
  for (const alias of aliases) {
    const problem = nameProblem(what, alias);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

export function auxAddressesProblem(what: string, aux: Record<string, string>, family?: Family): Problem {
  const entries = Object.entries(aux);
  if (entries.length > AUX_ADDRESSES_MAX) return `${what}: ${entries.length} addresses, at most ${AUX_ADDRESSES_MAX}`;
  for (const [name, ip] of entries) {
    const problem = nameProblem(`${what} name`, name) ?? ipProblem(`${what} ${name}`, ip, family);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

export function portProblem(what: string, value: number): Problem {
  return integerProblem(what, value, PORT_MIN, PORT_MAX);
}

/** A gossip peer: IP, IP:PORT, IPv6 or [IPv6]:PORT. */
export function joinAddressProblem(what: string, value: string): Problem {
  const bad = `${what} ${quote(value)} is not IP[:PORT] (e.g. 198.51.100.2 or 198.51.100.2:7946 or [fd00::2]:7946)`;
  if (ipProblem(what, value) === undefined) return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!match) return bad;
  const v6 = match[1] !== undefined;
  const host = match[1] ?? match[2] ?? '';
  return ipProblem(what, host, v6 ? 6 : 4) === undefined && portProblem(what, Number(match[3])) === undefined ? undefined : bad;
}

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Why `key` is not a usable gossip key (canonical padded base64 of 16, 24 or 32 bytes), or undefined.
 * The message never repeats the key: it is a secret and error messages end up in logs.
 */
export function gossipKeyProblem(key: string, what = 'key'): Problem {
  if (key.length > GOSSIP_KEY_TEXT_MAX) return `${what} is too long: a gossip key is base64 of 16, 24 or 32 bytes`;
  // Buffer.from(_, 'base64') skips junk silently; demand canonical, padded standard base64.
  if (key === '' || !BASE64_PATTERN.test(key) || Buffer.from(key, 'base64').toString('base64') !== key) {
    return `${what} is not valid base64 (standard alphabet, padded; e.g. the output of \`vxmesh gossip keygen\`)`;
  }
  const size = Buffer.from(key, 'base64').length;
  if (!GOSSIP_KEY_SIZES.includes(size)) {
    return `${what} decodes to ${size} bytes; a gossip key must be 16, 24 or 32 bytes (AES-128, AES-192 or AES-256)`;
  }
  return undefined;
}

/** The key's bytes, or VxError('INVALID_ARGUMENT') naming `what` (e.g. "/etc/vxmesh/key line 2"). */
export function decodeGossipKey(key: string, what = 'key'): Buffer {
  orThrow(gossipKeyProblem(key, what));
  return Buffer.from(key, 'base64');
}

// ---- Whole requests: every layer runs the same checks and only names the fields its own way ----

/** How a layer names a request field in messages: the CLI says `--subnet-v6`, the API and agent `subnet-v6`. */
export type FieldLabel = (field: string) => string;

/** Request fields whose flag is not simply the field in kebab-case. */
const FLAG_NAMES: Readonly<Record<string, string>> = { auxAddresses: 'aux-address', labels: 'label', aliases: 'alias' };

/** The flag name of a request field, without dashes: subnetV6 -> subnet-v6, auxAddresses -> aux-address. */
export function fieldFlagName(field: string): string {
  return FLAG_NAMES[field] ?? field.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export const apiFieldLabel: FieldLabel = fieldFlagName;

function needs(label: FieldLabel, field: string, other: string): string {
  return `${label(field)} needs ${label(other)}`;
}

export function createNetworkProblem(req: CreateNetworkRequest, label: FieldLabel = apiFieldLabel): Problem {
  const { subnet, gateway, ipRange, subnetV6, gatewayV6, ipRangeV6 } = req;
  const v6Given = (['subnetV6', 'gatewayV6', 'ipRangeV6', 'ipv6PoolId'] as const).find((f) => req[f] !== undefined);
  return firstProblem(
    () => nameProblem(label('name'), req.name),
    () => (subnet === undefined ? undefined : cidrProblem(label('subnet'), subnet, 4)),
    () => (gateway === undefined ? undefined : ipProblem(label('gateway'), gateway, 4)),
    () => (ipRange === undefined ? undefined : cidrProblem(label('ipRange'), ipRange, 4)),
    () => (req.auxAddresses === undefined ? undefined : auxAddressesProblem(label('auxAddresses'), req.auxAddresses)),
    () => (subnetV6 === undefined ? undefined : cidrProblem(label('subnetV6'), subnetV6, 6)),
    () => (gatewayV6 === undefined ? undefined : ipProblem(label('gatewayV6'), gatewayV6, 6)),
    () => (ipRangeV6 === undefined ? undefined : cidrProblem(label('ipRangeV6'), ipRangeV6, 6)),
    () => (req.mtu === undefined ? undefined : mtuProblem(label('mtu'), req.mtu)),
    () => (req.labels === undefined ? undefined : labelsProblem(label('labels'), req.labels)),
    () => (v6Given !== undefined && req.ipv6 !== true ? needs(label, v6Given, 'ipv6') : undefined),
    () => (gateway !== undefined && subnet === undefined && req.ipv4PoolId === undefined ? needs(label, 'gateway', 'subnet') : undefined),
    () => (ipRange !== undefined && subnet === undefined && req.ipv4PoolId === undefined ? needs(label, 'ipRange', 'subnet') : undefined),
    () => (gatewayV6 !== undefined && subnetV6 === undefined && req.ipv6PoolId === undefined ? needs(label, 'gatewayV6', 'subnetV6') : undefined),
    () => (ipRangeV6 !== undefined && subnetV6 === undefined && req.ipv6PoolId === undefined ? needs(label, 'ipRangeV6', 'subnetV6') : undefined),
  );
}

export function attachProblem(req: AttachRequest, label: FieldLabel = apiFieldLabel): Problem {
  const { netns, name, aliases, ip, ipv6, mac, labels } = req;
  return firstProblem(
    () => refProblem(label('network'), req.network),
    () => (netns === undefined ? (req.leaveInHost === true ? undefined : `${label('netns')} is required: the path of the workload network namespace, e.g. /run/netns/c1`) : netnsPathProblem(label('netns'), netns)),
    () => (name === undefined ? undefined : nameProblem(label('name'), name)),
    () => (aliases === undefined ? undefined : aliasesProblem(label('aliases'), aliases)),
    () => (ip === undefined ? undefined : ipProblem(label('ip'), ip, 4)),
    () => (ipv6 === undefined ? undefined : ipProblem(label('ipv6'), ipv6, 6)),
    () => (mac === undefined ? undefined : macProblem(label('mac'), mac)),
    () => (labels === undefined ? undefined : labelsProblem(label('labels'), labels)),
    () => (req.preallocated === true && ip === undefined ? needs(label, 'preallocated', 'ip') : undefined),
    () => (req.resolvConf === undefined ? undefined : resolvConfProblem(label('resolvConf'), req.resolvConf, req.leaveInHost === true)),
  );
}

function resolvConfProblem(what: string, value: string, leaveInHost: boolean): Problem {
  if (leaveInHost) return `${what} is not for docker-mode endpoints: dockerd writes the container's resolv.conf`;
  if (value === '') return `${what} must not be empty: give the path to write the workload's resolv.conf to`;
  if (value.length > PATH_MAX) return `${what} is too long (at most ${PATH_MAX} characters)`;
  if (CONTROL.test(value)) return `${what} ${quote(value)} must not contain control characters`;
  if (!value.startsWith('/') || value.endsWith('/')) return `${what} ${quote(value)} must be an absolute file path, e.g. /var/lib/c1/resolv.conf`;
  return undefined;
}

export function poolRequestProblem(req: PoolRequest, label: FieldLabel = apiFieldLabel): Problem {
  const family = req.v6 ? 6 : 4;
  return firstProblem(
    () => (req.pool === undefined ? undefined : cidrProblem(label('pool'), req.pool, family)),
    () => (req.subPool === undefined ? undefined : cidrProblem(label('subPool'), req.subPool, family)),
    () => (req.subPool !== undefined && req.pool === undefined ? needs(label, 'subPool', 'pool') : undefined),
  );
}
