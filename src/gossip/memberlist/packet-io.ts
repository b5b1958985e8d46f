// The UDP half of Go's net.go: sending one packet (piggybacking queued broadcasts, then
// compress -> CRC -> encrypt -> label), receiving one (the reverse, then dispatch by message
// type), ping/indirect-ping answers and the ack/nack handlers that probes wait on.
import { ipFromBytes, isValidIpBytes, joinHostPort } from './addr.js';
import { Rejected, type MemberlistCore } from './core.js';
import { addLabelHeader, labelOverhead, removeLabelHeader } from './label.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import type { Membership } from './membership.js';
import {
  decodeBody,
  decodeCompound,
  encodeAck,
  encodeCompound,
  encodeCompress,
  encodeNack,
  encodePing,
  encodeUdpUserMsg,
  MAX_COMPOUND_PARTS,
  MessageType,
  readAck,
  readAlive,
  readCompress,
  readIndirectPing,
  readNack,
  readPing,
  readSuspect,
  type Alive,
  type Ping,
  type Suspect,
} from './messages.js';
import { decryptPayload, encryptOverhead, encryptPayload } from './security.js';
import type { NodeState } from './state.js';
import { crc32 } from '../../util/crc32.js';
import type { TimerHandle } from '../../util/clock.js';

export const COMPOUND_HEADER_OVERHEAD = 2;
export const COMPOUND_OVERHEAD = 2;
const USER_MSG_OVERHEAD = 1;
const MAX_UDP_DECOMPRESSED = 1024 * 1024;
const MAX_NESTING = 4;

interface AckHandler {
  ackFn: (payload: Buffer | null, timestamp: number) => void;
  nackFn: (() => void) | null;
  timer: TimerHandle;
}

export class PacketIO {
  private readonly ackHandlers = new Map<number, AckHandler>();

  constructor(
    private readonly core: MemberlistCore,
    private readonly members: Membership,
  ) {}

  stop(): void {
    for (const h of this.ackHandlers.values()) this.core.clock.clearTimeout(h.timer);
    this.ackHandlers.clear();
  }

  // ---------------------------------------------------------------- send

  /** Send `msg`, with as many queued broadcasts as fit piggybacked in a compound. */
  sendMsg(addr: string, msg: Buffer, node: NodeState | null): void {
    const { config } = this.core;
    let avail = config.udpBufferSize - msg.length - COMPOUND_HEADER_OVERHEAD - labelOverhead(config.label);
    if (this.core.encryptionEnabled() && config.gossipVerifyOutgoing) avail -= encryptOverhead(this.core.encryptionVersion());
    const extra = this.getBroadcasts(COMPOUND_OVERHEAD, avail);
    if (extra.length === 0) {
      this.rawSendMsgPacket(addr, node, msg);
      return;
    }
    this.rawSendMsgPacket(addr, node, encodeCompound([msg, ...extra.slice(0, MAX_COMPOUND_PARTS - 1)]));
  }

  rawSendMsgPacket(addr: string, node: NodeState | null, msg: Buffer): void {
    const { core } = this;
    const { config } = core;
    if (core.shut) return;
    if (config.enableCompression) {
      const compressed = encodeCompress({ algo: 0, buf: lzwCompress(msg) });
      if (compressed.length < msg.length) msg = compressed;
    }
    if (node && (node.vsn[1] ?? 0) >= 5) {
      const header = Buffer.allocUnsafe(5);
      header[0] = MessageType.hasCrc;
      header.writeUInt32BE(crc32(msg), 1);
      msg = Buffer.concat([header, msg]);
    }
    if (core.encryptionEnabled() && config.gossipVerifyOutgoing) {
      const aad = config.label === '' ? Buffer.alloc(0) : Buffer.from(config.label, 'utf8');
      msg = encryptPayload(core.encryptionVersion(), config.keyring!.primaryKey(), msg, aad);
    }
    msg = addLabelHeader(msg, config.label);
    core.stats.udpBytesSent += msg.length;
    core.stats.udpPacketsSent++;
    core.transport.writeTo(msg, addr);
  }

  /** Our membership broadcasts first, then the delegate's user broadcasts in what space is left. */
  getBroadcasts(overhead: number, limit: number): Buffer[] {
    const toSend = this.members.broadcasts.getBroadcasts(overhead, limit);
    const { delegate } = this.core;
    if (delegate) {
      let used = 0;
      for (const m of toSend) used += m.length + overhead;
      const avail = limit - used;
      if (avail > overhead + USER_MSG_OVERHEAD) {
        for (const m of delegate.getBroadcasts(overhead + USER_MSG_OVERHEAD, avail)) toSend.push(encodeUdpUserMsg(m));
      }
    }
    return toSend;
  }

  // ---------------------------------------------------------------- receive

  /** Entry point for every datagram. */
  ingestPacket(buf: Buffer, from: string, timestamp: number): void {
    const { core } = this;
    const { config } = core;
    if (core.shut) return;
    try {
      let packet: Buffer;
      let label: string;
      try {
        ({ label, rest: packet } = removeLabelHeader(buf));
      } catch (err) {
        throw new Rejected('bad label header', (err as Error).message);
      }
      if (config.skipInboundLabelCheck) {
        if (label !== '') throw new Rejected('unexpected label', 'unexpected packet label header');
        label = config.label;
      }
      if (label !== config.label) throw new Rejected('label mismatch', `packet label "${label}" is not ours`);
      if (core.encryptionEnabled()) {
        try {
          const aad = label === '' ? Buffer.alloc(0) : Buffer.from(label, 'utf8');
          packet = decryptPayload(config.keyring!.getKeys(), packet, aad);
        } catch (err) {
          if (config.gossipVerifyIncoming) throw new Rejected('decrypt failed', (err as Error).message);
        }
      }
      if (packet.length >= 5 && packet[0] === MessageType.hasCrc) {
        const expected = packet.readUInt32BE(1);
        packet = packet.subarray(5);
        if (crc32(packet) !== expected) throw new Rejected('bad checksum', 'invalid checksum for UDP packet');
      }
      this.handleCommand(packet, from, timestamp, 0);
    } catch (err) {
      this.rejectInput(err, from);
    }
  }

  private rejectInput(err: unknown, from: string): void {
    if (err instanceof Rejected) this.core.reject(err.reason, from, err);
    else this.core.reject('decode failed', from, err);
  }

  private handleCommand(buf: Buffer, from: string, timestamp: number, depth: number): void {
    if (buf.length === 0) throw new Rejected('empty message', 'empty message');
    if (depth > MAX_NESTING) throw new Rejected('nesting too deep', 'compound/compress nested too deep');
    const type = buf[0]!;
    const body = buf.subarray(1);
    const { members } = this;
    switch (type) {
      case MessageType.compound: {
        let parts: Buffer[];
        let truncated: number;
        try {
          ({ parts, truncated } = decodeCompound(body));
        } catch (err) {
          throw new Rejected('bad compound', (err as Error).message);
        }
        if (truncated > 0) this.core.reject('truncated compound', from);
        for (const part of parts) {
          try {
            this.handleCommand(part, from, timestamp, depth + 1);
          } catch (err) {
            this.rejectInput(err, from);
          }
        }
        return;
      }
      case MessageType.compress: {
        const c = decodeBody('compress', readCompress, body);
        if (c.algo !== 0) throw new Rejected('unknown compression', `cannot decompress algorithm ${c.algo}`);
        this.handleCommand(lzwDecompress(c.buf ?? Buffer.alloc(0), MAX_UDP_DECOMPRESSED), from, timestamp, depth + 1);
        return;
      }
      case MessageType.ping:
        this.handlePing(decodeBody('ping', readPing, body), from);
        return;
      case MessageType.indirectPing:
        this.handleIndirectPing(body, from);
        return;
      case MessageType.ackResp: {
        const ack = decodeBody('ackResp', readAck, body);
        this.invokeAckHandler(ack.seqNo, ack.payload, timestamp);
        return;
      }
      case MessageType.nackResp:
        this.ackHandlers.get(decodeBody('nackResp', readNack, body).seqNo)?.nackFn?.();
        return;
      case MessageType.suspect:
        members.suspectNode(checkSuspect(decodeBody('suspect', readSuspect, body)));
        return;
      case MessageType.alive: {
        const a = decodeBody('alive', readAlive, body);
        if (a.port === 0) a.port = this.core.config.bindPort;
        members.aliveNode(checkAlive(a), null, false);
        return;
      }
      case MessageType.dead:
        members.deadNode(checkSuspect(decodeBody('dead', readSuspect, body)));
        return;
      case MessageType.user:
        this.core.delegate?.notifyMsg(Buffer.from(body));
        return;
      default:
        throw new Rejected('unsupported type', `message type ${type} not supported over UDP`);
    }
  }

  private handlePing(p: Ping, from: string): void {
    if (p.node !== '' && p.node !== this.core.config.name) {
      throw new Rejected('ping for another node', `got ping for unexpected node '${p.node}'`);
    }
    const to = replyAddr(p.sourceAddr, p.sourcePort, from);
    // Like Go, the ping/ack path carries no CRC header (Go only adds it on gossip).
    this.sendMsg(to, encodeAck({ seqNo: p.seqNo, payload: null }), null);
  }

  private handleIndirectPing(body: Buffer, from: string): void {
    const { core } = this;
    const ind = decodeBody('indirectPingReq', readIndirectPing, body);
    if (!isValidIpBytes(ind.target)) throw new Rejected('invalid message', 'indirect ping target must be 4 or 16 bytes');
    if (core.config.protocolVersion < 2 || ind.port === 0) ind.port = core.config.bindPort;
    const indAddr = replyAddr(ind.sourceAddr, ind.sourcePort, from);
    const localSeq = core.nextSeqNo();
    let answered = false;
    let nackTimer: TimerHandle | null = null;
    const onAck = (): void => {
      answered = true;
      if (nackTimer) core.clock.clearTimeout(nackTimer);
      this.sendMsg(indAddr, encodeAck({ seqNo: ind.seqNo, payload: null }), null);
    };
    this.setAckHandler(localSeq, onAck, null, core.config.probeTimeoutMs);
    const ping: Ping = {
      seqNo: localSeq,
      node: ind.node,
      sourceAddr: core.selfAddrBytes(),
      sourcePort: core.advertisePort,
      sourceNode: core.config.name,
    };
    this.sendMsg(joinHostPort(ipFromBytes(ind.target), ind.port), encodePing(ping), null);
    if (ind.nack) {
      nackTimer = core.clock.setTimeout(() => {
        if (!answered && !core.shut) this.sendMsg(indAddr, encodeNack({ seqNo: ind.seqNo }), null);
      }, core.config.probeTimeoutMs);
    }
  }

  // ---------------------------------------------------------------- ack handlers

  setAckHandler(seqNo: number, ackFn: AckHandler['ackFn'], nackFn: AckHandler['nackFn'], timeoutMs: number, onTimeout?: () => void): void {
    const timer = this.core.clock.setTimeout(() => {
      this.ackHandlers.delete(seqNo);
      onTimeout?.();
    }, timeoutMs);
    this.ackHandlers.set(seqNo, { ackFn, nackFn, timer });
  }

  private invokeAckHandler(seqNo: number, payload: Buffer | null, timestamp: number): void {
    const h = this.ackHandlers.get(seqNo);
    if (!h) return;
    this.ackHandlers.delete(seqNo);
    this.core.clock.clearTimeout(h.timer);
    h.ackFn(payload, timestamp);
  }
}

function checkSuspect(s: Suspect): Suspect {
  if (s.node === '') throw new Rejected('invalid message', 'suspect/dead without node name');
  return s;
}

function checkAlive(a: Alive): Alive & { addr: Buffer } {
  if (a.node === '') throw new Rejected('invalid message', 'alive without node name');
  if (!isValidIpBytes(a.addr)) throw new Rejected('invalid message', 'alive address must be 4 or 16 bytes');
  const vsnLen = a.vsn?.length ?? 0;
  if (vsnLen !== 0 && vsnLen < 6) throw new Rejected('invalid message', 'alive Vsn must hold 6 bytes');
  if (vsnLen >= 3) {
    const [pMin, pMax] = [a.vsn![0]!, a.vsn![1]!];
    if (pMin === 0 || pMax === 0 || pMin > pMax) throw new Rejected('invalid message', 'alive with bad protocol versions');
  }
  return a as Alive & { addr: Buffer };
}

/** Where a ping's answer goes: the source it names, else the packet's sender. */
function replyAddr(sourceAddr: Buffer | null, sourcePort: number, from: string): string {
  if (sourceAddr && sourceAddr.length > 0 && sourcePort > 0) {
    if (!isValidIpBytes(sourceAddr)) throw new Rejected('invalid message', 'source address must be 4 or 16 bytes');
    return joinHostPort(ipFromBytes(sourceAddr), sourcePort);
  }
  return from;
}
