import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VxError } from '../../src/errors.js';
import { cidrContains, cidrOverlaps, formatCidr, formatIp, parseCidr, parseIp } from '../../src/ipam/index.js';

function errorOf(fn: () => unknown): VxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VxError) return err;
    throw err;
  }
  throw new Error('expected a VxError, nothing was thrown');
}

describe('parseIp / formatIp', () => {
  it.each([
    ['0.0.0.0', 4, 0n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['10.0.1.5', 4, 0x0a000105n],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['fd76:786d::', 6, 0xfd76786dn << 96n],
    ['2001:db8::ff00:42:8329', 6, 0x20010db8000000000000ff0000428329n],
    ['::ffff:10.0.0.1', 6, 0xffff0a000001n],
  ] as const)('parses %s', (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value });
  });

  it.each([
    ['2001:0DB8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs is compressed
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run wins
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['::0:ffff:0a00:0001', '::ffff:10.0.0.1'],
    ['64:ff9b::198.51.100.33', '64:ff9b::c633:6421'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ])('formats %s canonically as %s (RFC 5952)', (text, canonical) => {
    const { family, value } = parseIp(text);
    expect(formatIp(family, value)).toBe(canonical);
  });

  it.each([
    ['', /required/],
    [' 10.0.0.1', /whitespace/],
    ['10.0.0', /four/],
    ['10.0.0.256', /larger than 255/],
    ['10.0.0.01', /leading zero/],
    ['10.0.0.-1', /not a number/],
    ['10.0.0.1/24', /prefix length/],
    ['abc', /expected IPv4/],
    ['1:2:3:4:5:6:7:8:9', /8 groups/],
    ['1::2::3', /only once/],
    ['1:2:3:4:5:6:7:8::', /at least one group/],
    ['12345::', /1 to 4 hex/],
    ['fe80::1%eth0', /zone/],
    [':1:2:3:4:5:6:7', /hex digits/],
    ['::ffff:1.2.3', /four/],
    ['g::1', /hex digits/],
  ])('rejects %j with a clear INVALID_ARGUMENT', (text, why) => {
    const err = errorOf(() => parseIp(text));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(why);
  });

  it('rejects values outside the family', () => {
    expect(errorOf(() => formatIp(4, 1n << 32n)).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => formatIp(6, -1n)).code).toBe('INVALID_ARGUMENT');
  });

  it('round-trips every IPv4 value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (value) => {
        expect(parseIp(formatIp(4, value))).toEqual({ family: 4, value });
      }),
    );
  });

  it('round-trips every IPv6 value, including zero-heavy ones', () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    const value = fc.array(group, { minLength: 8, maxLength: 8 }).map((gs) => gs.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n));
    fc.assert(
      fc.property(value, (v) => {
        const text = formatIp(6, v);
        expect(parseIp(text)).toEqual({ family: 6, value: v });
        expect(text).not.toMatch(/[A-F]/);
        expect(text.split('::').length).toBeLessThanOrEqual(2);
      }),
    );
  });

  it('matches the IPv6 canonical form produced by Node itself', async () => {
    const { URL } = await import('node:url');
    const value = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(value, (gs) => {
        const full = gs.map((g) => g.toString(16)).join(':');
        const { value: v } = parseIp(full);
        // WHATWG URL serialises IPv6 hosts per RFC 5952 (except it never uses the dotted v4 tail).
        const host = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        if (v >> 32n !== 0xffffn) expect(formatIp(6, v)).toBe(host);
      }),
    );
  });
});

describe('parseCidr / formatCidr', () => {
  it('parses and formats v4 and v6 prefixes', () => {
    expect(parseCidr('10.0.1.0/24')).toEqual({ family: 4, network: 0x0a000100n, prefix: 24 });
    expect(formatCidr(parseCidr('0.0.0.0/0'))).toBe('0.0.0.0/0');
    expect(formatCidr(parseCidr('10.0.0.1/32'))).toBe('10.0.0.1/32');
    expect(formatCidr(parseCidr('FD76:786D:0000::/32'))).toBe('fd76:786d::/32');
    expect(formatCidr(parseCidr('::/0'))).toBe('::/0');
    expect(formatCidr(parseCidr('::1/128'))).toBe('::1/128');
  });

  it('masks host bits unless strict, and strict suggests the masked form', () => {
    expect(formatCidr(parseCidr('10.1.2.3/16'))).toBe('10.1.0.0/16');
    const err = errorOf(() => parseCidr('10.1.2.3/16', { strict: true, what: 'subnet' }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe('subnet 10.1.2.3/16 has host bits set; did you mean 10.1.0.0/16?');
    expect(errorOf(() => parseCidr('fd00::1/64', { strict: true })).message).toContain('did you mean fd00::/64?');
  });

  it.each([
    ['10.0.0.0', /no prefix length/],
    ['10.0.0.0/', /invalid prefix length/],
    ['10.0.0.0/33', /from 0 to 32/],
    ['fd00::/129', /from 0 to 128/],
    ['10.0.0.0/024', /invalid prefix length/],
    ['10.0.0.0/-1', /invalid prefix length/],
    ['10.0.0.0/24/1', /invalid prefix length/],
    ['10.0.0.300/24', /larger than 255/],
    ['', /required/],
  ])('rejects %j', (text, why) => {
    const err = errorOf(() => parseCidr(text));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(why);
  });

  it('round-trips random prefixes of both families', () => {
    const cidr = fc.oneof(
      fc.tuple(fc.constant(4 as const), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.integer({ min: 0, max: 32 })),
      fc.tuple(fc.constant(6 as const), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 })),
    );
    fc.assert(
      fc.property(cidr, ([family, value, prefix]) => {
        const c = parseCidr(`${formatIp(family, value)}/${prefix}`);
        expect(parseCidr(formatCidr(c), { strict: true })).toEqual(c);
        expect(cidrContains(c, value)).toBe(true);
      }),
    );
  });
});

describe('cidrContains / cidrOverlaps', () => {
  const c = (t: string) => parseCidr(t, { strict: true });

  it('contains prefixes and addresses', () => {
    expect(cidrContains(c('10.1.0.0/16'), c('10.1.2.0/24'))).toBe(true);
    expect(cidrContains(c('10.1.2.0/24'), c('10.1.0.0/16'))).toBe(false);
    expect(cidrContains(c('10.1.0.0/16'), c('10.1.0.0/16'))).toBe(true);
    expect(cidrContains(c('10.1.0.0/16'), c('10.2.0.0/24'))).toBe(false);
    expect(cidrContains(c('0.0.0.0/0'), c('255.255.255.255/32'))).toBe(true);
    expect(cidrContains(c('10.1.0.0/16'), parseIp('10.1.255.255').value)).toBe(true);
    expect(cidrContains(c('10.1.0.0/16'), parseIp('10.2.0.0').value)).toBe(false);
    expect(cidrContains(c('::/0'), c('10.0.0.0/8'))).toBe(false); // different family
  });

  it('detects overlap in both directions and only within a family', () => {
    expect(cidrOverlaps(c('10.1.0.0/16'), c('10.1.2.0/24'))).toBe(true);
    expect(cidrOverlaps(c('10.1.2.0/24'), c('10.1.0.0/16'))).toBe(true);
    expect(cidrOverlaps(c('10.1.2.0/24'), c('10.1.3.0/24'))).toBe(false);
    expect(cidrOverlaps(c('10.1.2.0/25'), c('10.1.2.128/25'))).toBe(false);
    expect(cidrOverlaps(c('fd00::/8'), c('fd76:786d::/32'))).toBe(true);
    expect(cidrOverlaps(c('0.0.0.0/0'), c('::/0'))).toBe(false);
  });

  it('overlap agrees with comparing address ranges', () => {
    const v4 = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.integer({ min: 0, max: 32 }));
    fc.assert(
      fc.property(v4, v4, ([va, pa], [vb, pb]) => {
        const a = parseCidr(`${formatIp(4, va)}/${pa}`);
        const b = parseCidr(`${formatIp(4, vb)}/${pb}`);
        const lastOf = (x: typeof a) => x.network + (1n << BigInt(32 - x.prefix)) - 1n;
        const byRange = a.network <= lastOf(b) && b.network <= lastOf(a);
        expect(cidrOverlaps(a, b)).toBe(byRange);
      }),
    );
  });
});
