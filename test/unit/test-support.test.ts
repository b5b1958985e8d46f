// The shared test support behaves as the tests relying on it assume: waits end as soon as the condition
// holds, time out with what was awaited and the last value seen, and the PRNG replays by seed.
import { describe, expect, it, vi } from 'vitest';
import { prng } from '../support/prng.js';
import { advanceUntil, measureWait, waitFor, withDeadline, WaitTimeout } from '../support/wait.js';

describe('waitFor', () => {
  it('returns the first good value without waiting longer than needed', async () => {
    let n = 0;
    const t0 = Date.now();
    const v = await waitFor(() => ++n, { what: 'n to reach 3', until: (x) => x >= 3, intervalMs: 5 });
    expect(v).toBe(3);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('treats a throwing probe as "not yet" and names the last error on timeout', async () => {
    let calls = 0;
    const err = await waitFor(
      () => {
        calls++;
        throw new Error('connection refused');
      },
      { what: 'the socket', timeoutMs: 120, intervalMs: 10 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeout);
    expect((err as Error).message).toBe('timed out after 120 ms waiting for the socket; last seen: error connection refused');
    expect(calls).toBeGreaterThan(2);
  });

  it('shows the last value (async probes too) when the condition never holds', async () => {
    const err = await waitFor(async () => ({ alive: 2n }), { what: '3 alive', timeoutMs: 50, until: (s) => s.alive === 3n }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/waiting for 3 alive; last seen: \{"alive":"2n"\}$/);
  });

  it('measureWait reports the time a condition took to hold', async () => {
    const readyAt = Date.now() + 60;
    const ms = await measureWait(() => Date.now() >= readyAt, { what: 'ready', intervalMs: 5 });
    expect(ms).toBeGreaterThanOrEqual(55);
    expect(ms).toBeLessThan(2000);
  });

  it('advanceUntil moves simulated time in steps and reports how much passed', async () => {
    vi.useFakeTimers();
    try {
      let fired = false;
      setTimeout(() => (fired = true), 1000);
      const ms = await advanceUntil(() => fired, { what: 'timer', maxMs: 5000, stepMs: 100, advance: (d) => vi.advanceTimersByTimeAsync(d) });
      expect(ms).toBe(1000);
      await expect(advanceUntil(() => false, { what: 'never', maxMs: 300, advance: (d) => vi.advanceTimersByTimeAsync(d) })).rejects.toThrow(
        /waiting for never/,
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('withDeadline gives the fallback when the promise is late, the value when it is not', async () => {
    expect(await withDeadline(new Promise(() => {}), 20, 'late')).toBe('late');
    expect(await withDeadline(Promise.resolve(7), 10_000, 'late')).toBe(7);
  });
});

describe('prng', () => {
  it('replays by seed and differs between seeds', () => {
    const a = prng(42);
    const b = prng(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(prng(43)()).not.toBe(xs[0]);
    // Pinned (mulberry32): a changed generator would make recorded failing seeds replay something else.
    expect(prng(1)()).toBe(0.6270739405881613);
  });

  it('stays in range', () => {
    const r = prng(7);
    for (let i = 0; i < 10_000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
      expect(r.int(6)).toBeLessThan(6);
    }
    expect(r.bytes(16)).toHaveLength(16);
    expect(['a', 'b']).toContain(r.pick(['a', 'b']));
    expect(() => r.pick([])).toThrow(/empty/);
  });
});
