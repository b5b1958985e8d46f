import { describe, expect, it } from 'vitest';
import { LamportClock } from '../../src/gossip/networkdb/index.js';

describe('LamportClock', () => {
  it('increments from zero for local events', () => {
    const c = new LamportClock();
    expect(c.time()).toBe(0n);
    expect(c.increment()).toBe(1n);
    expect(c.increment()).toBe(2n);
    expect(c.time()).toBe(2n);
  });

  it('witnessing a newer time moves past it, so the next local event orders after it', () => {
    const c = new LamportClock();
    c.increment();
    c.witness(10n);
    expect(c.time()).toBe(11n);
    expect(c.increment()).toBe(12n);
  });

  it('witnessing the current time still advances (serf semantics: other >= cur -> other + 1)', () => {
    const c = new LamportClock(5n);
    c.witness(5n);
    expect(c.time()).toBe(6n);
  });

  it('witnessing an older time changes nothing', () => {
    const c = new LamportClock(20n);
    c.witness(3n);
    expect(c.time()).toBe(20n);
  });

  it('two clocks exchanging messages keep causal order', () => {
    const a = new LamportClock();
    const b = new LamportClock();
    const sent = a.increment();
    b.witness(sent);
    const reply = b.increment();
    expect(reply > sent).toBe(true);
    a.witness(reply);
    expect(a.increment() > reply).toBe(true);
  });

  it('rejects out-of-range starts and saturates at uint64 max instead of wrapping', () => {
    const max = (1n << 64n) - 1n;
    expect(() => new LamportClock(-1n)).toThrow(RangeError);
    const c = new LamportClock();
    c.witness(max);
    expect(c.time()).toBe(max);
    expect(() => c.increment()).toThrow(/overflow/);
  });
});
