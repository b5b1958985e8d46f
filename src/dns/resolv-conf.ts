// The resolv.conf a workload gets: only the embedded resolver, no search list walk (ndots:0).
import { writeFileAtomic } from '../util/atomic-file.js';

export const EMBEDDED_RESOLVER = '127.0.0.11';

export function resolvConfText(options: { search?: readonly string[] } = {}): string {
  const lines = ['# written by vxmesh: the embedded resolver answers service names and forwards the rest'];
  lines.push(`nameserver ${EMBEDDED_RESOLVER}`);
  if (options.search && options.search.length > 0) lines.push(`search ${options.search.join(' ')}`);
  lines.push('options ndots:0');
  return lines.join('\n') + '\n';
}

/** Writes atomically, so a workload never reads half a file; 0644 whatever the agent's umask (077), so a non-root workload can read it. */
export async function writeResolvConf(path: string, options: { search?: readonly string[] } = {}): Promise<void> {
  await writeFileAtomic(path, resolvConfText(options), 0o644);
}
