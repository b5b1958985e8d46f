import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from '../util/crc32.js';
import { StoreConflict, type KV, type Store, type TxnOp } from './types.js';

// On-disk layout (in the data dir):
//   store.snap  one framed record: {rev, kv: [[key, value, revision], ...]}, replaced by rename
//   store.log   framed records appended after the snapshot: {rev, ops: [[key, value|null], ...]}
// Frame = u32 BE length | u32 BE crc32(payload) | JSON payload. A torn or corrupt tail record (a
// crash mid-append) is cut off on open, so a kill -9 at any instant leaves the last committed
// transaction as the state. Commits are grouped: concurrent txns share one write + fdatasync.

interface Entry {
  value: unknown;
  revision: number;
}

interface LogRecord {
  rev: number;
  ops: [string, unknown][]; // value null = delete
}

const COMPACT_AFTER = 4096; // log records

function frame(obj: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(obj));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(payload.length, 0);
  head.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

/** Reads frames until the end or the first damaged one; returns them and the clean length. */
function unframe(buf: Buffer): { records: unknown[]; cleanLength: number } {
  const records: unknown[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const sum = buf.readUInt32BE(off + 4);
    if (off + 8 + len > buf.length) break;
    const payload = buf.subarray(off + 8, off + 8 + len);
    if (crc32(payload) !== sum) break;
    try {
      records.push(JSON.parse(payload.toString()));
    } catch {
      break;
    }
    off += 8 + len;
  }
  return { records, cleanLength: off };
}

async function readOptional(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
}

export class FileStore implements Store {
  private data = new Map<string, Entry>();
  private rev = 0;
  private log!: FileHandle;
  private logRecords = 0;
  private pending: { buf: Buffer; done: () => void; fail: (e: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private failed: unknown;

  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<FileStore> {
    const s = new FileStore(dir);
    await s.load();
    return s;
  }

  private get snapPath() {
    return join(this.dir, 'store.snap');
  }
  private get logPath() {
    return join(this.dir, 'store.log');
  }

  private async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const snapBuf = await readOptional(this.snapPath);
    const snap = unframe(snapBuf).records[0] as { rev: number; kv: [string, unknown, number][] } | undefined;
    // The snapshot is replaced by rename, so a crash cannot tear it: a damaged one is real corruption,
    // and starting empty would hand out everything it recorded (addresses, VNIs) a second time.
    if (snapBuf.length > 0 && !snap) throw new Error(`store: snapshot ${this.snapPath} is damaged; refusing to start empty`);
    if (snap) {
      this.rev = snap.rev;
      for (const [k, v, r] of snap.kv) this.data.set(k, { value: v, revision: r });
    }
    const logBuf = await readOptional(this.logPath);
    const { records, cleanLength } = unframe(logBuf);
    for (const rec of records as LogRecord[]) {
      if (rec.rev <= this.rev) continue; // already folded into the snapshot
      this.applyOps(rec.ops, rec.rev);
      this.rev = rec.rev;
    }
    this.log = await open(this.logPath, 'a+');
    if (cleanLength < logBuf.length) {
      await this.log.truncate(cleanLength); // drop a torn tail
      await this.log.sync();
    }
    await this.syncDir(); // a freshly created log's directory entry must be durable too
    this.logRecords = records.length;
  }

  private applyOps(ops: [string, unknown][], rev: number): void {
    for (const [k, v] of ops) {
      if (v === null) this.data.delete(k);
      else this.data.set(k, { value: v, revision: rev });
    }
  }

  async get<T>(key: string): Promise<KV<T> | undefined> {
    const e = this.data.get(key);
    return e ? { key, value: structuredClone(e.value) as T, revision: e.revision } : undefined;
  }

  async list<T>(prefix: string): Promise<KV<T>[]> {
    const out: KV<T>[] = [];
    for (const [key, e] of this.data) {
      if (key.startsWith(prefix)) out.push({ key, value: structuredClone(e.value) as T, revision: e.revision });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async txn(ops: TxnOp[]): Promise<number> {
    if (this.failed) throw new Error(`store is unusable after a write failure: ${String(this.failed)}`);
    for (const op of ops) {
      if (op.expectRevision === undefined) continue;
      const cur = this.data.get(op.key)?.revision ?? 0;
      if (cur !== op.expectRevision) throw new StoreConflict(op.key);
    }
    const rev = this.rev + 1;
    const recOps: [string, unknown][] = ops.map((o) => [o.key, o.op === 'put' ? structuredClone(o.value) : null]);
    for (const [i, [k, v]] of recOps.entries()) {
      // null is the log's delete marker, so a put of null would silently delete the key.
      if (v === undefined || (v === null && ops[i]!.op === 'put')) throw new Error(`store: value for ${k} is ${v}; use a delete op`);
    }
    // Applied in memory at once (so later txns compare against it) and acknowledged only when durable.
    this.rev = rev;
    this.applyOps(recOps, rev);
    await new Promise<void>((done, fail) => {
      this.pending.push({ buf: frame({ rev, ops: recOps } satisfies LogRecord), done, fail });
      this.kick();
    });
    return rev;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.pending.length) {
        const batch = this.pending.splice(0);
        try {
          await this.log.write(Buffer.concat(batch.map((b) => b.buf)));
          await this.log.datasync();
          this.logRecords += batch.length;
          batch.forEach((b) => b.done());
        } catch (e) {
          this.failed = e; // memory is ahead of disk now: refuse further writes
          batch.forEach((b) => b.fail(e));
        }
      }
      if (this.logRecords >= COMPACT_AFTER && !this.failed) {
        // A failed compaction loses nothing (the log still holds every record): retry next time.
        await this.writeSnapshot().catch(() => undefined);
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.pending.length) this.kick();
    });
  }

  /**
   * Writes a snapshot and empties the log. Runs in the flusher's place, so no log append can land
   * between taking the snapshot and truncating the log (that append would be lost).
   */
  async compact(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    const run = this.writeSnapshot();
    this.flushing = run.finally(() => {
      this.flushing = undefined;
      if (this.pending.length) this.kick();
    });
    this.flushing.catch(() => undefined); // the caller gets the error through `run`
    await run;
  }

  /** Snapshot (tmp + fsync + rename + dir fsync), then truncate the log. Only while holding `flushing`. */
  private async writeSnapshot(): Promise<void> {
    // State and revision are taken together and synchronously: txns applied in memory while the
    // snapshot is written must not be counted in its revision (they are only in the log).
    const snapshot = frame({ rev: this.rev, kv: [...this.data].map(([k, e]) => [k, e.value, e.revision]) });
    const tmp = `${this.snapPath}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.write(snapshot);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.snapPath);
    await this.syncDir();
    await this.log.truncate(0);
    await this.log.sync();
    this.logRecords = 0;
  }

  private async syncDir(): Promise<void> {
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    await this.log.close();
  }
}
