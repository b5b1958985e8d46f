// The periodic loops of one node: SWIM probing with indirect probes, TCP fallback pings and
// Lifeguard awareness; gossip of queued broadcasts to random peers; push/pull anti-entropy.
import type { MemberlistCore } from './core.js';
import { labelOverhead } from './label.js';
import type { Membership } from './membership.js';
import { encodeCompound, encodeIndirectPing, encodePing, encodeSuspect, MAX_COMPOUND_PARTS, type Ping } from './messages.js';
import { COMPOUND_HEADER_OVERHEAD, COMPOUND_OVERHEAD, type PacketIO } from './packet-io.js';
import { encryptOverhead } from './security.js';
import { deadOrLeft, kRandomNodes, nodeAddress, NodeStateType, pushPullScale, type NodeState } from './state.js';
import type { StreamIO } from './stream-io.js';
import type { TimerHandle } from '../../util/clock.js';

export class Prober {
  private probeIndex = 0;

  constructor(
    private readonly core: MemberlistCore,
    private readonly members: Membership,
    private readonly packets: PacketIO,
    private readonly streams: StreamIO,
  ) {}

  /** Start the probe, gossip and push/pull loops, each at a random phase; `later` owns the timers. */
  schedule(later: (ms: number, fn: () => void) => void): void {
    const { core } = this;
    const c = core.config;
    const probeTick = (): void => {
      const started = core.clock.now();
      this.probe()
        .catch((err: unknown) => core.logger.error({ err: String(err) }, 'memberlist: probe failed'))
        .finally(() => {
          // Like a Go ticker that drops missed ticks: next round on the next interval boundary.
          const elapsed = core.clock.now() - started;
          later(c.probeIntervalMs - (elapsed % c.probeIntervalMs), probeTick);
        });
    };
    later(Math.floor(core.random() * c.probeIntervalMs), probeTick);

    const gossipTick = (): void => {
      this.gossip();
      later(c.gossipIntervalMs, gossipTick);
    };
    later(Math.floor(core.random() * c.gossipIntervalMs), gossipTick);

    if (c.pushPullIntervalMs > 0) {
      const pushPullTick = (): void => {
        void this.pushPull().finally(() => later(pushPullScale(c.pushPullIntervalMs, this.members.estNumNodes()), pushPullTick));
      };
      later(Math.floor(core.random() * c.pushPullIntervalMs), pushPullTick);
    }
  }

  private async probe(): Promise<void> {
    const { members } = this;
    let numCheck = 0;
    for (;;) {
      if (numCheck >= members.nodes.length) return;
      if (this.probeIndex >= members.nodes.length) {
        members.resetNodes();
        this.probeIndex = 0;
        numCheck++;
        continue;
      }
      const node = members.nodes[this.probeIndex]!;
      this.probeIndex++;
      if (node.name === this.core.config.name || deadOrLeft(node)) {
        numCheck++;
        continue;
      }
      await this.probeNode({ ...node, vsn: [...node.vsn] });
      return;
    }
  }

  private async probeNode(node: NodeState): Promise<void> {
    const { core, members, packets } = this;
    const { config, clock } = core;
    const probeInterval = members.awareness.scaleTimeout(config.probeIntervalMs);
    const ping: Ping = {
      seqNo: core.nextSeqNo(),
      node: node.name,
      sourceAddr: core.selfAddrBytes(),
      sourcePort: core.advertisePort,
      sourceNode: config.name,
    };
    let nacks = 0;
    let resolveAck: (acked: boolean) => void = () => undefined;
    const acked = new Promise<boolean>((resolve) => (resolveAck = resolve));
    packets.setAckHandler(ping.seqNo, () => resolveAck(true), () => nacks++, probeInterval, () => resolveAck(false));
    const deadline = clock.now() + probeInterval;
    const addr = nodeAddress(node);
    let awarenessDelta = 0;
    try {
      if (node.state === NodeStateType.alive) {
        packets.sendMsg(addr, encodePing(ping), null);
      } else {
        const s = encodeSuspect({ incarnation: node.incarnation, node: node.name, from: config.name });
        packets.rawSendMsgPacket(addr, node, encodeCompound([encodePing(ping), s]));
      }
      awarenessDelta = -1;
      let timer: TimerHandle | undefined;
      const direct = await Promise.race([
        acked,
        new Promise<false>((resolve) => (timer = clock.setTimeout(() => resolve(false), config.probeTimeoutMs))),
      ]);
      clock.clearTimeout(timer);
      if (direct || core.shut) return;

      const peers = kRandomNodes(
        config.indirectChecks,
        members.nodes,
        (n) => n.name === config.name || n.name === node.name || n.state !== NodeStateType.alive,
        core.random,
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
          sourceAddr: core.selfAddrBytes(),
          sourcePort: core.advertisePort,
          sourceNode: config.name,
        });
        packets.sendMsg(nodeAddress(peer), ind, null);
      }
      const fallback =
        !config.disableTcpPings && (node.vsn[1] ?? 0) >= 3
          ? this.streams.sendPingAndWaitForAck(addr, ping, deadline).catch((err: unknown) => {
              core.logger.debug({ err: String(err) }, 'memberlist: failed fallback ping');
              return false;
            })
          : Promise.resolve(false);
      if (await acked) return;
      if (await fallback) {
        core.logger.warn({ node: node.name }, 'memberlist: was able to connect over TCP but other probes failed');
        return;
      }
      if (core.shut) return;
      awarenessDelta = expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1;
      core.logger.info({ node: node.name }, 'memberlist: suspect node has failed, no acks received');
      members.suspectNode({ incarnation: node.incarnation, node: node.name, from: config.name });
    } finally {
      members.awareness.applyDelta(awarenessDelta);
    }
  }

  /** Send pending broadcasts to GossipNodes random peers (alive, suspect, or recently dead). */
  private gossip(): void {
    const { core } = this;
    const { config } = core;
    const now = core.clock.now();
    const peers = kRandomNodes(
      config.gossipNodes,
      this.members.nodes,
      (n) => {
        if (n.name === config.name) return true;
        if (n.state === NodeStateType.alive || n.state === NodeStateType.suspect) return false;
        if (n.state === NodeStateType.dead) return now - n.stateChange > config.gossipToTheDeadTimeMs;
        return true;
      },
      core.random,
    );
    let avail = config.udpBufferSize - COMPOUND_HEADER_OVERHEAD - labelOverhead(config.label);
    if (core.encryptionEnabled()) avail -= encryptOverhead(core.encryptionVersion());
    for (const peer of peers) {
      const msgs = this.packets.getBroadcasts(COMPOUND_OVERHEAD, avail);
      if (msgs.length === 0) return;
      const addr = nodeAddress(peer);
      if (msgs.length === 1) this.packets.rawSendMsgPacket(addr, peer, msgs[0]!);
      else {
        for (let i = 0; i < msgs.length; i += MAX_COMPOUND_PARTS) {
          this.packets.rawSendMsgPacket(addr, peer, encodeCompound(msgs.slice(i, i + MAX_COMPOUND_PARTS)));
        }
      }
    }
  }

  private async pushPull(): Promise<void> {
    const { config } = this.core;
    const [peer] = kRandomNodes(1, this.members.nodes, (n) => n.name === config.name || n.state !== NodeStateType.alive, this.core.random);
    if (!peer) return;
    try {
      await this.streams.pushPullNode(nodeAddress(peer), false);
    } catch (err) {
      this.core.logger.warn({ node: peer.name, err: (err as Error).message }, 'memberlist: push/pull failed');
    }
  }
}
