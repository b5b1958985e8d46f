// memberlist message types and the encode/decode of each struct, field for field in the
// order Go declares them (see reference/WIRE.md §1-2).
import { decodeStruct, MsgpackWriter, type StructFields } from './msgpack.js';

export const MessageType = {
  ping: 0,
  indirectPing: 1,
  ackResp: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nackResp: 11,
  hasCrc: 12,
  err: 13,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

export const HAS_LABEL = 244;

const U16 = 0xffff;
const U32 = 0xffffffff;
const MAX_INT = Number.MAX_SAFE_INTEGER;

export interface Ping {
  seqNo: number;
  node: string;
  sourceAddr: Buffer | null;
  sourcePort: number;
  sourceNode: string;
}
export interface IndirectPingReq {
  seqNo: number;
  target: Buffer | null;
  port: number;
  node: string;
  nack: boolean;
  sourceAddr: Buffer | null;
  sourcePort: number;
  sourceNode: string;
}
export interface AckResp {
  seqNo: number;
  payload: Buffer | null;
}
export interface NackResp {
  seqNo: number;
}
export interface ErrResp {
  error: string;
}
/** suspect and dead share a shape. */
export interface Suspect {
  incarnation: number;
  node: string;
  from: string;
}
export type Dead = Suspect;
export interface Alive {
  incarnation: number;
  node: string;
  addr: Buffer | null;
  port: number;
  meta: Buffer | null;
  vsn: Buffer | null;
}
export interface PushPullHeader {
  nodes: number;
  userStateLen: number;
  join: boolean;
}
export interface PushNodeState {
  name: string;
  addr: Buffer | null;
  port: number;
  meta: Buffer | null;
  incarnation: number;
  state: number;
  vsn: Buffer | null;
}
export interface UserMsgHeader {
  userMsgLen: number;
}
export interface Compress {
  algo: number;
  buf: Buffer | null;
}

function sourceFieldCount(addr: Buffer | null, port: number, node: string): number {
  return (addr && addr.length > 0 ? 1 : 0) + (port !== 0 ? 1 : 0) + (node !== '' ? 1 : 0);
}

function writeSourceFields(w: MsgpackWriter, addr: Buffer | null, port: number, node: string): void {
  if (addr && addr.length > 0) w.str('SourceAddr').bytes(addr);
  if (port !== 0) w.str('SourcePort').uint(port);
  if (node !== '') w.str('SourceNode').str(node);
}

// ---- struct bodies (no type byte) ----

export function writePing(w: MsgpackWriter, p: Ping): void {
  w.mapHeader(2 + sourceFieldCount(p.sourceAddr, p.sourcePort, p.sourceNode));
  w.str('SeqNo').uint(p.seqNo).str('Node').str(p.node);
  writeSourceFields(w, p.sourceAddr, p.sourcePort, p.sourceNode);
}
export function readPing(f: StructFields): Ping {
  return {
    seqNo: f.uint('SeqNo', U32),
    node: f.str('Node'),
    sourceAddr: f.bytes('SourceAddr'),
    sourcePort: f.uint('SourcePort', U16),
    sourceNode: f.str('SourceNode'),
  };
}

export function writeIndirectPing(w: MsgpackWriter, p: IndirectPingReq): void {
  w.mapHeader(5 + sourceFieldCount(p.sourceAddr, p.sourcePort, p.sourceNode));
  w.str('SeqNo').uint(p.seqNo).str('Target').bytes(p.target).str('Port').uint(p.port);
  w.str('Node').str(p.node).str('Nack').bool(p.nack);
  writeSourceFields(w, p.sourceAddr, p.sourcePort, p.sourceNode);
}
export function readIndirectPing(f: StructFields): IndirectPingReq {
  return {
    seqNo: f.uint('SeqNo', U32),
    target: f.bytes('Target'),
    port: f.uint('Port', U16),
    node: f.str('Node'),
    nack: f.bool('Nack'),
    sourceAddr: f.bytes('SourceAddr'),
    sourcePort: f.uint('SourcePort', U16),
    sourceNode: f.str('SourceNode'),
  };
}

export function writeAck(w: MsgpackWriter, a: AckResp): void {
  w.mapHeader(2).str('SeqNo').uint(a.seqNo).str('Payload').bytes(a.payload);
}
export function readAck(f: StructFields): AckResp {
  return { seqNo: f.uint('SeqNo', U32), payload: f.bytes('Payload') };
}

export function writeNack(w: MsgpackWriter, n: NackResp): void {
  w.mapHeader(1).str('SeqNo').uint(n.seqNo);
}
export function readNack(f: StructFields): NackResp {
  return { seqNo: f.uint('SeqNo', U32) };
}

export function writeErr(w: MsgpackWriter, e: ErrResp): void {
  w.mapHeader(1).str('Error').str(e.error);
}
export function readErr(f: StructFields): ErrResp {
  return { error: f.str('Error') };
}

export function writeSuspect(w: MsgpackWriter, s: Suspect): void {
  w.mapHeader(3).str('Incarnation').uint(s.incarnation).str('Node').str(s.node).str('From').str(s.from);
}
export function readSuspect(f: StructFields): Suspect {
  return { incarnation: f.uint('Incarnation', U32), node: f.str('Node'), from: f.str('From') };
}

export function writeAlive(w: MsgpackWriter, a: Alive): void {
  w.mapHeader(6).str('Incarnation').uint(a.incarnation).str('Node').str(a.node);
  w.str('Addr').bytes(a.addr).str('Port').uint(a.port).str('Meta').bytes(a.meta).str('Vsn').bytes(a.vsn);
}
export function readAlive(f: StructFields): Alive {
  return {
    incarnation: f.uint('Incarnation', U32),
    node: f.str('Node'),
    addr: f.bytes('Addr'),
    port: f.uint('Port', U16),
    meta: f.bytes('Meta'),
    vsn: f.bytes('Vsn'),
  };
}

export function writePushPullHeader(w: MsgpackWriter, h: PushPullHeader): void {
  w.mapHeader(3).str('Nodes').int(h.nodes).str('UserStateLen').int(h.userStateLen).str('Join').bool(h.join);
}
export function readPushPullHeader(f: StructFields): PushPullHeader {
  return { nodes: f.count('Nodes', MAX_INT), userStateLen: f.count('UserStateLen', MAX_INT), join: f.bool('Join') };
}

export function writePushNodeState(w: MsgpackWriter, n: PushNodeState): void {
  w.mapHeader(7).str('Name').str(n.name).str('Addr').bytes(n.addr).str('Port').uint(n.port);
  w.str('Meta').bytes(n.meta).str('Incarnation').uint(n.incarnation).str('State').int(n.state);
  w.str('Vsn').bytes(n.vsn);
}
export function readPushNodeState(f: StructFields): PushNodeState {
  return {
    name: f.str('Name'),
    addr: f.bytes('Addr'),
    port: f.uint('Port', U16),
    meta: f.bytes('Meta'),
    incarnation: f.uint('Incarnation', U32),
    state: f.count('State', 3),
    vsn: f.bytes('Vsn'),
  };
}

export function writeUserMsgHeader(w: MsgpackWriter, h: UserMsgHeader): void {
  w.mapHeader(1).str('UserMsgLen').int(h.userMsgLen);
}
export function readUserMsgHeader(f: StructFields): UserMsgHeader {
  return { userMsgLen: f.count('UserMsgLen', MAX_INT) };
}

export function writeCompress(w: MsgpackWriter, c: Compress): void {
  w.mapHeader(2).str('Algo').int(c.algo).str('Buf').bytes(c.buf);
}
export function readCompress(f: StructFields): Compress {
  return { algo: f.count('Algo', MAX_INT), buf: f.bytes('Buf') };
}

// ---- whole messages (type byte + struct) ----

type Writer<T> = (w: MsgpackWriter, v: T) => void;

/** Encode one message: the type byte followed by the msgpack struct. */
export function encodeMessage<T>(type: MessageTypeValue, write: Writer<T>, value: T): Buffer {
  const w = new MsgpackWriter();
  w.byte(type);
  write(w, value);
  return w.finish();
}

/** Decode a whole struct body that must fill `body` from `pos` (trailing bytes are allowed, as Go's decoder ignores them). */
export function decodeBody<T>(name: string, read: (f: StructFields) => T, body: Buffer, pos = 0): T {
  const [fields] = decodeStruct(name, body, pos);
  return read(fields);
}

export const encodePing = (p: Ping): Buffer => encodeMessage(MessageType.ping, writePing, p);
export const encodeIndirectPing = (p: IndirectPingReq): Buffer =>
  encodeMessage(MessageType.indirectPing, writeIndirectPing, p);
export const encodeAck = (a: AckResp): Buffer => encodeMessage(MessageType.ackResp, writeAck, a);
export const encodeNack = (n: NackResp): Buffer => encodeMessage(MessageType.nackResp, writeNack, n);
export const encodeErr = (e: ErrResp): Buffer => encodeMessage(MessageType.err, writeErr, e);
export const encodeSuspect = (s: Suspect): Buffer => encodeMessage(MessageType.suspect, writeSuspect, s);
export const encodeDead = (d: Dead): Buffer => encodeMessage(MessageType.dead, writeSuspect, d);
export const encodeAlive = (a: Alive): Buffer => encodeMessage(MessageType.alive, writeAlive, a);
export const encodeCompress = (c: Compress): Buffer => encodeMessage(MessageType.compress, writeCompress, c);

/** The pushPull stream body: type byte, header, N node states, raw user state. */
export function encodePushPull(nodes: PushNodeState[], userState: Buffer | null, join: boolean): Buffer {
  const w = new MsgpackWriter(256);
  w.byte(MessageType.pushPull);
  writePushPullHeader(w, { nodes: nodes.length, userStateLen: userState ? userState.length : 0, join });
  for (const n of nodes) writePushNodeState(w, n);
  if (userState) w.rawBytes(userState);
  return w.finish();
}

/** A TCP user message: type byte, userMsgHeader, raw payload. */
export function encodeStreamUserMsg(payload: Buffer): Buffer {
  const w = new MsgpackWriter(payload.length + 32);
  w.byte(MessageType.user);
  writeUserMsgHeader(w, { userMsgLen: payload.length });
  w.rawBytes(payload);
  return w.finish();
}

/** A UDP user message: type byte then the raw payload. */
export function encodeUdpUserMsg(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.of(MessageType.user), payload]);
}

export const MAX_COMPOUND_PARTS = 255;

/** compound: type, count, N big-endian uint16 lengths, the messages back to back. */
export function encodeCompound(msgs: Buffer[]): Buffer {
  if (msgs.length > MAX_COMPOUND_PARTS) throw new Error(`compound message holds at most 255 parts, got ${msgs.length}`);
  let total = 2 + msgs.length * 2;
  for (const m of msgs) {
    if (m.length > U16) throw new Error(`compound part too long: ${m.length}`);
    total += m.length;
  }
  const out = Buffer.allocUnsafe(total);
  out[0] = MessageType.compound;
  out[1] = msgs.length;
  let pos = 2;
  for (const m of msgs) {
    out.writeUInt16BE(m.length, pos);
    pos += 2;
  }
  for (const m of msgs) {
    m.copy(out, pos);
    pos += m.length;
  }
  return out;
}

/** Split a compound body (after the type byte). Like Go, parts that do not fit are reported as truncated. */
export function decodeCompound(body: Buffer): { parts: Buffer[]; truncated: number } {
  if (body.length < 1) throw new Error('compound: missing length byte');
  const n = body[0]!;
  if (body.length < 1 + n * 2) throw new Error('compound: truncated length table');
  const parts: Buffer[] = [];
  let pos = 1 + n * 2;
  for (let i = 0; i < n; i++) {
    const len = body.readUInt16BE(1 + i * 2);
    if (pos + len > body.length) return { parts, truncated: n - i };
    parts.push(body.subarray(pos, pos + len));
    pos += len;
  }
  return { parts, truncated: 0 };
}
