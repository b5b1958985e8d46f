import { KernelError, run } from './exec.js';
import { inNs, nsKey, type NsRef } from './ns.js';
import { planNs } from './plan.js';
import { readNs } from './read.js';
import type { NsActual, NsDesired } from './state.js';

export interface ReconcileResult {
  /** Number of commands applied (0 = already converged). */
  applied: number;
  missing: string[];
}

/**
 * Desired-state reconciler for links, addresses, routes, neighbours and FDB entries.
 * One `ip -batch` (+ one `bridge -batch` when needed) per namespace per call. The last state it
 * read or produced is cached per namespace, so a change needs no read-back; a failed batch
 * drops the cache so the next call reads the truth again (`ip -batch` is not atomic).
 */
export class LinkReconciler {
  private readonly cache = new Map<string, NsActual>();

  /**
   * `assume`: when nothing is cached, plan against this state instead of reading (the caller just
   * made the namespace's content itself); if the assumption was wrong the batch fails, the cache is
   * dropped and the caller's retry reads the truth.
   */
  async reconcile(
    ns: NsRef,
    desired: NsDesired,
    opts: { fresh?: boolean; assume?: () => NsActual } = {},
  ): Promise<ReconcileResult> {
    const key = nsKey(ns);
    const wantFdb = desired.fdb.length > 0 || desired.links.some((l) => l.kind === 'vxlan');
    let actual = opts.fresh ? undefined : this.cache.get(key);
    if (!actual && opts.assume && !opts.fresh) actual = opts.assume();
    if (!actual) actual = await readNs(ns, wantFdb);
    const plan = planNs(desired, actual, ns);
    if (plan.conflicts.length) {
      this.cache.delete(key);
      throw new KernelError(`interface name(s) ${plan.conflicts.join(', ')} already taken in ${nsKey(ns)} by an interface vxmesh did not make`, 'reconcile', '');
    }
    try {
      for (const p of plan.pre) await runPreBatch(p.ns, p.ipLines);
      if (plan.ipLines.length) await run(...inNs(ns, 'ip', ['-batch', '-']), plan.ipLines.join('\n') + '\n');
      if (plan.bridgeLines.length) await run(...inNs(ns, 'bridge', ['-batch', '-']), plan.bridgeLines.join('\n') + '\n');
    } catch (e) {
      this.cache.delete(key);
      throw e instanceof KernelError ? e : new KernelError(String(e), 'ip -batch', '');
    }
    this.cache.set(key, plan.next);
    const applied = plan.pre.reduce((n, p) => n + p.ipLines.length, 0) + plan.ipLines.length + plan.bridgeLines.length;
    return { applied, missing: plan.missing };
  }

  /** Forget what is known about a namespace (it was deleted, or changed behind our back). */
  forget(ns: NsRef): void {
    this.cache.delete(nsKey(ns));
  }

  forgetAll(): void {
    this.cache.clear();
  }
}

/**
 * A batch that creates a link under a temporary name in another namespace and moves it away. A
 * crash between the two lines leaves the temporary link behind: it is deleted and made again.
 */
async function runPreBatch(ns: NsRef, lines: string[]): Promise<void> {
  const [cmd, args] = inNs(ns, 'ip', ['-batch', '-']);
  try {
    await run(cmd, args, lines.join('\n') + '\n');
  } catch (e) {
    const temp = /^link add (\S+)/.exec(lines[0] ?? '')?.[1];
    if (!(e instanceof KernelError) || !temp || !/File exists/.test(e.message)) throw e;
    await run(cmd, args, [`link del dev ${temp}`, ...lines].join('\n') + '\n');
  }
}

