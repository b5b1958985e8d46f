import { KernelError, run } from './exec.js';
import { observed, type KernelObserver } from './observer.js';
import { addClsactQdisc } from './native.js';
import { inNs, nsFile, nsKey, type NsRef } from './ns.js';
import { planNs } from './plan.js';
import { readNs } from './read.js';
import type { NsActual, NsDesired } from './state.js';

/** What a reconcile would change in a namespace (LinkReconciler.diff). */
export interface LinkDrift {
  /** Commands that would repair it, one per change (empty: no drift). */
  commands: string[];
  /** Desired links that are absent and cannot be made in this namespace alone (e.g. a veth end). */
  missing: string[];
  /** Desired names held by an interface vxmesh did not make. */
  conflicts: string[];
}

/** A command line as a person would type it (arguments with spaces quoted). */
export function shellCommand(cmd: string, args: string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export interface ReconcileResult {
  /** Number of commands applied (0 = already converged). */
  applied: number;
  missing: string[];
  /** Desired links that are new devices here (NsPlan.arrived). */
  arrived: string[];
  /**
   * Links whose clsact qdisc (LinkSpec.clsact) could not be added, each with the reason. Not a
   * failure of the reconcile: the link works; whoever puts a tc program on it adds the qdisc later.
   */
  clsactFailed: string[];
}

/**
 * Desired-state reconciler for links, addresses, routes, neighbours and FDB entries.
 * One `ip -batch` (+ one `bridge -batch` when needed) per namespace per call. The last state it
 * read or produced is cached per namespace, so a change needs no read-back; a failed batch
 * drops the cache so the next call reads the truth again (`ip -batch` is not atomic).
 */
export class LinkReconciler {
  private readonly cache = new Map<string, NsActual>();

  /** `observer` hears of every batch and of drift a fresh read repaired (metrics). */
  constructor(private readonly observer?: KernelObserver) {}

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
    let clsactFailed: string[];
    try {
      for (const p of plan.pre) await observed(this.observer, 'ip', () => runPreBatch(p.ns, p.ipLines));
      clsactFailed = addClsactQdiscs(ns, plan.clsact);
      if (plan.ipLines.length) await observed(this.observer, 'ip', () => run(...inNs(ns, 'ip', ['-batch', '-']), plan.ipLines.join('\n') + '\n'));
      if (plan.bridgeLines.length) await observed(this.observer, 'bridge', () => run(...inNs(ns, 'bridge', ['-batch', '-']), plan.bridgeLines.join('\n') + '\n'));
    } catch (e) {
      this.cache.delete(key);
      throw e instanceof KernelError ? e : new KernelError(String(e), 'ip -batch', '');
    }
    this.cache.set(key, plan.next);
    const applied = plan.pre.reduce((n, p) => n + p.ipLines.length, 0) + plan.ipLines.length + plan.bridgeLines.length;
    if (opts.fresh && applied > 0) this.observer?.driftRepaired('links', applied);
    return { applied, missing: plan.missing, arrived: plan.arrived, clsactFailed };
  }

  /**
   * Dry run: reads the namespace afresh and says what reconcile would do, as shell commands a person
   * can run, changing nothing (neither the kernel nor the cache). For `vxmesh doctor`.
   */
  async diff(ns: NsRef, desired: NsDesired): Promise<LinkDrift> {
    const wantFdb = desired.fdb.length > 0 || desired.links.some((l) => l.kind === 'vxlan');
    const plan = planNs(desired, await readNs(ns, wantFdb), ns);
    const shell = (where: NsRef, tool: 'ip' | 'bridge', line: string) => shellCommand(...inNs(where, tool, line.split(' ')));
    return {
      commands: [
        ...plan.pre.flatMap((p) => p.ipLines.map((l) => shell(p.ns, 'ip', l))),
        ...plan.ipLines.map((l) => shell(ns, 'ip', l)),
        ...plan.bridgeLines.map((l) => shell(ns, 'bridge', l)),
      ],
      missing: plan.missing,
      conflicts: plan.conflicts,
    };
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

/** LinkSpec.clsact: in-process (no tc), before the batch that sets the devices up. Returns the failures. */
function addClsactQdiscs(ns: NsRef, devices: string[]): string[] {
  const failed: string[] = [];
  for (const dev of devices) {
    try {
      addClsactQdisc(nsFile(ns), dev);
    } catch (e) {
      failed.push(`${dev}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failed;
}
