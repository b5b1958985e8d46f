// One memberlist node: SWIM probing with indirect probes, TCP fallback pings and nacks
// (Lifeguard), gossip of membership changes and user broadcasts, push/pull anti-entropy,
// user messages over UDP and TCP, leave and shutdown. Wire-compatible with
// hashicorp/memberlist (reference/WIRE.md). Inputs that fail to decode, authenticate or
// match our label are logged (rate-limited) and change nothing.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ipFromBytes, ipToBytes, isValidIpBytes, joinHostPort, splitHostPort } from './addr.js';
import { Awareness } from './awareness.js';
import { realClock, type Clock, type TimerHandle } from '../../util/clock.js';
import { TransmitLimitedQueue } from './broadcast-queue.js';
import {
  META_MAX_SIZE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  validateConfig,
  type MemberlistConfig,
} from './config.js';
import { crc32 } from '../../util/crc32.js';
import { addLabelHeader, labelOverhead, removeLabelHeader, validateLabel } from './label.js';
import { pino } from 'pino';
import { RejectLog, toLogSink, type GossipLogger, type LogSink } from './reject-log.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import {
  decodeBody,
  decodeCompound,
  encodeAck,
  encodeAlive,
  encodeCompound,
  encodeCompress,
  encodeDead,
  encodeErr,
  encodeIndirectPing,
  encodeNack,
  encodePing,
  encodePushPull,
  encodeStreamUserMsg,
  encodeSuspect,
  encodeUdpUserMsg,
  HAS_LABEL,
  MAX_COMPOUND_PARTS,
  MessageType,
  readAck,
  readAlive,
  readCompress,
  readErr,
  readIndirectPing,
  readNack,
  readPing,
  readPushNodeState,
  readPushPullHeader,
  readSuspect,
  readUserMsgHeader,
  type Alive,
  type Dead,
  type Ping,
  type PushNodeState,
  type Suspect,
} from './messages.js';
import { decryptPayload, encryptOverhead, encryptPayload, type EncryptionVersion } from './security.js';
import {
  deadOrLeft,
  kRandomNodes,
  nodeAddress,
  NodeStateType,
  pushPullScale,
  shuffle,
  toNodeInfo,
  type NodeState,
} from './state.js';
import { StreamReader } from './stream-reader.js';
import { Suspicion, suspicionTimeoutMs } from './suspicion.js';
import type { StreamConn, Transport } from './transport.js';
import type { Cluster, Delegate, EventDelegate, NodeInfo } from './types.js';

const COMPOUND_HEADER_OVERHEAD = 2;
const COMPOUND_OVERHEAD = 2;
const USER_MSG_OVERHEAD = 1;
const MAX_PUSH_STATE_BYTES = 20 * 1024 * 1024;
const MAX_PUSH_PULL_REQUESTS = 128;
const MAX_UDP_DECOMPRESSED = 1024 * 1024;
const MAX_NESTING = 4;

export interface MemberlistOptions {
  delegate?: Delegate;
  events?: EventDelegate;
  transport: Transport;
  /** Default: silent. */
  logger?: GossipLogger;
  /** Random source (seeded in simulations). */
  random?: () => number;
  /** Time source for every timer and timestamp (a VirtualClock in simulations). */
  clock?: Clock;
}

interface AckHandler {
  ackFn: (payload: Buffer | null, timestamp: number) => void;
  nackFn: (() => void) | null;
  timer: TimerHandle;
}

export interface MemberlistStats {
  udpBytesSent: number;
  udpPacketsSent: number;
  tcpBytesSent: number;
  rejected: number;
}

class Rejected extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class Memberlist implements Cluster {
  readonly localName: string;
  private readonly config: MemberlistConfig;
  private readonly delegate: Delegate | undefined;
  private readonly events: EventDelegate | undefined;
  private readonly transport: Transport;
  private readonly logger: LogSink;
  private readonly rejects: RejectLog;
  private readonly random: () => number;
  private readonly clock: Clock;

  private nodes: NodeState[] = [];
  private readonly nodeMap = new Map<string, NodeState>();
  private readonly nodeTimers = new Map<string, Suspicion>();
  private readonly ackHandlers = new Map<number, AckHandler>();
  private readonly broadcasts: TransmitLimitedQueue;
  private readonly awareness: Awareness;

  private sequenceNum = 0;
  private incarnation = 0;
  private probeIndex = 0;
  private pushPullReq = 0;
  private advertiseAddr = '';
  private advertisePort = 0;
  private leaving = false;
  private shut = false;
  private leaveWaiters: Array<() => void> = [];
  private readonly timers = new Set<TimerHandle>();
  private readonly openConns = new Set<StreamConn>();
  readonly stats: MemberlistStats = { udpBytesSent: 0, udpPacketsSent: 0, tcpBytesSent: 0, rejected: 0 };

  constructor(config: MemberlistConfig, opts: MemberlistOptions) {
    validateConfig(config);
    validateLabel(config.label);
    this.config = config;
    this.localName = config.name;
    this.delegate = opts.delegate;
    this.events = opts.events;
    this.transport = opts.transport;
    this.logger = toLogSink(opts.logger ?? pino({ level: 'silent' }));
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? realClock;
    this.rejects = new RejectLog(this.logger, this.clock);
    this.broadcasts = new TransmitLimitedQueue(() => this.estNumNodes(), config.retransmitMult);
    this.awareness = new Awareness(config.awarenessMaxMultiplier);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Bind the transport, declare ourselves alive and start probing/gossip. */
  async start(): Promise<void> {
    const bound = await this.transport.start(this.config.bindAddr, this.config.bindPort, {
      onPacket: (buf, from, ts) => this.ingestPacket(buf, from, ts),
      onStream: (conn) => void this.handleConn(conn),
    });
    let addr = this.config.advertiseAddr ?? bound.addr;
    if (addr === '0.0.0.0' || addr === '::') addr = '127.0.0.1';
    this.advertiseAddr = addr;
    this.advertisePort = this.config.advertisePort ?? bound.port;
    this.setAlive();
    this.schedule();
  }

  private setAlive(): void {
    let meta: Buffer | null = null;
    if (this.delegate) {
      meta = this.delegate.nodeMeta(META_MAX_SIZE);
      if (meta.length > META_MAX_SIZE) throw new Error(`node meta is ${meta.length} bytes; limit ${META_MAX_SIZE}`);
    }
    this.aliveNode(
      {
        incarnation: this.nextIncarnation(),
        node: this.config.name,
        addr: ipToBytes(this.advertiseAddr),
        port: this.advertisePort,
        meta,
        vsn: Buffer.from(this.buildVsn()),
      },
      null,
      true,
    );
  }

  private buildVsn(): number[] {
    const c = this.config;
    return [
      PROTOCOL_VERSION_MIN,
      PROTOCOL_VERSION_MAX,
      c.protocolVersion,
      c.delegateProtocolMin,
      c.delegateProtocolMax,
      c.delegateProtocolVersion,
    ];
  }

  private later(ms: number, fn: () => void): void {
    if (this.shut) return;
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      if (!this.shut) fn();
    }, ms);
    this.timers.add(t);
  }

  private schedule(): void {
    const c = this.config;
    const probeTick = (): void => {
      const started = this.clock.now();
      this.probe()
        .catch((err: unknown) => this.logger.error({ err: String(err) }, 'memberlist: probe failed'))
        .finally(() => {
          // Like a Go ticker that drops missed ticks: next round on the next interval boundary.
          const elapsed = this.clock.now() - started;
          this.later(c.probeIntervalMs - (elapsed % c.probeIntervalMs), probeTick);
        });
    };
    this.later(Math.floor(this.random() * c.probeIntervalMs), probeTick);

    const gossipTick = (): void => {
      this.gossip();
      this.later(c.gossipIntervalMs, gossipTick);
    };
    this.later(Math.floor(this.random() * c.gossipIntervalMs), gossipTick);

    if (c.pushPullIntervalMs > 0) {
      const pushPullTick = (): void => {
        void this.pushPull().finally(() =>
          this.later(pushPullScale(c.pushPullIntervalMs, this.estNumNodes()), pushPullTick),
        );
      };
      this.later(Math.floor(this.random() * c.pushPullIntervalMs), pushPullTick);
    }
  }

  async leave(timeoutMs: number): Promise<void> {
    if (this.shut) throw new Error('memberlist: leave after shutdown');
    if (this.leaving) return;
    this.leaving = true;
    const me = this.nodeMap.get(this.config.name);
    if (!me) return;
    const done = new Promise<void>((resolve) => this.leaveWaiters.push(resolve));
    this.deadNode({ incarnation: me.incarnation, node: me.name, from: me.name });
    if (!this.anyAlive()) return;
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(true), timeoutMs > 0 ? timeoutMs : 2 ** 31 - 1);
    });
    const late = await Promise.race([done.then(() => false), timedOut]);
    this.clock.clearTimeout(timer);
    if (late) throw new Error('memberlist: timeout waiting for leave broadcast');
  }

  async shutdown(): Promise<void> {
    if (this.shut) return;
    this.shut = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    for (const s of this.nodeTimers.values()) s.stop();
    this.nodeTimers.clear();
    for (const h of this.ackHandlers.values()) this.clock.clearTimeout(h.timer);
    this.ackHandlers.clear();
    for (const c of this.openConns) c.close();
    this.openConns.clear();
    await this.transport.shutdown();
  }

  // ---------------------------------------------------------------- public queries

  members(): NodeInfo[] {
    return this.nodes.filter((n) => !deadOrLeft(n)).map(toNodeInfo);
  }

  /** Every node we know, including dead and left ones. */
  allNodes(): NodeInfo[] {
    return this.nodes.map(toNodeInfo);
  }

  numMembers(): number {
    return this.nodes.filter((n) => !deadOrLeft(n)).length;
  }

  localNode(): NodeInfo {
    return toNodeInfo(this.nodeMap.get(this.config.name)!);
  }

  healthScore(): number {
    return this.awareness.getHealthScore();
  }

  rejectedCounts(): ReadonlyMap<string, number> {
    return this.rejects.counts;
  }

  private estNumNodes(): number {
    return this.nodes.length;
  }

  private anyAlive(): boolean {
    return this.nodes.some((n) => !deadOrLeft(n) && n.name !== this.config.name);
  }

  private nextSeqNo(): number {
    this.sequenceNum = (this.sequenceNum + 1) >>> 0;
    return this.sequenceNum;
  }

  private nextIncarnation(): number {
    this.incarnation = (this.incarnation + 1) >>> 0;
    return this.incarnation;
  }

  private encryptionVersion(): EncryptionVersion {
    return this.config.protocolVersion === 1 ? 0 : 1;
  }

  private encryptionEnabled(): boolean {
    return this.config.keyring !== null;
  }

  private selfAddrBytes(): Buffer {
    return ipToBytes(this.advertiseAddr);
  }

  private reject(reason: string, from: string, err?: unknown): void {
    this.stats.rejected++;
    this.rejects.reject(reason, from, err);
  }

  // ---------------------------------------------------------------- join / user messages

  async join(addrs: string[]): Promise<number> {
    let ok = 0;
    const errors: string[] = [];
    for (const entry of addrs) {
      let targets: string[];
      try {
        targets = await this.resolve(entry);
      } catch (err) {
        errors.push(`failed to resolve ${entry}: ${(err as Error).message}`);
        continue;
      }
      for (const t of targets) {
        try {
          await this.pushPullNode(t, true);
          ok++;
        } catch (err) {
          errors.push(`failed to join ${t}: ${(err as Error).message}`);
        }
      }
    }
    if (ok === 0 && addrs.length > 0) throw new Error(`memberlist: ${errors.join('; ')}`);
    return ok;
  }

  private async resolve(entry: string): Promise<string[]> {
    const { host, port } = splitHostPort(entry, this.config.bindPort);
    if (isIP(host)) return [joinHostPort(host, port)];
    const found = await lookup(host, { all: true });
    return found.map((a) => joinHostPort(a.address, port));
  }

  private liveNode(name: string): NodeState {
    const n = this.nodeMap.get(name);
    if (!n || deadOrLeft(n)) throw new Error(`memberlist: unknown or dead node ${name}`);
    return n;
  }

  sendBestEffort(node: string, msg: Buffer): Promise<void> {
    const n = this.liveNode(node);
    this.rawSendMsgPacket(nodeAddress(n), n, encodeUdpUserMsg(msg));
    return Promise.resolve();
  }

  async sendReliable(node: string, msg: Buffer): Promise<void> {
    const n = this.liveNode(node);
    const conn = await this.dial(nodeAddress(n));
    try {
      await this.rawSendMsgStream(conn, encodeStreamUserMsg(msg), true);
    } finally {
      this.closeConn(conn);
    }
  }

  private async dial(addr: string): Promise<StreamConn> {
    const conn = await this.transport.dial(addr, this.config.tcpTimeoutMs);
    this.openConns.add(conn);
    return conn;
  }

  private closeConn(conn: StreamConn): void {
    this.openConns.delete(conn);
    conn.close();
  }

  // ---------------------------------------------------------------- packet send path

  private sendMsg(addr: string, msg: Buffer, node: NodeState | null): void {
    let avail = this.config.udpBufferSize - msg.length - COMPOUND_HEADER_OVERHEAD - labelOverhead(this.config.label);
    if (this.encryptionEnabled() && this.config.gossipVerifyOutgoing) avail -= encryptOverhead(this.encryptionVersion());
    const extra = this.getBroadcasts(COMPOUND_OVERHEAD, avail);
    if (extra.length === 0) {
      this.rawSendMsgPacket(addr, node, msg);
      return;
    }
    this.rawSendMsgPacket(addr, node, encodeCompound([msg, ...extra.slice(0, MAX_COMPOUND_PARTS - 1)]));
  }

  private rawSendMsgPacket(addr: string, node: NodeState | null, msg: Buffer): void {
    if (this.shut) return;
    if (this.config.enableCompression) {
      const compressed = encodeCompress({ algo: 0, buf: lzwCompress(msg) });
      if (compressed.length < msg.length) msg = compressed;
    }
    if (node && (node.vsn[1] ?? 0) >= 5) {
      const header = Buffer.allocUnsafe(5);
      header[0] = MessageType.hasCrc;
      header.writeUInt32BE(crc32(msg), 1);
      msg = Buffer.concat([header, msg]);
    }
    if (this.encryptionEnabled() && this.config.gossipVerifyOutgoing) {
      const aad = this.config.label === '' ? Buffer.alloc(0) : Buffer.from(this.config.label, 'utf8');
      msg = encryptPayload(this.encryptionVersion(), this.config.keyring!.primaryKey(), msg, aad);
    }
    msg = addLabelHeader(msg, this.config.label);
    this.stats.udpBytesSent += msg.length;
    this.stats.udpPacketsSent++;
    this.transport.writeTo(msg, addr);
  }

  private getBroadcasts(overhead: number, limit: number): Buffer[] {
    const toSend = this.broadcasts.getBroadcasts(overhead, limit);
    if (this.delegate) {
      let used = 0;
      for (const m of toSend) used += m.length + overhead;
      const avail = limit - used;
      if (avail > overhead + USER_MSG_OVERHEAD) {
        for (const m of this.delegate.getBroadcasts(overhead + USER_MSG_OVERHEAD, avail)) {
          toSend.push(encodeUdpUserMsg(m));
        }
      }
    }
    return toSend;
  }

  private queueBroadcast(node: string, msg: Buffer, onFinished?: () => void): void {
    this.broadcasts.queueBroadcast({ name: node, message: msg, finished: onFinished });
  }

  // ---------------------------------------------------------------- packet receive path

  /** Entry point for every datagram (public so tests can feed packets directly). */
  ingestPacket(buf: Buffer, from: string, timestamp: number = this.clock.now()): void {
    if (this.shut) return;
    try {
      let packet: Buffer;
      let label: string;
      try {
        ({ label, rest: packet } = removeLabelHeader(buf));
      } catch (err) {
        throw new Rejected('bad label header', (err as Error).message);
      }
      if (this.config.skipInboundLabelCheck) {
        if (label !== '') throw new Rejected('unexpected label', 'unexpected packet label header');
        label = this.config.label;
      }
      if (label !== this.config.label) throw new Rejected('label mismatch', `packet label "${label}" is not ours`);
      if (this.encryptionEnabled()) {
        try {
          const aad = label === '' ? Buffer.alloc(0) : Buffer.from(label, 'utf8');
          packet = decryptPayload(this.config.keyring!.getKeys(), packet, aad);
        } catch (err) {
          if (this.config.gossipVerifyIncoming) throw new Rejected('decrypt failed', (err as Error).message);
        }
      }
      if (packet.length >= 5 && packet[0] === MessageType.hasCrc) {
        const expected = packet.readUInt32BE(1);
        packet = packet.subarray(5);
        if (crc32(packet) !== expected) throw new Rejected('bad checksum', 'invalid checksum for UDP packet');
      }
      this.handleCommand(packet, from, timestamp, 0);
    } catch (err) {
      if (err instanceof Rejected) this.reject(err.reason, from, err);
      else this.reject('decode failed', from, err);
    }
  }

  private handleCommand(buf: Buffer, from: string, timestamp: number, depth: number): void {
    if (buf.length === 0) throw new Rejected('empty message', 'empty message');
    if (depth > MAX_NESTING) throw new Rejected('nesting too deep', 'compound/compress nested too deep');
    const type = buf[0]!;
    const body = buf.subarray(1);
    switch (type) {
      case MessageType.compound: {
        let parts: Buffer[];
        let truncated: number;
        try {
          ({ parts, truncated } = decodeCompound(body));
        } catch (err) {
          throw new Rejected('bad compound', (err as Error).message);
        }
        if (truncated > 0) this.reject('truncated compound', from);
        for (const part of parts) {
          try {
            this.handleCommand(part, from, timestamp, depth + 1);
          } catch (err) {
            if (err instanceof Rejected) this.reject(err.reason, from, err);
            else this.reject('decode failed', from, err);
          }
        }
        return;
      }
      case MessageType.compress: {
        const c = decodeBody('compress', readCompress, body);
        if (c.algo !== 0) throw new Rejected('unknown compression', `cannot decompress algorithm ${c.algo}`);
        const payload = lzwDecompress(c.buf ?? Buffer.alloc(0), MAX_UDP_DECOMPRESSED);
        this.handleCommand(payload, from, timestamp, depth + 1);
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
        this.invokeNackHandler(decodeBody('nackResp', readNack, body).seqNo);
        return;
      case MessageType.suspect:
        this.suspectNode(this.checkSuspect(decodeBody('suspect', readSuspect, body)));
        return;
      case MessageType.alive: {
        const a = decodeBody('alive', readAlive, body);
        if (a.port === 0) a.port = this.config.bindPort;
        this.aliveNode(this.checkAlive(a), null, false);
        return;
      }
      case MessageType.dead:
        this.deadNode(this.checkSuspect(decodeBody('dead', readSuspect, body)));
        return;
      case MessageType.user:
        this.delegate?.notifyMsg(Buffer.from(body));
        return;
      default:
        throw new Rejected('unsupported type', `message type ${type} not supported over UDP`);
    }
  }

  private checkSuspect(s: Suspect): Suspect {
    if (s.node === '') throw new Rejected('invalid message', 'suspect/dead without node name');
    return s;
  }

  private checkAlive(a: Alive): Alive & { addr: Buffer } {
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

  private replyAddr(sourceAddr: Buffer | null, sourcePort: number, from: string): string {
    if (sourceAddr && sourceAddr.length > 0 && sourcePort > 0) {
      if (!isValidIpBytes(sourceAddr)) throw new Rejected('invalid message', 'source address must be 4 or 16 bytes');
      return joinHostPort(ipFromBytes(sourceAddr), sourcePort);
    }
    return from;
  }

  private handlePing(p: Ping, from: string): void {
    if (p.node !== '' && p.node !== this.config.name) {
      throw new Rejected('ping for another node', `got ping for unexpected node '${p.node}'`);
    }
    const to = this.replyAddr(p.sourceAddr, p.sourcePort, from);
    // Like Go, the ping/ack path carries no CRC header (Go only adds it on gossip).
    this.sendMsg(to, encodeAck({ seqNo: p.seqNo, payload: null }), null);
  }

  private handleIndirectPing(body: Buffer, from: string): void {
    const ind = decodeBody('indirectPingReq', readIndirectPing, body);
    if (!isValidIpBytes(ind.target)) throw new Rejected('invalid message', 'indirect ping target must be 4 or 16 bytes');
    if (this.config.protocolVersion < 2 || ind.port === 0) ind.port = this.config.bindPort;
    const indAddr = this.replyAddr(ind.sourceAddr, ind.sourcePort, from);
    const localSeq = this.nextSeqNo();
    let answered = false;
    let nackTimer: TimerHandle | null = null;
    this.setAckHandler(
      localSeq,
      () => {
        answered = true;
        if (nackTimer) this.clock.clearTimeout(nackTimer);
        this.sendMsg(indAddr, encodeAck({ seqNo: ind.seqNo, payload: null }), null);
      },
      null,
      this.config.probeTimeoutMs,
    );
    const ping: Ping = {
      seqNo: localSeq,
      node: ind.node,
      sourceAddr: this.selfAddrBytes(),
      sourcePort: this.advertisePort,
      sourceNode: this.config.name,
    };
    this.sendMsg(joinHostPort(ipFromBytes(ind.target), ind.port), encodePing(ping), null);
    if (ind.nack) {
      nackTimer = this.clock.setTimeout(() => {
        if (!answered && !this.shut) this.sendMsg(indAddr, encodeNack({ seqNo: ind.seqNo }), null);
      }, this.config.probeTimeoutMs);
    }
  }

  private setAckHandler(
    seqNo: number,
    ackFn: AckHandler['ackFn'],
    nackFn: AckHandler['nackFn'],
    timeoutMs: number,
    onTimeout?: () => void,
  ): void {
    const timer = this.clock.setTimeout(() => {
      this.ackHandlers.delete(seqNo);
      onTimeout?.();
    }, timeoutMs);
    this.ackHandlers.set(seqNo, { ackFn, nackFn, timer });
  }

  private invokeAckHandler(seqNo: number, payload: Buffer | null, timestamp: number): void {
    const h = this.ackHandlers.get(seqNo);
    if (!h) return;
    this.ackHandlers.delete(seqNo);
    this.clock.clearTimeout(h.timer);
    h.ackFn(payload, timestamp);
  }

  private invokeNackHandler(seqNo: number): void {
    this.ackHandlers.get(seqNo)?.nackFn?.();
  }

  // ---------------------------------------------------------------- probing

  private async probe(): Promise<void> {
    let numCheck = 0;
    for (;;) {
      if (numCheck >= this.nodes.length) return;
      if (this.probeIndex >= this.nodes.length) {
        this.resetNodes();
        this.probeIndex = 0;
        numCheck++;
        continue;
      }
      const node = this.nodes[this.probeIndex]!;
      this.probeIndex++;
      if (node.name === this.config.name || deadOrLeft(node)) {
        numCheck++;
        continue;
      }
      await this.probeNode({ ...node, vsn: [...node.vsn] });
      return;
    }
  }

  private resetNodes(): void {
    const now = this.clock.now();
    const keep: NodeState[] = [];
    for (const n of this.nodes) {
      if (n.state === NodeStateType.dead && now - n.stateChange > this.config.gossipToTheDeadTimeMs) {
        this.nodeMap.delete(n.name);
      } else {
        keep.push(n);
      }
    }
    this.nodes = keep;
    shuffle(this.nodes, this.random);
  }

  private async probeNode(node: NodeState): Promise<void> {
    const probeInterval = this.awareness.scaleTimeout(this.config.probeIntervalMs);
    const ping: Ping = {
      seqNo: this.nextSeqNo(),
      node: node.name,
      sourceAddr: this.selfAddrBytes(),
      sourcePort: this.advertisePort,
      sourceNode: this.config.name,
    };
    let nacks = 0;
    let resolveAck: (acked: boolean) => void = () => undefined;
    const acked = new Promise<boolean>((resolve) => (resolveAck = resolve));
    this.setAckHandler(
      ping.seqNo,
      () => resolveAck(true),
      () => nacks++,
      probeInterval,
      () => resolveAck(false),
    );
    const deadline = this.clock.now() + probeInterval;
    const addr = nodeAddress(node);
    let awarenessDelta = 0;
    try {
      if (node.state === NodeStateType.alive) {
        this.sendMsg(addr, encodePing(ping), null);
      } else {
        const s = encodeSuspect({ incarnation: node.incarnation, node: node.name, from: this.config.name });
        this.rawSendMsgPacket(addr, node, encodeCompound([encodePing(ping), s]));
      }
      awarenessDelta = -1;
      let timer: TimerHandle | undefined;
      const direct = await Promise.race([
        acked,
        new Promise<false>((resolve) => (timer = this.clock.setTimeout(() => resolve(false), this.config.probeTimeoutMs))),
      ]);
      this.clock.clearTimeout(timer);
      if (direct || this.shut) return;

      const peers = kRandomNodes(
        this.config.indirectChecks,
        this.nodes,
        (n) => n.name === this.config.name || n.name === node.name || n.state !== NodeStateType.alive,
        this.random,
      );
      let expectedNacks = 0;
      for (const peer of peers) {
        const nack = (peer.vsn[1] ?? 0) >= 4;
        if (nack) expectedNacks++;
        const ind = encodeIndirectPing({
          seqNo: ping.seqNo,
          target: node.addr,
          port: node.port,
          node: node.name,
          nack,
          sourceAddr: this.selfAddrBytes(),
          sourcePort: this.advertisePort,
          sourceNode: this.config.name,
        });
        this.sendMsg(nodeAddress(peer), ind, null);
      }
      const fallback =
        !this.config.disableTcpPings && (node.vsn[1] ?? 0) >= 3
          ? this.sendPingAndWaitForAck(addr, ping, deadline).catch((err: unknown) => {
              this.logger.debug({ err: String(err) }, 'memberlist: failed fallback ping');
              return false;
            })
          : Promise.resolve(false);
      if (await acked) return;
      if (await fallback) {
        this.logger.warn({ node: node.name }, 'memberlist: was able to connect over TCP but other probes failed');
        return;
      }
      if (this.shut) return;
      awarenessDelta = expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1;
      this.logger.info({ node: node.name }, 'memberlist: suspect node has failed, no acks received');
      this.suspectNode({ incarnation: node.incarnation, node: node.name, from: this.config.name });
    } finally {
      this.awareness.applyDelta(awarenessDelta);
    }
  }

  private async sendPingAndWaitForAck(addr: string, ping: Ping, deadline: number): Promise<boolean> {
    const remaining = deadline - this.clock.now();
    if (remaining <= 0) return false;
    let conn: StreamConn;
    try {
      conn = await this.transport.dial(addr, remaining);
    } catch {
      return false;
    }
    this.openConns.add(conn);
    const timer = this.clock.setTimeout(() => this.closeConn(conn), Math.max(0, deadline - this.clock.now()));
    try {
      await this.rawSendMsgStream(conn, encodePing(ping), true);
      const { type, reader } = await this.readStream(conn, false);
      if (type !== MessageType.ackResp) throw new Error(`unexpected msgType (${type}) from ping`);
      const ack = await reader.readStruct('ackResp', readAck);
      if (ack.seqNo !== ping.seqNo) throw new Error(`sequence number from ack (${ack.seqNo}) doesn't match ping (${ping.seqNo})`);
      return true;
    } finally {
      this.clock.clearTimeout(timer);
      this.closeConn(conn);
    }
  }

  // ---------------------------------------------------------------- gossip & push/pull

  private gossip(): void {
    const now = this.clock.now();
    const peers = kRandomNodes(
      this.config.gossipNodes,
      this.nodes,
      (n) => {
        if (n.name === this.config.name) return true;
        if (n.state === NodeStateType.alive || n.state === NodeStateType.suspect) return false;
        if (n.state === NodeStateType.dead) return now - n.stateChange > this.config.gossipToTheDeadTimeMs;
        return true;
      },
      this.random,
    );
    let avail = this.config.udpBufferSize - COMPOUND_HEADER_OVERHEAD - labelOverhead(this.config.label);
    if (this.encryptionEnabled()) avail -= encryptOverhead(this.encryptionVersion());
    for (const peer of peers) {
      const msgs = this.getBroadcasts(COMPOUND_OVERHEAD, avail);
      if (msgs.length === 0) return;
      const addr = nodeAddress(peer);
      if (msgs.length === 1) this.rawSendMsgPacket(addr, peer, msgs[0]!);
      else {
        for (let i = 0; i < msgs.length; i += MAX_COMPOUND_PARTS) {
          this.rawSendMsgPacket(addr, peer, encodeCompound(msgs.slice(i, i + MAX_COMPOUND_PARTS)));
        }
      }
    }
  }

  private async pushPull(): Promise<void> {
    const [peer] = kRandomNodes(
      1,
      this.nodes,
      (n) => n.name === this.config.name || n.state !== NodeStateType.alive,
      this.random,
    );
    if (!peer) return;
    try {
      await this.pushPullNode(nodeAddress(peer), false);
    } catch (err) {
      this.logger.warn({ node: peer.name, err: (err as Error).message }, 'memberlist: push/pull failed');
    }
  }

  private async pushPullNode(addr: string, join: boolean): Promise<void> {
    const conn = await this.dial(addr);
    const timer = this.clock.setTimeout(() => this.closeConn(conn), this.config.tcpTimeoutMs);
    try {
      await this.sendLocalState(conn, join, true);
      const { type, reader } = await this.readStream(conn, false);
      if (type === MessageType.err) {
        const e = await reader.readStruct('errResp', readErr);
        throw new Error(`remote error: ${e.error}`);
      }
      if (type !== MessageType.pushPull) throw new Error(`received invalid msgType (${type}), expected pushPull`);
      const remote = await this.readRemoteState(reader);
      this.mergeRemoteState(remote.nodes, remote.userState, join);
    } finally {
      this.clock.clearTimeout(timer);
      this.closeConn(conn);
    }
  }

  private localPushState(): PushNodeState[] {
    return this.nodes.map((n) => ({
      name: n.name,
      addr: n.addr,
      port: n.port,
      meta: n.meta,
      incarnation: n.incarnation,
      state: n.state,
      vsn: Buffer.from(n.vsn),
    }));
  }

  private async sendLocalState(conn: StreamConn, join: boolean, initiator: boolean): Promise<void> {
    const nodes = this.localPushState();
    let userData: Buffer | null = null;
    if (this.delegate) userData = this.delegate.localState(join);
    if (userData && userData.length === 0) userData = null;
    await this.rawSendMsgStream(conn, encodePushPull(nodes, userData, join), initiator);
  }

  /** Compress, encrypt and (when we opened the stream) label one stream message. */
  private async rawSendMsgStream(conn: StreamConn, buf: Buffer, initiator: boolean): Promise<void> {
    if (this.config.enableCompression) buf = encodeCompress({ algo: 0, buf: lzwCompress(buf) });
    if (this.encryptionEnabled() && this.config.gossipVerifyOutgoing) {
      const vsn = this.encryptionVersion();
      const blob = encryptPayload(vsn, this.config.keyring!.primaryKey(), buf, this.streamAad(vsn, buf.length));
      const header = Buffer.allocUnsafe(5);
      header[0] = MessageType.encrypt;
      header.writeUInt32BE(blob.length, 1);
      buf = Buffer.concat([header, blob]);
    }
    if (initiator) buf = addLabelHeader(buf, this.config.label);
    this.stats.tcpBytesSent += buf.length;
    await conn.write(buf);
  }

  private streamAad(vsn: EncryptionVersion, plainLen: number): Buffer {
    const header = Buffer.allocUnsafe(5);
    header[0] = MessageType.encrypt;
    const blobLen = vsn === 1 ? 29 + plainLen : 1 + 12 + plainLen + (16 - (plainLen % 16)) + 16;
    header.writeUInt32BE(blobLen, 1);
    return this.config.label === '' ? header : Buffer.concat([header, Buffer.from(this.config.label, 'utf8')]);
  }

  /** Read the envelope of one stream message: label (server side), decryption, decompression. */
  private async readStream(conn: StreamConn, server: boolean): Promise<{ type: number; reader: StreamReader }> {
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
        if (this.config.skipInboundLabelCheck) throw new Rejected('unexpected label', 'unexpected stream label header');
      } else if (this.config.skipInboundLabelCheck) {
        label = this.config.label;
      }
      if (label !== this.config.label) throw new Rejected('label mismatch', `stream label "${label}" is not ours`);
    }
    let type = first;
    if (type === MessageType.encrypt) {
      if (!this.encryptionEnabled()) {
        throw new Rejected('unexpected encryption', 'Remote state is encrypted and encryption is not configured');
      }
      const lenBytes = await reader.readExact(4);
      const len = lenBytes.readUInt32BE(0);
      if (len > MAX_PUSH_STATE_BYTES) throw new Rejected('too large', `Remote node state is larger than limit (${len})`);
      const blob = await reader.readExact(len);
      const header = Buffer.concat([Buffer.of(MessageType.encrypt), lenBytes]);
      const aad = this.config.label === '' ? header : Buffer.concat([header, Buffer.from(this.config.label, 'utf8')]);
      let plain: Buffer;
      try {
        plain = decryptPayload(this.config.keyring!.getKeys(), blob, aad);
      } catch (err) {
        throw new Rejected('decrypt failed', (err as Error).message);
      }
      if (plain.length === 0) throw new Rejected('empty message', 'empty decrypted stream message');
      type = plain[0]!;
      reader = new StreamReader(null, MAX_PUSH_STATE_BYTES, plain.subarray(1));
    } else if (this.encryptionEnabled() && this.config.gossipVerifyIncoming) {
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

  private async readRemoteState(
    reader: StreamReader,
  ): Promise<{ join: boolean; nodes: PushNodeState[]; userState: Buffer | null }> {
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
      if (this.config.protocolVersion < 2 || n.port === 0) n.port = this.config.bindPort;
      nodes.push(n);
    }
    const userState = header.userStateLen > 0 ? Buffer.from(await reader.readExact(header.userStateLen)) : null;
    return { join: header.join, nodes, userState };
  }

  private mergeRemoteState(remote: PushNodeState[], userState: Buffer | null, join: boolean): void {
    this.verifyProtocol(remote);
    this.mergeState(remote);
    if (userState && this.delegate) this.delegate.mergeRemoteState(userState, join);
  }

  /** All alive nodes, local and remote, must share a protocol and delegate version range. */
  private verifyProtocol(remote: PushNodeState[]): void {
    let maxpmin = 0;
    let minpmax = 255;
    let maxdmin = 0;
    let mindmax = 255;
    const vsnOf = (n: PushNodeState): number[] => (n.vsn && n.vsn.length >= 6 ? [...n.vsn] : [0, 0, 0, 0, 0, 0]);
    for (const rn of remote) {
      if (rn.state !== NodeStateType.alive || !rn.vsn || rn.vsn.length === 0) continue;
      const v = vsnOf(rn);
      maxpmin = Math.max(maxpmin, v[0]!);
      minpmax = Math.min(minpmax, v[1]!);
      maxdmin = Math.max(maxdmin, v[3]!);
      mindmax = Math.min(mindmax, v[4]!);
    }
    for (const n of this.nodes) {
      if (n.state !== NodeStateType.alive) continue;
      maxpmin = Math.max(maxpmin, n.vsn[0]!);
      minpmax = Math.min(minpmax, n.vsn[1]!);
      maxdmin = Math.max(maxdmin, n.vsn[3]!);
      mindmax = Math.min(mindmax, n.vsn[4]!);
    }
    const check = (name: string, v: number[]): void => {
      if (v[2]! < maxpmin || v[2]! > minpmax) {
        throw new Rejected('incompatible', `Node '${name}' protocol version (${v[2]}) is incompatible: [${maxpmin}, ${minpmax}]`);
      }
      if (v[5]! < maxdmin || v[5]! > mindmax) {
        throw new Rejected('incompatible', `Node '${name}' delegate protocol version (${v[5]}) is incompatible: [${maxdmin}, ${mindmax}]`);
      }
    };
    for (const rn of remote) check(rn.name, vsnOf(rn));
    for (const n of this.nodes) check(n.name, n.vsn);
  }

  private mergeState(remote: PushNodeState[]): void {
    for (const r of remote) {
      switch (r.state) {
        case NodeStateType.alive:
          this.aliveNode(
            { incarnation: r.incarnation, node: r.name, addr: r.addr!, port: r.port, meta: r.meta, vsn: r.vsn },
            null,
            false,
          );
          break;
        case NodeStateType.left:
          this.deadNode({ incarnation: r.incarnation, node: r.name, from: r.name });
          break;
        default:
          // A remote "dead" is only a suspicion for us.
          this.suspectNode({ incarnation: r.incarnation, node: r.name, from: this.config.name });
      }
    }
  }

  // ---------------------------------------------------------------- stream server

  /** Entry point for every accepted stream (public so tests can feed streams directly). */
  ingestStream(conn: StreamConn): Promise<void> {
    return this.handleConn(conn);
  }

  private async handleConn(conn: StreamConn): Promise<void> {
    if (this.shut) {
      conn.close();
      return;
    }
    this.openConns.add(conn);
    const timer = this.clock.setTimeout(() => this.closeConn(conn), this.config.tcpTimeoutMs);
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
          if (h.userMsgLen > 0) {
            const payload = Buffer.from(await reader.readExact(h.userMsgLen));
            this.delegate?.notifyMsg(payload);
          }
          return;
        }
        case MessageType.pushPull: {
          this.pushPullReq++;
          countedPushPull = true;
          if (this.pushPullReq >= MAX_PUSH_PULL_REQUESTS) throw new Rejected('too many push/pulls', 'too many pending push/pull requests');
          const remote = await this.readRemoteState(reader);
          await this.sendLocalState(conn, remote.join, false);
          this.mergeRemoteState(remote.nodes, remote.userState, remote.join);
          return;
        }
        case MessageType.ping: {
          const p = await reader.readStruct('ping', readPing);
          if (p.node !== '' && p.node !== this.config.name) {
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
      this.clock.clearTimeout(timer);
      this.closeConn(conn);
    }
  }

  private rejectStream(conn: StreamConn, err: unknown): void {
    this.reject(err instanceof Rejected ? err.reason : 'stream decode failed', conn.remoteAddr, err);
  }

  // ---------------------------------------------------------------- state machine (state.go)

  private refute(me: NodeState, accusedInc: number): void {
    let inc = this.nextIncarnation();
    if (accusedInc >= inc) {
      this.incarnation = (accusedInc + 1) >>> 0;
      inc = this.incarnation;
    }
    me.incarnation = inc;
    this.awareness.applyDelta(1);
    const a: Alive = {
      incarnation: inc,
      node: me.name,
      addr: me.addr,
      port: me.port,
      meta: me.meta,
      vsn: Buffer.from(me.vsn),
    };
    this.queueBroadcast(me.name, encodeAlive(a));
  }

  private aliveNode(a: Alive & { addr: Buffer }, notify: (() => void) | null, bootstrap: boolean): void {
    if (this.leaving && a.node === this.config.name) return;
    let state = this.nodeMap.get(a.node);
    let updatesNode = false;
    if (!state) {
      state = {
        name: a.node,
        addr: a.addr,
        port: a.port,
        meta: a.meta,
        incarnation: 0,
        state: NodeStateType.dead,
        stateChange: this.clock.now(),
        vsn: a.vsn && a.vsn.length >= 6 ? [...a.vsn.subarray(0, 6)] : [0, 0, 0, 0, 0, 0],
      };
      this.nodeMap.set(a.node, state);
      // Insert at a random offset so probe order (and detection time) stays fair.
      const n = this.nodes.length;
      const offset = n === 0 ? 0 : Math.floor(this.random() * n);
      this.nodes.push(state);
      [this.nodes[offset], this.nodes[n]] = [this.nodes[n]!, this.nodes[offset]!];
    } else if (!state.addr.equals(a.addr) || state.port !== a.port) {
      const canReclaim =
        this.config.deadNodeReclaimTimeMs > 0 && this.clock.now() - state.stateChange > this.config.deadNodeReclaimTimeMs;
      if (state.state === NodeStateType.left || (state.state === NodeStateType.dead && canReclaim)) {
        updatesNode = true;
      } else {
        this.logger.error(
          { node: a.node, mine: nodeAddress(state), theirs: joinHostPort(ipFromBytes(a.addr), a.port) },
          'memberlist: conflicting address for node',
        );
        return;
      }
    }
    const isLocal = state.name === this.config.name;
    if (a.incarnation <= state.incarnation && !isLocal && !updatesNode) return;
    if (a.incarnation < state.incarnation && isLocal) return;

    this.clearSuspicion(a.node);
    const oldState = state.state;
    const oldMeta = state.meta;

    if (!bootstrap && isLocal) {
      const sameVsn = a.vsn !== null && a.vsn.length === 6 && a.vsn.every((v, i) => v === state.vsn[i]);
      if (a.incarnation === state.incarnation && bytesEqual(a.meta, state.meta) && sameVsn) return;
      this.refute(state, a.incarnation);
      this.logger.warn({ node: a.node }, 'memberlist: refuting an alive message about us');
    } else {
      this.queueBroadcast(a.node, encodeAlive(a), notify ?? undefined);
      if (a.vsn && a.vsn.length >= 6) state.vsn = [...a.vsn.subarray(0, 6)];
      state.incarnation = a.incarnation;
      state.meta = a.meta;
      state.addr = a.addr;
      state.port = a.port;
      if (state.state !== NodeStateType.alive) {
        state.state = NodeStateType.alive;
        state.stateChange = this.clock.now();
      }
    }
    if (this.events) {
      if (oldState === NodeStateType.dead || oldState === NodeStateType.left) this.events.notifyJoin(toNodeInfo(state));
      else if (!bytesEqual(oldMeta, state.meta)) this.events.notifyUpdate(toNodeInfo(state));
    }
  }

  private clearSuspicion(node: string): void {
    const t = this.nodeTimers.get(node);
    if (t) {
      t.stop();
      this.nodeTimers.delete(node);
    }
  }

  private suspectNode(s: Suspect): void {
    const state = this.nodeMap.get(s.node);
    if (!state) return;
    if (s.incarnation < state.incarnation) return;
    const timer = this.nodeTimers.get(s.node);
    if (timer) {
      if (timer.confirm(s.from)) this.queueBroadcast(s.node, encodeSuspect(s));
      return;
    }
    if (state.state !== NodeStateType.alive) return;
    if (state.name === this.config.name) {
      this.refute(state, s.incarnation);
      this.logger.warn({ from: s.from }, 'memberlist: refuting a suspect message');
      return;
    }
    this.queueBroadcast(s.node, encodeSuspect(s));
    state.incarnation = s.incarnation;
    state.state = NodeStateType.suspect;
    const changeTime = this.clock.now();
    state.stateChange = changeTime;

    let k = this.config.suspicionMult - 2;
    const n = this.estNumNodes();
    if (n - 2 < k) k = 0;
    const min = suspicionTimeoutMs(this.config.suspicionMult, n, this.config.probeIntervalMs);
    const max = this.config.suspicionMaxTimeoutMult * min;
    this.nodeTimers.set(
      s.node,
      new Suspicion(s.from, k, min, max, (confirmations) => {
        if (this.shut) return;
        const cur = this.nodeMap.get(s.node);
        if (!cur || cur.state !== NodeStateType.suspect || cur.stateChange !== changeTime) return;
        this.logger.info({ node: cur.name, confirmations }, 'memberlist: marking node as failed, suspect timeout reached');
        this.deadNode({ incarnation: cur.incarnation, node: cur.name, from: this.config.name });
      }, this.clock),
    );
  }

  private deadNode(d: Dead): void {
    const state = this.nodeMap.get(d.node);
    if (!state) return;
    if (d.incarnation < state.incarnation) return;
    this.clearSuspicion(d.node);
    if (deadOrLeft(state)) return;
    if (state.name === this.config.name) {
      if (!this.leaving) {
        this.refute(state, d.incarnation);
        this.logger.warn({ from: d.from }, 'memberlist: refuting a dead message');
        return;
      }
      this.queueBroadcast(d.node, encodeDead(d), () => {
        const waiters = this.leaveWaiters;
        this.leaveWaiters = [];
        for (const w of waiters) w();
      });
    } else {
      this.queueBroadcast(d.node, encodeDead(d));
    }
    state.incarnation = d.incarnation;
    state.state = d.node === d.from ? NodeStateType.left : NodeStateType.dead;
    state.stateChange = this.clock.now();
    this.events?.notifyLeave(toNodeInfo(state));
  }
}

class EndOfStream extends Error {
  constructor() {
    super('end of stream');
  }
}

function bytesEqual(a: Buffer | null, b: Buffer | null): boolean {
  const x = a ?? Buffer.alloc(0);
  const y = b ?? Buffer.alloc(0);
  return x.equals(y);
}
