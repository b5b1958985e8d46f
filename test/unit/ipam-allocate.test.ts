import { describe, expect, it } from 'vitest';
import { VxError } from '../../src/errors.js';
import {
  DEFAULT_POOLS,
  type PoolRequest,
  type PoolState,
  allocate,
  allocatedAddresses,
  createPool,
  isAllocated,
  poolInfo,
  release,
} from '../../src/ipam/index.js';

function errorOf(fn: () => unknown): VxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VxError) return err;
    throw err;
  }
  throw new Error('expected a VxError, nothing was thrown');
}

function pool(extra: Partial<PoolRequest> & { subnet: string }): PoolState {
  return createPool({ owner: 'web', family: extra.subnet.includes(':') ? 6 : 4, ...extra }, [], DEFAULT_POOLS);
}

/** Allocates `n` addresses serially, returning the final state and the addresses in order. */
function take(p: PoolState, n: number): { pool: PoolState; ips: string[] } {
  const ips: string[] = [];
  let state = p;
  for (let i = 0; i < n; i++) {
    const r = allocate(state);
    ips.push(r.ip);
    state = r.pool;
  }
  return { pool: state, ips };
}

describe('serial allocation', () => {
  it('hands out addresses in order, skipping network, gateway and aux addresses', () => {
    const p = pool({ subnet: '10.7.0.0/29', auxAddresses: { a: '10.7.0.3' } });
    const { pool: full, ips } = take(p, 4);
    expect(ips).toEqual(['10.7.0.2', '10.7.0.4', '10.7.0.5', '10.7.0.6']); // .7 is the broadcast
    expect(poolInfo(full).allocatedCount).toBe(4);
    expect(allocatedAddresses(full)).toEqual(['10.7.0.2', '10.7.0.4', '10.7.0.5', '10.7.0.6']);
  });

  it('returns a new state and leaves the input untouched', () => {
    const p = pool({ subnet: '10.7.0.0/24' });
    const before = JSON.stringify(p);
    const r = allocate(p);
    expect(JSON.stringify(p)).toBe(before);
    expect(isAllocated(p, r.ip)).toBe(false);
    expect(isAllocated(r.pool, r.ip)).toBe(true);
    const released = release(r.pool, r.ip);
    expect(isAllocated(r.pool, r.ip)).toBe(true);
    expect(isAllocated(released, r.ip)).toBe(false);
  });

  it('does not reuse a released address until the range wraps around', () => {
    const p = pool({ subnet: '10.7.0.0/29' }); // assignable .2-.6
    let { pool: s, ips } = take(p, 3); // .2 .3 .4
    expect(ips).toEqual(['10.7.0.2', '10.7.0.3', '10.7.0.4']);
    s = release(s, '10.7.0.3');
    ({ pool: s, ips } = take(s, 3));
    expect(ips).toEqual(['10.7.0.5', '10.7.0.6', '10.7.0.3']); // wraps, finds the released one
    expect(errorOf(() => allocate(s)).code).toBe('RESOURCE_EXHAUSTED');
  });

  it('continues after the last address across a release of it', () => {
    let { pool: s } = take(pool({ subnet: '10.7.0.0/24' }), 5); // .2-.6
    s = release(s, '10.7.0.6');
    expect(allocate(s).ip).toBe('10.7.0.7');
  });

  it('keeps to the ip range and wraps inside it', () => {
    const p = pool({ subnet: '10.7.0.0/24', ipRange: '10.7.0.252/30' });
    const { pool: full, ips } = take(p, 3);
    expect(ips).toEqual(['10.7.0.252', '10.7.0.253', '10.7.0.254']); // .255 is the broadcast
    const err = errorOf(() => allocate(full));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.message).toBe(
      'pool local/10.7.0.0/24 (network "web") is exhausted: all 3 assignable addresses of ip range 10.7.0.252/30 are in use; release some or use a larger subnet',
    );
    const again = allocate(release(full, '10.7.0.253'));
    expect(again.ip).toBe('10.7.0.253');
  });

  it('names the pool and its size when the subnet is exhausted', () => {
    const { pool: full } = take(pool({ subnet: '10.7.0.0/30' }), 1);
    const err = errorOf(() => allocate(full, { purpose: 'endpoint c1' }));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.message).toMatch(/pool local\/10\.7\.0\.0\/30 \(network "web"\) is exhausted \(requested for endpoint c1\): all 1 assignable addresses of subnet 10\.7\.0\.0\/30/);
  });

  it('hands out the last IPv6 address (no broadcast) but never the anycast one', () => {
    const { ips } = take(pool({ subnet: 'fd00::/126' }), 2);
    expect(ips).toEqual(['fd00::2', 'fd00::3']);
  });

  it('allocates serially in a huge sparse IPv6 subnet', () => {
    const { pool: s, ips } = take(pool({ subnet: 'fd76:786d::/64', auxAddresses: { dns: 'fd76:786d::3' } }), 3);
    expect(ips).toEqual(['fd76:786d::2', 'fd76:786d::4', 'fd76:786d::5']);
    expect(allocate(s, { ip: 'fd76:786d::ffff:ffff:ffff:ffff' }).ip).toBe('fd76:786d::ffff:ffff:ffff:ffff');
  });
});

describe('allocating a specific address', () => {
  const base = (): PoolState => pool({ subnet: '10.8.0.0/24', ipRange: '10.8.0.128/25', auxAddresses: { nas: '10.8.0.50' } });

  it('gives that address, even outside the ip range, without moving the serial cursor', () => {
    const r = allocate(base(), { ip: '10.8.0.10' });
    expect(r.ip).toBe('10.8.0.10');
    expect(isAllocated(r.pool, '10.8.0.10')).toBe(true);
    expect(allocate(r.pool).ip).toBe('10.8.0.128');
    const ahead = allocate(base(), { ip: '10.8.0.128' });
    expect(allocate(ahead.pool).ip).toBe('10.8.0.129');
  });

  it('canonicalises the address it returns', () => {
    const r = allocate(pool({ subnet: 'fd00::/64' }), { ip: 'FD00:0:0:0::00AB' });
    expect(r.ip).toBe('fd00::ab');
    expect(allocatedAddresses(r.pool)).toEqual(['fd00::ab']);
  });

  it.each([
    ['10.8.0.10', 'ALREADY_EXISTS', 'address 10.8.0.10 is already in use in network "web"; pick another address or omit it to get a free one'],
    ['10.8.0.1', 'ALREADY_EXISTS', 'address 10.8.0.1 is the gateway of network "web"; pick another address'],
    ['10.8.0.50', 'ALREADY_EXISTS', 'address 10.8.0.50 is reserved as aux address "nas" of network "web"; pick another address'],
    ['10.8.0.0', 'INVALID_ARGUMENT', 'address 10.8.0.0 is the network address of 10.8.0.0/24 and cannot be assigned'],
    ['10.8.0.255', 'INVALID_ARGUMENT', 'address 10.8.0.255 is the broadcast address of 10.8.0.0/24 and cannot be assigned'],
    ['10.9.0.5', 'INVALID_ARGUMENT', 'address 10.9.0.5 is not in subnet 10.8.0.0/24 of network "web"; pick an address inside it'],
    ['fd00::5', 'INVALID_ARGUMENT', 'address fd00::5 is IPv6 but pool local/10.8.0.0/24 (network "web") is IPv4; pick an address inside it'],
  ])('rejects %s with %s', (ip, code, message) => {
    const taken = allocate(base(), { ip: '10.8.0.10' }).pool;
    const err = errorOf(() => allocate(taken, { ip }));
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
  });

  it('rejects junk addresses', () => {
    expect(errorOf(() => allocate(base(), { ip: '10.8.0.5/24' })).message).toMatch(/prefix length/);
    expect(errorOf(() => allocate(base(), { ip: 'x' })).code).toBe('INVALID_ARGUMENT');
  });

  it('rejects the IPv6 anycast address', () => {
    expect(errorOf(() => allocate(pool({ subnet: 'fd00::/64' }), { ip: 'fd00::' })).message).toMatch(/subnet-router anycast/);
  });
});

describe('release', () => {
  it('reports addresses that were never allocated as NOT_FOUND', () => {
    const p = pool({ subnet: '10.9.0.0/24' });
    const err = errorOf(() => release(p, '10.9.0.7'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('address 10.9.0.7 is not allocated in pool local/10.9.0.0/24 (network "web"); nothing to release');
    expect(errorOf(() => release(p, '10.10.0.7')).code).toBe('NOT_FOUND');
    const twice = release(allocate(p).pool, '10.9.0.2');
    expect(errorOf(() => release(twice, '10.9.0.2')).code).toBe('NOT_FOUND');
  });

  it('refuses to release the gateway or an aux address', () => {
    const p = pool({ subnet: '10.9.0.0/24', auxAddresses: { nas: '10.9.0.9' } });
    expect(errorOf(() => release(p, '10.9.0.1')).code).toBe('FAILED_PRECONDITION');
    expect(errorOf(() => release(p, '10.9.0.9')).message).toMatch(/reserved as aux address "nas"/);
  });

  it('accepts any spelling of the address and updates the count', () => {
    const r = allocate(pool({ subnet: 'fd00::/64' }));
    expect(r.ip).toBe('fd00::2');
    const after = release(r.pool, 'FD00:0::0002');
    expect(poolInfo(after).allocatedCount).toBe(0);
    expect(allocatedAddresses(after)).toEqual([]);
  });
});

describe('docker IPAM gateway (noGateway pools)', () => {
  it('records an address requested with purpose "gateway" as the pool gateway, and forgets it on release', () => {
    const p = pool({ subnet: '10.11.0.0/24', noGateway: true });
    const gw = allocate(p, { purpose: 'gateway' });
    expect(gw.ip).toBe('10.11.0.1');
    expect(poolInfo(gw.pool).gateway).toBe('10.11.0.1');
    expect(allocate(gw.pool).ip).toBe('10.11.0.2');
    const second = errorOf(() => allocate(gw.pool, { ip: '10.11.0.9', purpose: 'gateway' }));
    expect(second.code).toBe('ALREADY_EXISTS');
    expect(second.message).toMatch(/already has gateway 10\.11\.0\.1/);
    const released = release(gw.pool, '10.11.0.1');
    expect(poolInfo(released).gateway).toBeUndefined();
    expect(isAllocated(released, '10.11.0.1')).toBe(false);
  });

  it('takes a specific gateway address', () => {
    const p = pool({ subnet: '10.11.0.0/24', noGateway: true });
    const gw = allocate(p, { ip: '10.11.0.254', purpose: 'gateway' });
    expect(poolInfo(gw.pool).gateway).toBe('10.11.0.254');
    expect(allocate(gw.pool).ip).toBe('10.11.0.1');
  });
});

describe('state across JSON', () => {
  it('continues identically after a JSON round-trip mid-allocation', () => {
    let direct = pool({ subnet: '10.12.0.0/24', ipRange: '10.12.0.0/28', auxAddresses: { a: '10.12.0.5' } });
    const { pool: mid } = take(direct, 6);
    direct = release(release(mid, '10.12.0.3'), '10.12.0.8');
    const revived = JSON.parse(JSON.stringify(direct)) as PoolState;
    expect(revived).toEqual(direct);
    const a = take(direct, 9);
    const b = take(revived, 9);
    expect(b.ips).toEqual(a.ips);
    expect(a.ips).toEqual([
      '10.12.0.9',
      '10.12.0.10',
      '10.12.0.11',
      '10.12.0.12',
      '10.12.0.13',
      '10.12.0.14',
      '10.12.0.15',
      '10.12.0.3',
      '10.12.0.8',
    ]);
    expect(allocatedAddresses(b.pool)).toEqual(allocatedAddresses(a.pool));
  });

  it('isAllocated answers false for addresses outside the pool and throws on junk', () => {
    const p = allocate(pool({ subnet: '10.12.0.0/24' })).pool;
    expect(isAllocated(p, '10.12.0.2')).toBe(true);
    expect(isAllocated(p, '10.13.0.2')).toBe(false);
    expect(isAllocated(p, 'fd00::2')).toBe(false);
    expect(isAllocated(p, '10.12.0.1')).toBe(false); // the gateway is reserved, not allocated
    expect(errorOf(() => isAllocated(p, 'junk')).code).toBe('INVALID_ARGUMENT');
  });
});
