// The services plane in the agent: the controller over the store, and the network-rm guard it adds
// to the networks plane (a network a service uses is not removed from under it).
import type { Logger } from 'pino';
import type { IpamController } from '../ipam/store-ipam.js';
import { ServicesController, type ServicesOptions } from '../ingress/services-controller.js';
import type { NetworksController } from '../overlay/networks-controller.js';
import type { OverlayRecords } from '../overlay/records.js';
import type { Store } from '../store/index.js';

export interface ServicesDeps {
  store: Store;
  records: OverlayRecords;
  ipam: IpamController;
  networks: NetworksController;
  log: Logger;
}

export function buildServices({ store, records, ipam, networks, log }: ServicesDeps, opts: ServicesOptions = {}): ServicesController {
  const services = new ServicesController(store, records, ipam, (nameOrId) => networks.find(nameOrId), opts, log.child({ controller: 'services' }));
  networks.guardRemoval((net) => services.refuseNetworkRemoval(net));
  return services;
}
