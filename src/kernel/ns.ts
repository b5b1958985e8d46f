import { statfsSync } from 'node:fs';

/** Where a kernel operation runs: the agent's own namespace, a named one (/run/netns/NAME), or any path. */
export type NsRef = { kind: 'self' } | { kind: 'named'; name: string } | { kind: 'path'; path: string };

export const SELF_NS: NsRef = { kind: 'self' };
export const NETNS_DIR = '/run/netns';

export function namedNs(name: string): NsRef {
  return { kind: 'named', name };
}

/** A workload namespace given by path; a path under /run/netns becomes a named ref (cheaper: `ip -n`). */
export function nsFromPath(path: string): NsRef {
  const m = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(path);
  return m ? { kind: 'named', name: m[1]! } : { kind: 'path', path };
}

export function nsKey(ns: NsRef): string {
  switch (ns.kind) {
    case 'self':
      return 'self';
    case 'named':
      return `named:${ns.name}`;
    case 'path':
      return `path:${ns.path}`;
  }
}

/** The argument `ip link ... netns X` accepts for this namespace (a name or a path). */
export function nsTarget(ns: NsRef): string {
  // `self` by its file: the agent's namespace, even from inside `ip -n`.
  return ns.kind === 'named' ? ns.name : nsFile(ns);
}

/** The namespace's nsfs file (what setns and nsenter --net= open). */
export function nsFile(ns: NsRef): string {
  switch (ns.kind) {
    case 'self':
      return `/proc/${process.pid}/ns/net`;
    case 'named':
      return `${NETNS_DIR}/${ns.name}`;
    case 'path':
      return ns.path;
  }
}

const NSFS_MAGIC = 0x6e736673;

/** True when the path is a live network namespace (an nsfs file), not just a leftover file. */
function isNamespaceFile(path: string): boolean {
  try {
    return statfsSync(path).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

export function nsExists(ns: NsRef): boolean {
  switch (ns.kind) {
    case 'self':
      return true;
    case 'named':
    case 'path':
      return isNamespaceFile(nsFile(ns));
  }
}

/** Command + args that run `tool args...` inside the namespace, with one process. */
export function inNs(ns: NsRef, tool: 'ip' | 'bridge' | 'nft' | 'sysctl' | 'ipvsadm' | 'conntrack' | 'unshare' | 'tc', args: string[]): [string, string[]] {
  if (ns.kind === 'self') return [tool, args];
  if (ns.kind === 'named' && (tool === 'ip' || tool === 'bridge')) return [tool, ['-n', ns.name, ...args]];
  return ['nsenter', [`--net=${nsFile(ns)}`, tool, ...args]];
}
