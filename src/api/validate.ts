// Edge validation of gRPC requests: the message shape (types, required fields, empty strings) here;
// values and limits through src/model/validate.ts, so the API, CLI and agent accept the same things.
// Fields are named as the CLI flags without dashes (subnet-v6), never as internal names (subnetV6).
import { VxError } from '../errors.js';
import type { AttachRequest, CreateNetworkRequest, CreateServiceRequest, KeyOp, PoolRequest, PublishSpec, UpdateServiceRequest } from '../model/api.js';
import { createServiceProblem, updateServiceProblem } from '../ingress/service-validate.js';
import { ADDRESS_TEXT_MAX, GOSSIP_KEY_TEXT_MAX, ID_MAX, PATH_MAX } from '../model/limits.js';
import {
  apiFieldLabel as label,
  attachProblem,
  createNetworkProblem,
  gossipKeyProblem,
  ipOrCidrProblem,
  orThrow,
  poolRequestProblem,
} from '../model/validate.js';
import { KEY_OPS, isKeyOp } from './gossip-key.js';

/** Longest text of any single-line string field that has no stricter limit of its own. */
const TEXT_MAX = 256;

function invalid(message: string): VxError {
  return new VxError('INVALID_ARGUMENT', message);
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${what} must be a message object`);
  }
  return value as Record<string, unknown>;
}

function checkText(field: string, value: string, max: number): string {
  if (value.length > max) throw invalid(`${label(field)} is too long (${value.length} characters, at most ${max})`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(`${label(field)} must not contain control characters`);
  return value;
}

/**
 * A proto3 `optional string`: absent means "not given" (let the agent choose); an empty string was
 * given and is refused, so `subnet: ""` never silently means "carve one".
 */
function optionalString(req: Record<string, unknown>, field: string, max = TEXT_MAX): string | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${label(field)} must be a string`);
  if (value === '') throw invalid(`${label(field)} must not be empty: leave it out to let the agent choose`);
  return checkText(field, value, max);
}

/** A plain proto3 string: the wire cannot tell empty from absent, so empty means missing. */
function requiredString(req: Record<string, unknown>, field: string, max = TEXT_MAX): string {
  const value = req[field];
  if (value === undefined || value === null || value === '') throw invalid(`${label(field)} is required`);
  if (typeof value !== 'string') throw invalid(`${label(field)} must be a string`);
  return checkText(field, value, max);
}

function optionalBool(req: Record<string, unknown>, field: string): boolean | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${label(field)} must be a boolean`);
  return value;
}

function optionalNumber(req: Record<string, unknown>, field: string): number | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw invalid(`${label(field)} must be a number`);
  return value;
}

/** A proto map; empty maps are "not given" (proto3 cannot send an absent map). */
function stringMap(req: Record<string, unknown>, field: string): Record<string, string> | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  const entries = Object.entries(asRecord(value, label(field)));
  for (const [key, entry] of entries) {
    if (typeof entry !== 'string') throw invalid(`${label(field)} ${key}: the value must be a string`);
  }
  return entries.length === 0 ? undefined : (Object.fromEntries(entries) as Record<string, string>);
}

function stringList(req: Record<string, unknown>, field: string): string[] | undefined {
  const value = req[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalid(`${label(field)} must be a list of strings`);
  }
  return value.length === 0 ? undefined : (value as string[]);
}

function withOptional<T extends object>(target: T, values: Partial<T>): T {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

export function validateCreateNetwork(raw: unknown): CreateNetworkRequest {
  const req = asRecord(raw, 'request');
  const request = withOptional<CreateNetworkRequest>(
    { name: requiredString(req, 'name') },
    {
      subnet: optionalString(req, 'subnet', ADDRESS_TEXT_MAX),
      gateway: optionalString(req, 'gateway', ADDRESS_TEXT_MAX),
      ipRange: optionalString(req, 'ipRange', ADDRESS_TEXT_MAX),
      auxAddresses: stringMap(req, 'auxAddresses'),
      ipv6: optionalBool(req, 'ipv6'),
      subnetV6: optionalString(req, 'subnetV6', ADDRESS_TEXT_MAX),
      gatewayV6: optionalString(req, 'gatewayV6', ADDRESS_TEXT_MAX),
      ipRangeV6: optionalString(req, 'ipRangeV6', ADDRESS_TEXT_MAX),
      mtu: optionalNumber(req, 'mtu'),
      internal: optionalBool(req, 'internal'),
      labels: stringMap(req, 'labels'),
      ipv4PoolId: optionalString(req, 'ipv4PoolId', ID_MAX),
      ipv6PoolId: optionalString(req, 'ipv6PoolId', ID_MAX),
    },
  );
  orThrow(createNetworkProblem(request));
  return request;
}

export function validateNetworkRef(raw: unknown): string {
  return requiredString(asRecord(raw, 'request'), 'nameOrId', ID_MAX);
}

export function validateAttach(raw: unknown): AttachRequest {
  const req = asRecord(raw, 'request');
  const request = withOptional<AttachRequest>(
    { network: requiredString(req, 'network', ID_MAX) },
    {
      netns: optionalString(req, 'netns', PATH_MAX),
      name: optionalString(req, 'name'),
      aliases: stringList(req, 'aliases'),
      ip: optionalString(req, 'ip', ADDRESS_TEXT_MAX),
      ipv6: optionalString(req, 'ipv6', ADDRESS_TEXT_MAX),
      mac: optionalString(req, 'mac', ADDRESS_TEXT_MAX),
      leaveInHost: optionalBool(req, 'leaveInHost'),
      labels: stringMap(req, 'labels'),
      preallocated: optionalBool(req, 'preallocated'),
      resolvConf: optionalString(req, 'resolvConf', PATH_MAX),
      service: optionalString(req, 'service', ID_MAX),
    },
  );
  orThrow(attachProblem(request));
  return request;
}

export function validateDetach(raw: unknown): string {
  const endpointId = requiredString(asRecord(raw, 'request'), 'endpointId', ID_MAX);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(endpointId)) throw invalid(`endpoint-id "${endpointId}" is not an endpoint id`);
  return endpointId;
}

export function validateListEndpoints(raw: unknown): string | undefined {
  return optionalString(asRecord(raw, 'request'), 'network', ID_MAX);
}

export function validateRequestPool(raw: unknown): PoolRequest {
  const req = asRecord(raw, 'request');
  const request = withOptional<PoolRequest>(
    { v6: optionalBool(req, 'v6') ?? false },
    {
      addressSpace: optionalString(req, 'addressSpace'),
      pool: optionalString(req, 'pool', ADDRESS_TEXT_MAX),
      subPool: optionalString(req, 'subPool', ADDRESS_TEXT_MAX),
      owner: optionalString(req, 'owner'),
    },
  );
  orThrow(poolRequestProblem(request));
  return request;
}

export function validatePoolId(raw: unknown): string {
  return requiredString(asRecord(raw, 'request'), 'poolId', ID_MAX);
}

export interface AddressRequest {
  poolId: string;
  address?: string;
  purpose?: 'gateway' | 'endpoint';
}

export function validateRequestAddress(raw: unknown): AddressRequest {
  const req = asRecord(raw, 'request');
  const poolId = requiredString(req, 'poolId', ID_MAX);
  const address = optionalString(req, 'address', ADDRESS_TEXT_MAX);
  if (address !== undefined) orThrow(ipOrCidrProblem(label('address'), address));
  const purpose = optionalString(req, 'purpose', 16);
  if (purpose !== undefined && purpose !== 'gateway' && purpose !== 'endpoint') {
    throw invalid(`purpose "${purpose}" must be "gateway" or "endpoint"`);
  }
  return withOptional<AddressRequest>({ poolId }, { address, purpose });
}

export function validateReleaseAddress(raw: unknown): { poolId: string; address: string } {
  const req = asRecord(raw, 'request');
  const poolId = requiredString(req, 'poolId', ID_MAX);
  const address = requiredString(req, 'address', ADDRESS_TEXT_MAX);
  orThrow(ipOrCidrProblem(label('address'), address));
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
  const key = optionalString(req, 'key', GOSSIP_KEY_TEXT_MAX);
  if (op === 'list') {
    if (key !== undefined) throw invalid('key must not be given for op list');
    return { op };
  }
  if (key === undefined) throw invalid(`key is required for op ${op} (base64 of 16, 24 or 32 bytes)`);
  orThrow(gossipKeyProblem(key));
  return { op, key };
}

// ---- Services ----

function publishList(req: Record<string, unknown>): PublishSpec[] {
  const value = req.publish ?? [];
  if (!Array.isArray(value)) throw invalid('publish must be a list of port specs');
  return value.map((raw, i) => {
    const spec = asRecord(raw, `publish[${i}]`);
    const targetPort = optionalNumber(spec, 'targetPort');
    if (targetPort === undefined) throw invalid(`publish[${i}]: target-port is required`);
    const published = optionalNumber(spec, 'publishedPort');
    const protocol = optionalString(spec, 'protocol', 8);
    const mode = optionalString(spec, 'mode', 16);
    if (protocol !== undefined && protocol !== 'tcp' && protocol !== 'udp') throw invalid(`publish[${i}]: protocol must be tcp or udp, got "${protocol}"`);
    if (mode !== undefined && mode !== 'ingress' && mode !== 'host') throw invalid(`publish[${i}]: mode must be ingress or host, got "${mode}"`);
    return withOptional<PublishSpec>({ targetPort }, { publishedPort: published || undefined, protocol, mode });
  });
}

function oneOfString<T extends string>(req: Record<string, unknown>, field: string, allowed: readonly T[]): T | undefined {
  const value = optionalString(req, field, 32);
  if (value !== undefined && !(allowed as readonly string[]).includes(value)) throw invalid(`${label(field)} must be ${allowed.join(' or ')}, got "${value}"`);
  return value as T | undefined;
}

export function validateCreateService(raw: unknown): CreateServiceRequest {
  const req = asRecord(raw, 'request');
  const publish = publishList(req);
  const request = withOptional<CreateServiceRequest>(
    { name: requiredString(req, 'name'), networks: stringList(req, 'networks') ?? [] },
    {
      publish: publish.length ? publish : undefined,
      endpointMode: oneOfString(req, 'endpointMode', ['vip', 'dnsrr'] as const),
      affinity: oneOfString(req, 'affinity', ['none', 'client-ip'] as const),
      labels: stringMap(req, 'labels'),
    },
  );
  orThrow(createServiceProblem(request));
  return request;
}

export function validateUpdateService(raw: unknown): UpdateServiceRequest {
  const req = asRecord(raw, 'request');
  const request = withOptional<UpdateServiceRequest>(
    { service: requiredString(req, 'service', ID_MAX) },
    {
      publish: optionalBool(req, 'setPublish') ? publishList(req) : undefined,
      affinity: oneOfString(req, 'affinity', ['none', 'client-ip'] as const),
      labels: optionalBool(req, 'setLabels') ? (stringMap(req, 'labels') ?? {}) : undefined,
    },
  );
  orThrow(updateServiceProblem(request));
  return request;
}

export function validateServiceRef(raw: unknown): string {
  return requiredString(asRecord(raw, 'request'), 'nameOrId', ID_MAX);
}
