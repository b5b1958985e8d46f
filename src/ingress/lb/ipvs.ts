// The IPVS load balancer, the Swarm way: nft rules in vxmesh's own table give each frontend a
// firewall mark, one IPVS fwmark service per mark masquerades to the backends (rr, or sh for
// client-ip affinity), SNAT by mark where a frontend asks for it. A backend that leaves gets weight 0
// (no new connection) and is deleted once its established connections ended, or after quiesceMs.
import {
  ensureMarkRouting,
  ensureSysctls,
  IpvsReconciler,
  ipvsAvailable,
  NftTableReconciler,
  nsExists,
  nsKey,
  readIpvs,
  readNftTable,
  removeMarkRouting,
  type KernelObserver,
  type NsRef,
} from '../../kernel/index.js';
import { allocateMarks, checkFrontends, IPVS_TABLE, ipvsMarkTable, ipvsServices, MARK_ROUTING, marksFromTable, ownsMark, slotId, type CheckedFrontend } from './ipvs-plan.js';
import { ipvsLbDrift } from './lb-drift.js';
import type { LbFrontend, LbSyncOptions, LoadBalancer } from './types.js';
import { KeyedSerial } from '../../util/keyed-serial.js';

export interface IpvsLoadBalancerOptions {
  /** Longest a leaving backend is drained (weight 0) before it is deleted with connections still open. Default 5 min. */
  quiesceMs?: number;
  /** How often draining backends are checked for open connections. Default min(2 s, quiesceMs), at least 100 ms. */
  drainCheckMs?: number;
  observer?: KernelObserver;
}

interface NsState {
  /** Slot -> mark, as the kernel holds it (read from the mark maps at this instance's first sync). */
  marks?: Map<string, number>;
  /** The last frontends synced (a drain check re-applies them). */
  last: CheckedFrontend[];
  routed: Set<4 | 6>;
  sysctls: boolean;
  timer?: NodeJS.Timeout;
}

const IPVS_SYSCTLS = {
  // IPVS connections get conntrack entries, so the nat postrouting chain can SNAT them.
  'net.ipv4.vs.conntrack': '1',
  // Packets of a connection whose backend was deleted are answered with a reset, not blackholed.
  'net.ipv4.vs.expire_nodest_conn': '1',
};

export class IpvsLoadBalancer implements LoadBalancer {
  readonly kind = 'ipvs' as const;
  private readonly quiesceMs: number;
  private readonly drainCheckMs: number;
  private readonly ipvs: IpvsReconciler;
  private readonly nft: NftTableReconciler;
  private readonly state = new Map<string, NsState>();
  private readonly queue = new KeyedSerial();

  constructor(opts: IpvsLoadBalancerOptions = {}) {
    this.quiesceMs = opts.quiesceMs ?? 300_000;
    this.drainCheckMs = opts.drainCheckMs ?? Math.max(100, Math.min(2_000, this.quiesceMs));
    this.ipvs = new IpvsReconciler(opts.observer);
    this.nft = new NftTableReconciler(opts.observer);
  }

  sync(ns: NsRef, frontends: LbFrontend[], opts: LbSyncOptions = {}): Promise<void> {
    const checked = checkFrontends(frontends); // a bad frontend changes nothing
    if (!checked.length) return this.clear(ns);
    return this.serial(ns, () => this.apply(ns, checked, opts.fresh === true));
  }

  drift(ns: NsRef, frontends: LbFrontend[]): Promise<string[]> {
    return this.serial(ns, async () => ipvsLbDrift(await readNftTable(ns, 'inet', IPVS_TABLE), await readIpvs(ns), frontends));
  }

  clear(ns: NsRef): Promise<void> {
    return this.serial(ns, async () => {
      const st = this.state.get(nsKey(ns));
      if (st?.timer) clearTimeout(st.timer);
      this.state.delete(nsKey(ns));
      this.nft.forget(ns);
      if (!nsExists(ns)) return;
      // Marks first (no new connection is marked), then the services, then the route.
      await this.nft.remove(ns, 'inet', IPVS_TABLE);
      if (await ipvsAvailable(ns)) await this.ipvs.clear(ns, ownsMark);
      await removeMarkRouting(ns, MARK_ROUTING);
    });
  }

  private async apply(ns: NsRef, checked: CheckedFrontend[], fresh = false): Promise<void> {
    const key = nsKey(ns);
    let st = this.state.get(key);
    if (!st) {
      st = { last: checked, routed: new Set(), sysctls: false };
      this.state.set(key, st);
    }
    if (st.timer) clearTimeout(st.timer);
    st.timer = undefined;
    st.last = checked;
    // A fresh sync (resync) reads the mark maps again: a table deleted by hand is made again.
    if (fresh) {
      st.marks = undefined;
      st.routed.clear();
    }
    const readMarks = st.marks === undefined;
    if (!st.marks) {
      const table = await readNftTable(ns, 'inet', IPVS_TABLE);
      st.marks = table ? marksFromTable(table.sets) : new Map();
    }
    const marks = allocateMarks(checked.map((c) => slotId(c.slot)), st.marks);
    // Services before marks: a packet that gets a mark finds its service.
    const result = await this.ipvs.reconcile(ns, ipvsServices(checked, marks), { owns: ownsMark, quiesceMs: this.quiesceMs });
    if (!st.sysctls) {
      await ensureSysctls(ns, IPVS_SYSCTLS); // the net.ipv4.vs tree exists once ip_vs is loaded
      st.sysctls = true;
    }
    for (const family of new Set(checked.map((c) => c.slot.family))) {
      if (st.routed.has(family)) continue;
      await ensureMarkRouting(ns, family, MARK_ROUTING);
      st.routed.add(family);
    }
    try {
      await this.nft.reconcile(ns, ipvsMarkTable(checked, marks), { fresh: readMarks });
    } catch (e) {
      st.marks = undefined; // read the kernel's maps again next time
      throw e;
    }
    st.marks = marks;
    if (result.draining) this.scheduleDrainCheck(ns, st);
  }

  /** Re-applies the last frontends after a while, so drained backends get deleted without a new sync. */
  private scheduleDrainCheck(ns: NsRef, st: NsState): void {
    st.timer = setTimeout(() => {
      st.timer = undefined;
      if (this.state.get(nsKey(ns)) !== st || !nsExists(ns)) return;
      this.serial(ns, () => this.apply(ns, st.last)).catch(() => {
        // A failed check is retried: the next sync or check reads the kernel afresh.
        if (this.state.get(nsKey(ns)) === st && !st.timer) this.scheduleDrainCheck(ns, st);
      });
    }, this.drainCheckMs);
    st.timer.unref();
  }

  private serial<T>(ns: NsRef, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(nsKey(ns), fn);
  }
}
