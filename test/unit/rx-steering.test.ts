import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FLOW_HASH_PROG, cpuListMask, maskValue } from '../../src/kernel/rx-steering.js';
import { flowHashLinks, rpsLinks } from '../../src/overlay/desired.js';
import type { EndpointRecord, NetworkRecord } from '../../src/overlay/model.js';
import { Steering, type SteeringTarget } from '../../src/overlay/rx-steering.js';
import type { NsRef } from '../../src/kernel/ns.js';

/** The sections of an ELF64 little-endian object by name (enough of the format to read tc's input). */
function elfSections(elf: Buffer): Map<string, { type: number; data: Buffer }> {
  expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(elf[4]).toBe(2); // 64-bit
  expect(elf[5]).toBe(1); // little-endian
  expect(elf.readUInt16LE(18)).toBe(247); // EM_BPF
  const shoff = Number(elf.readBigUInt64LE(40));
  const shentsize = elf.readUInt16LE(58);
  const shnum = elf.readUInt16LE(60);
  const shstrndx = elf.readUInt16LE(62);
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    const off = Number(elf.readBigUInt64LE(at + 24));
    return { name: elf.readUInt32LE(at), type: elf.readUInt32LE(at + 4), data: elf.subarray(off, off + Number(elf.readBigUInt64LE(at + 32))) };
  };
  const names = header(shstrndx).data;
  const out = new Map<string, { type: number; data: Buffer }>();
  for (let i = 1; i < shnum; i++) {
    const h = header(i);
    out.set(names.subarray(h.name, names.indexOf(0, h.name)).toString('latin1'), { type: h.type, data: h.data });
  }
  return out;
}

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
  it('drops the flow hash on the workload end of each overlay endpoint (not the gateway leg)', () => {
    const net = {} as NetworkRecord;
    const ep = (ifName: string) => ({ ep: { ifName } as EndpointRecord, net });
    expect(flowHashLinks([ep('eth0'), ep('eth2')])).toEqual(['eth0', 'eth2']);
    expect(flowHashLinks([])).toEqual([]);
  });
});

describe('the flow-hash program', () => {
  it('is three instructions: bpf_set_hash_invalid(skb), then TC_ACT_OK', () => {
    const sections = elfSections(FLOW_HASH_PROG.elf);
    const prog = sections.get(FLOW_HASH_PROG.section)!.data;
    const insn = (i: number) => ({ code: prog[i * 8], regs: prog[i * 8 + 1], off: prog.readInt16LE(i * 8 + 2), imm: prog.readInt32LE(i * 8 + 4) });
    expect(prog.length).toBe(24);
    expect(insn(0)).toEqual({ code: 0x85, regs: 0, off: 0, imm: 41 }); // BPF_JMP|BPF_CALL, helper 41 = set_hash_invalid
    expect(insn(1)).toEqual({ code: 0xb7, regs: 0, off: 0, imm: 0 }); // BPF_ALU64|BPF_MOV|BPF_K: r0 = 0 (TC_ACT_OK)
    expect(insn(2)).toEqual({ code: 0x95, regs: 0, off: 0, imm: 0 }); // BPF_JMP|BPF_EXIT
    expect(sections.get('license')!.data.toString('latin1')).toBe('GPL\0');
    // The function symbol names the program (what `tc filter show` prints and hasSymmetricFlowHash looks for).
    expect(sections.get('.strtab')!.data.includes(Buffer.from(`\0${FLOW_HASH_PROG.name}\0`))).toBe(true);
    expect(FLOW_HASH_PROG.name.length).toBeLessThan(16); // the kernel keeps 15 characters of a program name
  });
});

describe('Steering (when the writes run)', () => {
  afterEach(() => vi.useRealTimers());
  const ns = (name: string): NsRef => ({ kind: 'named', name });
  function fake(quietMs = 100, maxWaitMs = 1000) {
    const writes: { at: number; ns: string; devices: string[] }[] = [];
    let running = 0;
    let overlapped = false;
    const target: SteeringTarget = {
      kind: 'workload',
      quietMs,
      maxWaitMs,
      failure: 'test',
      write: async (n, devices) => {
        overlapped ||= running > 0;
        running++;
        writes.push({ at: Date.now(), ns: n.kind === 'named' ? n.name : '', devices });
        await new Promise((r) => setTimeout(r, 10));
        running--;
      },
    };
    return { writes, target, overlapped: () => overlapped };
  }
  const log = pino({ level: 'silent' });

  it('waits until the syncs are quiet, then writes each namespace once, one at a time', async () => {
    vi.useFakeTimers({ now: 0 });
    const f = fake();
    const s = new Steering(true, log, f.target, () => Promise.resolve('3'));
    for (let i = 0; i < 5; i++) {
      await s.update(ns(`w${i}`), `w${i}`, ['eth0'], { wait: false });
      await vi.advanceTimersByTimeAsync(50); // a burst: never 100 ms quiet
    }
    expect(f.writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(f.writes.map((w) => w.ns)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
    expect(f.writes[0]!.at).toBe(300); // 100 ms after the last update (at 200)
    expect(f.overlapped()).toBe(false);
    // Written devices are not written again; a new one is.
    await s.update(ns('w0'), 'w0', ['eth0'], { wait: false });
    await s.update(ns('w1'), 'w1', ['eth0', 'eth1'], { wait: false });
    await vi.advanceTimersByTimeAsync(1000);
    expect(f.writes.slice(5).map((w) => `${w.ns}:${w.devices.join(',')}`)).toEqual(['w1:eth1']);
  });

  it('delays a write no longer than maxWaitMs under a steady stream of syncs', async () => {
    vi.useFakeTimers({ now: 0 });
    const f = fake(100, 1000);
    const s = new Steering(true, log, f.target, () => Promise.resolve('3'));
    for (let i = 0; i < 30; i++) {
      await s.update(ns(`w${i}`), `w${i}`, ['eth0'], { wait: false });
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(f.writes[0]!.at).toBe(1000);
  });

  it('writes at once when asked to wait (a full resync), each device once unless it is new; nothing when off or on one CPU', async () => {
    const f = fake();
    const s = new Steering(true, log, f.target, () => Promise.resolve('3'));
    await s.update(ns('a'), 'a', ['eth0', 'eth1'], { wait: true });
    // A periodic resync with nothing new costs no write (no process per namespace every 30 s)...
    await s.update(ns('a'), 'a', ['eth0', 'eth1'], { wait: true });
    // ... a device made again (the reconciler says it arrived) is written again, alone.
    await s.update(ns('a'), 'a', ['eth0', 'eth1'], { wait: true, renew: ['eth1'] });
    expect(f.writes.map((w) => `${w.ns}:${w.devices.join(',')}`)).toEqual(['a:eth0,eth1', 'a:eth1']);
    // After forget (the namespace was made again), everything is written again.
    s.forget('a');
    await s.update(ns('a'), 'a', ['eth0', 'eth1'], { wait: true });
    expect(f.writes.map((w) => `${w.ns}:${w.devices.join(',')}`)).toEqual(['a:eth0,eth1', 'a:eth1', 'a:eth0,eth1']);
    const off = fake();
    await new Steering(false, log, off.target, () => Promise.resolve('3')).update(ns('a'), 'a', ['eth0'], { wait: true });
    const oneCpu = fake();
    await new Steering(true, log, oneCpu.target, () => Promise.resolve('')).update(ns('a'), 'a', ['eth0'], { wait: true });
    expect([...off.writes, ...oneCpu.writes]).toEqual([]);
  });

  it('a write that a renewal or forget overlapped counts for nothing: the device is written again', async () => {
    const f = fake();
    const s = new Steering(true, log, f.target, () => Promise.resolve('3'));
    const first = s.update(ns('a'), 'a', ['eth0'], { wait: true });
    await new Promise((r) => setTimeout(r, 2)); // the write (10 ms) is under way
    void s.update(ns('a'), 'a', ['eth0'], { wait: false, renew: ['eth0'] });
    await first;
    await s.update(ns('a'), 'a', ['eth0'], { wait: true });
    expect(f.writes.map((w) => w.ns)).toEqual(['a', 'a']);
    const during = s.update(ns('b'), 'b', ['eth0'], { wait: true });
    await new Promise((r) => setTimeout(r, 2));
    s.forget('b');
    await during;
    await s.update(ns('b'), 'b', ['eth0'], { wait: true });
    expect(f.writes.map((w) => w.ns)).toEqual(['a', 'a', 'b', 'b']);
    // Settled: nothing more to write.
    await s.update(ns('a'), 'a', ['eth0'], { wait: true });
    await s.update(ns('b'), 'b', ['eth0'], { wait: true });
    expect(f.writes).toHaveLength(4);
  });
});
