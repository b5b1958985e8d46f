import { keepAside, replaceFile } from './files.js';
import { frame } from './frame.js';
import { checkContinuity, readSnapshot, scanLogSalvage, scanLogStrict } from './log-scan.js';
import type { SnapRecord } from './records.js';

// `--salvage`: build the state from every record that verifies (the snapshot if it does, then every
// log record that does, in order), keep each damaged file under a `.damaged-<UTC time>` name, and write
// a fresh snapshot with an empty log. Crash-safe at every step: until the new snapshot is renamed into
// place the damaged files are still where they were (and also under their new name).

export interface SalvageReport {
  /** The first damaged file (absolute path) and the byte offset of its first damage. */
  file: string;
  offset: number;
  /** Records kept: the snapshot (if it verified) counts as one, plus every log record applied. */
  kept: number;
  /** Records lost: a damaged snapshot counts as one; per damaged log span the revisions missing across it (at least 1). */
  dropped: number;
  /** Where the first damaged file's bytes are now. */
  movedTo: string;
  /** Every damaged file (snapshot and/or log), in that order. */
  damaged: { file: string; offset: number; detail: string; movedTo: string }[];
}

export async function salvage(dir: string, snapPath: string, logPath: string, snapBuf: Buffer, logBuf: Buffer): Promise<{ snap: SnapRecord; report: SalvageReport }> {
  const snapRead = readSnapshot(snapBuf);
  const logScan = scanLogSalvage(logBuf);
  const strict = scanLogStrict(logBuf);
  const gap = snapRead.damage || strict.corrupt ? undefined : checkContinuity(snapRead.snap?.rev ?? 0, strict.records, strict.offsets);
  if (gap) {
    logScan.damage.push(gap); // every byte verifies, but records are missing: keep the evidence too
    logScan.dropped += 1;
  }

  const data = new Map<string, { value: unknown; revision: number }>();
  let rev = 0;
  let kept = 0;
  if (snapRead.snap) {
    rev = snapRead.snap.rev;
    for (const [k, v, r] of snapRead.snap.kv) data.set(k, { value: v, revision: r });
    kept++;
  }
  for (const rec of logScan.records) {
    if (rec.rev <= rev) continue; // folded into the snapshot already
    for (const [k, v] of rec.ops) {
      if (v === null) data.delete(k);
      else data.set(k, { value: v, revision: rec.rev });
    }
    rev = rec.rev;
    kept++;
  }

  const damaged: SalvageReport['damaged'] = [];
  if (snapRead.damage) damaged.push({ file: snapPath, ...snapRead.damage, movedTo: await keepAside(dir, snapPath) });
  if (logScan.damage.length > 0) damaged.push({ file: logPath, ...logScan.damage[0]!, movedTo: await keepAside(dir, logPath) });

  const snap: SnapRecord = { rev, kv: [...data].map(([k, e]) => [k, e.value, e.revision]) };
  await replaceFile(dir, snapPath, frame(snap)); // from here on the salvaged state is the store
  await replaceFile(dir, logPath, Buffer.alloc(0)); // a damaged log keeps its bytes under its aside name
  const first = damaged[0]!;
  return {
    snap,
    report: {
      file: first.file,
      offset: first.offset,
      kept,
      dropped: (snapRead.damage ? 1 : 0) + logScan.dropped,
      movedTo: first.movedTo,
      damaged,
    },
  };
}
