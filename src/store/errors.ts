// Errors the store reports to its callers. Each says what happened and what to do about it.

/** A compare failed: someone else changed `key` since it was read. Re-read and retry. */
export class StoreConflict extends Error {
  constructor(readonly key: string) {
    super(`store conflict on ${key}: it changed since it was read`);
    this.name = 'StoreConflict';
  }
}

/**
 * The store's files hold damage that is not a torn tail (a bad record with valid records after it, or a bad
 * snapshot). Nothing was changed on disk; the operator decides whether to salvage.
 */
export class StoreCorruptError extends Error {
  constructor(
    /** Absolute path of the damaged file. */
    readonly file: string,
    /** Byte offset of the first damaged record in `file`. */
    readonly offset: number,
    /** What is wrong there, e.g. "checksum mismatch". */
    readonly detail: string,
  ) {
    super(
      `store: ${file} is damaged at byte ${offset} (${detail}). This is not a torn write from a crash, so ` +
        `the store refuses to open; nothing was changed. Run \`vxmesh agent --salvage\` to start from every ` +
        `record that verifies (the damaged file is moved aside, not deleted).`,
    );
    this.name = 'StoreCorruptError';
  }
}

/** A transaction could not be made durable (disk full, I/O error...). It was not applied; retry later. */
export class StoreWriteError extends Error {
  /** The errno code of the cause (ENOSPC, EIO, ...), if it had one. */
  readonly errno: string | undefined;

  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`store: ${describeIoError(cause)} writing ${file}; the transaction was not applied`, { cause });
    this.name = 'StoreWriteError';
    this.errno = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** watch() was asked for revisions the store no longer keeps: list again (snapshot()) and watch from there. */
export class StoreCompacted extends Error {
  constructor(
    readonly requested: number,
    /** The oldest revision a watch may start from now. */
    readonly oldest: number,
  ) {
    super(
      `store: cannot watch from revision ${requested}, history before revision ${oldest} is no longer kept; ` +
        `list again (snapshot()) and watch from its revision`,
    );
    this.name = 'StoreCompacted';
  }
}

/** The store cannot be reached at all (etcd down); names where it looked. */
export class StoreUnavailable extends Error {
  constructor(
    readonly endpoints: string[],
    cause: unknown,
  ) {
    super(
      `store: etcd at ${endpoints.join(',')} is unreachable (${cause instanceof Error ? cause.message : String(cause)}); ` +
        `check that etcd runs and that --store names it`,
      { cause },
    );
    this.name = 'StoreUnavailable';
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'I/O error',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EFBIG: 'file too large',
};

export function describeIoError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && ERRNO_TEXT[code]) return `${ERRNO_TEXT[code]} (${code})`;
  return e instanceof Error ? e.message : String(e);
}
