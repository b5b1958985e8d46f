// Pool creation (subnet choice, gateway / ip range / aux validation) and the persisted pool state.
// Rules follow docker/libnetwork's default IPAM: pools are carved in order from default bases, the
// network address (and the IPv4 broadcast) is never handed out, the gateway defaults to the first
// address, aux addresses are reserved, and overlap is checked within one address space.

import { VxError } from '../errors.js';
import {
  type Cidr,
  type Family,
  blockSize,
  cidrContains,
  cidrLast,
  cidrOverlaps,
  cidrSize,
  formatCidr,
  formatIp,
  parseCidr,
  parseIp,
} from '../util/ip-addr.js';
import type { ChunkMap } from './bitmap.js';

export const DEFAULT_ADDRESS_SPACE = 'local';

export interface PoolRequest {
  /** Who the pool belongs to, e.g. the network name; named in overlap errors. */
  owner: string;
  /** Default 'local'; overlap is checked only within one address space. */
  addressSpace?: string;
  family: Family;
  /** Absent: the first free block of the default pools is carved. */
  subnet?: string;
  /** Absent: the first address of the subnet (unless noGateway). */
  gateway?: string;
  /** Serial allocation is restricted to this prefix, which must lie inside the subnet. */
  ipRange?: string;
  /** Reserved addresses (name -> IP) inside the subnet; never handed out. */
  auxAddresses?: Record<string, string>;
  /** Docker IPAM mode: no gateway is reserved; dockerd requests it as an ordinary address. */
  noGateway?: boolean;
}

export interface DefaultPools {
  v4: { base: string; size: number }[];
  v6: { base: string; size: number }[];
}

/** 10.0.0.0/8 in /24s and fd76:786d::/32 in /64s. */
export const DEFAULT_POOLS: DefaultPools = Object.freeze({
  v4: [Object.freeze({ base: '10.0.0.0/8', size: 24 })],
  v6: [Object.freeze({ base: 'fd76:786d::/32', size: 64 })],
}) as DefaultPools;

/**
 * Persisted pool: plain JSON (strings and numbers only) so the agent can store it with compare-and-swap.
 * Addresses inside the pool are kept as offsets from the subnet's network address (decimal strings,
 * since IPv6 offsets exceed 2^53); `used` is the sparse chunked bitmap of handed-out offsets (bitmap.ts).
 */
export interface PoolState {
  readonly version: 1;
  readonly id: string;
  readonly owner: string;
  readonly addressSpace: string;
  readonly family: Family;
  readonly subnet: string;
  readonly gateway?: string;
  readonly ipRange?: string;
  readonly auxAddresses: Readonly<Record<string, string>>;
  /** First and last offset serial allocation may hand out (ip range minus network/broadcast). */
  readonly rangeFirst: string;
  readonly rangeLast: string;
  /** Offsets of the gateway and aux addresses: never handed out, never released. */
  readonly reserved: readonly string[];
  /** Offset of the last address handed out by serial allocation; null before the first one. */
  readonly cursor: string | null;
  /** Addresses handed out by allocate() and not yet released (reserved ones excluded). */
  readonly allocatedCount: number;
  readonly used: ChunkMap;
}

export interface PoolInfo {
  id: string;
  owner: string;
  addressSpace: string;
  family: Family;
  subnet: string;
  gateway?: string;
  ipRange?: string;
  auxAddresses: Record<string, string>;
  prefix: number;
  allocatedCount: number;
  /** How many addresses serial allocation can hand out in total (range minus reserved addresses). */
  capacity: bigint;
}

/** A pool state decoded into numbers, for the allocator. */
export interface PoolView {
  readonly state: PoolState;
  readonly subnet: Cidr;
  readonly first: bigint;
  readonly last: bigint;
  readonly reserved: ReadonlySet<bigint>;
  readonly cursor: bigint | null;
}

/** Largest prefix that still fits a network address, a gateway, one endpoint (and a v4 broadcast). */
function maxUsablePrefix(family: Family): number {
  return family === 4 ? 30 : 126;
}

/** Offsets of the first and last address that may ever be handed out in a subnet. */
function assignableBounds(subnet: Cidr): { first: bigint; last: bigint } {
  const size = cidrSize(subnet);
  // Offset 0 is the network address (v6: subnet-router anycast); v4 also loses its broadcast.
  return { first: 1n, last: subnet.family === 4 ? size - 2n : size - 1n };
}

export function poolLabel(state: Pick<PoolState, 'id' | 'owner'>): string {
  return `pool ${state.id} (network "${state.owner}")`;
}

/** Why an offset of the subnet can never be assigned, or undefined when it can. */
export function unassignableReason(subnet: Cidr, offset: bigint): string | undefined {
  const { first, last } = assignableBounds(subnet);
  if (offset < first) {
    return subnet.family === 4
      ? `is the network address of ${formatCidr(subnet)}`
      : `is the subnet-router anycast address of ${formatCidr(subnet)}`;
  }
  if (offset > last) return `is the broadcast address of ${formatCidr(subnet)}`;
  return undefined;
}

function familyName(family: Family): string {
  return `IPv${family}`;
}

function invalid(message: string): VxError {
  return new VxError('INVALID_ARGUMENT', message);
}

function parseAddressIn(what: string, text: string, subnet: Cidr): bigint {
  let parsed: { family: Family; value: bigint };
  try {
    parsed = parseIp(text);
  } catch (err) {
    throw invalid(`${what}: ${err instanceof VxError ? err.message : String(err)}`);
  }
  if (parsed.family !== subnet.family) {
    throw invalid(`${what} ${text} is ${familyName(parsed.family)} but subnet ${formatCidr(subnet)} is ${familyName(subnet.family)}`);
  }
  if (!cidrContains(subnet, parsed.value)) {
    throw invalid(`${what} ${text} is not inside subnet ${formatCidr(subnet)}; pick an address within it`);
  }
  const reason = unassignableReason(subnet, parsed.value - subnet.network);
  if (reason !== undefined) throw invalid(`${what} ${text} ${reason}; pick another address`);
  return parsed.value - subnet.network;
}

function checkName(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${what} must be a non-empty string`);
  return value;
}

function checkAddressSpace(value: unknown): string {
  if (value === undefined) return DEFAULT_ADDRESS_SPACE;
  const space = checkName('address space', value);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(space)) {
    throw invalid(`address space "${space}" may contain only letters, digits, "_", "." and "-"`);
  }
  return space;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function notAPoolState(): VxError {
  return new VxError('FAILED_PRECONDITION', 'not a vxmesh IPAM pool state (version 1); was the store record written by another tool?');
}

/** Validates a state read back from the store (cheaply: O(reserved), not O(bitmap)) and decodes its numbers. */
export function viewPool(state: PoolState): PoolView {
  if (
    typeof state !== 'object' ||
    state === null ||
    state.version !== 1 ||
    typeof state.subnet !== 'string' ||
    typeof state.owner !== 'string' ||
    !DECIMAL.test(String(state.rangeFirst)) ||
    !DECIMAL.test(String(state.rangeLast)) ||
    !(state.cursor === null || DECIMAL.test(String(state.cursor))) ||
    !Array.isArray(state.reserved) ||
    !state.reserved.every((r) => DECIMAL.test(String(r))) ||
    !Array.isArray(state.used) ||
    !Number.isInteger(state.allocatedCount)
  ) {
    throw notAPoolState();
  }
  return {
    state,
    subnet: parseCidr(state.subnet, { strict: true, what: 'stored subnet' }),
    first: BigInt(state.rangeFirst),
    last: BigInt(state.rangeLast),
    reserved: new Set(state.reserved.map((r) => BigInt(r))),
    cursor: state.cursor === null ? null : BigInt(state.cursor),
  };
}

interface TakenPool {
  cidr: Cidr;
  owner: string;
}

function takenPools(existing: readonly PoolState[], addressSpace: string, family: Family): TakenPool[] {
  if (!Array.isArray(existing)) throw invalid('existing pools must be an array of pool states');
  return existing
    .filter((p) => p.addressSpace === addressSpace && p.family === family)
    .map((p) => ({ cidr: viewPool(p).subnet, owner: p.owner }));
}

/** First block of `size` inside any default base that overlaps no taken pool. */
function carveSubnet(family: Family, defaults: DefaultPools, taken: TakenPool[]): Cidr {
  const bases = family === 4 ? defaults?.v4 : defaults?.v6;
  if (!Array.isArray(bases) || bases.length === 0) {
    throw new VxError('FAILED_PRECONDITION', `no default ${familyName(family)} address pools are configured; pass an explicit subnet`);
  }
  const tried: string[] = [];
  for (const { base, size } of bases) {
    const baseCidr = parseCidr(base, { strict: true, what: 'default address pool' });
    if (baseCidr.family !== family) {
      throw invalid(`default ${familyName(family)} address pool ${base} is ${familyName(baseCidr.family)}; fix the agent configuration`);
    }
    if (!Number.isInteger(size) || size < baseCidr.prefix || size > maxUsablePrefix(family)) {
      throw invalid(
        `default address pool ${base} has block size /${size}; it must be between /${baseCidr.prefix} and /${maxUsablePrefix(family)}`,
      );
    }
    tried.push(`${formatCidr(baseCidr)} in /${size}s`);
    const step = blockSize(family, size);
    const baseLast = cidrLast(baseCidr);
    let candidate = baseCidr.network;
    // Each step jumps past the blocker it met, so this runs at most taken.length + 1 times.
    while (candidate + step - 1n <= baseLast) {
      const block: Cidr = { family, network: candidate, prefix: size };
      const blocker = taken.find((t) => cidrOverlaps(t.cidr, block));
      if (blocker === undefined) return block;
      const afterBlocker = cidrLast(blocker.cidr) + 1n; // aligned to step when the blocker is larger
      candidate = afterBlocker > candidate + step ? afterBlocker : candidate + step;
    }
  }
  throw new VxError(
    'RESOURCE_EXHAUSTED',
    `no free ${familyName(family)} subnet left in the default pools (${tried.join(', ')}); remove unused networks or pass an explicit subnet`,
  );
}

function sortedOffsets(values: Iterable<bigint>): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((v) => v.toString());
}

/** Validates the request against the existing pools and returns a fresh, empty pool state. */
export function createPool(req: PoolRequest, existing: readonly PoolState[], defaults: DefaultPools): PoolState {
  if (typeof req !== 'object' || req === null) throw invalid('a pool request is required');
  const owner = checkName('pool owner', req.owner);
  const addressSpace = checkAddressSpace(req.addressSpace);
  const family = req.family;
  if (family !== 4 && family !== 6) throw invalid(`address family must be 4 or 6, not ${String(family)}`);
  const taken = takenPools(existing, addressSpace, family);

  let subnet: Cidr;
  if (req.subnet !== undefined) {
    subnet = parseCidr(req.subnet, { strict: true, what: 'subnet' });
    if (subnet.family !== family) {
      throw invalid(`subnet ${req.subnet} is ${familyName(subnet.family)} but an ${familyName(family)} subnet was requested`);
    }
    if (subnet.prefix > maxUsablePrefix(family)) {
      const parts = family === 4 ? 'a network address, a gateway, an endpoint and a broadcast address' : 'the subnet-router anycast address, a gateway and an endpoint';
      throw invalid(
        `subnet ${req.subnet} is too small: it must hold ${parts}; use a /${maxUsablePrefix(family)} or a shorter prefix`,
      );
    }
    const clash = taken.find((t) => cidrOverlaps(t.cidr, subnet));
    if (clash !== undefined) {
      throw new VxError(
        'ALREADY_EXISTS',
        `subnet ${formatCidr(subnet)} overlaps ${formatCidr(clash.cidr)} of network "${clash.owner}"${
          addressSpace === DEFAULT_ADDRESS_SPACE ? '' : ` in address space "${addressSpace}"`
        }; choose a subnet that does not overlap it`,
      );
    }
  } else {
    for (const [field, value] of [
      ['gateway', req.gateway],
      ['ip range', req.ipRange],
    ] as const) {
      if (value !== undefined) throw invalid(`${field} ${value} was given without a subnet; pass the subnet it belongs to`);
    }
    if (req.auxAddresses !== undefined && Object.keys(req.auxAddresses).length > 0) {
      throw invalid('aux addresses were given without a subnet; pass the subnet they belong to');
    }
    subnet = carveSubnet(family, defaults, taken);
  }
  const subnetText = formatCidr(subnet);

  if (req.noGateway && req.gateway !== undefined) {
    throw invalid(`gateway ${req.gateway} was given together with noGateway; pass one or the other`);
  }
  let gatewayOffset: bigint | undefined;
  if (req.gateway !== undefined) gatewayOffset = parseAddressIn('gateway', req.gateway, subnet);
  else if (!req.noGateway) gatewayOffset = 1n; // docker: the first address of the subnet

  let range: Cidr | undefined;
  if (req.ipRange !== undefined) {
    range = parseCidr(req.ipRange, { strict: true, what: 'ip range' });
    if (!cidrContains(subnet, range)) {
      throw invalid(`ip range ${req.ipRange} is not inside subnet ${subnetText}; pick a range within it`);
    }
  }

  const auxAddresses: Record<string, string> = {};
  const auxOffsets: bigint[] = [];
  if (req.auxAddresses !== undefined) {
    if (typeof req.auxAddresses !== 'object' || req.auxAddresses === null) {
      throw invalid('aux addresses must be a map of name to IP address');
    }
    for (const [name, ip] of Object.entries(req.auxAddresses)) {
      checkName('aux address name', name);
      const offset = parseAddressIn(`aux address "${name}"`, ip, subnet);
      if (offset === gatewayOffset) {
        const which = req.gateway === undefined ? 'the default gateway (first address)' : 'the gateway';
        throw invalid(`aux address "${name}" ${ip} is ${which} of subnet ${subnetText}; pick another aux address or gateway`);
      }
      auxAddresses[name] = formatIp(family, subnet.network + offset);
      auxOffsets.push(offset);
    }
  }

  const bounds = assignableBounds(subnet);
  const rangeFirstAbs = range === undefined ? bounds.first : range.network - subnet.network;
  const rangeLastAbs = range === undefined ? bounds.last : cidrLast(range) - subnet.network;
  const first = rangeFirstAbs > bounds.first ? rangeFirstAbs : bounds.first;
  const last = rangeLastAbs < bounds.last ? rangeLastAbs : bounds.last;
  const reserved = sortedOffsets(gatewayOffset === undefined ? auxOffsets : [gatewayOffset, ...auxOffsets]);
  if (capacityOf(first, last, reserved) <= 0n) {
    throw invalid(
      `${range === undefined ? `subnet ${subnetText}` : `ip range ${formatCidr(range)}`} leaves no address for endpoints once the network${
        family === 4 ? ', broadcast' : ''
      }, gateway and aux addresses are set aside; use a larger ${range === undefined ? 'subnet' : 'ip range'}`,
    );
  }

  const state: PoolState = {
    version: 1,
    id: `${addressSpace}/${subnetText}`,
    owner,
    addressSpace,
    family,
    subnet: subnetText,
    ...(gatewayOffset === undefined ? {} : { gateway: formatIp(family, subnet.network + gatewayOffset) }),
    ...(range === undefined ? {} : { ipRange: formatCidr(range) }),
    auxAddresses,
    rangeFirst: first.toString(),
    rangeLast: last.toString(),
    reserved,
    cursor: null,
    allocatedCount: 0,
    used: [],
  };
  return state;
}

function capacityOf(first: bigint, last: bigint, reserved: readonly string[]): bigint {
  if (last < first) return 0n;
  const inRange = reserved.filter((r) => {
    const v = BigInt(r);
    return v >= first && v <= last;
  }).length;
  return last - first + 1n - BigInt(inRange);
}

export function poolInfo(p: PoolState): PoolInfo {
  const view = viewPool(p);
  return {
    id: p.id,
    owner: p.owner,
    addressSpace: p.addressSpace,
    family: p.family,
    subnet: p.subnet,
    ...(p.gateway === undefined ? {} : { gateway: p.gateway }),
    ...(p.ipRange === undefined ? {} : { ipRange: p.ipRange }),
    auxAddresses: { ...p.auxAddresses },
    prefix: view.subnet.prefix,
    allocatedCount: p.allocatedCount,
    capacity: capacityOf(view.first, view.last, p.reserved),
  };
}
