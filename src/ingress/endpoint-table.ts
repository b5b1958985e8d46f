// Docker's service table: the value of an `endpoint_table` entry in NetworkDB (libnetwork's
// EndpointRecord, agent.proto), encoded with protobufjs from endpoint-record.proto, and checked at
// the edge: what another host gossips reaches the service view only as canonical IPs, ports in
// range and printable names. A bad value is an EndpointRecordError, never anything else.
import protobuf from 'protobufjs/light.js';
import { VxError } from '../errors.js';
import { formatIp, parseIp, type Family } from '../util/ip-addr.js';
import { endpointRecordSchema } from './endpoint-record-schema.js';

/** NetworkDB table of service tasks (Docker's name, libnetworkEPTable). */
export const ENDPOINT_TABLE = 'endpoint_table';

const root = protobuf.Root.fromJSON(endpointRecordSchema);
const EndpointRecordType = root.lookupType('libnetwork.EndpointRecord');

export type PortProtocol = 'tcp' | 'udp' | 'sctp';
const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp']; // enum values 0, 1, 2

export interface IngressPortWire {
  name: string;
  protocol: PortProtocol;
  targetPort: number;
  publishedPort: number;
}

/** The wire form, field by field as Docker writes it (strings as they are). */
export interface EndpointRecordWire {
  name: string;
  serviceName: string;
  serviceId: string;
  /** IP without prefix; '' (or Docker's "<nil>") when the service has no VIP here. */
  virtualIp: string;
  /** IPv4 address without prefix. */
  endpointIp: string;
  ingressPorts: IngressPortWire[];
  /** Service aliases. */
  aliases: string[];
  /** The task's own names (the endpoint's aliases). */
  taskAliases: string[];
  serviceDisabled: boolean;
  /** vxmesh extension (field 1001): IPv6 address without prefix, '' when none. */
  endpointIpv6: string;
}

/** A checked entry: canonical addresses, safe to hand to the LB and DNS planes. */
export interface EndpointRecordEntry {
  name: string;
  serviceName: string;
  /** '' for a plain (non-task) endpoint, as Docker publishes containers on attachable networks. */
  serviceId: string;
  virtualIp?: string;
  ipv4?: string;
  ipv6?: string;
  ingressPorts: IngressPortWire[];
  aliases: string[];
  taskAliases: string[];
  disabled: boolean;
}

/** A table value that does not decode or does not check out (the reader drops the entry). */
export class EndpointRecordError extends VxError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', `endpoint_table entry: ${message}`);
    this.name = 'EndpointRecordError';
  }
}

export function emptyEndpointRecord(): EndpointRecordWire {
  return { name: '', serviceName: '', serviceId: '', virtualIp: '', endpointIp: '', ingressPorts: [], aliases: [], taskAliases: [], serviceDisabled: false, endpointIpv6: '' };
}

export function encodeEndpointRecord(r: EndpointRecordWire): Buffer {
  // proto3: default values (empty strings and lists, false, 0) are left out, as gogo's Marshal does.
  const obj: Record<string, unknown> = {};
  for (const f of ['name', 'serviceName', 'serviceId', 'virtualIp', 'endpointIp', 'endpointIpv6'] as const) if (r[f]) obj[f] = r[f];
  if (r.ingressPorts.length) {
    obj.ingressPorts = r.ingressPorts.map((p) => {
      const o: Record<string, unknown> = {};
      if (p.name) o.name = p.name;
      const proto = PROTOCOLS.indexOf(p.protocol);
      if (proto < 0) throw new EndpointRecordError(`port protocol "${String(p.protocol)}" is not tcp, udp or sctp`);
      if (proto) o.protocol = proto;
      if (p.targetPort) o.targetPort = p.targetPort;
      if (p.publishedPort) o.publishedPort = p.publishedPort;
      return o;
    });
  }
  if (r.aliases.length) obj.aliases = r.aliases;
  if (r.taskAliases.length) obj.taskAliases = r.taskAliases;
  if (r.serviceDisabled) obj.serviceDisabled = true;
  const bytes = EndpointRecordType.encode(obj).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

interface DecodedPort {
  name?: string;
  protocol?: number;
  targetPort?: number;
  publishedPort?: number;
}
type Decoded = Partial<Omit<EndpointRecordWire, 'ingressPorts'>> & { ingressPorts?: DecodedPort[] };

/** Decodes the bytes (throws EndpointRecordError when they are not an EndpointRecord); no checks of the values. */
export function decodeEndpointRecordWire(buf: Uint8Array): EndpointRecordWire {
  let m: Decoded;
  try {
    m = EndpointRecordType.decode(buf) as unknown as Decoded;
  } catch (e) {
    throw new EndpointRecordError(`does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
  const ingressPorts = (m.ingressPorts ?? []).map((p, i): IngressPortWire => {
    const protocol = PROTOCOLS[p.protocol ?? 0];
    if (!protocol) throw new EndpointRecordError(`ingress_ports[${i}].protocol ${String(p.protocol)} is not TCP, UDP or SCTP`);
    return { name: p.name ?? '', protocol, targetPort: p.targetPort ?? 0, publishedPort: p.publishedPort ?? 0 };
  });
  return {
    name: m.name ?? '',
    serviceName: m.serviceName ?? '',
    serviceId: m.serviceId ?? '',
    virtualIp: m.virtualIp ?? '',
    endpointIp: m.endpointIp ?? '',
    ingressPorts,
    aliases: m.aliases ?? [],
    taskAliases: m.taskAliases ?? [],
    serviceDisabled: m.serviceDisabled === true,
    endpointIpv6: m.endpointIpv6 ?? '',
  };
}

const MAX_NAME = 255;
const MAX_LIST = 256;
// Printable ASCII without spaces: names, ids and aliases end up in DNS answers and log lines.
const PRINTABLE = /^[\x21-\x7e]+$/;

/** Decodes and checks a table value; throws EndpointRecordError saying what is wrong. */
export function parseEndpointRecord(buf: Uint8Array): EndpointRecordEntry {
  const w = decodeEndpointRecordWire(buf);
  // Docker drops an entry without a name or an IP (handleEpTableEvent): so do we.
  const name = checkName(w.name, 'name', true);
  const serviceName = checkName(w.serviceName, 'service_name', false);
  const serviceId = checkName(w.serviceId, 'service_id', false);
  const out: EndpointRecordEntry = { name, serviceName, serviceId, ingressPorts: [], aliases: [], taskAliases: [], disabled: w.serviceDisabled };
  if (w.virtualIp && w.virtualIp !== '<nil>') out.virtualIp = canonicalIp(w.virtualIp, 'virtual_ip').text;
  if (!w.endpointIp && !w.endpointIpv6) throw new EndpointRecordError('endpoint_ip is empty');
  if (w.endpointIp) {
    const ip = canonicalIp(w.endpointIp, 'endpoint_ip');
    if (ip.family === 4) out.ipv4 = ip.text;
    else out.ipv6 = ip.text; // an IPv6-only network: Docker writes its one address here
  }
  if (w.endpointIpv6) {
    const ip6 = canonicalIp(w.endpointIpv6, 'endpoint_ipv6');
    if (ip6.family !== 6) throw new EndpointRecordError(`endpoint_ipv6 "${w.endpointIpv6}" is not an IPv6 address`);
    out.ipv6 = ip6.text;
  }
  if (w.ingressPorts.length > MAX_LIST) throw new EndpointRecordError(`${w.ingressPorts.length} ingress_ports (at most ${MAX_LIST})`);
  w.ingressPorts.forEach((p, i) => {
    if (p.name) checkName(p.name, `ingress_ports[${i}].name`, false);
    if (p.targetPort < 1 || p.targetPort > 65535) throw new EndpointRecordError(`ingress_ports[${i}].target_port ${p.targetPort} is not 1-65535`);
    if (p.publishedPort > 65535) throw new EndpointRecordError(`ingress_ports[${i}].published_port ${p.publishedPort} is not 0-65535`);
  });
  out.ingressPorts = w.ingressPorts;
  out.aliases = checkList(w.aliases, 'aliases');
  out.taskAliases = checkList(w.taskAliases, 'task_aliases');
  return out;
}

/** parseEndpointRecord without a throw: for watch callbacks. */
export function tryParseEndpointRecord(buf: Uint8Array): { ok: true; entry: EndpointRecordEntry } | { ok: false; error: EndpointRecordError } {
  try {
    return { ok: true, entry: parseEndpointRecord(buf) };
  } catch (e) {
    return { ok: false, error: e instanceof EndpointRecordError ? e : new EndpointRecordError(e instanceof Error ? e.message : String(e)) };
  }
}

function checkName(text: string, field: string, required: boolean): string {
  if (!text) {
    if (required) throw new EndpointRecordError(`${field} is empty`);
    return '';
  }
  if (text.length > MAX_NAME) throw new EndpointRecordError(`${field} is ${text.length} characters long (at most ${MAX_NAME})`);
  if (!PRINTABLE.test(text)) throw new EndpointRecordError(`${field} ${JSON.stringify(text)} has characters other than printable ASCII`);
  return text;
}

function checkList(list: string[], field: string): string[] {
  if (list.length > MAX_LIST) throw new EndpointRecordError(`${list.length} ${field} (at most ${MAX_LIST})`);
  return list.map((a, i) => checkName(a, `${field}[${i}]`, true));
}

function canonicalIp(text: string, field: string): { text: string; family: Family } {
  let p;
  try {
    p = parseIp(text);
  } catch {
    throw new EndpointRecordError(`${field} "${text.slice(0, 64)}" is not an IP address`);
  }
  if (p.value === 0n) throw new EndpointRecordError(`${field} "${text}" is unspecified`);
  return { text: formatIp(p.family, p.value), family: p.family };
}
