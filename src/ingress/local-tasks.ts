// This host's tasks, straight from its endpoint records (no gossip round): every ready local endpoint
// of a service, indexed by service and network, kept current one record change at a time so an
// attach costs the same with 10 or 10,000 services. An ingress leg is a task of the service of the
// task it serves (ingressLegOf), so a change to that task re-indexes its legs too.
import type { EndpointRecord } from '../overlay/model.js';
import type { OverlayRecords } from '../overlay/records.js';
import type { ServiceTask } from './model.js';
import { taskIndexKey } from './remote-tasks.js';
import { taskServiceId } from './service-table.js';

export class LocalTasks {
  /** endpoint id -> its index key and task. */
  private readonly byEndpoint = new Map<string, { key: string; task: ServiceTask }>();
  /** taskIndexKey -> endpoint id -> task. */
  private readonly index = new Map<string, Map<string, ServiceTask>>();
  /** task endpoint id -> ids of its ingress legs, and back. */
  private readonly legsOf = new Map<string, Set<string>>();
  private readonly legTask = new Map<string, string>();
  private unsubscribe: (() => void) | undefined;

  /** @param fallbackNode node name for records without one (records.node, else NetworkDB's). */
  constructor(
    private readonly records: OverlayRecords,
    private readonly fallbackNode: string,
  ) {}

  /** Indexes what the records hold and follows their changes; `onChange` gets the index keys that changed. */
  start(onChange: (indexKeys: string[]) => void): void {
    this.stop();
    for (const ep of this.records.endpoints.values()) this.reindex(ep.id, new Set());
    const prefix = this.records.endpoints.prefix;
    this.unsubscribe = this.records.endpoints.onChange((ev) => {
      const touched = new Set<string>();
      const id = ev.key.slice(prefix.length);
      this.reindex(id, touched);
      for (const leg of this.legsOf.get(id) ?? []) this.reindex(leg, touched);
      if (touched.size) onChange([...touched]);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const m of [this.byEndpoint, this.index, this.legsOf, this.legTask]) m.clear();
  }

  tasksOf(serviceId: string, networkId: string): ReadonlyMap<string, ServiceTask> | undefined {
    return this.index.get(taskIndexKey(serviceId, networkId));
  }

  get size(): number {
    return this.byEndpoint.size;
  }

  /** Puts endpoint `id` where its current record says (or takes it out), adding the keys it touched. */
  private reindex(id: string, touched: Set<string>): void {
    const old = this.byEndpoint.get(id);
    if (old) {
      const m = this.index.get(old.key);
      m?.delete(id);
      if (m?.size === 0) this.index.delete(old.key);
      this.byEndpoint.delete(id);
      touched.add(old.key);
    }
    const ep = this.records.endpoints.get(id);
    this.trackLeg(id, ep);
    // Another host's record (shared store) or one whose interface is not confirmed yet: not a live task here.
    if (!ep || !this.records.isMine(ep) || ep.state !== 'ready') return;
    const serviceId = taskServiceId(ep, this.records);
    if (!serviceId) return;
    const key = taskIndexKey(serviceId, ep.networkId);
    const task = localTask(ep, serviceId, this.records.nodeOf(ep) || this.fallbackNode);
    this.byEndpoint.set(id, { key, task });
    let m = this.index.get(key);
    if (!m) this.index.set(key, (m = new Map()));
    m.set(id, task);
    touched.add(key);
  }

  private trackLeg(id: string, ep: EndpointRecord | undefined): void {
    const was = this.legTask.get(id);
    const now = ep?.ingressLegOf;
    if (was === now) return;
    if (was !== undefined) {
      const legs = this.legsOf.get(was);
      legs?.delete(id);
      if (legs?.size === 0) this.legsOf.delete(was);
      this.legTask.delete(id);
    }
    if (now !== undefined) {
      this.legTask.set(id, now);
      let legs = this.legsOf.get(now);
      if (!legs) this.legsOf.set(now, (legs = new Set()));
      legs.add(id);
    }
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
