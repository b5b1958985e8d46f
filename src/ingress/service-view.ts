// The ServiceView every services plane reads (LB, ingress, DNS): services from the store, and each
// service's live tasks per network: this host's straight from its store records (no gossip round),
// every other host's from the network's NetworkDB `endpoint_table` (RemoteTasks). With a shared
// store (etcd) other hosts' endpoint records are deliberately not used: gossip is the source of
// remote tasks, so a dead host's tasks leave when NetworkDB declares it gone.
import type { Logger } from 'pino';
import type { Controller } from '../model/controller.js';
import type { OverlayRecords } from '../overlay/records.js';
import { StateCache, type Store } from '../store/index.js';
import { serviceKeys, type ServiceRecord, type ServiceTask, type ServiceView } from './model.js';
import { LocalTasks } from './local-tasks.js';
import { RemoteTasks, taskIndexKey, type EndpointTableReader } from './remote-tasks.js';
import type { ServiceSource } from './service-table.js';
import { errText } from '../errors.js';

export interface ServiceViewStats {
  services: number;
  localTasks: number;
  remoteTasks: number;
  /** Remote entries dropped because they did not check out. */
  badEntries: number;
}

/** Whether NetworkDB's tables have caught up after a start (PeersController has this). */
export interface TableSyncSource {
  caughtUp(): boolean;
  onReadyNetworksChange(fn: () => void): () => void;
}

const byEndpointId = (a: ServiceTask, b: ServiceTask): number => (a.endpointId < b.endpointId ? -1 : a.endpointId > b.endpointId ? 1 : 0);

export class StoreServiceView implements ServiceView, ServiceSource, Controller {
  readonly name = 'service-view';
  private readonly cache: StateCache<ServiceRecord>;
  private readonly remote: RemoteTasks | undefined;
  private readonly local: LocalTasks;
  /** tasks() answers per taskIndexKey, until a change to that key's tasks. */
  private readonly merged = new Map<string, ServiceTask[]>();
  private readonly listeners = new Set<() => void>();
  private readonly serviceListeners = new Set<() => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private notifyPlanned = false;
  private servicesChanged = false;

  private wasCaughtUp = false;

  /**
   * @param table NetworkDB (gossip.db in the agent); undefined without gossip: then the tasks are
   *   this host's only.
   * @param sync the PeersController: tells when other hosts' tasks are all known after a start
   *   (caughtUp()); without it they count as known at once.
   */
  constructor(
    store: Store,
    records: OverlayRecords,
    table: EndpointTableReader | undefined,
    private readonly log: Logger,
    private readonly sync?: TableSyncSource,
  ) {
    this.cache = new StateCache<ServiceRecord>(store, serviceKeys.service(''));
    this.remote = table ? new RemoteTasks(table, log) : undefined;
    this.local = new LocalTasks(records, records.node || table?.nodeName || '');
  }

  async start(): Promise<void> {
    // Tasks do not depend on service records: a service change leaves the task answers as they are.
    this.unsubscribe.push(this.cache.onChange(() => this.changed('services')));
    try {
      await this.cache.start();
    } catch (e) {
      for (const u of this.unsubscribe.splice(0)) u();
      throw e;
    }
    const tasksChanged = (indexKeys: string[]): void => {
      for (const k of indexKeys) this.merged.delete(k);
      this.changed('tasks');
    };
    this.local.start(tasksChanged);
    this.remote?.start(tasksChanged);
    this.wasCaughtUp = this.caughtUp();
    if (this.sync && !this.wasCaughtUp) {
      this.unsubscribe.push(
        this.sync.onReadyNetworksChange(() => {
          if (this.wasCaughtUp || !this.caughtUp()) return;
          this.wasCaughtUp = true;
          this.changed('tasks'); // the planes that waited for it program now
        }),
      );
    }
    this.merged.clear();
    this.changed('services');
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    this.remote?.stop();
    this.local.stop();
    this.cache.stop();
    this.merged.clear();
  }

  /** Nothing to repair: the caches are list-then-watch. */
  async reconcile(): Promise<void> {}

  // ---------------------------------------------------------------- ServiceView

  /** Every service, sorted by id. */
  services(): ServiceRecord[] {
    return this.cache.entries().map((kv) => kv.value);
  }

  service(id: string): ServiceRecord | undefined {
    return this.cache.get(serviceKeys.service(id))?.value;
  }

  /** Live tasks of a service on a network, this host's and every other's, sorted by endpoint id. */
  tasks(serviceId: string, networkId: string): ServiceTask[] {
    const key = taskIndexKey(serviceId, networkId);
    let out = this.merged.get(key);
    if (!out) {
      const local = this.local.tasksOf(serviceId, networkId);
      const remote = this.remote?.tasksOf(serviceId, networkId);
      out = local ? [...local.values()] : [];
      // A local record wins over a remote entry with its id (one a previous life of this host left).
      if (remote) for (const t of remote.values()) if (!local?.has(t.endpointId)) out.push(t);
      out.sort(byEndpointId);
      this.merged.set(key, out);
    }
    return out.slice();
  }

  /**
   * Whether other hosts' tasks are known: false after a start until gossip has synced the joined
   * networks' tables (then onChange fires). Until then tasks() has this host's tasks and only part
   * of the others': a plane that programs backends can keep what the kernel has, as the peers plane does.
   */
  caughtUp(): boolean {
    return !this.remote || !this.sync || this.sync.caughtUp();
  }

  /** Called once per event-loop turn in which services or tasks changed; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called (coalesced like onChange) when a service record changed; returns the unsubscribe. */
  onServicesChange(fn: () => void): () => void {
    this.serviceListeners.add(fn);
    return () => this.serviceListeners.delete(fn);
  }

  stats(): ServiceViewStats {
    return { services: this.cache.entries().length, localTasks: this.local.size, remoteTasks: this.remote?.size ?? 0, badEntries: this.remote?.badEntries ?? 0 };
  }

  // ---------------------------------------------------------------- internals

  /** Plans the listeners' call (the caller has dropped the tasks() answers the change made stale). */
  private changed(what: 'services' | 'tasks'): void {
    if (what === 'services') this.servicesChanged = true;
    if (this.notifyPlanned) return;
    this.notifyPlanned = true;
    // Listeners run after the change that woke them is complete (a re-list reports many keys in a row,
    // synchronously), and before what the event loop has queued: a detach's kernel work (process
    // spawns) must not hold a task in the planes' answers for tens of ms.
    queueMicrotask(() => {
      this.notifyPlanned = false;
      const fns = this.servicesChanged ? [...this.serviceListeners, ...this.listeners] : [...this.listeners];
      this.servicesChanged = false;
      for (const fn of fns) {
        try {
          fn();
        } catch (e) {
          this.log.error({ err: errText(e) }, 'a service view listener failed');
        }
      }
    });
  }
}
