import { readdir } from 'node:fs/promises';
import { run } from './exec.js';
import { NETNS_DIR } from './ns.js';

/** Named namespaces (under /run/netns) whose names start with `prefix`. */
export async function listNamespaces(prefix: string): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).filter((n) => n.startsWith(prefix)).sort();
  } catch {
    return [];
  }
}

/**
 * Makes exactly `desired` exist among the namespaces named with `prefix`: creates the missing
 * ones and deletes the others, in one `ip -batch`. Returns what it created and deleted.
 */
export async function reconcileNamespaces(
  prefix: string,
  desired: Iterable<string>,
): Promise<{ created: string[]; deleted: string[] }> {
  const want = new Set(desired);
  for (const n of want) {
    if (!n.startsWith(prefix)) throw new Error(`namespace ${n} does not carry the prefix ${prefix}`);
  }
  const have = new Set(await listNamespaces(prefix));
  const created = [...want].filter((n) => !have.has(n));
  const deleted = [...have].filter((n) => !want.has(n));
  const lines = [...deleted.map((n) => `netns del ${n}`), ...created.map((n) => `netns add ${n}`)];
  if (lines.length) await run('ip', ['-batch', '-'], lines.join('\n') + '\n');
  return { created, deleted };
}
