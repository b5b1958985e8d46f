import { KernelError, run } from './exec.js';
import type { NftActualTable, NftFamily, NftTable } from './nft-model.js';
import { needsKernelRead, planNftTable, rulesToCanonicalize, ruleText, setSpecText, validateNftTable, type NftPlanSummary } from './nft-plan.js';
import { canonRuleExpr, readNftTable } from './nft-read.js';
import { inNs, nsKey, type NsRef } from './ns.js';
import { observed, type KernelObserver } from './observer.js';
import { NftSessionLost, NftSessions, type NftSessionOptions } from './nft-session.js';
import { KeyedSerial } from '../util/keyed-serial.js';

export interface NftReconcileResult {
  /** Commands of the transaction that was applied; empty when the table was already converged. */
  commands: string[];
  summary: NftPlanSummary;
}

/**
 * Desired-state reconciler for vxmesh's nftables tables (kube-proxy's nftables proxier is the
 * model). Each call computes the difference between the desired table and the kernel's and
 * applies it as ONE `nft -f` transaction (atomic): single set/map elements are added or
 * deleted, only chains whose rules differ are flushed and refilled, missing objects are made
 * and extra ones deleted. The table itself is never deleted to apply a change.
 *
 * What the kernel holds is cached per namespace and table after each transaction, so a change
 * costs no read-back; `fresh: true` reads the kernel (`nft -j list table`) and so finds and
 * repairs drift (a rule or element removed by hand, a chain flushed, the table deleted).
 * A failed transaction drops the cache, so the next call reads the truth.
 *
 * Rules read from the kernel are compared in the kernel's own form: a rule text is written once
 * into a scratch table, listed and the scratch table deleted; the result is remembered per text.
 */
export class NftTableReconciler {
  private readonly cache = new Map<string, NftActualTable>();
  private readonly canonical = new Map<string, string>();
  /** The last call per table: calls on one table run one after another (each plans on the previous's result). */
  private readonly queue = new KeyedSerial();

  /** Transactions go through kept `nft -i` sessions when they fit on one line (nft-session.ts). */
  private readonly sessions: NftSessions;

  /**
   * `observer` hears of every transaction and of drift a fresh read repaired (metrics);
   * `sessions: false` runs every transaction as its own `nft -f`.
   */
  constructor(
    private readonly observer?: KernelObserver,
    opts: { sessions?: NftSessionOptions | false } = {},
  ) {
    this.sessions = new NftSessions(opts.sessions);
  }

  reconcile(ns: NsRef, desired: NftTable, opts: { fresh?: boolean } = {}): Promise<NftReconcileResult> {
    validateNftTable(desired);
    const key = cacheKey(ns, desired.family, desired.name);
    return this.queue.run(key, () => this.reconcileNow(ns, desired, key, opts));
  }

  private async reconcileNow(ns: NsRef, desired: NftTable, key: string, opts: { fresh?: boolean }, retried = false): Promise<NftReconcileResult> {
    let actual = opts.fresh ? undefined : this.cache.get(key);
    if (needsKernelRead(desired, actual)) actual = undefined;
    if (!actual) {
      this.cache.delete(key);
      actual = await readNftTable(ns, desired.family, desired.name);
      const lookup = this.lookup(desired.family);
      const unknown = rulesToCanonicalize(desired, actual, lookup);
      if (unknown.length) await this.canonicalize(ns, desired, unknown);
    }
    const plan = planNftTable(desired, actual, this.lookup(desired.family));
    if (plan.commands.length) {
      try {
        await observed(this.observer, 'nft', () => this.sessions.apply(ns, plan.commands));
      } catch (e) {
        this.cache.delete(key);
        // The kept nft process died mid-transaction: read what the kernel has and plan again, once.
        if (e instanceof NftSessionLost && !retried) return this.reconcileNow(ns, desired, key, { fresh: true }, true);
        throw e instanceof KernelError ? e : new KernelError(String(e), 'nft -f -', '');
      }
    }
    this.cache.set(key, plan.next);
    if (opts.fresh && plan.commands.length) this.observer?.driftRepaired('nft', plan.commands.length);
    return { commands: plan.commands, summary: plan.summary };
  }

  /**
   * Dry run: reads the table afresh and returns the transaction reconcile would apply (empty: no
   * drift), changing neither the table nor the cache. Rule texts may be canonicalized in a scratch
   * table on the way (as reconcile does). For `vxmesh doctor`.
   */
  diff(ns: NsRef, desired: NftTable): Promise<string[]> {
    validateNftTable(desired);
    const key = cacheKey(ns, desired.family, desired.name);
    const read = async () => {
      const actual = await readNftTable(ns, desired.family, desired.name);
      const unknown = rulesToCanonicalize(desired, actual, this.lookup(desired.family));
      if (unknown.length) await this.canonicalize(ns, desired, unknown);
      return planNftTable(desired, actual, this.lookup(desired.family)).commands;
    };
    return this.queue.run(key, read);
  }

  /** Deletes the table (harmless when it does not exist). */
  async remove(ns: NsRef, family: NftFamily, name: string): Promise<void> {
    const t = `${family} ${name}`;
    this.cache.delete(cacheKey(ns, family, name));
    this.sessions.release(ns);
    await run(...inNs(ns, 'nft', ['-f', '-']), `table ${t} {}\ndelete table ${t}\n`);
  }

  /** Forget what is known about a namespace's tables (it was deleted, or changed behind our back), and let it go. */
  forget(ns: NsRef): void {
    const prefix = `${nsKey(ns)} `;
    for (const k of [...this.cache.keys()]) if (k.startsWith(prefix)) this.cache.delete(k);
    this.sessions.release(ns);
  }

  forgetAll(): void {
    this.cache.clear();
  }

  /** Ends the kept nft sessions (each ends once its last transaction is answered). */
  close(): void {
    this.sessions.closeAll();
  }

  private lookup(family: NftFamily): (match: string) => string | undefined {
    return (match) => this.canonical.get(`${family} ${match}`);
  }

  /**
   * Learns the kernel's form of rule texts: writes them into a scratch table that has the desired
   * table's sets and chains (as inert regular chains, so no hook sees them), lists it, deletes it.
   */
  private async canonicalize(ns: NsRef, desired: NftTable, texts: string[]): Promise<void> {
    const scratch = `${desired.name.slice(0, 50)}_canon`;
    const S = `${desired.family} ${scratch}`;
    const names = new Set(desired.chains.map((c) => c.name));
    let holder = 'canon_rules';
    while (names.has(holder)) holder += '_';
    const lines = [
      `table ${S} {}`,
      `delete table ${S}`,
      `add table ${S}`,
      ...desired.chains.map((c) => `add chain ${S} ${c.name}`),
      ...desired.sets.map((s) => `add ${setSpecText(s).replace('%T', S)}`),
      `add chain ${S} ${holder}`,
      ...texts.map((t) => `add rule ${S} ${holder} ${ruleText({ match: t })}`),
    ];
    const nft = (args: string[], input?: string) => run(...inNs(ns, 'nft', args), input);
    try {
      await nft(['-f', '-'], lines.join('\n') + '\n');
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new KernelError(`nft table ${desired.family} ${desired.name}: a rule does not parse: ${msg}`, 'nft -f -', msg);
    }
    try {
      const doc = JSON.parse(await nft(['-j', 'list', 'chain', desired.family, scratch, holder])) as { nftables: { rule?: { expr?: unknown[] } }[] };
      const rules = doc.nftables.flatMap((o) => (o.rule ? [o.rule] : []));
      if (rules.length !== texts.length) throw new KernelError(`canonicalizing ${texts.length} rules listed ${rules.length}`, 'nft -j list chain', '');
      texts.forEach((t, i) => this.canonical.set(`${desired.family} ${t}`, canonRuleExpr(rules[i]!.expr ?? [])));
    } finally {
      await nft(['-f', '-'], `table ${S} {}\ndelete table ${S}\n`);
    }
  }
}

function cacheKey(ns: NsRef, family: NftFamily, name: string): string {
  return `${nsKey(ns)} ${family} ${name}`;
}
