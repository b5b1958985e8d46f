// The resolv.conf a workload gets: only the embedded resolver, no search list walk (ndots:0).
import { chmod, rename, rm, writeFile } from 'node:fs/promises';

export const EMBEDDED_RESOLVER = '127.0.0.11';

export function resolvConfText(options: { search?: readonly string[] } = {}): string {
  const lines = ['# written by vxmesh: the embedded resolver answers service names and forwards the rest'];
  lines.push(`nameserver ${EMBEDDED_RESOLVER}`);
  if (options.search && options.search.length > 0) lines.push(`search ${options.search.join(' ')}`);
  lines.push('options ndots:0');
  return lines.join('\n') + '\n';
}

/** Writes atomically (temp file + rename), so a workload never reads half a file. */
export async function writeResolvConf(path: string, options: { search?: readonly string[] } = {}): Promise<void> {
  const tmp = `${path}.vxmesh-tmp`;
  try {
    await writeFile(tmp, resolvConfText(options), { mode: 0o644 });
    await chmod(tmp, 0o644); // the agent's umask (077) would leave it unreadable to a non-root workload
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}
