// Time source for memberlist, the mem transport and NetworkDB. The default is the real
// clock; simulations inject a VirtualClock so results are in simulated milliseconds,
// independent of how fast the CPU runs the (real) codec.

/** An opaque timer; `unref` exists on real Node timers only. */
export interface TimerHandle {
  unref?(): unknown;
}

export interface Clock {
  /** Milliseconds since the epoch (real) or since the simulation started (virtual). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined | null): void;
}

export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle | undefined | null): void => {
    if (handle) clearTimeout(handle as NodeJS.Timeout);
  },
});

interface VirtualTimer extends TimerHandle {
  at: number;
  seq: number;
  fn: (() => void) | null;
}

/**
 * A discrete-event scheduler: timers fire in (time, creation) order and virtual time jumps
 * straight to the next one. After each timer, all promise continuations it triggered run
 * (one setImmediate turn) before the next timer, as they would between real macrotasks.
 * Only code that uses this clock (and no real timers or I/O) may run under it.
 */
export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private heap: VirtualTimer[] = [];
  private pending = 0;
  /** Timers fired so far (for reporting simulation effort). */
  fired = 0;

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const t: VirtualTimer = { at: this.time + delay, seq: this.seq++, fn };
    this.push(t);
    this.pending++;
    return t;
  }

  clearTimeout(handle: TimerHandle | undefined | null): void {
    const t = handle as VirtualTimer | undefined | null;
    if (t && t.fn) {
      t.fn = null; // lazily dropped when it reaches the top of the heap
      this.pending--;
    }
  }

  /** Timers scheduled and not yet fired or cleared. */
  pendingTimers(): number {
    return this.pending;
  }

  /**
   * Fire timers in order until `done()` holds (checked after every timer) or virtual time
   * would pass `untilMs`; then time stands at the moment `done()` became true, or at
   * `untilMs`. Resolves to whether `done()` held.
   */
  async runUntil(done: () => boolean, untilMs: number): Promise<boolean> {
    await settle();
    if (done()) return true;
    for (;;) {
      const next = this.peek();
      if (!next || next.at > untilMs) {
        this.time = Math.max(this.time, untilMs);
        return false;
      }
      this.pop();
      const fn = next.fn!;
      next.fn = null;
      this.pending--;
      this.time = next.at;
      this.fired++;
      fn();
      await settle();
      if (done()) return true;
    }
  }

  /** Advance virtual time by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(() => false, this.time + ms);
  }

  private peek(): VirtualTimer | undefined {
    while (this.heap.length > 0 && this.heap[0]!.fn === null) this.pop();
    return this.heap[0];
  }

  private push(t: VirtualTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!earlier(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && earlier(h[l]!, h[m]!)) m = l;
      if (r < h.length && earlier(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function earlier(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.at !== b.at ? a.at < b.at : a.seq < b.seq;
}

/** Let every queued promise continuation run (setImmediate fires after the microtask queue drains). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
