// Waiting in tests: on a condition with a deadline, never for a fixed time. A timeout names what was
// awaited and the last value (or error) seen, so a failure says what state the system got stuck in.
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions<T> {
  /** What is awaited, for the timeout message: "3 alive members", "agent ready". */
  what: string;
  /** Deadline from the first probe; default 10 s. */
  timeoutMs?: number;
  /** Pause between probes; default 50 ms. */
  intervalMs?: number;
  /** When the probed value is good enough; default: truthy. */
  until?: (value: T) => boolean;
}

export class WaitTimeout extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly last: string,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${last}`);
    this.name = 'WaitTimeout';
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return `error ${value.message}`;
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return text === undefined ? String(value) : text.length > 500 ? `${text.slice(0, 500)}...` : text;
  } catch {
    return String(value);
  }
}

/**
 * Probes until `until(value)` holds (default: the value is truthy) and returns that value. A probe that
 * throws counts as "not yet" (a socket not up, a command failing until ready); the last error is in the
 * timeout message.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T>): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const good = opts.until ?? ((v: T) => Boolean(v));
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await probe();
      if (good(last as T)) return last as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) throw new WaitTimeout(opts.what, timeoutMs, describe(last));
    await delay(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/** Like waitFor on a boolean condition, but returns how long it took in ms (for convergence bounds). */
export async function measureWait(condition: () => boolean | Promise<boolean>, opts: Omit<WaitOptions<boolean>, 'until'>): Promise<number> {
  const start = performance.now();
  await waitFor(condition, opts);
  return performance.now() - start;
}

/**
 * For simulated time (vitest fake timers, a virtual clock): advances time in steps until the condition
 * holds and returns the simulated ms it took. `advance` moves the clock, e.g. vi.advanceTimersByTimeAsync.
 */
export async function advanceUntil(
  condition: () => boolean,
  opts: { what: string; maxMs: number; stepMs?: number; advance: (ms: number) => Promise<unknown> },
): Promise<number> {
  const step = opts.stepMs ?? 25;
  let elapsed = 0;
  while (!condition()) {
    if (elapsed >= opts.maxMs) throw new WaitTimeout(opts.what, opts.maxMs, 'condition false (simulated time)');
    await opts.advance(step);
    elapsed += step;
  }
  return elapsed;
}

/**
 * A fixed pause. Only for tests where the passing of time is the thing tested ("nothing happens for 2 s",
 * "keeps retrying while the peer is down") or for pacing a load generator; say which in a comment.
 */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

/** Resolves with `promise`'s value, or with `fallback` once `ms` passed (a deadline, not a pause). */
export async function withDeadline<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  const ac = new AbortController();
  try {
    return await Promise.race([promise, delay(ms, fallback, { signal: ac.signal })]);
  } finally {
    ac.abort();
  }
}
