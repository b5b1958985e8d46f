import { readFile, writeFile } from 'node:fs/promises';
import { run } from './exec.js';
import { inNs, type NsRef } from './ns.js';

/**
 * Sets sysctls (dotted names) in a namespace, writing only those that differ. `ignoreMissing`:
 * a key the kernel does not have (its module not loaded, e.g. br_netfilter's) is skipped.
 */
export async function ensureSysctls(ns: NsRef, values: Record<string, string>, opts: { ignoreMissing?: boolean } = {}): Promise<void> {
  const entries = Object.entries(values);
  if (!entries.length) return;
  if (ns.kind === 'self') {
    for (const [k, v] of entries) {
      const path = `/proc/sys/${k.replace(/\./g, '/')}`;
      const cur = await readFile(path, 'utf8').then((t) => t.trim(), (e: NodeJS.ErrnoException) => {
        if (opts.ignoreMissing && e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (cur !== undefined && cur !== v) await writeFile(path, v);
    }
    return;
  }
  await run(...inNs(ns, 'sysctl', ['-q', ...(opts.ignoreMissing ? ['-e'] : []), '-w', ...entries.map(([k, v]) => `${k}=${v}`)]));
}

/** Reads sysctls (dotted names) in the agent's own namespace; a missing one reads as undefined. */
export async function readSysctls(names: string[]): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const name of names) {
    out[name] = await readFile(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').then((v) => v.trim(), () => undefined);
  }
  return out;
}
