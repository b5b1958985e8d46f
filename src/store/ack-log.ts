import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Mutex } from '../util/mutex.js';
import { syncDir, writeFully } from './files.js';
import { frame, readFrameAt } from './frame.js';

// A host-local, durable list of ids: what this agent has acknowledged to a caller while the shared
// store (etcd) does not say so yet. An append is one framed write plus fdatasync (~0.2 ms here,
// against an etcd round trip of ~5 ms), so an acknowledgement survives a crash without waiting for
// the store; the agent's next start reads the list and finishes what it names.

interface AckFrame {
  ids: string[];
}

const isAckFrame = (p: unknown): p is AckFrame => typeof p === 'object' && p !== null && Array.isArray((p as AckFrame).ids) && (p as AckFrame).ids.every((id) => typeof id === 'string');

export class AckLog {
  private readonly lock = new Mutex();
  /** Ids appended since the last clear (what a clear would forget). */
  private count = 0;

  private constructor(
    private readonly fh: FileHandle,
    private end: number,
  ) {}

  /**
   * Opens (or makes) the log and returns the ids it holds. A torn last frame (a crash mid-append: that
   * acknowledgement never reached its caller) is cut off, so later appends follow the last whole frame.
   */
  static async open(path: string): Promise<{ log: AckLog; acked: Set<string> }> {
    const fh = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      await syncDir(dirname(path)); // the file itself must survive a crash, not only its contents
      const buf = await fh.readFile();
      const acked = new Set<string>();
      let end = 0;
      while (end < buf.length) {
        const r = readFrameAt(buf, end);
        if (!r.ok || !isAckFrame(r.payload)) break;
        for (const id of r.payload.ids) acked.add(id);
        end = r.end;
      }
      if (end < buf.length) {
        await fh.truncate(end);
        await fh.datasync();
      }
      const log = new AckLog(fh, end);
      log.count = acked.size;
      return { log, acked };
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Appends `ids` durably: once this resolves they survive a crash. */
  add(ids: readonly string[]): Promise<void> {
    if (!ids.length) return Promise.resolve();
    return this.lock.run(async () => {
      const bytes = frame({ ids: [...ids] } satisfies AckFrame);
      try {
        await writeFully(this.fh, bytes, this.end);
        await this.fh.datasync();
      } catch (e) {
        await this.fh.truncate(this.end).catch(() => undefined); // a partial frame must not precede the next one
        throw e;
      }
      this.end += bytes.length;
      this.count += ids.length;
    });
  }

  /** Ids appended since the last clear. */
  get size(): number {
    return this.count;
  }

  /** Forgets every id (call only when the store holds what each one acknowledged). */
  clear(): Promise<void> {
    return this.lock.run(async () => {
      if (this.end === 0) return;
      await this.fh.truncate(0);
      await this.fh.datasync();
      this.end = 0;
      this.count = 0;
    });
  }

  close(): Promise<void> {
    return this.lock.run(() => this.fh.close());
  }
}
