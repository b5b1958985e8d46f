// The two record kinds of the file store, and checks that a payload that verified really is one.

/** One committed transaction in store.log. A null value is a delete. */
export interface LogRecord {
  rev: number;
  ops: [string, unknown][];
}

/** The whole state in store.snap: every key with its value and the revision it was last written at. */
export interface SnapRecord {
  rev: number;
  kv: [string, unknown, number][];
}

const isRevision = (n: unknown, min: number): n is number => Number.isSafeInteger(n) && (n as number) >= min;

export function isLogRecord(p: unknown): p is LogRecord {
  const r = p as LogRecord | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    isRevision(r.rev, 1) &&
    Array.isArray(r.ops) &&
    r.ops.every((op) => Array.isArray(op) && op.length === 2 && typeof op[0] === 'string' && op[1] !== undefined)
  );
}

export function isSnapRecord(p: unknown): p is SnapRecord {
  const r = p as SnapRecord | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    isRevision(r.rev, 0) &&
    Array.isArray(r.kv) &&
    r.kv.every(
      (e) => Array.isArray(e) && e.length === 3 && typeof e[0] === 'string' && e[1] !== undefined && isRevision(e[2], 1) && e[2] <= r.rev,
    )
  );
}
