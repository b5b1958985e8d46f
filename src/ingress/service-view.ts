// The ServiceView every services plane reads (LB, ingress, DNS): services from the store, and each
// service's live tasks per network: this host's straight from its store records (no gossip round),
// every other host's from the network's NetworkDB `endpoint_table` (RemoteTasks). With a shared
// store (etcd) other hosts' endpoint records are deliberately not used: gossip is the source of
// remote tasks, so a dead host's tasks leave when NetworkDB declares it gone.
import type { Logger } from 'pino';
import type { Controller } from '../model/controller.js';
import type { EndpointRecord } from '../overlay/model.js';
import type { OverlayRecords } from '../overlay/records.js';
import { StateCache, type Store } from '../store/index.js';
import { serviceKeys, type ServiceRecord, type ServiceTask, type ServiceView } from './model.js';
import { RemoteTasks, taskIndexKey, type EndpointTableReader } from './remote-tasks.js';
import { taskServiceId, type ServiceSource } from './service-table.js';

export interface ServiceViewStats {
  services: number;
  localTasks: number;
  remoteTasks: number;
  /** Remote entries dropped because they did not check out. */
  badEntries: number;
}

const byEndpointId = (a: ServiceTask, b: ServiceTask): number => (a.endpointId < b.endpointId ? -1 : a.endpointId > b.endpointId ? 1 : 0);

export class StoreServiceView implements ServiceView, ServiceSource, Controller {
  readonly name = 'service-view';
  private readonly cache: StateCache<ServiceRecord>;
  private readonly remote: RemoteTasks | undefined;
  /** This host's tasks: taskIndexKey -> endpoint id -> task; rebuilt on first read after a records change. */
  private local: Map<string, Map<string, ServiceTask>> | undefined;
  private localCount = 0;
  /** tasks() answers per taskIndexKey, until the next change. */
  private readonly merged = new Map<string, ServiceTask[]>();
  private readonly listeners = new Set<() => void>();
  private readonly serviceListeners = new Set<() => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private notifyPlanned = false;
  private servicesChanged = false;

  /**
   * @param table NetworkDB (gossip.db in the agent); undefined without gossip: then the tasks are
   *   this host's only.
   */
  constructor(
    store: Store,
    private readonly records: OverlayRecords,
    private readonly table: EndpointTableReader | undefined,
    private readonly log: Logger,
  ) {
    this.cache = new StateCache<ServiceRecord>(store, serviceKeys.service(''));
    this.remote = table ? new RemoteTasks(table, log) : undefined;
  }

  async start(): Promise<void> {
    this.unsubscribe.push(this.cache.onChange(() => this.changed(true)));
    await this.cache.start();
    this.unsubscribe.push(
      this.records.endpoints.onChange(() => this.localChanged()),
      this.records.networks.onChange(() => this.localChanged()),
    );
    this.local = undefined;
    this.remote?.start(() => this.changed(false));
    this.changed(true);
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    this.remote?.stop();
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
      const local = this.localIndex().get(key);
      const remote = this.remote?.tasksOf(serviceId, networkId);
      out = local ? [...local.values()] : [];
      // A local record wins over a remote entry with its id (one a previous life of this host left).
      if (remote) for (const t of remote.values()) if (!local?.has(t.endpointId)) out.push(t);
      out.sort(byEndpointId);
      this.merged.set(key, out);
    }
    return out.slice();
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
    this.localIndex();
    return { services: this.cache.entries().length, localTasks: this.localCount, remoteTasks: this.remote?.size ?? 0, badEntries: this.remote?.badEntries ?? 0 };
  }

  // ---------------------------------------------------------------- internals

  private localChanged(): void {
    this.local = undefined;
    this.changed(false);
  }

  private localIndex(): Map<string, Map<string, ServiceTask>> {
    if (this.local) return this.local;
    const index = new Map<string, Map<string, ServiceTask>>();
    let count = 0;
    const node = this.records.node || this.table?.nodeName || '';
    for (const ep of this.records.localEndpoints()) {
      if (ep.state !== 'ready') continue; // its interface is not confirmed yet: no traffic to it
      const sid = taskServiceId(ep, this.records);
      if (!sid) continue;
      const key = taskIndexKey(sid, ep.networkId);
      let m = index.get(key);
      if (!m) index.set(key, (m = new Map()));
      m.set(ep.id, localTask(ep, sid, this.records.nodeOf(ep) || node));
      count++;
    }
    this.local = index;
    this.localCount = count;
    return index;
  }

  private changed(services: boolean): void {
    this.merged.clear();
    if (services) this.servicesChanged = true;
    if (this.notifyPlanned) return;
    this.notifyPlanned = true;
    // Listeners run after the change that woke them is complete (a re-list reports many keys in a row).
    setImmediate(() => {
      this.notifyPlanned = false;
      const fns = this.servicesChanged ? [...this.serviceListeners, ...this.listeners] : [...this.listeners];
      this.servicesChanged = false;
      for (const fn of fns) {
        try {
          fn();
        } catch (e) {
          this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'a service view listener failed');
        }
      }
    });
  }
}

function localTask(ep: EndpointRecord, serviceId: string, node: string): ServiceTask {
  return {
    endpointId: ep.id,
    serviceId,
    networkId: ep.networkId,
    name: ep.name,
    ...(ep.ipv4 ? { ipv4: ep.ipv4 } : {}),
    ...(ep.ipv6 ? { ipv6: ep.ipv6 } : {}),
    aliases: ep.aliases,
    node,
  };
}
