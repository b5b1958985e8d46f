// The nftables LoadBalancer: one `inet vxmesh_lb` table per namespace (never the host firewall's
// `vxmesh` table), programmed through the kernel layer's NftTableReconciler in one transaction per
// sync. It remembers, per namespace, what each frontend looked like, so a sync touches only the
// frontends that changed: a backend more or less is a few map elements and one small chain.
import { KernelError, NftElements, NftTableReconciler, nsExists, nsKey, type NftChain, type NftReconcileResult, type NsRef } from '../../kernel/index.js';
import {
  FrontendUniqueness,
  LB_MAPS,
  LB_MAP_NAMES,
  LB_TABLE,
  assignSlots,
  backendElementsOf,
  checkFrontend,
  dispatchOf,
  lbTable,
  pickChain,
  snatMarks,
  type LbMapName,
} from './nft-lb-desired.js';
import type { LbFrontend, LoadBalancer } from './types.js';

interface FrontendState {
  /** A copy of what was programmed (the kernel's slot order is in `slots`). */
  fe: LbFrontend;
  matchKey: string;
  mark: number | undefined;
  /** Backend per slot, as in the kernel's backend map. */
  slots: string[];
  /** The pick chain its dispatch element jumps to; undefined while it has no backend (refused). */
  chain: string | undefined;
}

interface NsState {
  elements: Record<LbMapName, NftElements>;
  frontends: Map<string, FrontendState>;
  /** Pick chains in use, with the number of frontends jumping to each. */
  chains: Map<string, { chain: NftChain; refs: number }>;
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

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when the frontend is exactly what was programmed (cheap: no parsing, no allocation). */
function unchanged(prev: FrontendState, fe: LbFrontend, mark: number | undefined): boolean {
  const a = prev.fe.match;
  const b = fe.match;
  const sameMatch = a.kind === 'vip' ? b.kind === 'vip' && a.vip === b.vip : b.kind === 'port' && a.protocol === b.protocol && a.port === b.port && a.family === b.family;
  return sameMatch && prev.fe.targetPort === fe.targetPort && prev.fe.affinity === fe.affinity && prev.fe.snatTo === fe.snatTo && prev.mark === mark && sameStrings(prev.fe.backends, fe.backends);
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
   * Only frontends that differ from the last sync are checked and planned; the rest costs a few
   * comparisons each.
   */
  async syncWithResult(ns: NsRef, frontends: LbFrontend[], opts: { fresh?: boolean } = {}): Promise<NftReconcileResult> {
    const marks = snatMarks(frontends);
    const key = nsKey(ns);
    const st = this.state.get(key) ?? newNsState();
    // Check everything before changing anything: bad input changes nothing.
    const unique = new FrontendUniqueness();
    const changed: { fe: LbFrontend; matchKey: string; mark: number | undefined }[] = [];
    for (const fe of frontends) {
      const mark = fe.snatTo !== undefined ? marks.get(fe.snatTo) : undefined;
      const prev = st.frontends.get(fe.id);
      if (prev && unchanged(prev, fe, mark)) unique.add(fe, prev.matchKey);
      else {
        const { matchKey } = checkFrontend(fe);
        unique.add(fe, matchKey);
        changed.push({ fe, matchKey, mark });
      }
    }
    this.state.set(key, st);
    if (frontends.length !== st.frontends.size || changed.length) {
      const wanted = new Set(frontends.map((f) => f.id));
      for (const [id, f] of st.frontends) {
        if (wanted.has(id)) continue;
        this.dropFrontend(st, f);
        st.frontends.delete(id);
      }
    }
    for (const c of changed) this.applyFrontend(st, c.fe, c.matchKey, c.mark);
    const fresh = opts.fresh === true || st.needsRead;
    const chains = [...st.chains.values()].map((c) => c.chain);
    try {
      const r = await this.nft.reconcile(ns, lbTable(chains, marks, st.elements), { fresh });
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

  /** Programs one new or changed frontend: its backend slots, pick chain and dispatch element. */
  private applyFrontend(st: NsState, fe: LbFrontend, matchKey: string, mark: number | undefined): void {
    const prev = st.frontends.get(fe.id);
    const samePlace = prev !== undefined && prev.matchKey === matchKey;
    if (prev && !samePlace) this.dropFrontend(st, prev);
    const slots = assignSlots(samePlace ? prev.slots : undefined, fe.backends);
    const be = backendElementsOf(fe, slots);
    for (const e of be.elements) st.elements[be.map].set(e.key, e.value);
    if (samePlace) for (const e of backendElementsOf(prev.fe, prev.slots).elements.slice(slots.length)) st.elements[be.map].delete(e.key);
    const d = dispatchOf(fe);
    let chain: string | undefined;
    if (slots.length) {
      const c = pickChain(fe, slots.length, mark);
      chain = c.name;
      const held = st.chains.get(c.name);
      if (held) held.refs++;
      else st.chains.set(c.name, { chain: c, refs: 1 });
      st.elements[d.refuse].delete(d.key);
      st.elements[d.map].set(d.key, [`goto ${c.name}`]);
    } else {
      st.elements[d.map].delete(d.key);
      st.elements[d.refuse].set(d.key);
    }
    if (samePlace) this.unref(st, prev.chain);
    st.frontends.set(fe.id, { fe: { ...fe, match: { ...fe.match }, backends: [...fe.backends] }, matchKey, mark, slots, chain });
  }

  private dropFrontend(st: NsState, f: FrontendState): void {
    const d = dispatchOf(f.fe);
    st.elements[d.map].delete(d.key);
    st.elements[d.refuse].delete(d.key);
    const be = backendElementsOf(f.fe, f.slots);
    for (const e of be.elements) st.elements[be.map].delete(e.key);
    this.unref(st, f.chain);
  }

  private unref(st: NsState, chain: string | undefined): void {
    if (chain === undefined) return;
    const held = st.chains.get(chain);
    if (held && --held.refs === 0) st.chains.delete(chain);
  }
}
