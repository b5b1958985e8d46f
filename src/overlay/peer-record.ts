// Docker's overlay PeerRecord (the value of an `overlay_peer_table` entry), encoded with protobufjs
// from peer-record.proto, and checked at the edge: a record another host gossips reaches the
// kernel only as a well-formed IP, MAC and VTEP address.
import protobuf from 'protobufjs/light.js';
import { formatIp, parseIp, type Family } from '../util/ip-addr.js';
import { peerRecordSchema } from './peer-record-schema.js';

/** NetworkDB table of the overlay's endpoints (Docker's name). */
export const PEER_TABLE = 'overlay_peer_table';

const PeerRecordType = protobuf.Root.fromJSON(peerRecordSchema).lookupType('overlay.PeerRecord');

/** The wire form: strings exactly as Docker writes them. */
export interface PeerRecordWire {
  /** "10.0.0.5/24": the endpoint's address with its network's prefix length. */
  endpointIp: string;
  endpointMac: string;
  /** The owner host's data-path (VTEP) address. */
  tunnelEndpointIp: string;
}

/** A checked peer record: canonical text, safe to hand to the kernel layer. */
export interface PeerRecord {
  ip: string;
  family: Family;
  prefix: number;
  mac: string;
  vtep: string;
}

export function encodePeerRecord(r: PeerRecordWire): Buffer {
  const obj: Record<string, string> = {};
  // proto3: empty strings are left out, as gogo's Marshal does.
  if (r.endpointIp) obj.endpointIp = r.endpointIp;
  if (r.endpointMac) obj.endpointMac = r.endpointMac;
  if (r.tunnelEndpointIp) obj.tunnelEndpointIp = r.tunnelEndpointIp;
  const bytes = PeerRecordType.encode(obj).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function decodePeerRecordWire(buf: Uint8Array): PeerRecordWire {
  const m = PeerRecordType.decode(buf) as unknown as Partial<PeerRecordWire>;
  return { endpointIp: m.endpointIp ?? '', endpointMac: m.endpointMac ?? '', tunnelEndpointIp: m.tunnelEndpointIp ?? '' };
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Decodes and checks a table value; throws an Error saying what is wrong (the caller drops the entry). */
export function parsePeerRecord(buf: Uint8Array): PeerRecord {
  let wire: PeerRecordWire;
  try {
    wire = decodePeerRecordWire(buf);
  } catch (e) {
    throw new Error(`peer record does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
  const m = /^([^/]+)\/(\d{1,3})$/.exec(wire.endpointIp);
  if (!m) throw new Error(`peer record endpoint_ip "${wire.endpointIp}" is not IP/prefix`);
  const ip = canonicalIp(m[1]!, 'endpoint_ip');
  const prefix = Number(m[2]);
  if (prefix > (ip.family === 4 ? 32 : 128)) throw new Error(`peer record endpoint_ip "${wire.endpointIp}" has a prefix out of range`);
  const mac = wire.endpointMac.toLowerCase();
  if (!MAC.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1 || mac === '00:00:00:00:00:00') {
    throw new Error(`peer record endpoint_mac "${wire.endpointMac}" is not a unicast MAC address`);
  }
  const vtep = canonicalIp(wire.tunnelEndpointIp, 'tunnel_endpoint_ip');
  if (vtep.value === 0n) throw new Error('peer record tunnel_endpoint_ip is unspecified');
  return { ip: ip.text, family: ip.family, prefix, mac, vtep: vtep.text };
}

function canonicalIp(text: string, field: string): { text: string; family: Family; value: bigint } {
  try {
    const p = parseIp(text);
    return { text: formatIp(p.family, p.value), family: p.family, value: p.value };
  } catch {
    throw new Error(`peer record ${field} "${text}" is not an IP address`);
  }
}
