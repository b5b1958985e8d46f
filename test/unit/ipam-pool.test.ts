import { describe, expect, it } from 'vitest';
import { VxError } from '../../src/errors.js';
import {
  DEFAULT_POOLS,
  type DefaultPools,
  type PoolRequest,
  type PoolState,
  allocate,
  createPool,
  poolInfo,
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

const v4 = (owner: string, extra: Partial<PoolRequest> = {}): PoolRequest => ({ owner, family: 4, ...extra });
const v6 = (owner: string, extra: Partial<PoolRequest> = {}): PoolRequest => ({ owner, family: 6, ...extra });

/** Creates pools one after another, each seeing the ones before it. */
function createAll(reqs: PoolRequest[], defaults: DefaultPools = DEFAULT_POOLS): PoolState[] {
  const pools: PoolState[] = [];
  for (const req of reqs) pools.push(createPool(req, pools, defaults));
  return pools;
}

describe('createPool: explicit subnets', () => {
  it('fills in gateway, id and capacity like docker', () => {
    const info = poolInfo(createPool(v4('web', { subnet: '10.1.2.0/24' }), [], DEFAULT_POOLS));
    expect(info).toEqual({
      id: 'local/10.1.2.0/24',
      owner: 'web',
      addressSpace: 'local',
      family: 4,
      subnet: '10.1.2.0/24',
      gateway: '10.1.2.1',
      auxAddresses: {},
      prefix: 24,
      allocatedCount: 0,
      capacity: 253n, // 256 - network - broadcast - gateway
    });
  });

  it('canonicalises v6 input and uses the first address as gateway', () => {
    const info = poolInfo(createPool(v6('web', { subnet: 'FD00:0:0:1::/64', addressSpace: 'GlobalDefault' }), [], DEFAULT_POOLS));
    expect(info.id).toBe('GlobalDefault/fd00:0:0:1::/64');
    expect(info.subnet).toBe('fd00:0:0:1::/64');
    expect(info.gateway).toBe('fd00:0:0:1::1');
    expect(info.capacity).toBe((1n << 64n) - 2n); // all but the anycast address and the gateway
  });

  it('rejects a subnet with host bits set, suggesting the masked form', () => {
    const err = errorOf(() => createPool(v4('web', { subnet: '10.1.2.3/16' }), [], DEFAULT_POOLS));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('10.1.2.3/16 has host bits set; did you mean 10.1.0.0/16?');
  });

  it('rejects an overlapping subnet naming both CIDRs and the owner', () => {
    const pools = createAll([v4('web', { subnet: '10.1.2.0/24' })]);
    const err = errorOf(() => createPool(v4('db', { subnet: '10.1.0.0/16' }), pools, DEFAULT_POOLS));
    expect(err.code).toBe('ALREADY_EXISTS');
    expect(err.message).toMatch(/^subnet 10\.1\.0\.0\/16 overlaps 10\.1\.2\.0\/24 of network "web"/);
    const same = errorOf(() => createPool(v4('db', { subnet: '10.1.2.0/24' }), pools, DEFAULT_POOLS));
    expect(same.code).toBe('ALREADY_EXISTS');
    const inner = errorOf(() => createPool(v4('db', { subnet: '10.1.2.128/25' }), pools, DEFAULT_POOLS));
    expect(inner.message).toContain('overlaps 10.1.2.0/24 of network "web"');
  });

  it('checks overlap only within one address space and one family', () => {
    const pools = createAll([v4('web', { subnet: '10.1.2.0/24' }), v6('web6', { subnet: 'fd00::/64' })]);
    expect(createPool(v4('other', { subnet: '10.1.2.0/24', addressSpace: 'GlobalDefault' }), pools, DEFAULT_POOLS).id).toBe(
      'GlobalDefault/10.1.2.0/24',
    );
    expect(createPool(v4('x', { subnet: '10.1.3.0/24' }), pools, DEFAULT_POOLS).subnet).toBe('10.1.3.0/24');
    expect(errorOf(() => createPool(v6('y', { subnet: 'fd00::/48' }), pools, DEFAULT_POOLS)).code).toBe('ALREADY_EXISTS');
  });

  it.each([
    [4, '10.0.0.0/31', /too small.*\/30/],
    [4, '10.0.0.1/32', /too small/],
    [6, 'fd00::/127', /too small.*\/126/],
    [6, 'fd00::1/128', /too small/],
  ] as const)('rejects the too-small IPv%i subnet %s', (family, subnet, why) => {
    const err = errorOf(() => createPool({ owner: 'n', family, subnet }, [], DEFAULT_POOLS));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(why);
  });

  it('accepts the smallest usable subnets and hands out their one endpoint address', () => {
    const p4 = createPool(v4('n', { subnet: '10.0.0.0/30' }), [], DEFAULT_POOLS);
    expect(poolInfo(p4).capacity).toBe(1n);
    expect(allocate(p4).ip).toBe('10.0.0.2');
    const p6 = createPool(v6('n', { subnet: 'fd00::/126' }), [], DEFAULT_POOLS);
    expect(poolInfo(p6).capacity).toBe(2n);
    expect(allocate(p6).ip).toBe('fd00::2');
  });

  it('rejects a subnet of the wrong family and bad requests', () => {
    expect(errorOf(() => createPool(v4('n', { subnet: 'fd00::/64' }), [], DEFAULT_POOLS)).message).toMatch(/is IPv6 but an IPv4 subnet/);
    expect(errorOf(() => createPool(v4('', { subnet: '10.0.0.0/24' }), [], DEFAULT_POOLS)).message).toMatch(/owner/);
    expect(errorOf(() => createPool({ owner: 'n', family: 5 as 4 }, [], DEFAULT_POOLS)).message).toMatch(/4 or 6/);
    expect(errorOf(() => createPool(v4('n', { addressSpace: 'a/b' }), [], DEFAULT_POOLS)).message).toMatch(/address space "a\/b"/);
  });
});

describe('createPool: carving from default pools', () => {
  it('carves the first free /24 of 10.0.0.0/8 and skips taken blocks', () => {
    const pools = createAll([v4('a'), v4('b'), v4('c')]);
    expect(pools.map((p) => p.subnet)).toEqual(['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24']);
    // A freed block is reused first.
    const afterRemoval = [pools[0]!, pools[2]!];
    expect(createPool(v4('d'), afterRemoval, DEFAULT_POOLS).subnet).toBe('10.0.1.0/24');
  });

  it('jumps over explicit subnets, larger or smaller than a block', () => {
    const pools = createAll([v4('big', { subnet: '10.0.0.0/22' }), v4('small', { subnet: '10.0.4.128/25' })]);
    expect(createPool(v4('next'), pools, DEFAULT_POOLS).subnet).toBe('10.0.5.0/24');
  });

  it('ignores pools of other address spaces when carving', () => {
    const pools = createAll([v4('a', { addressSpace: 'GlobalDefault' })]);
    expect(createPool(v4('b'), pools, DEFAULT_POOLS).subnet).toBe('10.0.0.0/24');
  });

  it('carves IPv6 /64s from fd76:786d::/32', () => {
    const pools = createAll([v6('a'), v6('b', { subnet: 'fd76:786d:0:1::/64' }), v6('c')]);
    expect(pools.map((p) => p.subnet)).toEqual(['fd76:786d::/64', 'fd76:786d:0:1::/64', 'fd76:786d:0:2::/64']);
    expect(pools[2]!.gateway).toBe('fd76:786d:0:2::1');
  });

  it('moves on to the next base when one is full, then reports exhaustion', () => {
    const defaults: DefaultPools = {
      v4: [
        { base: '172.30.0.0/23', size: 24 },
        { base: '172.31.0.0/24', size: 25 },
      ],
      v6: [],
    };
    const pools = createAll([v4('a'), v4('b'), v4('c'), v4('d')], defaults);
    expect(pools.map((p) => p.subnet)).toEqual(['172.30.0.0/24', '172.30.1.0/24', '172.31.0.0/25', '172.31.0.128/25']);
    const err = errorOf(() => createPool(v4('e'), pools, defaults));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.message).toContain('172.30.0.0/23 in /24s, 172.31.0.0/24 in /25s');
    expect(err.message).toContain('pass an explicit subnet');
    expect(errorOf(() => createPool(v6('f'), [], defaults)).code).toBe('FAILED_PRECONDITION');
  });

  it('finds a free block quickly even deep inside a big base', () => {
    const taken = createAll([v4('wide', { subnet: '10.0.0.0/9' })]);
    const started = performance.now();
    expect(createPool(v4('n'), taken, DEFAULT_POOLS).subnet).toBe('10.128.0.0/24');
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('rejects broken default pool configuration', () => {
    const bad = (base: string, size: number): DefaultPools => ({ v4: [{ base, size }], v6: [] });
    expect(errorOf(() => createPool(v4('n'), [], bad('10.0.0.1/8', 24))).message).toContain('did you mean 10.0.0.0/8');
    expect(errorOf(() => createPool(v4('n'), [], bad('10.0.0.0/8', 4))).message).toMatch(/block size \/4/);
    expect(errorOf(() => createPool(v4('n'), [], bad('10.0.0.0/8', 31))).message).toMatch(/block size \/31/);
    expect(errorOf(() => createPool(v4('n'), [], bad('fd00::/8', 64))).message).toMatch(/is IPv6/);
  });

  it('refuses gateway, ip range or aux addresses without a subnet', () => {
    for (const extra of [{ gateway: '10.0.0.1' }, { ipRange: '10.0.0.0/25' }, { auxAddresses: { a: '10.0.0.5' } }]) {
      const err = errorOf(() => createPool(v4('n', extra), [], DEFAULT_POOLS));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/without a subnet/);
    }
  });
});

describe('createPool: gateway, ip range and aux addresses', () => {
  const subnet = '10.5.0.0/24';

  it('keeps an explicit gateway and canonicalises it', () => {
    expect(poolInfo(createPool(v4('n', { subnet, gateway: '10.5.0.254' }), [], DEFAULT_POOLS)).gateway).toBe('10.5.0.254');
    expect(poolInfo(createPool(v6('n', { subnet: 'fd00::/64', gateway: 'FD00::00FE' }), [], DEFAULT_POOLS)).gateway).toBe('fd00::fe');
  });

  it.each([
    ['10.6.0.1', /gateway 10\.6\.0\.1 is not inside subnet 10\.5\.0\.0\/24/],
    ['10.5.0.0', /network address/],
    ['10.5.0.255', /broadcast address/],
    ['fd00::1', /is IPv6 but subnet/],
    ['10.5.0', /gateway: .*four/],
  ])('rejects gateway %s', (gateway, why) => {
    const err = errorOf(() => createPool(v4('n', { subnet, gateway }), [], DEFAULT_POOLS));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(why);
  });

  it('rejects the IPv6 subnet-router anycast address as gateway', () => {
    expect(errorOf(() => createPool(v6('n', { subnet: 'fd00::/64', gateway: 'fd00::' }), [], DEFAULT_POOLS)).message).toMatch(/anycast/);
  });

  it('with noGateway reserves no gateway, and refuses an explicit one', () => {
    const info = poolInfo(createPool(v4('n', { subnet, noGateway: true }), [], DEFAULT_POOLS));
    expect(info.gateway).toBeUndefined();
    expect(info.capacity).toBe(254n);
    expect(errorOf(() => createPool(v4('n', { subnet, noGateway: true, gateway: '10.5.0.1' }), [], DEFAULT_POOLS)).message).toMatch(
      /noGateway/,
    );
  });

  it('restricts capacity to the ip range', () => {
    const info = poolInfo(createPool(v4('n', { subnet, ipRange: '10.5.0.128/25' }), [], DEFAULT_POOLS));
    expect(info.ipRange).toBe('10.5.0.128/25');
    expect(info.capacity).toBe(127n); // .128 - .254: the broadcast stays out
    // A range at the start of the subnet loses the network address and the gateway.
    expect(poolInfo(createPool(v4('n', { subnet, ipRange: '10.5.0.0/28' }), [], DEFAULT_POOLS)).capacity).toBe(14n);
  });

  it.each([
    ['10.6.0.0/25', /ip range 10\.6\.0\.0\/25 is not inside subnet 10\.5\.0\.0\/24/],
    ['10.4.0.0/16', /not inside subnet/],
    ['10.5.0.1/25', /host bits set; did you mean 10\.5\.0\.0\/25/],
    ['fd00::/120', /not inside subnet/],
  ])('rejects ip range %s', (ipRange, why) => {
    const err = errorOf(() => createPool(v4('n', { subnet, ipRange }), [], DEFAULT_POOLS));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(why);
  });

  it('rejects an ip range with no room left for endpoints', () => {
    const err = errorOf(() => createPool(v4('n', { subnet, ipRange: '10.5.0.0/31' }), [], DEFAULT_POOLS));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/ip range 10\.5\.0\.0\/31 leaves no address for endpoints/);
    const aux = errorOf(() =>
      createPool(v4('n', { subnet, ipRange: '10.5.0.8/31', auxAddresses: { a: '10.5.0.8', b: '10.5.0.9' } }), [], DEFAULT_POOLS),
    );
    expect(aux.message).toMatch(/leaves no address/);
  });

  it('records aux addresses canonically and takes them out of capacity', () => {
    const info = poolInfo(createPool(v4('n', { subnet, auxAddresses: { router: '10.5.0.2', printer: '10.5.0.3' } }), [], DEFAULT_POOLS));
    expect(info.auxAddresses).toEqual({ router: '10.5.0.2', printer: '10.5.0.3' });
    expect(info.capacity).toBe(251n);
  });

  it.each([
    [{ a: '10.6.0.2' }, /aux address "a" 10\.6\.0\.2 is not inside subnet/],
    [{ a: '10.5.0.1' }, /aux address "a" 10\.5\.0\.1 is the default gateway/],
    [{ a: '10.5.0.255' }, /broadcast/],
    [{ a: 'nope' }, /aux address "a": "nope" is not a valid IP address/],
    [{ '': '10.5.0.9' }, /aux address name/],
  ])('rejects aux addresses %j', (auxAddresses, why) => {
    const err = errorOf(() => createPool(v4('n', { subnet, auxAddresses }), [], DEFAULT_POOLS));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(why);
  });

  it('rejects an aux address equal to an explicit gateway', () => {
    const err = errorOf(() => createPool(v4('n', { subnet, gateway: '10.5.0.9', auxAddresses: { a: '10.5.0.9' } }), [], DEFAULT_POOLS));
    expect(err.message).toMatch(/aux address "a" 10\.5\.0\.9 is the gateway/);
  });
});

describe('pool state', () => {
  it('is plain JSON and round-trips through JSON.stringify/parse', () => {
    const state = createPool(v6('n', { subnet: 'fd00::/64', ipRange: 'fd00::/120', auxAddresses: { a: 'fd00::9' } }), [], DEFAULT_POOLS);
    const copy = JSON.parse(JSON.stringify(state)) as PoolState;
    expect(copy).toEqual(state);
    expect(poolInfo(copy)).toEqual(poolInfo(state));
  });

  it('rejects something that is not a pool state', () => {
    expect(errorOf(() => poolInfo({} as PoolState)).code).toBe('FAILED_PRECONDITION');
    const good = createPool(v4('n', { subnet: '10.9.9.0/24' }), [], DEFAULT_POOLS);
    const broken = [
      { ...good, cursor: undefined },
      { ...good, rangeFirst: '-1' },
      { ...good, reserved: ['x'] },
      { ...good, used: {} },
      { ...good, version: 2 },
    ] as unknown as PoolState[];
    for (const state of broken) expect(errorOf(() => allocate(state)).code).toBe('FAILED_PRECONDITION');
    const corruptChunk = { ...good, used: [['0', 'AAAA']] } as unknown as PoolState;
    expect(errorOf(() => allocate(corruptChunk)).code).toBe('INTERNAL');
  });
});
