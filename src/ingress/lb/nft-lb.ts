// The nftables LoadBalancer: one `inet vxmesh_lb` table per namespace (never the host firewall's
// `vxmesh` table), programmed through the kernel layer's NftTableReconciler in one transaction per
// call. It remembers, per namespace, what each frontend looked like, so a call touches only the
// frontends that changed: a backend more or less is a few map elements (see nft-lb-desired.ts).
import { VxError } from '../../errors.js';
import { KernelError, NftElements, NftTableReconciler, nsExists, nsKey, readNftTable, type NftChain, type NftReconcileResult, type NsRef } from '../../kernel/index.js';
import {
  LB_MAPS,
  LB_MAP_NAMES,
  LB_TABLE,
  MAX_SNAT_ADDRESSES,
  assignSlots,
  backendElementsOf,
  checkFrontend,
  dispatchOf,
  frontendError,
  lbTable,
  pickChain,
  slotSeedKey,
  slotsFromKernel,
  snatMark,
  type LbMapName,
} from './nft-lb-desired.js';
import { nftLbDrift } from './lb-drift.js';
import type { LbFrontend, LoadBalancer } from './types.js';

interface FrontendState {
  /** A copy of what was programmed (the kernel's slot order is in `slots`). */
  fe: LbFrontend;
  matchKey: string;
  /** Backend per slot, as in the kernel's backend map. */
  slots: string[];
  /** The pick chain its dispatch element jumps to; undefined while it has no backend (refused). */
  chain: string | undefined;
  /** The snat address it holds a mark for (snatTo, while it has backends). */
  snat: string | undefined;
  /** The sync (NsState.syncs) that last listed it. */
  seen: number;
}

interface Changed {
  fe: LbFrontend;
  matchKey: string;
}

interface NsState {
  elements: Record<LbMapName, NftElements>;
  frontends: Map<string, FrontendState>;
  /** Pick chains in use, with the number of frontends jumping to each. */
  chains: Map<string, { chain: NftChain; refs: number }>;
  /** Which frontend holds each match (VIP, or protocol/port/family). */
  byMatch: Map<string, string>;
  /** snat address -> its ct mark and the number of frontends using it (marks stay put while used). */
  snat: Map<string, { mark: number; refs: number }>;
  /** Syncs so far (stamps FrontendState.seen). */
  syncs: number;
  /** True until a call has read the kernel's table (first use, or after a failed transaction). */
  needsRead: boolean;
  /** First use: the slots a previous agent left in the kernel (read once, used until the first commit). */
  seed?: Promise<Map<string, string[]>>;
  seeded?: Map<string, string[]>;
}

/** Journal long enough that a full re-programming (10,000 services x 10 backends) stays O(changes). */
const JOURNAL_LIMIT = 1 << 20;

function newNsState(): NsState {
  const elements = {} as Record<LbMapName, NftElements>;
  for (const name of LB_MAP_NAMES) elements[name] = new NftElements(LB_MAPS[name].type, LB_MAPS[name].value, JOURNAL_LIMIT);
  return { elements, frontends: new Map(), chains: new Map(), byMatch: new Map(), snat: new Map(), syncs: 0, needsRead: true };
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when the frontend is exactly what was programmed (cheap: no parsing, no allocation). */
function unchanged(prev: FrontendState, fe: LbFrontend): boolean {
  const a = prev.fe.match;
  const b = fe.match;
  const sameMatch = a.kind === 'vip' ? b.kind === 'vip' && a.vip === b.vip : b.kind === 'port' && a.protocol === b.protocol && a.port === b.port && a.family === b.family;
  return sameMatch && prev.fe.targetPort === fe.targetPort && prev.fe.affinity === fe.affinity && prev.fe.snatTo === fe.snatTo && sameStrings(prev.fe.backends, fe.backends);
}

export class NftLoadBalancer implements LoadBalancer {
  readonly kind = 'nftables' as const;
  private readonly state = new Map<string, NsState>();

  /** `readTable` reads what a previous agent left (tests pass a stand-in that touches no kernel). */
  constructor(
    private readonly nft: NftTableReconciler = new NftTableReconciler(),
    private readonly readTable: typeof readNftTable = readNftTable,
  ) {}

  async sync(ns: NsRef, frontends: LbFrontend[], opts: { fresh?: boolean } = {}): Promise<void> {
    await this.syncWithResult(ns, frontends, opts);
  }

  /**
   * sync, returning the transaction that was applied (tests and benchmarks assert its size).
   * `fresh: true` reads the kernel's table and repairs drift (done anyway on a namespace's first call).
   * Only frontends that differ from the last call are checked and planned; each of the others
   * costs a lookup and a few comparisons (O(frontends), ~0.1 us each; `patch` avoids even that).
   */
  async syncWithResult(ns: NsRef, frontends: LbFrontend[], opts: { fresh?: boolean } = {}): Promise<NftReconcileResult> {
    const st = await this.nsState(ns);
    const stamp = ++st.syncs;
    let known = 0;
    const changed: Changed[] = [];
    const changedIds = new Set<string>();
    for (const fe of frontends) {
      const prev = st.frontends.get(fe.id);
      if (changedIds.has(fe.id) || prev?.seen === stamp) throw frontendError(fe, 'id is given twice');
      if (prev) {
        prev.seen = stamp;
        known++;
        if (unchanged(prev, fe)) continue;
      }
      changed.push({ fe, matchKey: checkFrontend(fe).matchKey });
      changedIds.add(fe.id);
    }
    // The programmed owner of a match collides only if it stays where it is (listed and unchanged).
    this.checkCollisions(st, changed, (id) => st.frontends.get(id)?.seen === stamp && !changedIds.has(id));
    const leaving: string[] = [];
    if (known < st.frontends.size) for (const [id, f] of st.frontends) if (f.seen !== stamp) leaving.push(id);
    return this.commit(ns, st, leaving, changed, opts);
  }

  /**
   * The precise hot path, for a caller that knows what changed: adds or replaces `upsert`
   * frontends and removes the `remove` ids (unknown ids are ignored); every other frontend stays
   * as it is. O(changes) whatever the number of frontends. One transaction.
   */
  async patch(ns: NsRef, change: { upsert?: LbFrontend[]; remove?: string[] }, opts: { fresh?: boolean } = {}): Promise<NftReconcileResult> {
    const st = await this.nsState(ns);
    const remove = new Set(change.remove ?? []);
    const changed: Changed[] = [];
    const listed = new Set<string>();
    const changedIds = new Set<string>();
    for (const fe of change.upsert ?? []) {
      if (listed.has(fe.id)) throw frontendError(fe, 'id is given twice');
      if (remove.has(fe.id)) throw frontendError(fe, 'is both upserted and removed');
      listed.add(fe.id);
      const prev = st.frontends.get(fe.id);
      if (prev && unchanged(prev, fe)) continue;
      changed.push({ fe, matchKey: checkFrontend(fe).matchKey });
      changedIds.add(fe.id);
    }
    this.checkCollisions(st, changed, (id) => !remove.has(id) && !changedIds.has(id));
    return this.commit(ns, st, [...remove].filter((id) => st.frontends.has(id)), changed, opts);
  }

  async drift(ns: NsRef, frontends: LbFrontend[]): Promise<string[]> {
    return nftLbDrift(await this.readTable(ns, LB_TABLE.family, LB_TABLE.name), frontends);
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

  /** The namespace's state; on first use, with the slots found in the kernel (see slotsFromKernel). */
  private async nsState(ns: NsRef): Promise<NsState> {
    const key = nsKey(ns);
    let st = this.state.get(key);
    if (!st) {
      st = newNsState();
      st.seed = this.readTable(ns, LB_TABLE.family, LB_TABLE.name).then(slotsFromKernel, () => new Map<string, string[]>());
      this.state.set(key, st);
    }
    const pending = st.seed;
    if (pending !== undefined) {
      const seeded = await pending;
      if (st.seed === pending) {
        // The first caller to resume takes the seed; concurrent first calls share it.
        st.seeded = seeded;
        st.seed = undefined;
      }
    }
    return st;
  }

  /** Throws when two changed frontends, or a changed one and one that `stays`, catch the same traffic. */
  private checkCollisions(st: NsState, changed: readonly Changed[], stays: (id: string) => boolean): void {
    const claimed = new Map<string, string>();
    const newSnat = new Set<string>();
    for (const c of changed) {
      const other = claimed.get(c.matchKey) ?? st.byMatch.get(c.matchKey);
      if (other !== undefined && other !== c.fe.id && (claimed.has(c.matchKey) || stays(other))) {
        throw frontendError(c.fe, `matches the same traffic as frontend ${JSON.stringify(other)}`);
      }
      claimed.set(c.matchKey, c.fe.id);
      if (c.fe.snatTo !== undefined && !st.snat.has(c.fe.snatTo)) newSnat.add(c.fe.snatTo);
    }
    if (st.snat.size + newSnat.size > MAX_SNAT_ADDRESSES) {
      throw new VxError('INVALID_ARGUMENT', `load balancer: at most ${MAX_SNAT_ADDRESSES} distinct snatTo addresses per namespace`);
    }
  }

  /** Changes the state (input already checked) and applies it in one transaction. */
  private async commit(ns: NsRef, st: NsState, leaving: readonly string[], changed: readonly Changed[], opts: { fresh?: boolean }): Promise<NftReconcileResult> {
    // Drop what leaves (and what moves to another match) before adding: a frontend may take over
    // the VIP or port another one gives up in the same call.
    for (const id of leaving) this.dropFrontend(st, id);
    for (const c of changed) if (st.frontends.get(c.fe.id)?.matchKey !== c.matchKey) this.dropFrontend(st, c.fe.id);
    for (const c of changed) this.applyFrontend(st, c.fe, c.matchKey);
    const fresh = opts.fresh === true || st.needsRead;
    const chains = [...st.chains.values()].map((c) => c.chain);
    const marks = new Map([...st.snat].map(([addr, s]) => [addr, s.mark]));
    try {
      const r = await this.nft.reconcile(ns, lbTable(chains, marks, st.elements), { fresh });
      st.needsRead = false;
      st.seeded = undefined; // the kernel now holds exactly our slots
      return r;
    } catch (e) {
      st.needsRead = true; // the kernel keeps what it had: read it next time
      throw e;
    }
  }

  /** Programs one new or changed frontend (same matchKey as before, if any): slots, pick chain, dispatch. */
  private applyFrontend(st: NsState, fe: LbFrontend, matchKey: string): void {
    const prev = st.frontends.get(fe.id);
    const slots = assignSlots(prev?.slots ?? st.seeded?.get(slotSeedKey(fe)), fe.backends);
    const be = backendElementsOf(fe, slots);
    for (const e of be.elements) st.elements[be.map].set(e.key, e.value);
    if (prev) for (const e of backendElementsOf(prev.fe, prev.slots).elements.slice(slots.length)) st.elements[be.map].delete(e.key);
    const snat = fe.snatTo !== undefined && slots.length ? fe.snatTo : undefined;
    const mark = snat === undefined ? undefined : this.holdMark(st, snat);
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
    if (prev) {
      this.releaseChain(st, prev.chain);
      this.releaseMark(st, prev.snat);
    }
    const copy = { ...fe, match: { ...fe.match }, backends: [...fe.backends] };
    st.frontends.set(fe.id, { fe: copy, matchKey, slots, chain, snat, seen: st.syncs });
    st.byMatch.set(matchKey, fe.id);
  }

  private dropFrontend(st: NsState, id: string): void {
    const f = st.frontends.get(id);
    if (!f) return;
    st.frontends.delete(id);
    if (st.byMatch.get(f.matchKey) === id) st.byMatch.delete(f.matchKey);
    const d = dispatchOf(f.fe);
    st.elements[d.map].delete(d.key);
    st.elements[d.refuse].delete(d.key);
    const be = backendElementsOf(f.fe, f.slots);
    for (const e of be.elements) st.elements[be.map].delete(e.key);
    this.releaseChain(st, f.chain);
    this.releaseMark(st, f.snat);
  }

  private releaseChain(st: NsState, chain: string | undefined): void {
    if (chain === undefined) return;
    const held = st.chains.get(chain);
    if (held && --held.refs === 0) st.chains.delete(chain);
  }

  /** The ct mark of a snat address: kept while any frontend uses it, so other frontends' chains never change. */
  private holdMark(st: NsState, addr: string): number {
    const held = st.snat.get(addr);
    if (held) {
      held.refs++;
      return held.mark;
    }
    const used = new Set([...st.snat.values()].map((s) => s.mark));
    let k = 1;
    while (used.has(snatMark(k))) k++;
    st.snat.set(addr, { mark: snatMark(k), refs: 1 });
    return snatMark(k);
  }

  private releaseMark(st: NsState, addr: string | undefined): void {
    if (addr === undefined) return;
    const held = st.snat.get(addr);
    if (held && --held.refs === 0) st.snat.delete(addr);
  }
}
