// The TCP half of Go's net.go: one message per stream (label -> encrypt envelope -> compress),
// the stream server (user messages, push/pull, TCP fallback pings), push/pull exchanges as
// initiator, and the TCP fallback ping the prober uses.
import { MAX_PUSH_STATE_BYTES, EndOfStream, Rejected, type MemberlistCore } from './core.js';
import { isValidIpBytes } from './addr.js';
import { addLabelHeader } from './label.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import type { Membership } from './membership.js';
import {
  encodeAck,
  encodeCompress,
  encodeErr,
  encodePing,
  encodePushPull,
  HAS_LABEL,
  MessageType,
  readAck,
  readCompress,
  readErr,
  readPing,
  readPushNodeState,
  readPushPullHeader,
  readUserMsgHeader,
  type Ping,
  type PushNodeState,
} from './messages.js';
import { decryptPayload, encryptPayload, type EncryptionVersion } from './security.js';
import { StreamReader } from './stream-reader.js';
import type { StreamConn } from './transport.js';

const MAX_PUSH_PULL_REQUESTS = 128;

interface RemoteState {
  join: boolean;
  nodes: PushNodeState[];
  userState: Buffer | null;
}

export class StreamIO {
  private readonly openConns = new Set<StreamConn>();
  private pushPullReq = 0;

  constructor(
    private readonly core: MemberlistCore,
    private readonly members: Membership,
  ) {}

  stop(): void {
    for (const c of this.openConns) c.close();
    this.openConns.clear();
  }

  async dial(addr: string, timeoutMs = this.core.config.tcpTimeoutMs): Promise<StreamConn> {
    const conn = await this.core.transport.dial(addr, timeoutMs);
    this.openConns.add(conn);
    return conn;
  }

  closeConn(conn: StreamConn): void {
    this.openConns.delete(conn);
    conn.close();
  }

  // ---------------------------------------------------------------- initiator side

  /** Exchange full state with the node at `addr` (join = true when joining through it). */
  async pushPullNode(addr: string, join: boolean): Promise<void> {
    const conn = await this.dial(addr);
    const timer = this.core.clock.setTimeout(() => this.closeConn(conn), this.core.config.tcpTimeoutMs);
    try {
      await this.sendLocalState(conn, join, true);
      const { type, reader } = await this.readStream(conn, false);
      if (type === MessageType.err) {
        const e = await reader.readStruct('errResp', readErr);
        throw new Error(`remote error: ${e.error}`);
      }
      if (type !== MessageType.pushPull) throw new Error(`received invalid msgType (${type}), expected pushPull`);
      const remote = await this.readRemoteState(reader);
      this.members.mergeRemoteState(remote.nodes, remote.userState, join);
    } finally {
      this.core.clock.clearTimeout(timer);
      this.closeConn(conn);
    }
  }

  /** TCP fallback ping: true when the node acked over a stream before `deadline`. */
  async sendPingAndWaitForAck(addr: string, ping: Ping, deadline: number): Promise<boolean> {
    const { clock } = this.core;
    const remaining = deadline - clock.now();
    if (remaining <= 0) return false;
    let conn: StreamConn;
    try {
      conn = await this.dial(addr, remaining);
    } catch {
      return false;
    }
    const timer = clock.setTimeout(() => this.closeConn(conn), Math.max(0, deadline - clock.now()));
    try {
      await this.rawSendMsgStream(conn, encodePing(ping), true);
      const { type, reader } = await this.readStream(conn, false);
      if (type !== MessageType.ackResp) throw new Error(`unexpected msgType (${type}) from ping`);
      const ack = await reader.readStruct('ackResp', readAck);
      if (ack.seqNo !== ping.seqNo) throw new Error(`sequence number from ack (${ack.seqNo}) doesn't match ping (${ping.seqNo})`);
      return true;
    } finally {
      clock.clearTimeout(timer);
      this.closeConn(conn);
    }
  }

  private async sendLocalState(conn: StreamConn, join: boolean, initiator: boolean): Promise<void> {
    const nodes = this.members.localPushState();
    let userData = this.core.delegate ? this.core.delegate.localState(join) : null;
    if (userData && userData.length === 0) userData = null;
    await this.rawSendMsgStream(conn, encodePushPull(nodes, userData, join), initiator);
  }

  /** Compress, encrypt and (when we opened the stream) label one stream message. */
  async rawSendMsgStream(conn: StreamConn, buf: Buffer, initiator: boolean): Promise<void> {
    const { core } = this;
    const { config } = core;
    if (config.enableCompression) buf = encodeCompress({ algo: 0, buf: lzwCompress(buf) });
    if (core.encryptionEnabled() && config.gossipVerifyOutgoing) {
      const vsn = core.encryptionVersion();
      const blob = encryptPayload(vsn, config.keyring!.primaryKey(), buf, this.streamAad(vsn, buf.length));
      const header = Buffer.allocUnsafe(5);
      header[0] = MessageType.encrypt;
      header.writeUInt32BE(blob.length, 1);
      buf = Buffer.concat([header, blob]);
    }
    if (initiator) buf = addLabelHeader(buf, config.label);
    core.stats.tcpBytesSent += buf.length;
    await conn.write(buf);
  }

  private streamAad(vsn: EncryptionVersion, plainLen: number): Buffer {
    const header = Buffer.allocUnsafe(5);
    header[0] = MessageType.encrypt;
    const blobLen = vsn === 1 ? 29 + plainLen : 1 + 12 + plainLen + (16 - (plainLen % 16)) + 16;
    header.writeUInt32BE(blobLen, 1);
    const { label } = this.core.config;
    return label === '' ? header : Buffer.concat([header, Buffer.from(label, 'utf8')]);
  }

  // ---------------------------------------------------------------- envelope

  /** Read the envelope of one stream message: label (server side), decryption, decompression. */
  private async readStream(conn: StreamConn, server: boolean): Promise<{ type: number; reader: StreamReader }> {
    const { core } = this;
    const { config } = core;
    let reader = new StreamReader(conn, MAX_PUSH_STATE_BYTES + 64);
    let first = await reader.readByteOrEnd();
    if (first === null) throw new EndOfStream();
    if (server) {
      let label = '';
      if (first === HAS_LABEL) {
        const len = (await reader.readExact(1))[0]!;
        if (len < 1) throw new Rejected('bad label header', 'label header with empty label');
        label = (await reader.readExact(len)).toString('utf8');
        first = await reader.readByteOrEnd();
        if (first === null) throw new EndOfStream();
        if (config.skipInboundLabelCheck) throw new Rejected('unexpected label', 'unexpected stream label header');
      } else if (config.skipInboundLabelCheck) {
        label = config.label;
      }
      if (label !== config.label) throw new Rejected('label mismatch', `stream label "${label}" is not ours`);
    }
    let type = first;
    if (type === MessageType.encrypt) {
      if (!core.encryptionEnabled()) {
        throw new Rejected('unexpected encryption', 'Remote state is encrypted and encryption is not configured');
      }
      const lenBytes = await reader.readExact(4);
      const len = lenBytes.readUInt32BE(0);
      if (len > MAX_PUSH_STATE_BYTES) throw new Rejected('too large', `Remote node state is larger than limit (${len})`);
      const blob = await reader.readExact(len);
      const header = Buffer.concat([Buffer.of(MessageType.encrypt), lenBytes]);
      const aad = config.label === '' ? header : Buffer.concat([header, Buffer.from(config.label, 'utf8')]);
      let plain: Buffer;
      try {
        plain = decryptPayload(config.keyring!.getKeys(), blob, aad);
      } catch (err) {
        throw new Rejected('decrypt failed', (err as Error).message);
      }
      if (plain.length === 0) throw new Rejected('empty message', 'empty decrypted stream message');
      type = plain[0]!;
      reader = new StreamReader(null, MAX_PUSH_STATE_BYTES, plain.subarray(1));
    } else if (core.encryptionEnabled() && config.gossipVerifyIncoming) {
      throw new Rejected('not encrypted', 'Encryption is configured but remote state is not encrypted');
    }
    if (type === MessageType.compress) {
      const c = await reader.readStruct('compress', readCompress);
      if (c.algo !== 0) throw new Rejected('unknown compression', `cannot decompress algorithm ${c.algo}`);
      const d = lzwDecompress(c.buf ?? Buffer.alloc(0), MAX_PUSH_STATE_BYTES);
      if (d.length === 0) throw new Rejected('empty message', 'empty decompressed stream message');
      type = d[0]!;
      reader = new StreamReader(null, MAX_PUSH_STATE_BYTES, d.subarray(1));
    }
    return { type, reader };
  }

  private async readRemoteState(reader: StreamReader): Promise<RemoteState> {
    const { config } = this.core;
    const header = await reader.readStruct('pushPullHeader', readPushPullHeader);
    if (header.userStateLen > MAX_PUSH_STATE_BYTES) throw new Rejected('too large', 'user state larger than limit');
    const nodes: PushNodeState[] = [];
    for (let i = 0; i < header.nodes; i++) {
      const n = await reader.readStruct('pushNodeState', readPushNodeState);
      if (n.name === '') throw new Rejected('invalid message', 'push/pull node without a name');
      if (!isValidIpBytes(n.addr)) throw new Rejected('invalid message', `push/pull node ${n.name}: bad address`);
      const vsnLen = n.vsn?.length ?? 0;
      if (vsnLen !== 0 && vsnLen < 6) throw new Rejected('invalid message', `push/pull node ${n.name}: bad Vsn`);
      if (vsnLen >= 3 && (n.vsn![0] === 0 || n.vsn![1] === 0 || n.vsn![0]! > n.vsn![1]!)) {
        throw new Rejected('invalid message', `push/pull node ${n.name}: bad protocol versions`);
      }
      if (config.protocolVersion < 2 || n.port === 0) n.port = config.bindPort;
      nodes.push(n);
    }
    const userState = header.userStateLen > 0 ? Buffer.from(await reader.readExact(header.userStateLen)) : null;
    return { join: header.join, nodes, userState };
  }

  // ---------------------------------------------------------------- server side

  /** Entry point for every accepted stream. */
  async handleConn(conn: StreamConn): Promise<void> {
    const { core } = this;
    if (core.shut) {
      conn.close();
      return;
    }
    this.openConns.add(conn);
    const timer = core.clock.setTimeout(() => this.closeConn(conn), core.config.tcpTimeoutMs);
    let countedPushPull = false;
    try {
      let envelope: { type: number; reader: StreamReader };
      try {
        envelope = await this.readStream(conn, true);
      } catch (err) {
        if (err instanceof EndOfStream) return;
        this.rejectStream(conn, err);
        await this.rawSendMsgStream(conn, encodeErr({ error: (err as Error).message }), false).catch(() => undefined);
        return;
      }
      const { type, reader } = envelope;
      switch (type) {
        case MessageType.user: {
          const h = await reader.readStruct('userMsgHeader', readUserMsgHeader);
          if (h.userMsgLen > MAX_PUSH_STATE_BYTES) throw new Rejected('too large', 'user message larger than limit');
          if (h.userMsgLen > 0) core.delegate?.notifyMsg(Buffer.from(await reader.readExact(h.userMsgLen)));
          return;
        }
        case MessageType.pushPull: {
          this.pushPullReq++;
          countedPushPull = true;
          if (this.pushPullReq >= MAX_PUSH_PULL_REQUESTS) throw new Rejected('too many push/pulls', 'too many pending push/pull requests');
          const remote = await this.readRemoteState(reader);
          await this.sendLocalState(conn, remote.join, false);
          this.members.mergeRemoteState(remote.nodes, remote.userState, remote.join);
          return;
        }
        case MessageType.ping: {
          const p = await reader.readStruct('ping', readPing);
          if (p.node !== '' && p.node !== core.config.name) {
            throw new Rejected('ping for another node', `got ping for unexpected node ${p.node}`);
          }
          await this.rawSendMsgStream(conn, encodeAck({ seqNo: p.seqNo, payload: null }), false);
          return;
        }
        default:
          throw new Rejected('unsupported type', `received invalid msgType (${type}) on stream`);
      }
    } catch (err) {
      this.rejectStream(conn, err);
    } finally {
      if (countedPushPull) this.pushPullReq--;
      core.clock.clearTimeout(timer);
      this.closeConn(conn);
    }
  }

  private rejectStream(conn: StreamConn, err: unknown): void {
    this.core.reject(err instanceof Rejected ? err.reason : 'stream decode failed', conn.remoteAddr, err);
  }
}
