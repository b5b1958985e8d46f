// VirtualClock: the discrete-event time source behind the 1000-node simulations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/util/clock.js';

describe('VirtualClock', () => {
  it('fires timers in due order (ties in scheduling order) and sets now() to each due time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 60 }), async (delays) => {
        const clock = new VirtualClock(5);
        const seen: [number, number][] = [];
        delays.forEach((d, i) => clock.setTimeout(() => seen.push([i, clock.now()]), d));
        await clock.advance(2000);
        const expected = delays.map((d, i) => [i, 5 + d] as [number, number]).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
        expect(seen).toEqual(expected);
        expect(clock.now()).toBe(2005);
        expect(clock.pendingTimers()).toBe(0);
      }),
    );
  });

  it('never fires a cleared timer, and runs timers scheduled by timers', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const h = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.setTimeout(() => {
      fired.push('a');
      clock.setTimeout(() => fired.push('b'), 5);
    }, 20);
    clock.clearTimeout(h);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(24);
    expect(fired).toEqual(['a']);
    await clock.advance(1);
    expect(fired).toEqual(['a', 'b']);
  });

  it('runUntil stops at the moment the condition holds, lets async work settle, or gives up at the limit', async () => {
    const clock = new VirtualClock();
    let value = 0;
    clock.setTimeout(() => void Promise.resolve().then(() => (value = 1)), 30);
    clock.setTimeout(() => (value = 2), 50);
    expect(await clock.runUntil(() => value === 1, 1000)).toBe(true);
    expect(clock.now()).toBe(30);
    expect(await clock.runUntil(() => value === 3, 100)).toBe(false);
    expect(clock.now()).toBe(100);
    expect(value).toBe(2);
  });
});
