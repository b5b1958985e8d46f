// NetworkDB's protobuf messages (libnetwork networkdb.proto, proto3 via gogo), hand-encoded.
// Field numbers and types follow WIRE.md section 12; encoding omits proto3 defaults and writes
// fields in ascending order, as gogo's generated Marshal does, so bytes match Docker's.

import {
  ProtoDecodeError,
  ProtoReader,
  ProtoWriter,
  WIRE_BYTES,
  WIRE_VARINT,
  copyBytes,
  expectWireType,
  readUtf8,
  toInt32,
} from './proto-wire.js';

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

// ---------- encoders ----------

export function encodeGossipMessage(m: GossipMessage): Buffer {
  const w = new ProtoWriter();
  w.enumField(1, m.type);
  w.bytesField(2, m.data);
  return w.finish();
}

export function encodeNodeEvent(m: NodeEvent): Buffer {
  const w = new ProtoWriter();
  w.enumField(1, m.type);
  w.uint64Field(2, m.lTime);
  w.stringField(3, m.nodeName);
  return w.finish();
}

export function encodeNetworkEvent(m: NetworkEvent): Buffer {
  const w = new ProtoWriter();
  w.enumField(1, m.type);
  w.uint64Field(2, m.lTime);
  w.stringField(3, m.nodeName);
  w.stringField(4, m.networkId);
  return w.finish();
}

export function encodeTableEvent(m: TableEvent): Buffer {
  const w = new ProtoWriter();
  w.enumField(1, m.type);
  w.uint64Field(2, m.lTime);
  w.stringField(3, m.nodeName);
  w.stringField(4, m.networkId);
  w.stringField(5, m.tableName);
  w.stringField(6, m.key);
  w.bytesField(7, m.value);
  w.int32Field(8, m.residualReapTime);
  return w.finish();
}

export function encodeNetworkEntry(m: NetworkEntry): Buffer {
  const w = new ProtoWriter();
  w.stringField(1, m.networkId);
  w.uint64Field(2, m.lTime);
  w.stringField(3, m.nodeName);
  w.boolField(4, m.leaving);
  return w.finish();
}

export function encodeNetworkPushPull(m: NetworkPushPull): Buffer {
  const w = new ProtoWriter();
  w.uint64Field(1, m.lTime);
  w.repeatedBytes(2, m.networks.map(encodeNetworkEntry));
  w.stringField(3, m.nodeName);
  return w.finish();
}

export function encodeBulkSyncMessage(m: BulkSyncMessage): Buffer {
  const w = new ProtoWriter();
  w.uint64Field(1, m.lTime);
  w.boolField(2, m.unsolicited);
  w.stringField(3, m.nodeName);
  w.repeatedString(4, m.networks);
  w.bytesField(5, m.payload);
  return w.finish();
}

export function encodeCompoundMessage(m: CompoundMessage): Buffer {
  const w = new ProtoWriter();
  const simple = m.messages.map((payload) => {
    const sw = new ProtoWriter();
    sw.bytesField(1, payload);
    return sw.finish();
  });
  w.repeatedBytes(1, simple);
  return w.finish();
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

function readEnum(r: ProtoReader): number {
  return toInt32(r.varint());
}

function readBool(r: ProtoReader): boolean {
  return r.varint() !== 0n;
}

export function decodeGossipMessage(buf: Uint8Array): GossipMessage {
  const out: GossipMessage = { type: 0, data: Buffer.alloc(0) };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const h = r.header();
    if (h.field === 1) {
      expectWireType(h, WIRE_VARINT, 'GossipMessage');
      out.type = readEnum(r);
    } else if (h.field === 2) {
      expectWireType(h, WIRE_BYTES, 'GossipMessage');
      out.data = copyBytes(r.lengthDelimited());
    } else r.skip(h.wireType);
  }
  return out;
}

export function decodeNodeEvent(buf: Uint8Array): NodeEvent {
  const out: NodeEvent = { type: 0, lTime: 0n, nodeName: '' };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const h = r.header();
    switch (h.field) {
      case 1:
        expectWireType(h, WIRE_VARINT, 'NodeEvent');
        out.type = readEnum(r);
        break;
      case 2:
        expectWireType(h, WIRE_VARINT, 'NodeEvent');
        out.lTime = r.varint();
        break;
      case 3:
        expectWireType(h, WIRE_BYTES, 'NodeEvent');
        out.nodeName = readUtf8(r.lengthDelimited());
        break;
      default:
        r.skip(h.wireType);
    }
  }
  return out;
}

export function decodeNetworkEvent(buf: Uint8Array): NetworkEvent {
  const out: NetworkEvent = { type: 0, lTime: 0n, nodeName: '', networkId: '' };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const h = r.header();
    switch (h.field) {
      case 1:
        expectWireType(h, WIRE_VARINT, 'NetworkEvent');
        out.type = readEnum(r);
        break;
      case 2:
        expectWireType(h, WIRE_VARINT, 'NetworkEvent');
        out.lTime = r.varint();
        break;
      case 3:
        expectWireType(h, WIRE_BYTES, 'NetworkEvent');
        out.nodeName = readUtf8(r.lengthDelimited());
        break;
      case 4:
        expectWireType(h, WIRE_BYTES, 'NetworkEvent');
        out.networkId = readUtf8(r.lengthDelimited());
        break;
      default:
        r.skip(h.wireType);
    }
  }
  return out;
}

export function decodeTableEvent(buf: Uint8Array): TableEvent {
  const out: TableEvent = {
    type: 0,
    lTime: 0n,
    nodeName: '',
    networkId: '',
    tableName: '',
    key: '',
    value: Buffer.alloc(0),
    residualReapTime: 0,
  };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const h = r.header();
    switch (h.field) {
      case 1:
        expectWireType(h, WIRE_VARINT, 'TableEvent');
        out.type = readEnum(r);
        break;
      case 2:
        expectWireType(h, WIRE_VARINT, 'TableEvent');
        out.lTime = r.varint();
        break;
      case 3:
      case 4:
      case 5:
      case 6: {
        expectWireType(h, WIRE_BYTES, 'TableEvent');
        const s = readUtf8(r.lengthDelimited());
        if (h.field === 3) out.nodeName = s;
        else if (h.field === 4) out.networkId = s;
        else if (h.field === 5) out.tableName = s;
        else out.key = s;
        break;
      }
      case 7:
        expectWireType(h, WIRE_BYTES, 'TableEvent');
        out.value = copyBytes(r.lengthDelimited());
        break;
      case 8:
        expectWireType(h, WIRE_VARINT, 'TableEvent');
        out.residualReapTime = toInt32(r.varint());
        break;
      default:
        r.skip(h.wireType);
    }
  }
  return out;
}

export function decodeNetworkEntry(buf: Uint8Array): NetworkEntry {
  const out: NetworkEntry = { networkId: '', lTime: 0n, nodeName: '', leaving: false };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const h = r.header();
    switch (h.field) {
      case 1:
        expectWireType(h, WIRE_BYTES, 'NetworkEntry');
        out.networkId = readUtf8(r.lengthDelimited());
        break;
      case 2:
        expectWireType(h, WIRE_VARINT, 'NetworkEntry');
        out.lTime = r.varint();
        break;
      case 3:
        expectWireType(h, WIRE_BYTES, 'NetworkEntry');
        out.nodeName = readUtf8(r.lengthDelimited());
        break;
      case 4:
        expectWireType(h, WIRE_VARINT, 'NetworkEntry');
        out.leaving = readBool(r);
        break;
      default:
        r.skip(h.wireType);
    }
  }
  return out;
}

export function decodeNetworkPushPull(buf: Uint8Array): NetworkPushPull {
  const out: NetworkPushPull = { lTime: 0n, networks: [], nodeName: '' };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const h = r.header();
    switch (h.field) {
      case 1:
        expectWireType(h, WIRE_VARINT, 'NetworkPushPull');
        out.lTime = r.varint();
        break;
      case 2:
        expectWireType(h, WIRE_BYTES, 'NetworkPushPull');
        out.networks.push(decodeNetworkEntry(r.lengthDelimited()));
        break;
      case 3:
        expectWireType(h, WIRE_BYTES, 'NetworkPushPull');
        out.nodeName = readUtf8(r.lengthDelimited());
        break;
      default:
        r.skip(h.wireType);
    }
  }
  return out;
}

export function decodeBulkSyncMessage(buf: Uint8Array): BulkSyncMessage {
  const out: BulkSyncMessage = {
    lTime: 0n,
    unsolicited: false,
    nodeName: '',
    networks: [],
    payload: Buffer.alloc(0),
  };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const h = r.header();
    switch (h.field) {
      case 1:
        expectWireType(h, WIRE_VARINT, 'BulkSyncMessage');
        out.lTime = r.varint();
        break;
      case 2:
        expectWireType(h, WIRE_VARINT, 'BulkSyncMessage');
        out.unsolicited = readBool(r);
        break;
      case 3:
        expectWireType(h, WIRE_BYTES, 'BulkSyncMessage');
        out.nodeName = readUtf8(r.lengthDelimited());
        break;
      case 4:
        expectWireType(h, WIRE_BYTES, 'BulkSyncMessage');
        out.networks.push(readUtf8(r.lengthDelimited()));
        break;
      case 5:
        expectWireType(h, WIRE_BYTES, 'BulkSyncMessage');
        out.payload = copyBytes(r.lengthDelimited());
        break;
      default:
        r.skip(h.wireType);
    }
  }
  return out;
}

export function decodeCompoundMessage(buf: Uint8Array): CompoundMessage {
  const out: CompoundMessage = { messages: [] };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const h = r.header();
    if (h.field !== 1) {
      r.skip(h.wireType);
      continue;
    }
    expectWireType(h, WIRE_BYTES, 'CompoundMessage');
    const sr = new ProtoReader(r.lengthDelimited());
    let payload: Buffer = Buffer.alloc(0);
    while (!sr.done) {
      const sh = sr.header();
      if (sh.field === 1) {
        expectWireType(sh, WIRE_BYTES, 'SimpleMessage');
        payload = copyBytes(sr.lengthDelimited());
      } else sr.skip(sh.wireType);
    }
    out.messages.push(payload);
  }
  return out;
}

/** Throws ProtoDecodeError; re-exported so callers need only this module. */
export function isProtoDecodeError(e: unknown): e is ProtoDecodeError {
  return e instanceof ProtoDecodeError;
}
