// Published ports are claimed cluster-wide in the store (`published-ports/<proto>/<port>` -> service id),
// in the same transaction that records the service, so two services (on any hosts) never get one port.
import { VxError } from '../errors.js';
import type { IpamTxn } from '../ipam/store-allocator.js';
import type { PublishSpec } from '../model/api.js';
import type { Store } from '../store/index.js';
import { PUBLISHED_PORT_RANGE, serviceKeys, type PortRecord, type Protocol, type PublishedPortClaim, type ServiceRecord } from './model.js';

const CLAIM_PREFIX = 'published-ports/';

/** A spec with its defaults filled in (tcp, ingress); publishedPort 0: auto-assign. */
export function portRecordOf(p: PublishSpec): PortRecord {
  return { protocol: p.protocol ?? 'tcp', targetPort: p.targetPort, publishedPort: p.publishedPort ?? 0, mode: p.mode ?? 'ingress' };
}

const claimKey = (p: { protocol: Protocol; publishedPort: number }) => serviceKeys.publishedPort(p.protocol, p.publishedPort);

/**
 * Resolves `wanted` for service `service` (its current ports in `service.ports`; none for a new one):
 * given ports must be free or already this service's, an empty published port reuses the one this
 * service had for the same target (so an update keeps it) or takes the lowest free port of
 * 30000-32767. Stages the new claims and the release of the ones no longer used in `t`.
 */
export async function stagePorts(t: IpamTxn, store: Store, service: Pick<ServiceRecord, 'id' | 'name' | 'ports'>, wanted: readonly PortRecord[]): Promise<PortRecord[]> {
  const held = new Map<string, { serviceId: string; revision: number }>();
  for (const kv of await store.list<PublishedPortClaim>(CLAIM_PREFIX)) held.set(kv.key, { serviceId: kv.value.serviceId, revision: kv.revision });
  const ours = (key: string) => held.get(key)?.serviceId === service.id;
  const chosen = new Set<string>();
  const out: PortRecord[] = [...wanted];
  for (const p of wanted.filter((w) => w.publishedPort)) {
    const key = claimKey(p);
    const owner = held.get(key);
    if (owner && owner.serviceId !== service.id) {
      const other = (await store.get<ServiceRecord>(serviceKeys.service(owner.serviceId)))?.value.name ?? owner.serviceId.slice(0, 12);
      throw new VxError('ALREADY_EXISTS', `published port ${p.publishedPort}/${p.protocol} is already used by service "${other}": pick another port, or leave it empty to get a free one`);
    }
    chosen.add(key);
  }
  for (const [i, p] of wanted.entries()) {
    if (p.publishedPort) continue;
    const before = service.ports.find((c) => c.mode === 'ingress' && c.protocol === p.protocol && c.targetPort === p.targetPort && !chosen.has(claimKey(c)));
    const port = before ? before.publishedPort : freePort(p.protocol, (key) => chosen.has(key) || (held.has(key) && !ours(key)));
    chosen.add(claimKey({ protocol: p.protocol, publishedPort: port }));
    out[i] = { ...p, publishedPort: port };
  }
  for (const key of chosen) if (!ours(key)) t.put(key, { serviceId: service.id } satisfies PublishedPortClaim, 0);
  for (const [key, claim] of held) if (claim.serviceId === service.id && !chosen.has(key)) t.delete(key, claim.revision);
  return out;
}

function freePort(protocol: Protocol, taken: (key: string) => boolean): number {
  for (let port = PUBLISHED_PORT_RANGE.first; port <= PUBLISHED_PORT_RANGE.last; port++) {
    if (!taken(serviceKeys.publishedPort(protocol, port))) return port;
  }
  throw new VxError('RESOURCE_EXHAUSTED', `no free ${protocol} port left in ${PUBLISHED_PORT_RANGE.first}-${PUBLISHED_PORT_RANGE.last} to publish on: give a published port outside it, or remove services that publish ports`);
}

/** Stages the release of every claim the service holds (its removal). */
export async function releasePorts(t: IpamTxn, store: Store, serviceId: string): Promise<void> {
  for (const kv of await store.list<PublishedPortClaim>(CLAIM_PREFIX)) if (kv.value.serviceId === serviceId) t.delete(kv.key, kv.revision);
}
