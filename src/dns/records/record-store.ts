// The records the resolver answers from, fed by the endpoints and services controllers, and the
// views queries are answered through. A change clears the cached answers of every view that can
// see the changed network, so the next query already gets the new answer.
import { VxError } from '../../errors.js';
import type { Query } from '../wire/query.js';
import type { CachedAnswer } from '../wire/response.js';
import { buildAnswer, type ViewLookup } from './answer-builder.js';
import { endpointContributions, serviceContributions, type Contribution } from './contributions.js';
import { DEFAULT_TTLS, type DnsTtls, type EndpointRecord, type ServiceRecord } from './types.js';
import { parentKey } from '../wire/name.js';

/** The names one workload namespace can resolve: those of the networks its endpoints are on. */
export interface DnsView {
  readonly networks: readonly string[];
  /** Replaces the network set (an endpoint of the namespace joined or left a network). */
  setNetworks(networks: Iterable<string>): void;
  /** The answer for an owned name, or undefined: the query is not vxmesh's to answer (forward it). */
  answer(q: Query): CachedAnswer | undefined;
  /** Releases the view (its namespace went away). */
  close(): void;
}

export interface RecordStoreOptions {
  ttls?: DnsTtls;
  /** Cached answers per distinct network set before the cache starts over (bounds memory). */
  maxCachedAnswers?: number;
}

class NetworkIndex {
  readonly names = new Map<string, Contribution[]>();
  /** For every proper ancestor of an owned name: how many records sit below it. */
  readonly below = new Map<string, number>();
}

/** Answers shared by every namespace with the same network set. */
class SharedView implements ViewLookup {
  readonly cache = new Map<string, Map<number, CachedAnswer | null>>();
  cached = 0;
  refs = 0;

  constructor(
    readonly id: string,
    readonly networks: readonly string[],
    private readonly indexes: Map<string, NetworkIndex>,
    private readonly owners: Map<string, number>,
  ) {}

  ownedAnywhere(key: string): boolean {
    return this.owners.has(key);
  }

  records(key: string): readonly Contribution[] {
    if (this.networks.length === 1) return this.indexes.get(this.networks[0]!)?.names.get(key) ?? [];
    const out: Contribution[] = [];
    for (const n of this.networks) {
      const list = this.indexes.get(n)?.names.get(key);
      if (list) out.push(...list);
    }
    return out;
  }

  hasOwnedBelow(key: string): boolean {
    return this.networks.some((n) => (this.indexes.get(n)?.below.get(key) ?? 0) > 0);
  }
}

function signature(c: Contribution): string {
  return `${c.network}\n${c.key}\n${c.identity}\n${c.shuffle ? 1 : 0}`;
}

interface ViewHost {
  acquire(networks: Iterable<string>): SharedView;
  release(view: SharedView): void;
  answer(view: SharedView, key: string, qtype: number): CachedAnswer | undefined;
}

/** One namespace's handle on the shared view of its current network set. */
class ScopedView implements DnsView {
  constructor(
    private current: SharedView,
    private readonly host: ViewHost,
  ) {}

  get networks(): readonly string[] {
    return this.current.networks;
  }

  setNetworks(next: Iterable<string>): void {
    const acquired = this.host.acquire(next);
    this.host.release(this.current);
    this.current = acquired;
  }

  answer(q: Query): CachedAnswer | undefined {
    return this.host.answer(this.current, q.nameKey, q.qtype);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.release(this.current);
  }

  private closed = false;
}

export class RecordStore {
  private readonly ttls: DnsTtls;
  private readonly maxCached: number;
  private readonly indexes = new Map<string, NetworkIndex>();
  private readonly sources = new Map<string, Contribution[]>();
  private readonly shared = new Map<string, SharedView>();
  /** How many records own each name, over all networks. */
  private readonly owners = new Map<string, number>();
  private generation = 1;

  constructor(options: RecordStoreOptions = {}) {
    this.ttls = options.ttls ?? DEFAULT_TTLS;
    this.maxCached = options.maxCachedAnswers ?? 4096;
    for (const [k, v] of Object.entries(this.ttls)) {
      if (!Number.isInteger(v) || v < 0 || v > 86400) throw new VxError('INVALID_ARGUMENT', `DNS ttl ${k} must be 0-86400 seconds`);
    }
  }

  /** Bumped on every change; also the SOA serial. */
  get serial(): number {
    return this.generation;
  }

  upsertEndpoint(r: EndpointRecord): void {
    this.replace(`endpoint:${r.id}`, endpointContributions(r));
  }

  removeEndpoint(id: string): boolean {
    return this.replace(`endpoint:${id}`, []);
  }

  upsertService(r: ServiceRecord): void {
    this.replace(`service:${r.id}`, serviceContributions(r));
  }

  removeService(id: string): boolean {
    return this.replace(`service:${id}`, []);
  }

  /** A view over `networks` (its answers are shared with every view over the same set). */
  view(networks: Iterable<string>): DnsView {
    return new ScopedView(this.acquire(networks), {
      acquire: (n) => this.acquire(n),
      release: (v) => this.release(v),
      answer: (v, key, qtype) => this.answer(v, key, qtype),
    });
  }

  stats(): { records: number; names: number; sharedViews: number; cachedAnswers: number } {
    let names = 0;
    for (const idx of this.indexes.values()) names += idx.names.size;
    let cachedAnswers = 0;
    for (const v of this.shared.values()) cachedAnswers += v.cached;
    return { records: this.sources.size, names, sharedViews: this.shared.size, cachedAnswers };
  }

  private answer(view: SharedView, key: string, qtype: number): CachedAnswer | undefined {
    let byType = view.cache.get(key);
    const hit = byType?.get(qtype);
    if (hit !== undefined) return hit ?? undefined;
    const built = buildAnswer(view, key, qtype, this.ttls, this.generation);
    if (view.cached >= this.maxCached) {
      view.cache.clear();
      view.cached = 0;
      byType = undefined;
    }
    if (!byType) {
      byType = new Map();
      view.cache.set(key, byType);
    }
    byType.set(qtype, built ?? null);
    view.cached++;
    return built;
  }

  /**
   * Swaps a source's records for `next`, touching only what differs: an upsert of a service with
   * thousands of tasks where one changed costs O(tasks), not O(tasks^2), and clears no cache for nothing.
   */
  private replace(source: string, next: Contribution[]): boolean {
    const previous = this.sources.get(source);
    // Previous records by signature; the rare exact duplicates wait in `twins`.
    const unchanged = new Map<string, Contribution>();
    const twins: Contribution[] = [];
    for (const c of previous ?? []) {
      const sig = signature(c);
      if (unchanged.has(sig)) twins.push(c);
      else unchanged.set(sig, c);
    }
    const result: Contribution[] = [];
    const added: Contribution[] = [];
    for (const c of next) {
      const sig = signature(c);
      let old = unchanged.get(sig);
      if (old) unchanged.delete(sig);
      else {
        const t = twins.findIndex((x) => signature(x) === sig);
        if (t >= 0) old = twins.splice(t, 1)[0];
      }
      result.push(old ?? c);
      if (!old) added.push(c);
    }
    const removed = [...unchanged.values(), ...twins];
    if (result.length > 0) this.sources.set(source, result);
    else this.sources.delete(source);
    if (added.length === 0 && removed.length === 0) return previous !== undefined;

    const touched = new Set<string>();
    let ownershipChanged = this.unindex(removed);
    for (const c of removed) touched.add(c.network);
    for (const c of added) {
      ownershipChanged = this.index(c) || ownershipChanged;
      touched.add(c.network);
    }
    this.generation = (this.generation + 1) >>> 0 || 1;
    for (const v of this.shared.values()) {
      // A name appearing or vanishing anywhere changes other views' NXDOMAIN-or-forward choice too.
      if (ownershipChanged || v.networks.some((n) => touched.has(n))) {
        v.cache.clear();
        v.cached = 0;
      }
    }
    return previous !== undefined;
  }

  /** Returns whether the name went from unowned to owned. */
  private index(c: Contribution): boolean {
    const owners = this.owners.get(c.key) ?? 0;
    this.owners.set(c.key, owners + 1);
    let idx = this.indexes.get(c.network);
    if (!idx) {
      idx = new NetworkIndex();
      this.indexes.set(c.network, idx);
    }
    const list = idx.names.get(c.key);
    if (list) list.push(c);
    else idx.names.set(c.key, [c]);
    for (let a = parentKey(c.key); a !== undefined; a = parentKey(a)) idx.below.set(a, (idx.below.get(a) ?? 0) + 1);
    return owners === 0;
  }

  /** Returns whether any of the names is no longer owned by any record. */
  private unindex(removed: readonly Contribution[]): boolean {
    let ownershipChanged = false;
    const gone = new Set(removed);
    const lists = new Map<NetworkIndex, Set<string>>();
    for (const c of removed) {
      const owners = (this.owners.get(c.key) ?? 1) - 1;
      if (owners > 0) this.owners.set(c.key, owners);
      else {
        this.owners.delete(c.key);
        ownershipChanged = true;
      }
      const idx = this.indexes.get(c.network);
      if (!idx) continue;
      const keys = lists.get(idx) ?? new Set<string>();
      keys.add(c.key);
      lists.set(idx, keys);
      for (let a = parentKey(c.key); a !== undefined; a = parentKey(a)) {
        const n = (idx.below.get(a) ?? 1) - 1;
        if (n > 0) idx.below.set(a, n);
        else idx.below.delete(a);
      }
    }
    // One pass per name, however many of its records go.
    for (const [idx, keys] of lists) {
      for (const key of keys) {
        const list = idx.names.get(key)?.filter((x) => !gone.has(x)) ?? [];
        if (list.length > 0) idx.names.set(key, list);
        else idx.names.delete(key);
      }
    }
    for (const [network, idx] of this.indexes) if (idx.names.size === 0) this.indexes.delete(network);
    return ownershipChanged;
  }

  private acquire(networks: Iterable<string>): SharedView {
    const list = [...new Set(networks)].sort();
    const id = list.join('\n');
    let v = this.shared.get(id);
    if (!v) {
      v = new SharedView(id, list, this.indexes, this.owners);
      this.shared.set(id, v);
    }
    v.refs++;
    return v;
  }

  private release(v: SharedView): void {
    if (--v.refs <= 0) this.shared.delete(v.id);
  }
}
