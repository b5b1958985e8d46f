// One memberlist node, wire-compatible with hashicorp/memberlist (reference/WIRE.md). This file
// is the facade (Go's memberlist.go): lifecycle, join, user messages and queries. The parts:
// membership.ts (state.go), packet-io.ts and stream-io.ts (net.go), prober.ts (the loops).
// Inputs that fail to decode, authenticate or match our label are logged (rate-limited) and
// change nothing.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { joinHostPort, splitHostPort } from './addr.js';
import { validateConfig, type MemberlistConfig } from './config.js';
import { MemberlistCore, type MemberlistOptions, type MemberlistStats } from './core.js';
import { validateLabel } from './label.js';
import { Membership } from './membership.js';
import { encodePing, encodeStreamUserMsg, encodeUdpUserMsg } from './messages.js';
import { PacketIO } from './packet-io.js';
import { Prober } from './prober.js';
import { deadOrLeft, nodeAddress, toNodeInfo, type NodeState } from './state.js';
import { StreamIO } from './stream-io.js';
import type { StreamConn } from './transport.js';
import type { Cluster, NodeInfo } from './types.js';
import type { TimerHandle } from '../../util/clock.js';

export type { MemberlistOptions, MemberlistStats } from './core.js';

export class Memberlist implements Cluster {
  readonly localName: string;
  readonly stats: MemberlistStats;
  private readonly core: MemberlistCore;
  private readonly membership: Membership;
  private readonly packets: PacketIO;
  private readonly streams: StreamIO;
  private readonly prober: Prober;
  private readonly timers = new Set<TimerHandle>();

  constructor(config: MemberlistConfig, opts: MemberlistOptions) {
    validateConfig(config);
    validateLabel(config.label);
    this.localName = config.name;
    this.core = new MemberlistCore(config, opts);
    this.stats = this.core.stats;
    this.membership = new Membership(this.core);
    this.packets = new PacketIO(this.core, this.membership);
    this.streams = new StreamIO(this.core, this.membership);
    this.prober = new Prober(this.core, this.membership, this.packets, this.streams);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Bind the transport, declare ourselves alive and start probing/gossip. */
  async start(): Promise<void> {
    const { core } = this;
    const bound = await core.transport.start(core.config.bindAddr, core.config.bindPort, {
      onPacket: (buf, from, ts) => this.ingestPacket(buf, from, ts),
      onStream: (conn) => void this.streams.handleConn(conn),
    });
    let addr = core.config.advertiseAddr ?? bound.addr;
    if (addr === '0.0.0.0' || addr === '::') addr = '127.0.0.1';
    core.advertiseAddr = addr;
    core.advertisePort = core.config.advertisePort ?? bound.port;
    this.membership.setAlive();
    this.prober.schedule((ms, fn) => this.later(ms, fn));
  }

  private later(ms: number, fn: () => void): void {
    const { core } = this;
    if (core.shut) return;
    const t = core.clock.setTimeout(() => {
      this.timers.delete(t);
      if (!core.shut) fn();
    }, ms);
    this.timers.add(t);
  }

  async leave(timeoutMs: number): Promise<void> {
    const { core } = this;
    if (core.shut) throw new Error('memberlist: leave after shutdown');
    if (core.leaving) return;
    core.leaving = true;
    const me = this.membership.nodeMap.get(this.localName);
    if (!me) return;
    const done = this.membership.announceLeave(me);
    if (!this.membership.anyAlive()) return;
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = core.clock.setTimeout(() => resolve(true), timeoutMs > 0 ? timeoutMs : 2 ** 31 - 1);
    });
    const late = await Promise.race([done.then(() => false), timedOut]);
    core.clock.clearTimeout(timer);
    if (late) throw new Error('memberlist: timeout waiting for leave broadcast');
  }

  async shutdown(): Promise<void> {
    const { core } = this;
    if (core.shut) return;
    core.shut = true;
    for (const t of this.timers) core.clock.clearTimeout(t);
    this.timers.clear();
    this.membership.stop();
    this.packets.stop();
    this.streams.stop();
    await core.transport.shutdown();
  }

  // ---------------------------------------------------------------- queries

  members(): NodeInfo[] {
    return this.membership.nodes.filter((n) => !deadOrLeft(n)).map(toNodeInfo);
  }

  /** Every node we know, including dead and left ones. */
  allNodes(): NodeInfo[] {
    return this.membership.nodes.map(toNodeInfo);
  }

  numMembers(): number {
    return this.membership.nodes.filter((n) => !deadOrLeft(n)).length;
  }

  localNode(): NodeInfo {
    return toNodeInfo(this.membership.nodeMap.get(this.localName)!);
  }

  healthScore(): number {
    return this.membership.awareness.getHealthScore();
  }

  rejectedCounts(): ReadonlyMap<string, number> {
    return this.core.rejects.counts;
  }

  /**
   * One direct UDP ping to a member and its ack (Go's Memberlist.Ping): the round trip in ms, or
   * undefined when no ack came within `timeoutMs`. No indirect or TCP fallback: it answers "does UDP
   * to that member work from here", which the prober's own verdict (alive via a relay) does not.
   */
  pingUdp(name: string, timeoutMs: number): Promise<number | undefined> {
    const node = this.membership.nodeMap.get(name);
    if (!node || name === this.localName) return Promise.resolve(undefined);
    const { core } = this;
    const seqNo = core.nextSeqNo();
    const t0 = core.clock.now();
    return new Promise((resolve) => {
      this.packets.setAckHandler(seqNo, () => resolve(core.clock.now() - t0), null, timeoutMs, () => resolve(undefined));
      this.packets.sendMsg(nodeAddress(node), encodePing({ seqNo, node: node.name, sourceAddr: core.selfAddrBytes(), sourcePort: core.advertisePort, sourceNode: core.config.name }), null);
    });
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
          await this.streams.pushPullNode(t, true);
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
    const { host, port } = splitHostPort(entry, this.core.config.bindPort);
    if (isIP(host)) return [joinHostPort(host, port)];
    const found = await lookup(host, { all: true });
    return found.map((a) => joinHostPort(a.address, port));
  }

  private liveNode(name: string): NodeState {
    const n = this.membership.nodeMap.get(name);
    if (!n || deadOrLeft(n)) throw new Error(`memberlist: unknown or dead node ${name}`);
    return n;
  }

  sendBestEffort(node: string, msg: Buffer): Promise<void> {
    const n = this.liveNode(node);
    this.packets.rawSendMsgPacket(nodeAddress(n), n, encodeUdpUserMsg(msg));
    return Promise.resolve();
  }

  async sendReliable(node: string, msg: Buffer): Promise<void> {
    const n = this.liveNode(node);
    const conn = await this.streams.dial(nodeAddress(n));
    try {
      await this.streams.rawSendMsgStream(conn, encodeStreamUserMsg(msg), true);
    } finally {
      this.streams.closeConn(conn);
    }
  }

  // ---------------------------------------------------------------- raw input (also for tests)

  /** Entry point for every datagram (public so tests can feed packets directly). */
  ingestPacket(buf: Buffer, from: string, timestamp: number = this.core.clock.now()): void {
    this.packets.ingestPacket(buf, from, timestamp);
  }

  /** Entry point for every accepted stream (public so tests can feed streams directly). */
  ingestStream(conn: StreamConn): Promise<void> {
    return this.streams.handleConn(conn);
  }
}
