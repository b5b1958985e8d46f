import { run, runProcess } from './exec.js';
import type { NftFamily } from './nft-model.js';
import { inNs, nsKey, type NsRef } from './ns.js';

/**
 * @deprecated Use NftTableReconciler (typed tables, diffed against the kernel, one transaction
 * with only what differs). This one deletes and recreates the table on every change.
 *
 * vxmesh's own nftables tables per namespace (`table <family> vxmesh`), each replaced atomically in
 * one `nft -f` transaction: create-if-missing, delete, define. Nothing outside them is touched.
 */
export class NftReconciler {
  private readonly applied = new Map<string, string>();

  constructor(private readonly table = 'vxmesh') {}

  async apply(ns: NsRef, body: string, opts: { force?: boolean; family?: NftFamily } = {}): Promise<boolean> {
    const family = opts.family ?? 'inet';
    const key = `${nsKey(ns)} ${family}`;
    if (!opts.force && this.applied.get(key) === body) return false;
    const t = `${family} ${this.table}`;
    const script = `table ${t} {}\ndelete table ${t}\ntable ${t} {\n${body}\n}\n`;
    try {
      await run(...inNs(ns, 'nft', ['-f', '-']), script);
    } catch (e) {
      this.applied.delete(key);
      throw e;
    }
    this.applied.set(key, body);
    return true;
  }

  async remove(ns: NsRef, family: NftFamily = 'inet'): Promise<void> {
    const t = `${family} ${this.table}`;
    await run(...inNs(ns, 'nft', ['-f', '-']), `table ${t} {}\ndelete table ${t}\n`);
    this.applied.delete(`${nsKey(ns)} ${family}`);
  }

  /** The table as nft prints it, or undefined when absent. */
  async list(ns: NsRef, family: NftFamily = 'inet'): Promise<string | undefined> {
    const r = await runProcess(...inNs(ns, 'nft', ['list', 'table', family, this.table]));
    return r.code === 0 ? r.stdout : undefined;
  }
}
