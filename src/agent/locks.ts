// Locks that keep two agents apart: a held flock(2), released by the kernel when the holder's
// process ends however it ends (kill -9 included). The file holds the holder's description only so
// that a refusal can name the other agent; nothing ever compares a pid from it.
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VxError } from '../errors.js';
import { flock } from '../kernel/native.js';

/** Where machine-wide locks live (the netns prefix lock): shared by every agent on the machine. */
export const RUN_DIR = '/run/vxmesh';

export interface LockHolder {
  pid: number;
  dataDir: string;
  socket: string;
}

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

/** The data-dir lock: one agent per data dir. */
export function lockDataDir(dataDir: string, me: LockHolder): Promise<HeldLock> {
  return takeLock(join(dataDir, 'agent.lock'), me, (other) =>
    `data dir ${dataDir} is in use by another vxmesh agent (${describe(other)}): stop it, or give this agent its own --data-dir`,
  );
}

/** The netns prefix lock: agents sharing a prefix on one machine would delete each other's sandboxes. */
export function lockNetnsPrefix(prefix: string, me: LockHolder, runDir = RUN_DIR): Promise<HeldLock> {
  return takeLock(join(runDir, `prefix-${prefix}.lock`), me, (other) =>
    `--netns-prefix ${prefix} is in use on this machine by another vxmesh agent (${describe(other)}); ` +
    'agents that share a prefix delete each other\'s sandboxes: give each agent on this machine its own --netns-prefix',
  );
}

function describe(holder: Partial<LockHolder> | undefined): string {
  if (!holder?.pid) return 'it did not say who it is';
  return [`pid ${holder.pid}`, holder.dataDir && `data dir ${holder.dataDir}`, holder.socket && `socket ${holder.socket}`].filter(Boolean).join(', ');
}

async function takeLock(path: string, me: LockHolder, refusal: (other: Partial<LockHolder> | undefined) => string): Promise<HeldLock> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    throw new VxError('FAILED_PRECONDITION', `cannot create ${dirname(path)}: ${e.code ?? e.message}`);
  });
  // A holder unlinks the file as it releases: a lock taken on that unlinked file would be no lock at
  // all, so after locking, the file at the path must still be the one locked (else: try again).
  for (let attempt = 0; attempt < 5; attempt++) {
    const fh = await openLockFile(path);
    try {
      if (!flock(fh.fd, true, true)) throw new VxError('FAILED_PRECONDITION', refusal(await readHolder(path)));
      const current = await stat(path).catch(() => undefined);
      if (current?.ino !== (await fh.stat()).ino) {
        await fh.close();
        continue;
      }
      await fh.truncate(0);
      await fh.write(JSON.stringify(me) + '\n', 0);
    } catch (e) {
      await fh.close();
      if (e instanceof VxError) throw e;
      const err = e as NodeJS.ErrnoException;
      throw new VxError('FAILED_PRECONDITION', `cannot take lock ${path}: ${err.code ?? err.message}`);
    }
    return heldLock(path, fh);
  }
  throw new VxError('FAILED_PRECONDITION', `cannot take lock ${path}: it keeps being replaced by another process`);
}

async function openLockFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new VxError('FAILED_PRECONDITION', `cannot open lock file ${path}: ${err.code ?? err.message} (is ${dirname(path)} writable?)`);
  }
}

function heldLock(path: string, fh: FileHandle): HeldLock {
  let released: Promise<void> | undefined;
  return {
    path,
    // Unlinked while still held (so no one can be waiting on a stale file), then closed: the lock goes.
    release: () => (released ??= unlink(path).catch(() => undefined).then(() => fh.close())),
  };
}

async function readHolder(path: string): Promise<Partial<LockHolder> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
  } catch {
    return undefined; // the holder may be between truncate and write: name it as unknown
  }
}
