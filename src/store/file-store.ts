import { constants as fs } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StoreConflict, StoreCorruptError, StoreWriteError } from './errors.js';
import { readOptional, replaceFile, syncDir, writeFully } from './files.js';
import { frame } from './frame.js';
import { checkContinuity, readSnapshot, scanLogStrict } from './log-scan.js';
import type { LogRecord, SnapRecord } from './records.js';
import { salvage, type SalvageReport } from './salvage.js';
import type { KV, Store, StoreHealth, TxnOp, WatchEvent, WatchOptions } from './types.js';
import { WatchHub } from './watch-hub.js';

// On-disk layout (in the data dir):
//   store.snap  one framed record: {rev, kv: [[key, value, revision], ...]}, replaced by rename
//   store.log   framed records appended after the snapshot: {rev, ops: [[key, value|null], ...]}
// A torn tail (a crash mid-append) is cut on open, so a kill -9 at any instant leaves the last committed
// transaction as the state; any other damage refuses to open (StoreCorruptError) until salvaged.
// Commits are grouped: concurrent txns share one write + fdatasync. Reads, snapshots and watches see
// only durable transactions; a failed write rolls back every txn not yet durable and the next one retries.

interface Entry {
  value: unknown;
  revision: number;
}

interface PendingTxn {
  rev: number;
  ops: [string, unknown][]; // value null = delete
  done: (rev: number) => void;
  fail: (e: unknown) => void;
}

export interface FileStoreOptions {
  /** Start from every record that verifies, moving damaged files aside, instead of refusing to open. */
  salvage?: boolean;
  /** Committed revisions kept in memory for watch() replay (default 10000). */
  watchHistory?: number;
}

export type { SalvageReport } from './salvage.js';

const COMPACT_AFTER = 4096; // log records
const COMPACT_RETRY_AFTER = 256; // more log records after a failed compaction

const byKey = (a: KV, b: KV): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export class FileStore implements Store {
  /** Durable state only. */
  private data = new Map<string, Entry>();
  /** Durable revision. */
  private rev = 0;
  /** Writes of txns accepted but not yet durable (entry null = delete): later compares must see them. */
  private overlay = new Map<string, { rev: number; entry: Entry | null }>();
  private lastAssigned = 0;
  private log!: FileHandle;
  /** Bytes of store.log that hold durable records; an append goes here. */
  private logEnd = 0;
  /** A failed append may have left bytes past logEnd: cut them before the next append. */
  private logDirty = false;
  private logRecords = 0;
  private compactAt = COMPACT_AFTER;
  private pending: PendingTxn[] = [];
  private flushing: Promise<void> | undefined;
  private failure: { error: string; since: string } | undefined;
  private hub!: WatchHub;
  /** Set when this open salvaged damaged files. */
  salvageReport: SalvageReport | undefined;

  private constructor(
    private readonly dir: string,
    private readonly options: FileStoreOptions,
  ) {}

  /** Opens (creating if needed) the store in `dir`. Throws StoreCorruptError on damage unless salvaging. */
  static async open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const s = new FileStore(resolve(dir), options);
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
    const logBuf = await readOptional(this.logPath);
    const snap = readSnapshot(snapBuf);
    const scan = scanLogStrict(logBuf);
    scan.corrupt ??= snap.damage ? undefined : checkContinuity(snap.snap?.rev ?? 0, scan.records, scan.offsets);
    const damage = snap.damage ? { file: this.snapPath, offset: snap.damage.offset, detail: `snapshot: ${snap.damage.detail}` } : scan.corrupt ? { file: this.logPath, ...scan.corrupt } : undefined;
    if (damage && !this.options.salvage) throw new StoreCorruptError(damage.file, damage.offset, damage.detail);
    if (damage) {
      const result = await salvage(this.dir, this.snapPath, this.logPath, snapBuf, logBuf);
      this.salvageReport = result.report;
      this.loadState(result.snap, []);
    } else {
      this.loadState(snap.snap, scan.records);
    }
    this.log = await open(this.logPath, fs.O_RDWR | fs.O_CREAT, 0o600);
    this.logEnd = damage ? 0 : scan.cleanLength;
    if (!damage && scan.cleanLength < logBuf.length) {
      await this.log.truncate(scan.cleanLength); // drop a torn tail
      await this.log.sync();
    }
    await syncDir(this.dir); // a freshly created log's directory entry must be durable too
    this.logRecords = damage ? 0 : scan.records.length;
    this.hub = new WatchHub(this.rev, this.options.watchHistory ?? 10_000);
  }

  private loadState(snap: SnapRecord | undefined, records: LogRecord[]): void {
    if (snap) {
      this.rev = snap.rev;
      for (const [k, v, r] of snap.kv) this.data.set(k, { value: v, revision: r });
    }
    for (const rec of records) {
      if (rec.rev <= this.rev) continue; // already folded into the snapshot
      this.applyDurable(rec.ops, rec.rev);
    }
    this.lastAssigned = this.rev;
  }

  /** Applies a durable record to `data`; returns the events it makes. */
  private applyDurable(ops: [string, unknown][], rev: number): WatchEvent[] {
    const events: WatchEvent[] = [];
    for (const [key, value] of ops) {
      if (value === null) {
        if (this.data.delete(key)) events.push({ type: 'delete', key, revision: rev });
      } else {
        this.data.set(key, { value, revision: rev });
        events.push({ type: 'put', key, value, revision: rev });
      }
    }
    this.rev = rev;
    return events;
  }

  // get() and list() see every accepted txn, durable or not yet, so concurrent CAS writers chain within
  // one fsync instead of conflicting until the disk catches up. That acknowledges nothing early: a txn is
  // acknowledged only after every earlier one is durable, and a failed write fails every txn behind it.
  // snapshot() and watch() see durable txns only.

  get<T>(key: string): Promise<KV<T> | undefined> {
    const pending = this.overlay.get(key);
    const e = pending ? pending.entry : this.data.get(key);
    return Promise.resolve(e ? { key, value: structuredClone(e.value) as T, revision: e.revision } : undefined);
  }

  list<T>(prefix: string): Promise<KV<T>[]> {
    const out = this.listDurable<T>(prefix).filter((kv) => !this.overlay.has(kv.key));
    for (const [key, { entry }] of this.overlay) {
      if (entry && key.startsWith(prefix)) out.push({ key, value: structuredClone(entry.value) as T, revision: entry.revision });
    }
    return Promise.resolve(this.overlay.size ? out.sort(byKey) : out);
  }

  snapshot<T>(prefix: string): Promise<{ items: KV<T>[]; revision: number }> {
    return Promise.resolve({ items: this.listDurable<T>(prefix), revision: this.rev });
  }

  private listDurable<T>(prefix: string): KV<T>[] {
    const out: KV<T>[] = [];
    for (const [key, e] of this.data) {
      if (key.startsWith(prefix)) out.push({ key, value: structuredClone(e.value) as T, revision: e.revision });
    }
    return out.sort(byKey);
  }

  watch<T>(prefix: string, fromRevision: number, onEvent: (ev: WatchEvent<T>) => void, options?: WatchOptions): () => void {
    return this.hub.watch(prefix, fromRevision, onEvent, options);
  }

  health(): StoreHealth {
    return this.failure ? { ok: false, ...this.failure } : { ok: true };
  }

  /** The revision a compare sees: pending (accepted, not yet durable) writes first. */
  private currentRevision(key: string): number {
    const pending = this.overlay.get(key);
    if (pending) return pending.entry?.revision ?? 0;
    return this.data.get(key)?.revision ?? 0;
  }

  async txn(ops: TxnOp[]): Promise<number> {
    const writes = ops.filter((o) => o.op !== 'check');
    const recOps: [string, unknown][] = writes.map((o) => [o.key, o.op === 'put' ? structuredClone(o.value) : null]);
    for (const [i, [k, v]] of recOps.entries()) {
      // null is the log's delete marker, so a put of null would silently delete the key.
      if (v === undefined || (v === null && writes[i]!.op === 'put')) throw new Error(`store: value for ${k} is ${v}; use a delete op`);
    }
    for (const op of ops) {
      if (op.expectRevision !== undefined && this.currentRevision(op.key) !== op.expectRevision) throw new StoreConflict(op.key);
    }
    if (!recOps.length) return this.lastAssigned; // compares only: nothing to write
    const rev = ++this.lastAssigned;
    for (const [k, v] of recOps) this.overlay.set(k, { rev, entry: v === null ? null : { value: v, revision: rev } });
    return new Promise<number>((done, fail) => {
      this.pending.push({ rev, ops: recOps, done, fail });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.pending.length) this.kick();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0);
      const buf = Buffer.concat(batch.map((t) => frame({ rev: t.rev, ops: t.ops } satisfies LogRecord)));
      try {
        if (this.logDirty) {
          await this.log.truncate(this.logEnd);
          await this.log.datasync();
          this.logDirty = false;
        }
        this.logDirty = true; // until the append is known durable
        await writeFully(this.log, buf, this.logEnd);
        await this.log.datasync();
        this.logDirty = false;
      } catch (e) {
        // Cut what part of the group reached the file now, so that a crash before the next append
        // cannot bring back txns that were reported as failed. If this fails too, the next append retries it.
        await this.log
          .truncate(this.logEnd)
          .then(() => this.log.datasync())
          .then(() => (this.logDirty = false))
          .catch(() => undefined);
        this.rollBack(batch, e);
        continue;
      }
      this.logEnd += buf.length;
      this.logRecords += batch.length;
      this.failure = undefined;
      this.commit(batch);
    }
    if (this.logRecords >= this.compactAt) {
      // A failed compaction loses nothing (the log still holds every record): retry after some more
      // records rather than rewriting a whole snapshot on every append to a full disk.
      await this.writeSnapshot().catch(() => (this.compactAt = this.logRecords + COMPACT_RETRY_AFTER));
    }
  }

  /** The batch is durable: make it visible, tell watchers, then acknowledge. */
  private commit(batch: PendingTxn[]): void {
    for (const t of batch) {
      const events = this.applyDurable(t.ops, t.rev);
      for (const [k] of t.ops) if (this.overlay.get(k)?.rev === t.rev) this.overlay.delete(k);
      this.hub.publish(t.rev, events);
    }
    for (const t of batch) t.done(t.rev);
  }

  /**
   * The append failed: nothing of it (or of anything queued behind it, whose compares may have counted
   * on it) is acknowledged, and the state is what it was before these txns.
   */
  private rollBack(batch: PendingTxn[], e: unknown): void {
    const failed = [...batch, ...this.pending.splice(0)];
    this.overlay.clear();
    this.lastAssigned = this.rev;
    const err = new StoreWriteError(this.logPath, e);
    this.failure = { error: err.message, since: this.failure?.since ?? new Date().toISOString() };
    for (const t of failed) t.fail(err);
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

  /** Snapshot of the durable state, then truncate the log. Only while holding `flushing`. */
  private async writeSnapshot(): Promise<void> {
    const snap: SnapRecord = { rev: this.rev, kv: [...this.data].map(([k, e]) => [k, e.value, e.revision]) };
    await replaceFile(this.dir, this.snapPath, frame(snap));
    await this.log.truncate(0);
    // The file is empty now, whether or not the sync below succeeds: the next append goes to 0, or it
    // would leave a hole of zeros that reads as damage.
    this.logEnd = 0;
    this.logDirty = false;
    this.logRecords = 0;
    this.compactAt = COMPACT_AFTER;
    await this.log.sync();
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    await this.log.close();
  }
}
