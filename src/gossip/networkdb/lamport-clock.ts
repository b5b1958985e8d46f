// Lamport clock (serf.LamportTime semantics, uint64). NetworkDB keeps one for network
// events and a separate one for table events.

const UINT64_MAX = (1n << 64n) - 1n;

export class LamportClock {
  private counter: bigint;

  constructor(start: bigint = 0n) {
    if (start < 0n || start > UINT64_MAX) throw new RangeError(`Lamport time out of range: ${start}`);
    this.counter = start;
  }

  /** Current time, without advancing. */
  time(): bigint {
    return this.counter;
  }

  /** Advance for a local event and return the new time. */
  increment(): bigint {
    if (this.counter === UINT64_MAX) throw new RangeError('Lamport clock overflow');
    this.counter += 1n;
    return this.counter;
  }

  /**
   * Observe a time seen from another node: afterwards our clock is strictly past it, so our
   * next local event orders after everything we have witnessed.
   */
  witness(seen: bigint): void {
    if (seen < this.counter) return;
    this.counter = seen === UINT64_MAX ? seen : seen + 1n;
  }
}
