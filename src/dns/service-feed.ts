// Keeps the resolver's service records equal to the services plane's view, service by service: a
// change re-reads the view but upserts only the services whose record differs, so one task coming or
// going costs one service's records, not a rebuild of every service (10,000 services: see README).
import { createHash } from 'node:crypto';
import type { RecordStore } from './records/record-store.js';
import type { ServiceRecord as DnsService } from './records/types.js';
import { dnsServiceOf, type ServiceSource, type ServiceSpec, type ServiceTaskSpec } from './service-names.js';

interface Known {
  spec: ServiceSpec;
  tasks: (readonly ServiceTaskSpec[])[];
  /** The record last given to the store (refused or not: the same record is not offered again). */
  signature: string;
  /** The sync that last saw it in the view. */
  mark: number;
}

export interface ServiceFeedStats {
  services: number;
  /** Syncs run (each after one or more coalesced changes). */
  syncs: number;
  /** Services upserted or removed in all syncs. */
  changed: number;
}

export class ServiceFeed {
  private readonly known = new Map<string, Known>();
  private unsubscribe: (() => void) | undefined;
  private pending = false;
  readonly stats: ServiceFeedStats = { services: 0, syncs: 0, changed: 0 };

  constructor(
    private readonly source: ServiceSource,
    private readonly store: RecordStore,
    /** A service whose record the store refused (it is not answered); told once per version. */
    private readonly refused: (spec: ServiceSpec, err: Error) => void,
  ) {}

  /** Loads every service, then follows changes (coalesced to one sync per turn of the event loop). */
  start(): void {
    if (this.unsubscribe) return;
    this.sync();
    this.unsubscribe = this.source.onChange(() => this.schedule());
  }

  /** Stops following; the records stay (a later start() brings them up to date). */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Brings the records up to date now (a pending coalesced sync becomes a no-op). */
  sync(): void {
    this.pending = false;
    const mark = ++this.stats.syncs;
    let seen = 0;
    // Nothing is built for a service whose spec and tasks are the very objects seen last time (the
    // view hands out the same objects for what did not change): 10,000 services stay cheap.
    for (const spec of this.source.services()) {
      const k = this.known.get(spec.id);
      seen++;
      if (k && k.spec === spec && this.sameTasks(spec, k.tasks)) {
        k.mark = mark;
        continue;
      }
      const tasks = spec.networks.map((n) => this.source.tasks(spec.id, n));
      const record = dnsServiceOf(spec, tasks);
      const signature = signatureOf(record);
      if (k && k.signature === signature) {
        Object.assign(k, { spec, tasks, mark });
        continue;
      }
      this.put(spec, tasks, record, signature, mark);
    }
    // Every service seen is in `known` now: anything more there has left the view.
    if (seen < this.known.size) {
      for (const [id, k] of this.known) {
        if (k.mark === mark) continue;
        this.store.removeService(id);
        this.known.delete(id);
        this.stats.changed++;
      }
    }
    this.stats.services = this.known.size;
  }

  private sameTasks(spec: ServiceSpec, seen: readonly (readonly ServiceTaskSpec[])[]): boolean {
    const n = spec.networks;
    if (n.length !== seen.length) return false;
    for (let i = 0; i < n.length; i++) {
      const now = this.source.tasks(spec.id, n[i]!);
      const then = seen[i]!;
      if (now === then) continue;
      // A copy of the list is fine (StoreServiceView hands out copies): the tasks themselves are kept objects.
      if (now.length !== then.length) return false;
      for (let j = 0; j < now.length; j++) if (now[j] !== then[j]) return false;
    }
    return true;
  }

  private put(spec: ServiceSpec, tasks: (readonly ServiceTaskSpec[])[], record: DnsService, signature: string, mark: number): void {
    this.stats.changed++;
    this.known.set(spec.id, { spec, tasks, signature, mark });
    try {
      this.store.upsertService(record);
    } catch (e) {
      // Not answered rather than answered from an older version.
      this.store.removeService(spec.id);
      this.refused(spec, e as Error);
    }
  }

  private schedule(): void {
    if (this.pending || !this.unsubscribe) return;
    this.pending = true;
    queueMicrotask(() => {
      if (this.pending && this.unsubscribe) this.sync();
    });
  }
}

/** A digest of the record (kept per service: the JSON itself would be ~1 KiB per 10 tasks). */
function signatureOf(r: DnsService): string {
  return createHash('sha1').update(JSON.stringify(r)).digest('base64');
}
