import { StoreCompacted } from './errors.js';
import type { WatchEvent, WatchOptions } from './types.js';

// In-memory history of committed transactions and the watchers fed from it. A watcher starting at an
// old revision is replayed from the history; live transactions go through the same path, so events
// reach each watcher exactly once and in revision order.

interface Committed {
  rev: number;
  events: WatchEvent[];
}

interface Watcher {
  prefix: string;
  delivered: number; // highest revision handed to this watcher
  onEvent: (ev: WatchEvent) => void;
  options: WatchOptions;
  stopped: boolean;
}

export class WatchHub {
  private history: Committed[] = [];
  private watchers = new Set<Watcher>();
  /** Every revision above this one is in `history`. */
  private floor: number;

  constructor(
    currentRevision: number,
    private readonly keep: number,
  ) {
    this.floor = currentRevision;
  }

  /** Records a durable transaction and delivers it. */
  publish(rev: number, events: WatchEvent[]): void {
    this.history.push({ rev, events });
    if (this.history.length > this.keep) {
      const dropped = this.history.splice(0, this.history.length - this.keep);
      this.floor = dropped[dropped.length - 1]!.rev;
    }
    for (const w of this.watchers) this.catchUp(w);
  }

  watch<T>(prefix: string, fromRevision: number, onEvent: (ev: WatchEvent<T>) => void, options: WatchOptions = {}): () => void {
    if (fromRevision < this.floor) throw new StoreCompacted(fromRevision, this.floor);
    const w: Watcher = { prefix, delivered: fromRevision, onEvent: onEvent as (ev: WatchEvent) => void, options, stopped: false };
    this.watchers.add(w);
    // Replay after watch() returns, so the caller holds its stop function before the first event.
    queueMicrotask(() => this.catchUp(w));
    return () => {
      w.stopped = true;
      this.watchers.delete(w);
    };
  }

  private catchUp(w: Watcher): void {
    let i = this.history.length;
    while (i > 0 && this.history[i - 1]!.rev > w.delivered) i--;
    for (; i < this.history.length && !w.stopped; i++) {
      const c = this.history[i]!;
      w.delivered = c.rev;
      for (const ev of c.events) {
        if (w.stopped || !ev.key.startsWith(w.prefix)) continue;
        deliver(() => w.onEvent(ev.type === 'put' ? { ...ev, value: structuredClone(ev.value) } : { ...ev }));
      }
      if (w.options.onProgress && !w.stopped) deliver(() => w.options.onProgress!(c.rev));
    }
  }
}

/** A throwing listener must not break the store's commit path; its error still surfaces, uncaught. */
function deliver(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
