// The nftables LoadBalancer: one `inet vxmesh_lb` table per namespace (never the host firewall's
// `vxmesh` table), programmed through the kernel layer's NftTableReconciler in one transaction per
// sync. It remembers, per namespace, what each frontend looked like, so a sync touches only the
// frontends that changed: a backend more or less is a few map elements and one small chain.
import { KernelError, NftElements, NftTableReconciler, nsExists, nsKey, type NftChain, type NftReconcileResult, type NsRef } from '../../kernel/index.js';
import {
  LB_MAPS,
  LB_MAP_NAMES,
  LB_TABLE,
  assignSlots,
  backendElementsOf,
  dispatchOf,
  frontendChain,
  frontendChainName,
  lbTable,
  snatMarks,
  validateFrontends,
  type LbMapName,
} from './nft-lb-desired.js';
import type { LbFrontend, LoadBalancer } from './types.js';

interface FrontendState {
  /** Everything that decides the frontend's kernel objects, as one string (unchanged: nothing to do). */
  fingerprint: string;
  dispatchKey: string;
  fe: LbFrontend;
  slots: string[];
}

interface NsState {
  elements: Record<LbMapName, NftElements>;
  frontends: Map<string, FrontendState>;
  chains: Map<string, NftChain>;
  /** True until a sync has read the kernel's table (first use, or after a failed transaction). */
  needsRead: boolean;
}

/** Journal long enough that a full re-programming (10,000 services x 10 backends) stays O(changes). */
const JOURNAL_LIMIT = 1 << 20;

function newNsState(): NsState {
  const elements = {} as Record<LbMapName, NftElements>;
  for (const name of LB_MAP_NAMES) elements[name] = new NftElements(LB_MAPS[name].type, LB_MAPS[name].value, JOURNAL_LIMIT);
  return { elements, frontends: new Map(), chains: new Map(), needsRead: true };
}

export class NftLoadBalancer implements LoadBalancer {
  readonly kind = 'nftables' as const;
  private readonly state = new Map<string, NsState>();

  constructor(private readonly nft: NftTableReconciler = new NftTableReconciler()) {}

  async sync(ns: NsRef, frontends: LbFrontend[], opts: { fresh?: boolean } = {}): Promise<void> {
    await this.syncWithResult(ns, frontends, opts);
  }

  /**
   * sync, returning the transaction that was applied (tests and benchmarks assert its size).
   * `fresh: true` reads the kernel's table and repairs drift (done anyway on a namespace's first sync).
   */
  async syncWithResult(ns: NsRef, frontends: LbFrontend[], opts: { fresh?: boolean } = {}): Promise<NftReconcileResult> {
    validateFrontends(frontends);
    const marks = snatMarks(frontends);
    const key = nsKey(ns);
    let st = this.state.get(key);
    if (!st) {
      st = newNsState();
      this.state.set(key, st);
    }
    const seen = new Set<string>();
    for (const fe of frontends) {
      seen.add(fe.id);
      const mark = fe.snatTo !== undefined ? marks.get(fe.snatTo) : undefined;
      const d = dispatchOf(fe);
      const dispatchKey = `${d.map} ${d.key.join(' ')}`;
      const fingerprint = `${dispatchKey}|${fe.targetPort ?? ''}|${fe.affinity}|${mark ?? ''}|${fe.backends.join(',')}`;
      const prev = st.frontends.get(fe.id);
      if (prev?.fingerprint === fingerprint) continue;
      const samePlace = prev?.dispatchKey === dispatchKey;
      if (prev && !samePlace) this.dropFrontend(st, prev);
      const oldSlots = samePlace ? prev.slots : [];
      const slots = assignSlots(samePlace ? prev.slots : undefined, fe.backends);
      const be = backendElementsOf(fe, slots);
      for (const e of be.elements) st.elements[be.map].set(e.key, e.value);
      for (const e of backendElementsOf(fe, oldSlots).elements.slice(slots.length)) st.elements[be.map].delete(e.key);
      const name = frontendChainName(fe.id);
      if (slots.length) {
        const chain = frontendChain(fe, slots.length, mark);
        st.elements[d.refuse].delete(d.key);
        st.elements[d.map].set(d.key, [`goto ${name}`]);
        st.chains.set(name, chain);
      } else {
        st.elements[d.map].delete(d.key);
        st.elements[d.refuse].set(d.key);
        st.chains.delete(name);
      }
      st.frontends.set(fe.id, { fingerprint, dispatchKey, fe: { ...fe, match: { ...fe.match }, backends: [] }, slots });
    }
    for (const [id, f] of st.frontends) {
      if (seen.has(id)) continue;
      this.dropFrontend(st, f);
      st.frontends.delete(id);
    }
    const fresh = opts.fresh === true || st.needsRead;
    try {
      const r = await this.nft.reconcile(ns, lbTable(st.chains.values(), marks, st.elements), { fresh });
      st.needsRead = false;
      return r;
    } catch (e) {
      st.needsRead = true; // the kernel keeps what it had: read it next time
      throw e;
    }
  }

  async clear(ns: NsRef): Promise<void> {
    this.state.delete(nsKey(ns));
    this.nft.forget(ns);
    try {
      await this.nft.remove(ns, LB_TABLE.family, LB_TABLE.name);
    } catch (e) {
      if (e instanceof KernelError && !nsExists(ns)) return; // the namespace is gone, and its table with it
      throw e;
    }
  }

  private dropFrontend(st: NsState, f: FrontendState): void {
    const d = dispatchOf(f.fe);
    st.elements[d.map].delete(d.key);
    st.elements[d.refuse].delete(d.key);
    const be = backendElementsOf(f.fe, f.slots);
    for (const e of be.elements) st.elements[be.map].delete(e.key);
    st.chains.delete(frontendChainName(f.fe.id));
  }
}
