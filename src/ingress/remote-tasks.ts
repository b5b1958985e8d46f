// The service table's read side: other hosts' tasks, as their `endpoint_table` entries say, kept by
// list-then-watch on NetworkDB and indexed by service and network. A host that fails or leaves takes
// its entries with it (NetworkDB drops a gone node's entries and reports each as a delete), and so
// does a network this host leaves. A bad entry is logged and dropped, never thrown.
import type { Logger } from 'pino';
import type { NetworkDbTableWatch } from '../gossip/networkdb/index.js';
import { ENDPOINT_TABLE, tryParseEndpointRecord } from './endpoint-table.js';
import type { ServiceTask } from './model.js';

/** What the reader needs of NetworkDB (src/gossip/networkdb's NetworkDB has it). */
export type EndpointTableReader = NetworkDbTableWatch;

export function taskIndexKey(serviceId: string, networkId: string): string {
  return `${serviceId}\u0000${networkId}`;
}

export class RemoteTasks {
  /** `${nid}/${key}` -> the task it holds (so a delete or update finds the index slot of the old value). */
  private readonly byEntry = new Map<string, ServiceTask>();
  /** taskIndexKey -> endpoint id -> task. */
  private readonly index = new Map<string, Map<string, ServiceTask>>();
  private unwatch: (() => void) | undefined;
  /** Entries dropped because they did not check out. */
  badEntries = 0;

  constructor(
    private readonly reader: EndpointTableReader,
    private readonly log: Logger,
  ) {}

  /**
   * Lists and watches; `onChange` is called (synchronously) after every change to what is held, with
   * the taskIndexKey of each (service, network) whose tasks changed.
   */
  start(onChange: (indexKeys: string[]) => void): void {
    this.stop();
    this.unwatch = this.reader.watch(ENDPOINT_TABLE, undefined, (c) => {
      if (c.owner === this.reader.nodeName) return; // ours: the view reads them from the store, without a gossip round
      const touched = this.apply(c.type, c.nid, c.key, c.value, c.owner);
      if (touched.length) onChange(touched);
    });
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    this.byEntry.clear();
    this.index.clear();
  }

  /** Other hosts' live tasks of a service on a network, by endpoint id (do not modify). */
  tasksOf(serviceId: string, networkId: string): ReadonlyMap<string, ServiceTask> | undefined {
    return this.index.get(taskIndexKey(serviceId, networkId));
  }

  get size(): number {
    return this.byEntry.size;
  }

  /** Applies one table change; returns the index keys whose tasks changed (none: nothing did). */
  private apply(type: 'create' | 'update' | 'delete', nid: string, key: string, value: Buffer, owner: string): string[] {
    const slot = `${nid}/${key}`;
    const old = this.byEntry.get(slot);
    let task: ServiceTask | undefined;
    if (type !== 'delete') {
      const parsed = tryParseEndpointRecord(value);
      if (!parsed.ok) {
        this.badEntries++;
        this.log.warn({ networkId: nid.slice(0, 12), key, node: owner, err: parsed.error.message }, 'ignoring a service table entry that does not check out');
      } else if (parsed.entry.serviceId && !parsed.entry.disabled) {
        // Plain endpoints (no service) are for name resolution only; a disabled task takes no new connections.
        const e = parsed.entry;
        task = { endpointId: key, serviceId: e.serviceId, networkId: nid, name: e.name, ...(e.ipv4 ? { ipv4: e.ipv4 } : {}), ...(e.ipv6 ? { ipv6: e.ipv6 } : {}), aliases: e.taskAliases, node: owner };
      }
    }
    if (!old && !task) return [];
    const touched: string[] = [];
    if (old) {
      const k = taskIndexKey(old.serviceId, old.networkId);
      touched.push(k);
      const m = this.index.get(k);
      m?.delete(old.endpointId);
      if (m?.size === 0) this.index.delete(k);
      this.byEntry.delete(slot);
    }
    if (task) {
      this.byEntry.set(slot, task);
      const k = taskIndexKey(task.serviceId, nid);
      if (k !== touched[0]) touched.push(k);
      let m = this.index.get(k);
      if (!m) this.index.set(k, (m = new Map()));
      m.set(key, task);
    }
    return touched;
  }
}
