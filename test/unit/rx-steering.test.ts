import { describe, expect, it } from 'vitest';
import { cpuListMask, maskValue } from '../../src/kernel/rx-steering.js';
import { rpsLinks } from '../../src/overlay/desired.js';

describe('RPS masks', () => {
  it('turns the kernel CPU list into the sysfs mask', () => {
    expect(cpuListMask('0-1\n')).toBe('3');
    expect(cpuListMask('0')).toBe('1');
    expect(cpuListMask('0-3,6,8-9')).toBe('34f');
    expect(cpuListMask('0-31')).toBe('ffffffff');
    expect(cpuListMask('0-32')).toBe('1,ffffffff');
    expect(cpuListMask('32')).toBe('1,00000000');
    expect(maskValue(cpuListMask('0-63'))).toBe((1n << 64n) - 1n);
  });
  it('compares masks by value and refuses what is not one', () => {
    expect(maskValue('00000003')).toBe(maskValue('3'));
    expect(maskValue('0,00000003')).toBe(3n);
    expect(() => maskValue('x')).toThrow(/not a CPU mask/);
    expect(() => cpuListMask('0-')).toThrow(/kernel's format/);
    expect(() => cpuListMask('3-1')).toThrow(/not valid/);
  });
  it('steers the sandbox veth ends only (not vxlan0, not the bridge)', () => {
    const links = [
      { name: 'lo', kind: 'other' as const, up: true },
      { name: 'br0', kind: 'bridge' as const, up: true },
      { name: 'vxlan0', kind: 'vxlan' as const, vni: 4097, dstPort: 4789, up: true },
      { name: 'veabc', kind: 'veth' as const, up: true },
    ];
    expect(rpsLinks({ links, addrs: [], routes: [], fdb: [], neigh: [], owns: () => true })).toEqual(['veabc']);
  });
});
