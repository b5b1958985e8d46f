// Is the agent in the host's mount namespace? Sandbox namespaces are bind mounts under /run/netns;
// `ip netns add` makes /run/netns a shared mount, so every mount namespace that shares it sees them.
// Under `ip netns exec` (or a container without /run/netns shared) the agent's copy of that mount is
// a slave or private one: sandboxes it creates vanish with it. /proc/self/mountinfo tells which.
import { readSelfMountInfo } from '../kernel/mount-info.js';

export const NETNS_DIR = '/run/netns';

export type NetnsMountVerdict =
  | { kind: 'shared' }
  /** /run/netns is mounted here without shared propagation ('master:N' = a slave copy, '' = private). */
  | { kind: 'not-shared'; propagation: string }
  /** /run/netns is not a mount point yet: nothing to judge until the first sandbox is made. */
  | { kind: 'unknown' };

/** Judges /proc/self/mountinfo text (pure, for tests): the last mount on /run/netns is the visible one. */
export function netnsMountVerdict(mountinfo: string, dir = NETNS_DIR): NetnsMountVerdict {
  let found: string[] | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (sep < 6 || unescapeMountPath(fields[4] ?? '') !== dir) continue;
    found = fields.slice(6, sep); // optional fields: shared:N, master:N, propagate_from:N, unbindable
  }
  if (!found) return { kind: 'unknown' };
  return found.some((f) => f.startsWith('shared:')) ? { kind: 'shared' } : { kind: 'not-shared', propagation: found.join(' ') || 'private' };
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export async function readNetnsMountVerdict(): Promise<NetnsMountVerdict> {
  const text = await readSelfMountInfo();
  return text ? netnsMountVerdict(text) : { kind: 'unknown' };
}

export const PRIVATE_MOUNT_NS_WARNING =
  'the agent runs in a private mount namespace (ip netns exec?): the sandbox namespaces it makes under /run/netns will vanish when it stops; ' +
  'start it with nsenter --net=... or in the host mount namespace (as a container: share /run/netns with rshared propagation)';
