// The membership table and its state machine (Go's state.go): alive / suspect / dead / left
// transitions ordered by incarnation, refutation of rumours about ourselves, Lifeguard
// suspicion timers, and the merge of a remote push/pull state. Every change is queued as a
// broadcast for the gossip loop.
import { ipFromBytes, ipToBytes, joinHostPort } from './addr.js';
import { Awareness } from './awareness.js';
import { TransmitLimitedQueue } from './broadcast-queue.js';
import { META_MAX_SIZE, PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN } from './config.js';
import { bytesEqual, Rejected, type MemberlistCore } from './core.js';
import { encodeAlive, encodeDead, encodeSuspect, type Alive, type Dead, type PushNodeState, type Suspect } from './messages.js';
import { deadOrLeft, nodeAddress, NodeStateType, shuffle, toNodeInfo, type NodeState } from './state.js';
import { Suspicion, suspicionTimeoutMs } from './suspicion.js';

export class Membership {
  nodes: NodeState[] = [];
  readonly nodeMap = new Map<string, NodeState>();
  readonly broadcasts: TransmitLimitedQueue;
  readonly awareness: Awareness;
  private readonly nodeTimers = new Map<string, Suspicion>();
  private incarnation = 0;
  private leaveWaiters: Array<() => void> = [];

  constructor(private readonly core: MemberlistCore) {
    this.broadcasts = new TransmitLimitedQueue(() => this.estNumNodes(), core.config.retransmitMult);
    this.awareness = new Awareness(core.config.awarenessMaxMultiplier);
  }

  estNumNodes(): number {
    return this.nodes.length;
  }

  anyAlive(): boolean {
    return this.nodes.some((n) => !deadOrLeft(n) && n.name !== this.core.config.name);
  }

  /** Declare ourselves alive at the advertise address (start-up). */
  setAlive(): void {
    const { core } = this;
    let meta: Buffer | null = null;
    if (core.delegate) {
      meta = core.delegate.nodeMeta(META_MAX_SIZE);
      if (meta.length > META_MAX_SIZE) throw new Error(`node meta is ${meta.length} bytes; limit ${META_MAX_SIZE}`);
    }
    const c = core.config;
    const vsn = [PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX, c.protocolVersion, c.delegateProtocolMin, c.delegateProtocolMax, c.delegateProtocolVersion];
    this.aliveNode(
      { incarnation: this.nextIncarnation(), node: c.name, addr: ipToBytes(core.advertiseAddr), port: core.advertisePort, meta, vsn: Buffer.from(vsn) },
      null,
      true,
    );
  }

  /** Broadcast our own graceful leave; resolves once that broadcast was fully transmitted. */
  announceLeave(me: NodeState): Promise<void> {
    const done = new Promise<void>((resolve) => this.leaveWaiters.push(resolve));
    this.deadNode({ incarnation: me.incarnation, node: me.name, from: me.name });
    return done;
  }

  stop(): void {
    for (const s of this.nodeTimers.values()) s.stop();
    this.nodeTimers.clear();
  }

  private nextIncarnation(): number {
    this.incarnation = (this.incarnation + 1) >>> 0;
    return this.incarnation;
  }

  private queueBroadcast(node: string, msg: Buffer, onFinished?: () => void): void {
    this.broadcasts.queueBroadcast({ name: node, message: msg, finished: onFinished });
  }

  /** Forget nodes dead for longer than GossipToTheDeadTime and reshuffle the probe order. */
  resetNodes(): void {
    const now = this.core.clock.now();
    const keep: NodeState[] = [];
    for (const n of this.nodes) {
      if (n.state === NodeStateType.dead && now - n.stateChange > this.core.config.gossipToTheDeadTimeMs) {
        this.nodeMap.delete(n.name);
      } else {
        keep.push(n);
      }
    }
    this.nodes = keep;
    shuffle(this.nodes, this.core.random);
  }

  localPushState(): PushNodeState[] {
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

  private refute(me: NodeState, accusedInc: number): void {
    let inc = this.nextIncarnation();
    if (accusedInc >= inc) {
      this.incarnation = (accusedInc + 1) >>> 0;
      inc = this.incarnation;
    }
    me.incarnation = inc;
    this.awareness.applyDelta(1);
    const a: Alive = { incarnation: inc, node: me.name, addr: me.addr, port: me.port, meta: me.meta, vsn: Buffer.from(me.vsn) };
    this.queueBroadcast(me.name, encodeAlive(a));
  }

  aliveNode(a: Alive & { addr: Buffer }, notify: (() => void) | null, bootstrap: boolean): void {
    const { core } = this;
    if (core.leaving && a.node === core.config.name) return;
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
        stateChange: core.clock.now(),
        vsn: a.vsn && a.vsn.length >= 6 ? [...a.vsn.subarray(0, 6)] : [0, 0, 0, 0, 0, 0],
      };
      this.nodeMap.set(a.node, state);
      // Insert at a random offset so probe order (and detection time) stays fair.
      const n = this.nodes.length;
      const offset = n === 0 ? 0 : Math.floor(core.random() * n);
      this.nodes.push(state);
      [this.nodes[offset], this.nodes[n]] = [this.nodes[n]!, this.nodes[offset]!];
    } else if (!state.addr.equals(a.addr) || state.port !== a.port) {
      const canReclaim =
        core.config.deadNodeReclaimTimeMs > 0 && core.clock.now() - state.stateChange > core.config.deadNodeReclaimTimeMs;
      if (state.state === NodeStateType.left || (state.state === NodeStateType.dead && canReclaim)) {
        updatesNode = true;
      } else {
        core.logger.error(
          { node: a.node, mine: nodeAddress(state), theirs: joinHostPort(ipFromBytes(a.addr), a.port) },
          'memberlist: conflicting address for node',
        );
        return;
      }
    }
    const isLocal = state.name === core.config.name;
    if (a.incarnation <= state.incarnation && !isLocal && !updatesNode) return;
    if (a.incarnation < state.incarnation && isLocal) return;

    this.clearSuspicion(a.node);
    const oldState = state.state;
    const oldMeta = state.meta;

    if (!bootstrap && isLocal) {
      const sameVsn = a.vsn !== null && a.vsn.length === 6 && a.vsn.every((v, i) => v === state.vsn[i]);
      if (a.incarnation === state.incarnation && bytesEqual(a.meta, state.meta) && sameVsn) return;
      this.refute(state, a.incarnation);
      core.logger.warn({ node: a.node }, 'memberlist: refuting an alive message about us');
    } else {
      this.queueBroadcast(a.node, encodeAlive(a), notify ?? undefined);
      if (a.vsn && a.vsn.length >= 6) state.vsn = [...a.vsn.subarray(0, 6)];
      state.incarnation = a.incarnation;
      state.meta = a.meta;
      state.addr = a.addr;
      state.port = a.port;
      if (state.state !== NodeStateType.alive) {
        state.state = NodeStateType.alive;
        state.stateChange = core.clock.now();
      }
    }
    if (core.events) {
      if (oldState === NodeStateType.dead || oldState === NodeStateType.left) core.events.notifyJoin(toNodeInfo(state));
      else if (!bytesEqual(oldMeta, state.meta)) core.events.notifyUpdate(toNodeInfo(state));
    }
  }

  private clearSuspicion(node: string): void {
    const t = this.nodeTimers.get(node);
    if (t) {
      t.stop();
      this.nodeTimers.delete(node);
    }
  }

  suspectNode(s: Suspect): void {
    const { core } = this;
    const state = this.nodeMap.get(s.node);
    if (!state) return;
    if (s.incarnation < state.incarnation) return;
    const timer = this.nodeTimers.get(s.node);
    if (timer) {
      if (timer.confirm(s.from)) this.queueBroadcast(s.node, encodeSuspect(s));
      return;
    }
    if (state.state !== NodeStateType.alive) return;
    if (state.name === core.config.name) {
      this.refute(state, s.incarnation);
      core.logger.warn({ from: s.from }, 'memberlist: refuting a suspect message');
      return;
    }
    this.queueBroadcast(s.node, encodeSuspect(s));
    state.incarnation = s.incarnation;
    state.state = NodeStateType.suspect;
    const changeTime = core.clock.now();
    state.stateChange = changeTime;
    core.events?.notifySuspect?.(toNodeInfo(state));

    let k = core.config.suspicionMult - 2;
    const n = this.estNumNodes();
    if (n - 2 < k) k = 0;
    const min = suspicionTimeoutMs(core.config.suspicionMult, n, core.config.probeIntervalMs);
    const max = core.config.suspicionMaxTimeoutMult * min;
    const onTimeout = (confirmations: number): void => {
      if (core.shut) return;
      const cur = this.nodeMap.get(s.node);
      if (!cur || cur.state !== NodeStateType.suspect || cur.stateChange !== changeTime) return;
      core.logger.info({ node: cur.name, confirmations }, 'memberlist: marking node as failed, suspect timeout reached');
      this.deadNode({ incarnation: cur.incarnation, node: cur.name, from: core.config.name });
    };
    this.nodeTimers.set(s.node, new Suspicion(s.from, k, min, max, onTimeout, core.clock));
  }

  deadNode(d: Dead): void {
    const { core } = this;
    const state = this.nodeMap.get(d.node);
    if (!state) return;
    if (d.incarnation < state.incarnation) return;
    this.clearSuspicion(d.node);
    if (deadOrLeft(state)) return;
    if (state.name === core.config.name) {
      if (!core.leaving) {
        this.refute(state, d.incarnation);
        core.logger.warn({ from: d.from }, 'memberlist: refuting a dead message');
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
    state.stateChange = core.clock.now();
    core.events?.notifyLeave(toNodeInfo(state));
  }

  /** Apply a remote push/pull state (after checking protocol compatibility) and its user state. */
  mergeRemoteState(remote: PushNodeState[], userState: Buffer | null, join: boolean): void {
    this.verifyProtocol(remote);
    this.mergeState(remote);
    if (userState && this.core.delegate) this.core.delegate.mergeRemoteState(userState, join);
  }

  /** All alive nodes, local and remote, must share a protocol and delegate version range. */
  private verifyProtocol(remote: PushNodeState[]): void {
    let maxpmin = 0;
    let minpmax = 255;
    let maxdmin = 0;
    let mindmax = 255;
    const vsnOf = (n: PushNodeState): number[] => (n.vsn && n.vsn.length >= 6 ? [...n.vsn] : [0, 0, 0, 0, 0, 0]);
    const widen = (v: number[]): void => {
      maxpmin = Math.max(maxpmin, v[0]!);
      minpmax = Math.min(minpmax, v[1]!);
      maxdmin = Math.max(maxdmin, v[3]!);
      mindmax = Math.min(mindmax, v[4]!);
    };
    for (const rn of remote) if (rn.state === NodeStateType.alive && rn.vsn && rn.vsn.length > 0) widen(vsnOf(rn));
    for (const n of this.nodes) if (n.state === NodeStateType.alive) widen(n.vsn);
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
          this.aliveNode({ incarnation: r.incarnation, node: r.name, addr: r.addr!, port: r.port, meta: r.meta, vsn: r.vsn }, null, false);
          break;
        case NodeStateType.left:
          this.deadNode({ incarnation: r.incarnation, node: r.name, from: r.name });
          break;
        default:
          // A remote "dead" is only a suspicion for us.
          this.suspectNode({ incarnation: r.incarnation, node: r.name, from: this.core.config.name });
      }
    }
  }
}
