// The embedded resolver in the agent (absent with --no-embedded-dns): upstreams from --dns, which
// endpoints are this host's, metrics, and the services view it answers service names from.
import type { Logger } from 'pino';
import { DnsController, parseUpstream } from '../dns/index.js';
import type { ServiceSource } from '../dns/service-names.js';
import type { VxMetrics } from '../metrics/metrics.js';
import type { OverlayRecords } from '../overlay/records.js';
import type { AgentConfig } from './config.js';

export interface DnsDeps {
  config: AgentConfig;
  records: OverlayRecords;
  metrics: VxMetrics | undefined;
  /** The services view (src/ingress StoreServiceView); read only once the planes start, so it may be built later. */
  services: () => ServiceSource;
  log: Logger;
}

export function buildDns({ config, records, metrics, services, log }: DnsDeps): DnsController | undefined {
  if (!config.embeddedDns) return undefined;
  const view: ServiceSource = {
    services: () => services().services(),
    tasks: (serviceId, networkId) => services().tasks(serviceId, networkId),
    onChange: (fn) => services().onChange(fn),
  };
  return new DnsController(
    records,
    {
      ...(config.dns.length ? { upstreams: config.dns.map((d) => parseUpstream(d, '--dns')) } : {}),
      isLocal: (ep) => records.isMine(ep),
      ...(metrics ? { observer: metrics.dns } : {}),
      services: view,
    },
    log.child({ controller: 'dns' }),
  );
}
