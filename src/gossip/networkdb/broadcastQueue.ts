// Transmit-limited broadcast queue (the model of memberlist.TransmitLimitedQueue): every
// message is handed out at most retransmitMult * ceil(log10(n + 1)) times, least-sent first,
// and a newer message with the same key replaces an older one still queued.

export interface QueuedBroadcast {
  /** Messages with equal keys invalidate each other; the newest wins. */
  key: string;
  msg: Buffer;
}

interface Slot {
  key: string;
  msg: Buffer;
  transmits: number;
  seq: number;
}

export function retransmitLimit(retransmitMult: number, numNodes: number): number {
  const scale = Math.ceil(Math.log10(Math.max(0, numNodes) + 1));
  return Math.max(1, retransmitMult * scale);
}

export class BroadcastQueue {
  private readonly slots = new Map<string, Slot>();
  private seq = 0;

  constructor(
    private readonly retransmitMult: number,
    private readonly numNodes: () => number,
  ) {}

  get length(): number {
    return this.slots.size;
  }

  queue(b: QueuedBroadcast): void {
    this.slots.delete(b.key);
    this.slots.set(b.key, { key: b.key, msg: b.msg, transmits: 0, seq: this.seq++ });
  }

  /**
   * Messages fitting in `limit` bytes when each costs `overhead` extra. Each returned message
   * counts one transmit; messages reaching the retransmit limit leave the queue.
   */
  getBroadcasts(overhead: number, limit: number): Buffer[] {
    if (this.slots.size === 0) return [];
    const max = retransmitLimit(this.retransmitMult, this.numNodes());
    // Fewest transmits first, then newest first (as memberlist orders its btree).
    const ordered = [...this.slots.values()].sort((a, b) => a.transmits - b.transmits || b.seq - a.seq);
    const out: Buffer[] = [];
    let used = 0;
    for (const s of ordered) {
      const cost = overhead + s.msg.length;
      if (used + cost > limit) continue;
      used += cost;
      out.push(s.msg);
      s.transmits++;
      if (s.transmits >= max) this.slots.delete(s.key);
    }
    return out;
  }

  clear(): void {
    this.slots.clear();
  }
}
