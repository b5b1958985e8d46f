// Lifeguard suspicion timer (suspicion.go): starts at `max` and is driven toward `min`
// by independent confirmations; fires `onTimeout` when it runs out.
import { realClock, type Clock, type TimerHandle } from '../../util/clock.js';

/** memberlist's suspicionTimeout: SuspicionMult * max(1, log10(max(1, n))) * interval. */
export function suspicionTimeoutMs(suspicionMult: number, n: number, intervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  // Go keeps three decimals of the scale (time.Duration is an integer).
  return (suspicionMult * Math.floor(nodeScale * 1000) * intervalMs) / 1000;
}

/** The timeout after `n` of `k` expected confirmations, before subtracting elapsed time. */
export function suspicionTimeoutAfter(n: number, k: number, minMs: number, maxMs: number): number {
  const frac = Math.log(n + 1) / Math.log(k + 1);
  const raw = maxMs / 1000 - frac * (maxMs / 1000 - minMs / 1000);
  const timeout = Math.floor(1000 * raw);
  return Math.max(timeout, minMs);
}

export class Suspicion {
  private n = 0;
  private readonly confirmations = new Set<string>();
  private timer: TimerHandle | null;
  private readonly start: number;

  constructor(
    from: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly onTimeout: (confirmations: number) => void,
    private readonly clock: Clock = realClock,
  ) {
    this.confirmations.add(from);
    const timeout = k < 1 ? minMs : maxMs;
    this.timer = this.clock.setTimeout(() => this.fire(), timeout);
    this.start = this.clock.now();
  }

  private fire(): void {
    this.timer = null;
    this.onTimeout(this.n);
  }

  /** Register a confirmation; true when it was new information (worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.n >= this.k) return false;
    if (this.confirmations.has(from)) return false;
    this.confirmations.add(from);
    this.n++;
    const remaining = suspicionTimeoutAfter(this.n, this.k, this.minMs, this.maxMs) - (this.clock.now() - this.start);
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, remaining));
    }
    return true;
  }

  confirmationCount(): number {
    return this.n;
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
