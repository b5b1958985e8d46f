// TransmitLimitedQueue (queue.go), the one broadcast queue of memberlist and NetworkDB (Docker's
// NetworkDB uses memberlist's queue too): broadcasts are retransmitted up to
// RetransmitMult * ceil(log10(N + 1)) times; fewer-transmitted messages go first, and within a
// tier larger then newer ones. A named broadcast replaces any queued one with the same name
// (memberlist names its messages by node, NetworkDB by network/table key). The queue stays
// sorted by insertion (binary search), so taking broadcasts never re-sorts it.

export interface Broadcast {
  readonly message: Buffer;
  /** Replaces a queued broadcast with the same name. */
  readonly name?: string;
  /** Never invalidates nor is invalidated by others. */
  readonly unique?: boolean;
  /** For unnamed, non-unique broadcasts: does this one supersede `other`? */
  invalidates?(other: Broadcast): boolean;
  /** Called once when the broadcast is dropped, replaced or fully transmitted. */
  finished?(): void;
}

/**
 * How many times a broadcast goes out in a cluster of `n` nodes. Go's formula can give 0 for an
 * empty cluster, where Go still sends once; clamping to 1 states that rule instead of relying on it.
 */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return Math.max(1, retransmitMult * Math.ceil(Math.log10(Math.max(0, n) + 1)));
}

interface Item {
  transmits: number;
  msgLen: number;
  id: number;
  b: Broadcast;
}

/** Go's limitedBroadcast.Less: fewer transmits, then longer, then newer. */
function before(a: Item, b: Item): boolean {
  if (a.transmits !== b.transmits) return a.transmits < b.transmits;
  if (a.msgLen !== b.msgLen) return a.msgLen > b.msgLen;
  return a.id > b.id;
}

export class TransmitLimitedQueue {
  private items: Item[] = [];
  private readonly byName = new Map<string, Item>();
  private idGen = 0;

  constructor(
    private readonly numNodes: () => number,
    private readonly retransmitMult: number,
  ) {}

  queueBroadcast(b: Broadcast, initialTransmits = 0): void {
    this.idGen++;
    const item: Item = { transmits: initialTransmits, msgLen: b.message.length, id: this.idGen, b };
    if (b.name !== undefined && b.name !== '') {
      const old = this.byName.get(b.name);
      if (old) {
        old.b.finished?.();
        this.remove(old);
      }
    } else if (!b.unique && b.invalidates) {
      const stale = this.items.filter(
        (cur) => (cur.b.name === undefined || cur.b.name === '') && !cur.b.unique && b.invalidates!(cur.b),
      );
      for (const cur of stale) {
        cur.b.finished?.();
        this.remove(cur);
      }
    }
    this.insert(item);
  }

  private insert(item: Item): void {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.items[mid]!, item)) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
    if (item.b.name) this.byName.set(item.b.name, item);
  }

  private remove(item: Item): void {
    const idx = this.items.indexOf(item);
    if (idx >= 0) this.items.splice(idx, 1);
    if (item.b.name && this.byName.get(item.b.name) === item) this.byName.delete(item.b.name);
    if (this.items.length === 0) this.idGen = 0;
  }

  /** Take up to `maxCount` broadcasts that fit in `limit` bytes, each costing `overhead` extra. */
  getBroadcasts(overhead: number, limit: number, maxCount = Number.POSITIVE_INFINITY): Buffer[] {
    if (this.items.length === 0) return [];
    const transmitLimit = retransmitLimit(this.retransmitMult, this.numNodes());
    let used = 0;
    const taken: Item[] = [];
    const kept: Item[] = [];
    let i = 0;
    for (; i < this.items.length; i++) {
      const free = limit - used - overhead;
      if (free <= 0 || taken.length >= maxCount) break;
      const cur = this.items[i]!;
      if (cur.msgLen <= free) {
        used += overhead + cur.msgLen;
        taken.push(cur);
      } else {
        kept.push(cur);
      }
    }
    if (taken.length === 0) return [];
    for (; i < this.items.length; i++) kept.push(this.items[i]!);
    this.items = kept;
    for (const cur of taken) {
      if (cur.b.name && this.byName.get(cur.b.name) === cur) this.byName.delete(cur.b.name);
    }
    for (const cur of taken) {
      if (cur.transmits + 1 >= transmitLimit) {
        cur.b.finished?.();
      } else {
        cur.transmits++;
        this.insert(cur);
      }
    }
    if (this.items.length === 0) this.idGen = 0;
    return taken.map((t) => t.b.message);
  }

  numQueued(): number {
    return this.items.length;
  }

  /** Keep only the `maxRetain` freshest broadcasts. */
  prune(maxRetain: number): void {
    while (this.items.length > maxRetain) {
      const last = this.items[this.items.length - 1]!;
      last.b.finished?.();
      this.remove(last);
    }
  }

  reset(): void {
    for (const cur of this.items) cur.b.finished?.();
    this.items = [];
    this.byName.clear();
    this.idGen = 0;
  }
}
