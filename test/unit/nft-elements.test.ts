// NftElements: the desired elements of a large set/map, diffed by the planner in O(changes).
import { describe, expect, it } from 'vitest';
import { NftElements } from '../../src/kernel/nft-elements.js';
import type { NftTable } from '../../src/kernel/nft-model.js';
import { needsKernelRead, planNftTable } from '../../src/kernel/nft-plan.js';
import { parseNftTable } from '../../src/kernel/nft-read.js';

const noCanon = () => undefined;
const backends = () => new NftElements(['ipv4_addr', 'inet_service'], ['ipv4_addr', 'inet_service']);
const tableOf = (els: NftElements): NftTable => ({
  family: 'inet',
  name: 'vxt',
  chains: [],
  sets: [{ name: 'be', type: ['ipv4_addr', 'inet_service'], value: ['ipv4_addr', 'inet_service'], elements: els }],
});

describe('NftElements', () => {
  it('canonicalises on insert and journals only real changes', () => {
    const e = backends();
    e.set(['10.0.0.1', '80'], ['10.1.0.1', '8080']);
    const g = e.generation;
    e.set(['10.0.0.1', '80'], ['10.1.0.1', '8080']); // same value: no change
    expect(e.generation).toBe(g);
    e.set(['10.0.0.1', '80'], ['10.1.0.2', '8080']);
    e.set(['10.0.0.2', '80'], ['10.1.0.3', '8080']);
    e.delete(['10.0.0.2', '80']);
    expect([...e.changesSince(g)!]).toEqual([
      ['10.0.0.2 . 80', undefined],
      ['10.0.0.1 . 80', '10.1.0.1 . 8080'],
    ]);
    expect(e.valueOf('10.0.0.1 . 80')).toBe('10.1.0.2 . 8080');
    expect(() => e.set(['10.0.0.1'], ['10.1.0.1', '80'])).toThrow(/1 part/);
    expect(() => e.set(['10.0.0.1', '80'])).toThrow(/no value/);
  });

  it('forgets old history beyond its journal limit, which then asks for a kernel read', () => {
    const e = new NftElements(['ipv4_addr'], undefined, 8);
    const g0 = e.generation;
    for (let i = 0; i < 20; i++) e.set([`10.0.0.${i}`]);
    expect(e.changesSince(g0)).toBeUndefined();
    expect(e.changesSince(e.generation)!.size).toBe(0);
  });

  it('a one-element change plans one element command against a 10,000-element map', () => {
    const e = backends();
    for (let i = 0; i < 10_000; i++) e.set([`10.96.${i >> 8}.${i & 255}`, '80'], [`10.0.${i >> 8}.${i & 255}`, '8080']);
    const first = planNftTable(tableOf(e), undefined, noCanon);
    expect(first.summary.elementsAdded).toBe(10_000);
    e.set(['10.97.0.1', '80'], ['10.1.0.1', '80']);
    const add = planNftTable(tableOf(e), first.next, noCanon);
    expect(add.commands).toEqual(['add element inet vxt be { 10.97.0.1 . 80 : 10.1.0.1 . 80 }']);
    e.set(['10.97.0.1', '80'], ['10.1.0.2', '80']);
    e.delete(['10.96.0.5', '80']);
    const change = planNftTable(tableOf(e), add.next, noCanon);
    expect(change.commands).toEqual([
      'delete element inet vxt be { 10.96.0.5 . 80, 10.97.0.1 . 80 }',
      'add element inet vxt be { 10.97.0.1 . 80 : 10.1.0.2 . 80 }',
    ]);
    expect(planNftTable(tableOf(e), change.next, noCanon).commands).toEqual([]);
  });

  it('against a kernel read, diffs in full; a foreign snapshot needs a read', () => {
    const e = backends();
    e.set(['10.0.0.1', '80'], ['10.1.0.1', '8080']);
    e.set(['10.0.0.2', '80'], ['10.1.0.2', '8080']);
    const kernel = parseNftTable(
      JSON.stringify({
        nftables: [
          { table: { family: 'inet', name: 'vxt' } },
          { map: { family: 'inet', table: 'vxt', name: 'be', type: ['ipv4_addr', 'inet_service'], map: 'ipv4_addr . inet_service', elem: [[{ concat: ['10.0.0.1', 80] }, { concat: ['10.1.0.1', 8080] }], [{ concat: ['10.0.0.3', 80] }, { concat: ['10.1.0.3', 8080] }]] } },
        ],
      }),
      'inet',
      'vxt',
    )!;
    const p = planNftTable(tableOf(e), kernel, noCanon);
    expect(p.commands).toEqual(['delete element inet vxt be { 10.0.0.3 . 80 }', 'add element inet vxt be { 10.0.0.2 . 80 : 10.1.0.2 . 8080 }']);
    expect(needsKernelRead(tableOf(e), p.next)).toBe(false);
    expect(needsKernelRead(tableOf(backends()), p.next)).toBe(true);
    expect(() => planNftTable(tableOf(backends()), p.next, noCanon)).toThrow(/read from the kernel/);
  });
});
