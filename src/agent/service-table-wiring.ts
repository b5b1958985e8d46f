// Wiring of the service table plane (issue 10), kept out of agent.ts: the ServiceView every services
// plane reads (LB, ingress, DNS) and the controller that publishes this host's tasks in NetworkDB's
// `endpoint_table`. The agent puts `controllers` in its ControllerGroup right after `peers` (the view
// reads the records; the table writes only into networks the peers controller joined) and before
// any plane that reads the view.
import type { Logger } from 'pino';
import type { Controller } from '../model/controller.js';
import type { EndpointTableReader } from '../ingress/remote-tasks.js';
import { ServiceTableController, type EndpointTableDb, type JoinedNetworkSource } from '../ingress/service-table.js';
import { StoreServiceView } from '../ingress/service-view.js';
import type { OverlayRecords } from '../overlay/records.js';
import type { Store } from '../store/index.js';

export interface ServiceTableDeps {
  store: Store;
  records: OverlayRecords;
  /** The agent's NetworkDB (gossip.db). */
  db: EndpointTableDb & EndpointTableReader;
  /** The PeersController: which NetworkDB networks this host is in. */
  peers: JoinedNetworkSource;
  log: Logger;
}

export interface ServiceTablePlane {
  view: StoreServiceView;
  table: ServiceTableController;
  /** [view, table]: start order. */
  controllers: Controller[];
}

export function buildServiceTablePlane({ store, records, db, peers, log }: ServiceTableDeps): ServiceTablePlane {
  const view = new StoreServiceView(store, records, db, log.child({ controller: 'service-view' }));
  const table = new ServiceTableController(db, records, view, peers, log.child({ controller: 'service-table' }));
  return { view, table, controllers: [view, table] };
}
