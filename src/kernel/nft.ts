import { run, runProcess } from './exec.js';
import { inNs, nsKey, type NsRef } from './ns.js';

/**
 * vxmesh's own nftables table per namespace (`table inet vxmesh`), replaced atomically in one
 * `nft -f` transaction: create-if-missing, delete, define. Nothing outside the table is touched.
 */
export class NftReconciler {
  private readonly applied = new Map<string, string>();

  constructor(private readonly table = 'vxmesh') {}

  async apply(ns: NsRef, body: string, opts: { force?: boolean } = {}): Promise<boolean> {
    const key = nsKey(ns);
    if (!opts.force && this.applied.get(key) === body) return false;
    const script = `table inet ${this.table} {}\ndelete table inet ${this.table}\ntable inet ${this.table} {\n${body}\n}\n`;
    try {
      await run(...inNs(ns, 'nft', ['-f', '-']), script);
    } catch (e) {
      this.applied.delete(key);
      throw e;
    }
    this.applied.set(key, body);
    return true;
  }

  async remove(ns: NsRef): Promise<void> {
    await run(...inNs(ns, 'nft', ['-f', '-']), `table inet ${this.table} {}\ndelete table inet ${this.table}\n`);
    this.applied.delete(nsKey(ns));
  }

  /** The table as nft prints it, or undefined when absent. */
  async list(ns: NsRef): Promise<string | undefined> {
    const r = await runProcess(...inNs(ns, 'nft', ['list', 'table', 'inet', this.table]));
    return r.code === 0 ? r.stdout : undefined;
  }
}
