// Edge validation of gRPC requests: shape, required fields, lengths and address syntax.
// Semantic checks (subnet overlaps, gateway inside subnet, ...) belong to the agent.
import { isIPv6 } from 'node:net';
import { VxError } from '../errors.js';
import type { AttachRequest, CreateNetworkRequest, KeyOp, PoolRequest } from '../model/api.js';
import { isCidr, isIpOfFamily } from './addr.js';
import { KEY_OPS, gossipKeyProblem, isKeyOp } from './gossip-key.js';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAC_PATTERN = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;
const MAX_NAME = 128;
const MAX_PATH = 4096;
const MAX_LABELS = 128;
const MAX_LABEL_KEY = 256;
const MAX_LABEL_VALUE = 4096;
const MAX_ALIASES = 64;
const MAX_AUX_ADDRESSES = 256;

function invalid(message: string): VxError {
  return new VxError('INVALID_ARGUMENT', message);
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${what} must be a message object`);
  }
  return value as Record<string, unknown>;
}

/** Absent, null and (for proto3 non-optional strings) empty all mean "not given". */
function optionalString(req: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = req[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  if (value.length > max) throw invalid(`${field} is too long (${value.length} characters, at most ${max})`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(`${field} must not contain control characters`);
  return value;
}

function requiredString(req: Record<string, unknown>, field: string, max: number): string {
  const value = optionalString(req, field, max);
  if (value === undefined) throw invalid(`${field} is required`);
  return value;
}

function optionalBool(req: Record<string, unknown>, field: string): boolean | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${field} must be a boolean`);
  return value;
}

function optionalInt(req: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${field} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function stringMap(
  req: Record<string, unknown>,
  field: string,
  maxEntries: number,
  checkEntry: (key: string, value: string) => void,
): Record<string, string> | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  const map = asRecord(value, field);
  const entries = Object.entries(map);
  if (entries.length > maxEntries) throw invalid(`${field} has ${entries.length} entries, at most ${maxEntries}`);
  const result: Record<string, string> = {};
  for (const [key, entry] of entries) {
    if (typeof entry !== 'string') throw invalid(`${field}[${key}] must be a string`);
    checkEntry(key, entry);
    result[key] = entry;
  }
  return entries.length === 0 ? undefined : result;
}

function stringList(req: Record<string, unknown>, field: string, maxEntries: number): string[] | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid(`${field} must be a list of strings`);
  if (value.length > maxEntries) throw invalid(`${field} has ${value.length} entries, at most ${maxEntries}`);
  for (const item of value) {
    if (typeof item !== 'string') throw invalid(`${field} must be a list of strings`);
  }
  return value.length === 0 ? undefined : (value as string[]);
}

export function checkName(field: string, value: string): void {
  if (value.length > MAX_NAME) throw invalid(`${field} is too long (${value.length} characters, at most ${MAX_NAME})`);
  if (!NAME_PATTERN.test(value)) {
    throw invalid(`${field} "${value}" is invalid: use letters, digits, '_', '.', '-', starting with a letter or digit`);
  }
}

function checkIp(field: string, value: string, family: 4 | 6 | 'any'): void {
  if (!isIpOfFamily(value, family)) {
    const kind = family === 4 ? 'an IPv4 address' : family === 6 ? 'an IPv6 address' : 'an IP address';
    throw invalid(`${field} "${value}" is not ${kind}`);
  }
}

function checkCidr(field: string, value: string, family: 4 | 6): void {
  if (!isCidr(value, family)) {
    const example = family === 4 ? '10.1.0.0/24' : 'fd00:1::/64';
    throw invalid(`${field} "${value}" is not an IPv${family} CIDR (e.g. ${example})`);
  }
}

function checkLabel(field: string): (key: string, value: string) => void {
  return (key, value) => {
    if (key.length === 0 || key.length > MAX_LABEL_KEY) {
      throw invalid(`${field} keys must be 1 to ${MAX_LABEL_KEY} characters`);
    }
    if (value.length > MAX_LABEL_VALUE) {
      throw invalid(`${field}[${key}] is too long (at most ${MAX_LABEL_VALUE} characters)`);
    }
  };
}

function withOptional<T extends object>(target: T, values: Partial<T>): T {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

export function validateCreateNetwork(raw: unknown): CreateNetworkRequest {
  const req = asRecord(raw, 'request');
  const name = requiredString(req, 'name', MAX_NAME);
  checkName('name', name);
  const subnet = optionalString(req, 'subnet', 64);
  if (subnet !== undefined) checkCidr('subnet', subnet, 4);
  const gateway = optionalString(req, 'gateway', 64);
  if (gateway !== undefined) checkIp('gateway', gateway, 4);
  const ipRange = optionalString(req, 'ipRange', 64);
  if (ipRange !== undefined) checkCidr('ipRange', ipRange, 4);
  const auxAddresses = stringMap(req, 'auxAddresses', MAX_AUX_ADDRESSES, (key, value) => {
    checkName('auxAddresses name', key);
    checkIp(`auxAddresses[${key}]`, value, 'any');
  });
  const ipv6 = optionalBool(req, 'ipv6');
  const subnetV6 = optionalString(req, 'subnetV6', 64);
  if (subnetV6 !== undefined) checkCidr('subnetV6', subnetV6, 6);
  const gatewayV6 = optionalString(req, 'gatewayV6', 64);
  if (gatewayV6 !== undefined) checkIp('gatewayV6', gatewayV6, 6);
  const ipRangeV6 = optionalString(req, 'ipRangeV6', 64);
  if (ipRangeV6 !== undefined) checkCidr('ipRangeV6', ipRangeV6, 6);
  if (ipv6 !== true && (subnetV6 ?? gatewayV6 ?? ipRangeV6) !== undefined) {
    throw invalid('subnetV6, gatewayV6 and ipRangeV6 need ipv6 to be enabled');
  }
  const ipv4PoolId = optionalString(req, 'ipv4PoolId', MAX_NAME);
  const ipv6PoolId = optionalString(req, 'ipv6PoolId', MAX_NAME);
  if (gateway !== undefined && subnet === undefined && ipv4PoolId === undefined) throw invalid('gateway needs subnet');
  if (ipRange !== undefined && subnet === undefined) throw invalid('ipRange needs subnet');
  const mtu = optionalInt(req, 'mtu', 68, 65535);
  const internal = optionalBool(req, 'internal');
  const labels = stringMap(req, 'labels', MAX_LABELS, checkLabel('labels'));
  return withOptional<CreateNetworkRequest>(
    { name },
    {
      subnet, gateway, ipRange, auxAddresses, ipv6, subnetV6, gatewayV6, ipRangeV6,
      mtu, internal, labels, ipv4PoolId, ipv6PoolId,
    },
  );
}

export function validateNetworkRef(raw: unknown): string {
  const req = asRecord(raw, 'request');
  return requiredString(req, 'nameOrId', MAX_NAME);
}

export function validateAttach(raw: unknown): AttachRequest {
  const req = asRecord(raw, 'request');
  const network = requiredString(req, 'network', MAX_NAME);
  const leaveInHost = optionalBool(req, 'leaveInHost');
  const netns = optionalString(req, 'netns', MAX_PATH);
  if (netns === undefined && leaveInHost !== true) {
    throw invalid('netns is required: the path of the workload network namespace, e.g. /run/netns/c1');
  }
  if (netns !== undefined && !netns.startsWith('/')) {
    throw invalid(`netns "${netns}" must be an absolute path, e.g. /run/netns/c1 or /proc/PID/ns/net`);
  }
  const name = optionalString(req, 'name', MAX_NAME);
  if (name !== undefined) checkName('name', name);
  const aliases = stringList(req, 'aliases', MAX_ALIASES);
  aliases?.forEach((alias) => checkName('alias', alias));
  const ip = optionalString(req, 'ip', 64);
  if (ip !== undefined) checkIp('ip', ip, 4);
  const ipv6 = optionalString(req, 'ipv6', 64);
  if (ipv6 !== undefined) checkIp('ipv6', ipv6, 6);
  const mac = optionalString(req, 'mac', 32);
  if (mac !== undefined && !MAC_PATTERN.test(mac)) {
    throw invalid(`mac "${mac}" is not a MAC address (e.g. 02:42:0a:00:01:02)`);
  }
  const labels = stringMap(req, 'labels', MAX_LABELS, checkLabel('labels'));
  const preallocated = optionalBool(req, 'preallocated');
  return withOptional<AttachRequest>(
    { network },
    { netns, name, aliases, ip, ipv6, mac, leaveInHost, labels, preallocated },
  );
}

export function validateDetach(raw: unknown): string {
  const req = asRecord(raw, 'request');
  const endpointId = requiredString(req, 'endpointId', MAX_NAME);
  if (!ID_PATTERN.test(endpointId)) throw invalid(`endpointId "${endpointId}" is not an endpoint id`);
  return endpointId;
}

export function validateListEndpoints(raw: unknown): string | undefined {
  const req = asRecord(raw, 'request');
  return optionalString(req, 'network', MAX_NAME);
}

function checkIpOrCidr(field: string, value: string): void {
  const slash = value.indexOf('/');
  if (slash < 0) return checkIp(field, value, 'any');
  checkCidr(field, value, isIPv6(value.slice(0, slash)) ? 6 : 4);
}

export function validateRequestPool(raw: unknown): PoolRequest {
  const req = asRecord(raw, 'request');
  const v6 = optionalBool(req, 'v6') ?? false;
  const addressSpace = optionalString(req, 'addressSpace', 64);
  const pool = optionalString(req, 'pool', 64);
  if (pool !== undefined) checkCidr('pool', pool, v6 ? 6 : 4);
  const subPool = optionalString(req, 'subPool', 64);
  if (subPool !== undefined) checkCidr('subPool', subPool, v6 ? 6 : 4);
  if (subPool !== undefined && pool === undefined) throw invalid('subPool needs pool');
  const owner = optionalString(req, 'owner', MAX_NAME);
  return withOptional<PoolRequest>({ v6 }, { addressSpace, pool, subPool, owner });
}

export function validatePoolId(raw: unknown): string {
  const req = asRecord(raw, 'request');
  return requiredString(req, 'poolId', MAX_NAME);
}

export interface AddressRequest {
  poolId: string;
  address?: string;
  purpose?: 'gateway' | 'endpoint';
}

export function validateRequestAddress(raw: unknown): AddressRequest {
  const req = asRecord(raw, 'request');
  const poolId = requiredString(req, 'poolId', MAX_NAME);
  const address = optionalString(req, 'address', 64);
  if (address !== undefined) checkIpOrCidr('address', address);
  const purpose = optionalString(req, 'purpose', 16);
  if (purpose !== undefined && purpose !== 'gateway' && purpose !== 'endpoint') {
    throw invalid(`purpose "${purpose}" must be "gateway" or "endpoint"`);
  }
  return withOptional<AddressRequest>({ poolId }, { address, purpose });
}

export function validateReleaseAddress(raw: unknown): { poolId: string; address: string } {
  const req = asRecord(raw, 'request');
  const poolId = requiredString(req, 'poolId', MAX_NAME);
  const address = requiredString(req, 'address', 64);
  checkIpOrCidr('address', address);
  return { poolId, address };
}

export interface GossipKeyRequest {
  op: KeyOp;
  key?: string;
}

export function validateGossipKey(raw: unknown): GossipKeyRequest {
  const req = asRecord(raw, 'request');
  const op = requiredString(req, 'op', 16);
  if (!isKeyOp(op)) throw invalid(`op "${op}" must be one of ${KEY_OPS.join(', ')}`);
  // Long enough for a 32-byte key in base64 (44) with room to report a wrong size clearly.
  const key = optionalString(req, 'key', 256);
  if (op === 'list') {
    if (key !== undefined) throw invalid('key must not be given for op list');
    return { op };
  }
  if (key === undefined) throw invalid(`key is required for op ${op} (base64 of 16, 24 or 32 bytes)`);
  const problem = gossipKeyProblem(key);
  if (problem !== undefined) throw invalid(problem);
  return { op, key };
}
