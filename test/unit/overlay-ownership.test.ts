import { describe, expect, it } from 'vitest';
import { decideGc, sandboxPattern, summarize } from '../../src/overlay/ownership.js';

describe('start-up GC ownership', () => {
  const found = ['vx-n-0123456789ab', 'vx-n-aaaaaaaaaaaa', 'vx1-n-0123456789ab', 'vx-n-short', 'other', 'vx-n-0123456789abX'];
  const ours = sandboxPattern('vx');

  it('removes only this agent\'s pattern, and only what no record accounts for', () => {
    const d = decideGc(found, (n) => ours.test(n), new Set(['vx-n-aaaaaaaaaaaa']), false);
    expect(d).toEqual({ remove: ['vx-n-0123456789ab'], kept: [] });
  });

  it('with salvage removes nothing and names what it keeps', () => {
    const d = decideGc(found, (n) => ours.test(n), new Set(['vx-n-aaaaaaaaaaaa']), true);
    expect(d).toEqual({ remove: [], kept: ['vx-n-0123456789ab'] });
  });

  it('a prefix that starts another agent\'s prefix never matches its sandboxes', () => {
    expect(sandboxPattern('vx').test('vx1-n-0123456789ab')).toBe(false);
    expect(sandboxPattern('vx1').test('vx1-n-0123456789ab')).toBe(true);
  });

  it('summarizes N objects in one line with a count', () => {
    const names = Array.from({ length: 60 }, (_, i) => `n${i}`);
    expect(summarize(names.slice(0, 3))).toEqual({ count: 3, names: ['n0', 'n1', 'n2'] });
    const s = summarize(names);
    expect(s.count).toBe(60);
    expect(s.names).toHaveLength(50);
    expect(s.more).toBe(10);
  });
});
