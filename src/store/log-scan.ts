import { findNextFrame, readFrameAt } from './frame.js';
import { isLogRecord, isSnapRecord, type LogRecord, type SnapRecord } from './records.js';

// Reading store.snap and store.log, telling a torn tail (a crash mid-append: only the end of the log is
// short or bad) from corruption (damage with verified records after it, or a bad snapshot).

export interface Damage {
  offset: number;
  detail: string;
}

/** Why the record at `off` is unusable, or undefined with the record and where the next one starts. */
function readLogRecord(buf: Buffer, off: number, lastRev: number): { bad: string; verified: boolean } | { rec: LogRecord; end: number } {
  const r = readFrameAt(buf, off);
  if (!r.ok) return { bad: r.detail, verified: false };
  if (!isLogRecord(r.payload)) return { bad: 'checksum matches but it is not a store log record', verified: true };
  if (r.payload.rev <= lastRev) return { bad: `revision ${r.payload.rev} does not follow revision ${lastRev}`, verified: true };
  return { rec: r.payload, end: r.end };
}

export interface StrictLogScan {
  records: LogRecord[];
  /** Byte offset of each record in `records`. */
  offsets: number[];
  /** Length of the verified prefix; bytes after it are a torn tail to cut (unless `corrupt`). */
  cleanLength: number;
  corrupt?: Damage;
}

/** Normal open: every record must verify, except a torn tail. */
export function scanLogStrict(buf: Buffer): StrictLogScan {
  const records: LogRecord[] = [];
  const offsets: number[] = [];
  let off = 0;
  let lastRev = 0;
  while (off < buf.length) {
    const r = readLogRecord(buf, off, lastRev);
    if ('rec' in r) {
      records.push(r.rec);
      offsets.push(off);
      lastRev = r.rec.rev;
      off = r.end;
      continue;
    }
    // A torn append leaves a short or unverifiable record and nothing valid after it. A record whose
    // checksum verifies but makes no sense, or any verified record further on, means real damage.
    const next = findNextFrame(buf, off + 1, isLogRecord);
    if (r.verified || next !== undefined) {
      const detail = next === undefined ? r.bad : `${r.bad}; a valid record follows at byte ${next}`;
      return { records, offsets, cleanLength: off, corrupt: { offset: off, detail } };
    }
    return { records, offsets, cleanLength: off };
  }
  return { records, offsets, cleanLength: off };
}

export interface SalvageLogScan {
  records: LogRecord[];
  damage: Damage[];
  /** Records lost: per damaged span the revisions missing across it, at least 1. */
  dropped: number;
}

/** Salvage: keep every record that verifies, in order, skipping damaged spans. */
export function scanLogSalvage(buf: Buffer): SalvageLogScan {
  const out: SalvageLogScan = { records: [], damage: [], dropped: 0 };
  let off = 0;
  let lastRev = 0;
  let spanOpen = false;
  while (off < buf.length) {
    const r = readLogRecord(buf, off, lastRev);
    if ('rec' in r) {
      if (spanOpen) out.dropped += Math.max(1, lastRev > 0 ? r.rec.rev - lastRev - 1 : 1);
      spanOpen = false;
      out.records.push(r.rec);
      lastRev = r.rec.rev;
      off = r.end;
      continue;
    }
    if (!spanOpen) out.damage.push({ offset: off, detail: r.bad });
    spanOpen = true;
    off = findNextFrame(buf, off + 1, isLogRecord) ?? buf.length;
  }
  if (spanOpen) out.dropped += 1;
  return out;
}

/** store.snap holds exactly one snapshot record (it is replaced by rename, so a crash cannot tear it). */
export function readSnapshot(buf: Buffer): { snap?: SnapRecord; damage?: Damage } {
  if (buf.length === 0) return {};
  const r = readFrameAt(buf, 0);
  if (!r.ok) return { damage: { offset: 0, detail: r.detail } };
  if (!isSnapRecord(r.payload)) return { damage: { offset: 0, detail: 'checksum matches but it is not a store snapshot' } };
  if (r.end !== buf.length) return { damage: { offset: r.end, detail: `${buf.length - r.end} unexpected bytes after the snapshot` } };
  return { snap: r.payload };
}

/**
 * Revisions are handed out one by one, so the records after the snapshot must continue it without a
 * gap. A gap means records are lost though every byte verifies: a missing or replaced store.snap, or
 * files from different stores.
 */
export function checkContinuity(snapRev: number, records: LogRecord[], offsets: number[]): Damage | undefined {
  let expected = snapRev + 1;
  for (const [i, rec] of records.entries()) {
    if (rec.rev < expected) continue; // folded into the snapshot already
    if (rec.rev !== expected) {
      const why = i === 0 || records[i - 1]!.rev <= snapRev ? `the snapshot ends at revision ${snapRev}${snapRev === 0 ? ' (no store.snap)' : ''}` : `the record before it has revision ${expected - 1}`;
      return { offset: offsets[i]!, detail: `record has revision ${rec.rev} but ${why}: revisions in between are lost` };
    }
    expected++;
  }
  return undefined;
}
