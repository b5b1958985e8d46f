// Address allocation inside a pool. Every function is pure: it reads a PoolState and, when it changes
// anything, returns a new one (the input is never mutated), so the agent can compare-and-swap it.
//
// Serial allocation, like libnetwork: the search starts right after the last address handed out and
// wraps around at the end of the range, so a released address is not reused until everything after it
// has been tried. Requests for a specific address do not move that cursor.

import { VxError } from '../errors.js';
import { type Family, cidrContains, formatCidr, formatIp, parseIp } from '../util/ip-addr.js';
import { findClear, hasBit, setBits, withBit } from './bitmap.js';
import { type PoolState, type PoolView, poolLabel, unassignableReason, viewPool } from './pool.js';

/** The purpose that makes an allocation the pool's gateway (see allocate). */
export const GATEWAY_PURPOSE = 'gateway';

export interface AllocateRequest {
  /** A specific address; it may lie outside the ip range as long as it is inside the subnet. */
  ip?: string;
  /** What the address is for (e.g. "gateway", "endpoint web.1"); used in error messages. */
  purpose?: string;
}

function forPurpose(purpose: string | undefined): string {
  return purpose === undefined || purpose === '' ? '' : ` (requested for ${purpose})`;
}

/** Name of the reservation holding `offset`, if any. */
function reservationOf(view: PoolView, offset: bigint): string | undefined {
  if (!view.reserved.has(offset)) return undefined;
  const ip = formatIp(view.subnet.family, view.subnet.network + offset);
  if (view.state.gateway === ip) return 'the gateway';
  const aux = Object.entries(view.state.auxAddresses).find(([, value]) => value === ip);
  return aux === undefined ? 'reserved' : `reserved as aux address "${aux[0]}"`;
}

/** Parses `ip` and checks it belongs to the pool's subnet; returns its offset or a reason it does not. */
function locate(view: PoolView, ip: string): { offset: bigint } | { outside: string } {
  const parsed = parseIp(ip);
  const { family, network } = view.subnet;
  if (parsed.family !== family) {
    return { outside: `address ${ip} is IPv${parsed.family} but ${poolLabel(view.state)} is IPv${family}` };
  }
  if (!cidrContains(view.subnet, parsed.value)) {
    return { outside: `address ${ip} is not in subnet ${formatCidr(view.subnet)} of network "${view.state.owner}"` };
  }
  return { offset: parsed.value - network };
}

function withAllocation(view: PoolView, offset: bigint, moveCursor: boolean): PoolState {
  return {
    ...view.state,
    used: withBit(view.state.used, offset, true),
    allocatedCount: view.state.allocatedCount + 1,
    cursor: moveCursor ? offset.toString() : view.state.cursor,
  };
}

function allocateSpecific(view: PoolView, ip: string, purpose: string | undefined): { pool: PoolState; ip: string } {
  const where = locate(view, ip);
  if ('outside' in where) throw new VxError('INVALID_ARGUMENT', `${where.outside}${forPurpose(purpose)}; pick an address inside it`);
  const { offset } = where;
  const canonical = formatIp(view.subnet.family, view.subnet.network + offset);
  const never = unassignableReason(view.subnet, offset);
  if (never !== undefined) {
    throw new VxError('INVALID_ARGUMENT', `address ${canonical}${forPurpose(purpose)} ${never} and cannot be assigned`);
  }
  const reservation = reservationOf(view, offset);
  if (reservation !== undefined) {
    throw new VxError(
      'ALREADY_EXISTS',
      `address ${canonical}${forPurpose(purpose)} is ${reservation} of network "${view.state.owner}"; pick another address`,
    );
  }
  if (hasBit(view.state.used, offset)) {
    throw new VxError(
      'ALREADY_EXISTS',
      `address ${canonical}${forPurpose(purpose)} is already in use in network "${view.state.owner}"; pick another address or omit it to get a free one`,
    );
  }
  return { pool: withAllocation(view, offset, false), ip: canonical };
}

function allocateNext(view: PoolView, purpose: string | undefined): { pool: PoolState; ip: string } {
  const { first, last, cursor, reserved } = view;
  const used = view.state.used;
  const skip = (offset: bigint): boolean => reserved.has(offset);
  const start = cursor === null || cursor < first || cursor >= last ? first : cursor + 1n;
  const found = findClear(used, start, last, skip) ?? (start > first ? findClear(used, first, start - 1n, skip) : undefined);
  if (found === undefined) {
    const capacity = last - first + 1n - BigInt([...reserved].filter((r) => r >= first && r <= last).length);
    const scope = view.state.ipRange === undefined ? `subnet ${view.state.subnet}` : `ip range ${view.state.ipRange}`;
    throw new VxError(
      'RESOURCE_EXHAUSTED',
      `${poolLabel(view.state)} is exhausted${forPurpose(purpose)}: all ${capacity} assignable addresses of ${scope} are in use; release some or use a larger subnet`,
    );
  }
  return { pool: withAllocation(view, found, true), ip: formatIp(view.subnet.family, view.subnet.network + found) };
}

/**
 * Hands out `want.ip`, or the next free address after the last one handed out. Returns a new state.
 * With purpose "gateway" on a pool that has no gateway yet (docker IPAM, noGateway), the address is
 * also recorded as the pool's gateway; releasing it later clears that again.
 */
export function allocate(p: PoolState, want: AllocateRequest = {}): { pool: PoolState; ip: string } {
  const view = viewPool(p);
  const asGateway = want.purpose === GATEWAY_PURPOSE;
  if (asGateway && p.gateway !== undefined) {
    throw new VxError(
      'ALREADY_EXISTS',
      `network "${p.owner}" already has gateway ${p.gateway}; a pool has one gateway`,
    );
  }
  const result = want.ip !== undefined ? allocateSpecific(view, want.ip, want.purpose) : allocateNext(view, want.purpose);
  return asGateway ? { pool: { ...result.pool, gateway: result.ip }, ip: result.ip } : result;
}

/** Returns a new state without `ip`. Releasing an address that is not allocated is NOT_FOUND. */
export function release(p: PoolState, ip: string): PoolState {
  const view = viewPool(p);
  const where = locate(view, ip);
  if ('outside' in where) throw new VxError('NOT_FOUND', `${where.outside}; nothing to release`);
  const { offset } = where;
  const canonical = formatIp(view.subnet.family, view.subnet.network + offset);
  const reservation = reservationOf(view, offset);
  if (reservation !== undefined) {
    throw new VxError(
      'FAILED_PRECONDITION',
      `address ${canonical} is ${reservation} of network "${p.owner}"; it is not an allocation and stays reserved until the network is removed`,
    );
  }
  if (!hasBit(p.used, offset)) {
    throw new VxError('NOT_FOUND', `address ${canonical} is not allocated in ${poolLabel(p)}; nothing to release`);
  }
  const next: PoolState = { ...p, used: withBit(p.used, offset, false), allocatedCount: p.allocatedCount - 1 };
  if (p.gateway !== canonical) return next;
  // The gateway was handed out by allocate(purpose "gateway"): releasing it drops it from the pool.
  const { gateway: _released, ...withoutGateway } = next;
  return withoutGateway;
}

/** True when `ip` was handed out by allocate() and not released (reserved addresses report false). */
export function isAllocated(p: PoolState, ip: string): boolean {
  const view = viewPool(p);
  const where = locate(view, ip);
  return 'offset' in where && hasBit(p.used, where.offset);
}

/** Every handed-out address, ascending, in canonical form. */
export function allocatedAddresses(p: PoolState): string[] {
  const view = viewPool(p);
  const family: Family = view.subnet.family;
  return setBits(p.used).map((offset) => formatIp(family, view.subnet.network + offset));
}
