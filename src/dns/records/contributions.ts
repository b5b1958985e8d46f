// Turns endpoint and service records into the resource records they add to their network: pure,
// validated (a bad record throws a VxError naming the field, and nothing is stored).
import { VxError } from '../../errors.js';
import { QType } from '../wire/constants.js';
import { childKey, nameKey } from '../wire/name.js';
import { addressBytes, reverseKey } from './ip.js';
import type { EndpointRecord, ServiceRecord } from './types.js';

export type Rdata =
  /** The address bytes as a latin1 string: ~30 bytes a record where a 4-byte Buffer costs ~220 (10^5 tasks). */
  | { readonly type: QType.A | QType.AAAA; readonly ip: string }
  | { readonly type: QType.PTR; readonly target: string }
  | { readonly type: QType.SRV; readonly port: number; readonly target: string }
  /** The name exists (owned: never forwarded) but answers no type: a service with no task yet. */
  | { readonly type: typeof EXISTS };

/** Not a DNS type: never equal to a question's qtype. */
export const EXISTS = -1;

/** One resource record a record adds: owner name `key` on `network`. */
export interface Contribution {
  readonly network: string;
  readonly key: string;
  readonly rdata: Rdata;
  /** Answers of this name are sent in random order (task lists). */
  readonly shuffle: boolean;
  /** Identical records from several sources are answered once. */
  readonly identity: string;
}

function contribution(network: string, key: string, rdata: Rdata, shuffle = false): Contribution {
  const value = rdata.type === QType.SRV ? `${rdata.port}/${rdata.target}`
    : rdata.type === QType.PTR ? rdata.target : rdata.type === EXISTS ? '' : rdata.ip;
  return { network, key, rdata, shuffle, identity: `${rdata.type}:${value}` };
}

function key(name: string, field: string): string {
  try {
    return nameKey(name);
  } catch (e) {
    throw new VxError('INVALID_ARGUMENT', `${field}: ${(e as Error).message}`);
  }
}

function need(value: string, field: string): string {
  if (typeof value !== 'string' || value === '') throw new VxError('INVALID_ARGUMENT', `${field} must be a non-empty string`);
  return value;
}

interface Addresses {
  v4?: Buffer;
  v6?: Buffer;
}

function addresses(r: { ipv4?: string; ipv6?: string }, where: string): Addresses {
  return {
    v4: r.ipv4 === undefined ? undefined : addressBytes(r.ipv4, 4, `${where}.ipv4`),
    v6: r.ipv6 === undefined ? undefined : addressBytes(r.ipv6, 6, `${where}.ipv6`),
  };
}

function addressRecords(network: string, owner: string, a: Addresses, shuffle: boolean): Contribution[] {
  const out: Contribution[] = [];
  if (a.v4) out.push(contribution(network, owner, { type: QType.A, ip: a.v4.toString('latin1') }, shuffle));
  if (a.v6) out.push(contribution(network, owner, { type: QType.AAAA, ip: a.v6.toString('latin1') }, shuffle));
  return out;
}

function ptrRecords(network: string, a: Addresses, target: string): Contribution[] {
  return [a.v4, a.v6].filter((ip): ip is Buffer => ip !== undefined)
    .map((ip) => contribution(network, reverseKey(ip), { type: QType.PTR, target }));
}

export function endpointContributions(r: EndpointRecord): Contribution[] {
  const where = `endpoint record ${JSON.stringify(r.id)}`;
  need(r.id, 'endpoint record id');
  const network = need(r.network, `${where}.network`);
  const nameKeyOf = key(need(r.name, `${where}.name`), `${where}.name`);
  const owners = [nameKeyOf, ...(r.aliases ?? []).map((a, i) => key(a, `${where}.aliases[${i}]`))];
  const a = addresses(r, where);
  if (!a.v4 && !a.v6) throw new VxError('INVALID_ARGUMENT', `${where}: give ipv4, ipv6 or both`);
  return [...owners.flatMap((o) => addressRecords(network, o, a, false)), ...ptrRecords(network, a, nameKeyOf)];
}

export function serviceContributions(r: ServiceRecord): Contribution[] {
  const where = `service record ${JSON.stringify(r.id)}`;
  need(r.id, 'service record id');
  if (r.mode !== 'vip' && r.mode !== 'dnsrr') throw new VxError('INVALID_ARGUMENT', `${where}.mode must be "vip" or "dnsrr"`);
  const mainKey = key(need(r.name, `${where}.name`), `${where}.name`);
  const names = [mainKey, ...(r.aliases ?? []).map((a, i) => key(a, `${where}.aliases[${i}]`))];
  const out: Contribution[] = [];
  const networks = new Set<string>();

  r.vips.forEach((v, i) => {
    const network = need(v.network, `${where}.vips[${i}].network`);
    networks.add(network);
    const a = addresses(v, `${where}.vips[${i}]`);
    if (r.mode === 'vip') for (const n of names) out.push(...addressRecords(network, n, a, false));
    out.push(...ptrRecords(network, a, mainKey));
  });
  const taskNames = names.map((n) => childKey('tasks', n));
  r.tasks.forEach((t, i) => {
    const network = need(t.network, `${where}.tasks[${i}].network`);
    networks.add(network);
    const a = addresses(t, `${where}.tasks[${i}]`);
    for (const [j, n] of names.entries()) {
      out.push(...addressRecords(network, taskNames[j]!, a, true));
      if (r.mode === 'dnsrr') out.push(...addressRecords(network, n, a, true));
    }
    if (t.name !== undefined) out.push(...ptrRecords(network, a, key(t.name, `${where}.tasks[${i}].name`)));
  });
  // NAME and tasks.NAME are owned on every network of the service even with no task (yet): NODATA, not forwarded.
  (r.networks ?? []).forEach((n, i) => networks.add(need(n, `${where}.networks[${i}]`)));
  for (const network of networks) {
    for (const n of [...names, ...taskNames]) out.push(contribution(network, n, { type: EXISTS }));
  }
  (r.ports ?? []).forEach((p, i) => {
    const field = `${where}.ports[${i}]`;
    if (p.protocol !== 'tcp' && p.protocol !== 'udp') throw new VxError('INVALID_ARGUMENT', `${field}.protocol must be "tcp" or "udp"`);
    for (const [f, port] of [['targetPort', p.targetPort], ['publishedPort', p.publishedPort]] as const) {
      if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
        throw new VxError('INVALID_ARGUMENT', `${field}.${f} must be a port number 1-65535`);
      }
    }
    const labels = new Set([p.targetPort, p.publishedPort].filter((x): x is number => x !== undefined));
    for (const network of networks) {
      for (const n of names) {
        for (const label of labels) {
          const owner = childKey(`_${label}._${p.protocol}`, n);
          out.push(contribution(network, owner, { type: QType.SRV, port: p.targetPort, target: mainKey }));
        }
      }
    }
  });
  return out;
}
