// NetworkDB's protobuf messages (Docker libnetwork networkdb.proto, proto3), encoded and decoded
// by protobufjs from networkdb.proto (loaded from its generated JSON descriptor). Encoding leaves
// out proto3 defaults, as gogo's generated Marshal does, so bytes match Docker's; decoding first
// checks the wire strictly (wire-check.ts), so bad input is a ProtoDecodeError.
import protobuf from 'protobufjs/light.js';
import { networkdbSchema } from './networkdb-schema.js';
import { ProtoDecodeError } from './proto-wire.js';
import { checkWire } from './wire-check.js';

export { ProtoDecodeError } from './proto-wire.js';

export const MessageType = {
  INVALID: 0,
  NETWORK_EVENT: 1,
  TABLE_EVENT: 2,
  PUSH_PULL: 3,
  BULK_SYNC: 4,
  COMPOUND: 5,
  NODE_EVENT: 6,
} as const;

export const NodeEventType = { INVALID: 0, JOIN: 1, LEAVE: 2 } as const;
export const NetworkEventType = { INVALID: 0, JOIN: 1, LEAVE: 2 } as const;
export const TableEventType = { INVALID: 0, CREATE: 1, UPDATE: 2, DELETE: 3 } as const;

export interface GossipMessage {
  type: number;
  data: Buffer;
}

export interface NodeEvent {
  type: number;
  lTime: bigint;
  nodeName: string;
}

export interface NetworkEvent {
  type: number;
  lTime: bigint;
  nodeName: string;
  networkId: string;
}

export interface TableEvent {
  type: number;
  lTime: bigint;
  nodeName: string;
  networkId: string;
  tableName: string;
  key: string;
  value: Buffer;
  /** Seconds left before a deleted entry is reaped. */
  residualReapTime: number;
}

export interface NetworkEntry {
  networkId: string;
  lTime: bigint;
  nodeName: string;
  leaving: boolean;
}

export interface NetworkPushPull {
  lTime: bigint;
  networks: NetworkEntry[];
  nodeName: string;
}

export interface BulkSyncMessage {
  lTime: bigint;
  unsolicited: boolean;
  nodeName: string;
  networks: string[];
  /** A COMPOUND GossipMessage of TABLE_EVENT GossipMessages. */
  payload: Buffer;
}

export interface CompoundMessage {
  messages: Buffer[];
}

const root = protobuf.Root.fromJSON(networkdbSchema);
const types = {
  GossipMessage: root.lookupType('networkdb.GossipMessage'),
  NodeEvent: root.lookupType('networkdb.NodeEvent'),
  NetworkEvent: root.lookupType('networkdb.NetworkEvent'),
  TableEvent: root.lookupType('networkdb.TableEvent'),
  NetworkEntry: root.lookupType('networkdb.NetworkEntry'),
  NetworkPushPull: root.lookupType('networkdb.NetworkPushPull'),
  BulkSyncMessage: root.lookupType('networkdb.BulkSyncMessage'),
  CompoundMessage: root.lookupType('networkdb.CompoundMessage'),
};

type Plain = Record<string, unknown>;
/** protobufjs's 64-bit value: two uint32 halves (a Long when the long package is loaded). */
interface LongBits {
  low: number;
  high: number;
  unsigned?: boolean;
}
const UINT64_MAX = (1n << 64n) - 1n;

// ---------- encoders: proto3 defaults are left out of the object, so protobufjs skips them ----------

function u64(v: bigint): LongBits | undefined {
  if (v < 0n || v > UINT64_MAX) throw new RangeError(`uint64 out of range: ${v}`);
  return v === 0n ? undefined : { low: Number(v & 0xffffffffn), high: Number(v >> 32n), unsigned: true };
}

/** `obj` without the proto3 default values (undefined, 0, false, "", empty bytes). */
function withoutDefaults(obj: Plain): Plain {
  const out: Plain = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === 0 || v === false || v === '') continue;
    if (v instanceof Uint8Array && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

function encode(type: protobuf.Type, obj: Plain): Buffer {
  const bytes = type.encode(withoutDefaults(obj)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function encodeGossipMessage(m: GossipMessage): Buffer {
  return encode(types.GossipMessage, { type: m.type, data: m.data });
}

export function encodeNodeEvent(m: NodeEvent): Buffer {
  return encode(types.NodeEvent, { type: m.type, lTime: u64(m.lTime), nodeName: m.nodeName });
}

export function encodeNetworkEvent(m: NetworkEvent): Buffer {
  return encode(types.NetworkEvent, { type: m.type, lTime: u64(m.lTime), nodeName: m.nodeName, networkId: m.networkId });
}

export function encodeTableEvent(m: TableEvent): Buffer {
  return encode(types.TableEvent, {
    type: m.type,
    lTime: u64(m.lTime),
    nodeName: m.nodeName,
    networkId: m.networkId,
    tableName: m.tableName,
    key: m.key,
    value: m.value,
    residualReapTime: m.residualReapTime,
  });
}

function networkEntryObject(m: NetworkEntry): Plain {
  return withoutDefaults({ networkId: m.networkId, lTime: u64(m.lTime), nodeName: m.nodeName, leaving: m.leaving });
}

export function encodeNetworkEntry(m: NetworkEntry): Buffer {
  return encode(types.NetworkEntry, networkEntryObject(m));
}

export function encodeNetworkPushPull(m: NetworkPushPull): Buffer {
  // Every element of a repeated field is written, an all-default one as an empty message (12 00).
  const obj = withoutDefaults({ lTime: u64(m.lTime), nodeName: m.nodeName });
  if (m.networks.length > 0) obj.networks = m.networks.map(networkEntryObject);
  return encode(types.NetworkPushPull, obj);
}

export function encodeBulkSyncMessage(m: BulkSyncMessage): Buffer {
  const obj = withoutDefaults({ lTime: u64(m.lTime), unsolicited: m.unsolicited, nodeName: m.nodeName, payload: m.payload });
  if (m.networks.length > 0) obj.networks = m.networks;
  return encode(types.BulkSyncMessage, obj);
}

export function encodeCompoundMessage(m: CompoundMessage): Buffer {
  const obj: Plain = {};
  if (m.messages.length > 0) obj.messages = m.messages.map((p) => (p.length > 0 ? { Payload: p } : {}));
  return encode(types.CompoundMessage, obj);
}

/** Wrap a message body in a GossipMessage envelope (what travels as a memberlist user message). */
export function wrapGossip(type: number, data: Buffer): Buffer {
  return encodeGossipMessage({ type, data });
}

/** GossipMessage{COMPOUND, CompoundMessage{msgs}}: how NetworkDB batches several messages. */
export function encodeCompoundGossip(msgs: readonly Buffer[]): Buffer {
  return wrapGossip(MessageType.COMPOUND, encodeCompoundMessage({ messages: [...msgs] }));
}

// ---------- decoders ----------

function decode(type: protobuf.Type, input: Uint8Array): Plain {
  // As a Buffer, protobufjs decodes strings with Node's UTF-8 decoder (as Buffer.toString does).
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  checkWire(type, buf);
  try {
    return type.decode(buf) as unknown as Plain;
  } catch (err) {
    // checkWire already rejects everything protobufjs would; keep the error class if not.
    throw new ProtoDecodeError(`${type.name}: ${(err as Error).message}`);
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const bool = (v: unknown): boolean => v === true;
/** A copy, so decoded messages never alias (and pin) the receive buffer. */
const bytes = (v: unknown): Buffer => (v instanceof Uint8Array ? Buffer.from(v) : Buffer.alloc(0));
function bigU64(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  const { low, high } = v as LongBits;
  return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
}

export function decodeGossipMessage(buf: Uint8Array): GossipMessage {
  const m = decode(types.GossipMessage, buf);
  return { type: num(m.type), data: bytes(m.data) };
}

export function decodeNodeEvent(buf: Uint8Array): NodeEvent {
  const m = decode(types.NodeEvent, buf);
  return { type: num(m.type), lTime: bigU64(m.lTime), nodeName: str(m.nodeName) };
}

export function decodeNetworkEvent(buf: Uint8Array): NetworkEvent {
  const m = decode(types.NetworkEvent, buf);
  return { type: num(m.type), lTime: bigU64(m.lTime), nodeName: str(m.nodeName), networkId: str(m.networkId) };
}

export function decodeTableEvent(buf: Uint8Array): TableEvent {
  const m = decode(types.TableEvent, buf);
  return {
    type: num(m.type),
    lTime: bigU64(m.lTime),
    nodeName: str(m.nodeName),
    networkId: str(m.networkId),
    tableName: str(m.tableName),
    key: str(m.key),
    value: bytes(m.value),
    residualReapTime: num(m.residualReapTime),
  };
}

function networkEntryFrom(m: Plain): NetworkEntry {
  return { networkId: str(m.networkId), lTime: bigU64(m.lTime), nodeName: str(m.nodeName), leaving: bool(m.leaving) };
}

export function decodeNetworkEntry(buf: Uint8Array): NetworkEntry {
  return networkEntryFrom(decode(types.NetworkEntry, buf));
}

export function decodeNetworkPushPull(buf: Uint8Array): NetworkPushPull {
  const m = decode(types.NetworkPushPull, buf);
  const networks = Array.isArray(m.networks) ? (m.networks as Plain[]).map(networkEntryFrom) : [];
  return { lTime: bigU64(m.lTime), networks, nodeName: str(m.nodeName) };
}

export function decodeBulkSyncMessage(buf: Uint8Array): BulkSyncMessage {
  const m = decode(types.BulkSyncMessage, buf);
  const networks = Array.isArray(m.networks) ? (m.networks as unknown[]).map(str) : [];
  return { lTime: bigU64(m.lTime), unsolicited: bool(m.unsolicited), nodeName: str(m.nodeName), networks, payload: bytes(m.payload) };
}

export function decodeCompoundMessage(buf: Uint8Array): CompoundMessage {
  const m = decode(types.CompoundMessage, buf);
  const messages = Array.isArray(m.messages) ? (m.messages as Plain[]).map((s) => bytes(s.Payload)) : [];
  return { messages };
}

/** Throws ProtoDecodeError; re-exported so callers need only this module. */
export function isProtoDecodeError(e: unknown): e is ProtoDecodeError {
  return e instanceof ProtoDecodeError;
}
