import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename } from 'node:path';

// Small durable-file helpers for the file store.

export async function readOptional(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
}

export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Replaces `path` with `content` atomically: tmp file, fsync, rename, directory fsync. */
export async function replaceFile(dir: string, path: string, content: Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await writeFully(fh, content, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined); // a half-written tmp file must not hold on to scarce space
    throw e;
  }
  await syncDir(dir);
}

/** Writes all of `buf` at `position`, looping over short writes (a filling disk writes part, then fails). */
export async function writeFully(fh: { write: (b: Buffer, o: number, l: number, p: number) => Promise<{ bytesWritten: number }> }, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

/** `20261201T140512Z`: sortable, and legal in every file name. */
export function utcStamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Gives `path`'s file a second name `<name>.damaged-<UTC timestamp>` (a hard link), so that replacing
 * `path` afterwards leaves the damaged bytes under that name only. Never deletes anything.
 */
export async function keepAside(dir: string, path: string): Promise<string> {
  const stamp = utcStamp();
  for (let n = 0; ; n++) {
    const aside = `${path}.damaged-${stamp}${n ? `-${n}` : ''}`;
    try {
      await link(path, aside);
      await syncDir(dir);
      return aside;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 100) throw new Error(`store: cannot move ${basename(path)} aside to ${aside}: ${String(e)}`);
    }
  }
}
