// IPVS in a namespace through ipvsadm: read (`ipvsadm -S -n`), plan (ipvs-model.ts), apply ONE
// `ipvsadm -R` restore per change set. Destinations that leave are drained (weight 0) and deleted
// once they hold no established connection or the grace period ran out. Only fwmark services the
// caller owns are touched. Also: the policy route that makes marked packets local (IPVS schedules
// in LOCAL_IN, so a VIP that is no local address must still be delivered locally).
import { KernelError, run, runProcess } from './exec.js';
import {
  parseIpvsConns,
  parseIpvsSave,
  planIpvs,
  planIpvsClear,
  type IpvsFwmarkSpec,
  type IpvsService,
} from './ipvs-model.js';
import { inNs, nsExists, nsKey, SELF_NS, type NsRef } from './ns.js';
import { observed, type KernelObserver } from './observer.js';
import { KeyedSerial } from '../util/keyed-serial.js';

/**
 * True when IPVS can be programmed in the namespace: ipvsadm is installed and the kernel answers
 * (ipvsadm loads ip_vs itself where it is a module). False on kernels without ip_vs.
 */
export async function ipvsAvailable(ns: NsRef = SELF_NS): Promise<boolean> {
  const r = await runProcess(...inNs(ns, 'ipvsadm', ['-L', '-n'])).catch(() => undefined);
  return r !== undefined && r.code === 0 && r.stdout.includes('IP Virtual Server');
}

export async function readIpvs(ns: NsRef): Promise<IpvsService[]> {
  const out = await run(...inNs(ns, 'ipvsadm', ['-S', '-n']));
  return parseIpvsSave(out);
}

export async function readIpvsConns(ns: NsRef): Promise<ReturnType<typeof parseIpvsConns>> {
  return parseIpvsConns(await run(...inNs(ns, 'ipvsadm', ['-L', '-n'])));
}

/** One `ipvsadm -R` restore; ipvsadm goes on after a failing line (exit 0), so any stderr is a failure. */
async function restore(ns: NsRef, lines: string[], observer?: KernelObserver): Promise<void> {
  if (!lines.length) return;
  const [cmd, args] = inNs(ns, 'ipvsadm', ['-R']);
  const input = lines.join('\n') + '\n';
  await observed(observer, 'ipvsadm', async () => {
    const r = await runProcess(cmd, args, input);
    const err = r.stderr.trim();
    if (r.code !== 0 || err) {
      throw new KernelError(`ipvsadm -R in ${nsKey(ns)}: ${err || `exit code ${r.code}`} (restore was:\n${input.trimEnd()})`, `${cmd} ${args.join(' ')}`, r.stderr);
    }
  });
}

export interface IpvsReconcileOptions {
  /** The fwmarks this caller owns: services with other marks (or no mark) are never touched. */
  owns: (fwmark: number) => boolean;
  /** Longest a leaving destination is drained before it is deleted with connections still open. */
  quiesceMs: number;
}

export interface IpvsReconcileResult {
  /** The restore lines applied (empty: converged). */
  lines: string[];
  /** Destinations still draining (a later reconcile deletes them). */
  draining: number;
}

/**
 * Converges the owned fwmark services of each namespace to the desired ones, reading the kernel
 * each time (the truth after a restart or a partial restore). Calls per namespace run in order.
 */
export class IpvsReconciler {
  /** Per namespace: draining destination -> since (ms). Lost on restart: a weight-0 leftover starts its grace anew. */
  private readonly draining = new Map<string, Map<string, number>>();
  private readonly queue = new KeyedSerial();

  constructor(
    private readonly observer?: KernelObserver,
    private readonly now: () => number = Date.now,
  ) {}

  reconcile(ns: NsRef, desired: IpvsFwmarkSpec[], opts: IpvsReconcileOptions): Promise<IpvsReconcileResult> {
    return this.serial(ns, () => this.reconcileNow(ns, desired, opts));
  }

  /** Deletes every owned service in the namespace (nothing when the namespace is gone). */
  clear(ns: NsRef, owns: (fwmark: number) => boolean): Promise<void> {
    return this.serial(ns, async () => {
      this.draining.delete(nsKey(ns));
      if (!nsExists(ns)) return;
      const lines = planIpvsClear(await readIpvs(ns), owns);
      await restore(ns, lines, this.observer);
    });
  }

  private async reconcileNow(ns: NsRef, desired: IpvsFwmarkSpec[], opts: IpvsReconcileOptions): Promise<IpvsReconcileResult> {
    const key = nsKey(ns);
    const actual = await readIpvs(ns);
    const base = { desired, actual, owns: opts.owns, quiescing: this.draining.get(key) ?? new Map<string, number>(), now: this.now(), quiesceMs: opts.quiesceMs };
    let plan = planIpvs(base);
    if (plan.needsConns) plan = planIpvs({ ...base, conns: await readIpvsConns(ns) });
    await restore(ns, plan.lines, this.observer);
    if (plan.quiescing.size) this.draining.set(key, plan.quiescing);
    else this.draining.delete(key);
    return { lines: plan.lines, draining: plan.quiescing.size };
  }

  private serial<T>(ns: NsRef, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(nsKey(ns), fn);
  }
}

/** Marked packets are delivered locally: `ip rule pref P fwmark M/MASK lookup T` + `local default dev lo table T`. */
export interface MarkRouting {
  fwmark: number;
  mask: number;
  table: number;
  pref: number;
}

const hex = (n: number) => `0x${n.toString(16)}`;

async function ruleExists(ns: NsRef, family: 4 | 6, r: MarkRouting): Promise<boolean> {
  const out = await run(...inNs(ns, 'ip', ['-j', `-${family}`, 'rule', 'list', 'pref', String(r.pref)]));
  const rules = JSON.parse(out || '[]') as { table?: string | number }[];
  return rules.some((x) => String(x.table) === String(r.table));
}

/** Makes the mark range's policy route exist for the family (idempotent). */
export async function ensureMarkRouting(ns: NsRef, family: 4 | 6, r: MarkRouting): Promise<void> {
  const any = family === 4 ? '0.0.0.0/0' : '::/0';
  await run(...inNs(ns, 'ip', [`-${family}`, 'route', 'replace', 'local', any, 'dev', 'lo', 'table', String(r.table)]));
  if (!(await ruleExists(ns, family, r))) {
    await run(...inNs(ns, 'ip', [`-${family}`, 'rule', 'add', 'pref', String(r.pref), 'fwmark', `${hex(r.fwmark)}/${hex(r.mask)}`, 'lookup', String(r.table)]));
  }
}

/** Removes the policy route of both families (absent parts are fine). */
export async function removeMarkRouting(ns: NsRef, r: MarkRouting): Promise<void> {
  if (!nsExists(ns)) return;
  for (const family of [4, 6] as const) {
    while (await ruleExists(ns, family, r).catch(() => false)) {
      await run(...inNs(ns, 'ip', [`-${family}`, 'rule', 'del', 'pref', String(r.pref), 'lookup', String(r.table)]));
    }
    await runProcess(...inNs(ns, 'ip', [`-${family}`, 'route', 'flush', 'table', String(r.table)]));
  }
}
