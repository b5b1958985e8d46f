import { describe, expect, it } from 'vitest';
import { sessionLine } from '../../src/kernel/index.js';

describe('sessionLine: which transactions go through a kept nft -i session', () => {
  it('joins one-line commands with "; " (one line is one transaction)', () => {
    expect(sessionLine(['delete element inet t m { 10.0.0.1 . 2 }', 'add element inet t m { 10.0.0.1 . 2 : 10.1.0.9 }'], 1000)).toBe(
      'delete element inet t m { 10.0.0.1 . 2 }; add element inet t m { 10.0.0.1 . 2 : 10.1.0.9 }',
    );
  });
  it('refuses what the line editor or nft would read differently: newlines, tabs, comments, backslashes', () => {
    for (const bad of ['add chain inet t c {\n type nat hook output priority 0;\n}', 'add rule inet t c\tcounter', 'add rule inet t c counter # note', 'add rule inet t c meta mark 0x1 \\']) {
      expect(sessionLine(['add table inet t', bad], 1000)).toBeUndefined();
    }
  });
  it('refuses an empty transaction and one longer than the limit', () => {
    expect(sessionLine([], 1000)).toBeUndefined();
    expect(sessionLine(['add element inet t s { 10.0.0.1 }'], 10)).toBeUndefined();
    expect(sessionLine(['add element inet t s { 10.0.0.1 }'], 0)).toBeUndefined();
  });
});
