import { stat } from 'node:fs/promises';

/**
 * A network namespace's identity: device and inode of its nsfs file. Two paths (/run/netns/X,
 * /proc/PID/ns/net) name the same namespace exactly when these match; paths themselves never tell.
 */
export async function nsIdentity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** True when the path exists but may not be inspected (e.g. /proc/1/ns/net without CAP_SYS_PTRACE). */
export async function nsAccessDenied(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM';
  }
}
