// In-process stand-in for a memberlist cluster, for NetworkDB tests and benches: a hub that
// routes user messages between members (asynchronously, like a network), piggybacks each
// member's broadcasts on a periodic gossip round, runs push/pull exchanges, reports joins and
// failures, and can split members into partitions that cannot reach each other.
// It models memberlist's observable behaviour, not its failure detector.

import type { Cluster, Delegate, EventDelegate, NodeInfo } from '../../src/gossip/memberlist/types.js';

export interface SimHubOptions {
  /** memberlist GossipInterval: how often broadcasts are piggybacked (default 200 ms). */
  gossipIntervalMs?: number;
  /** memberlist GossipNodes (default 3). */
  gossipNodes?: number;
  /** memberlist PushPullInterval (default 30 s). */
  pushPullIntervalMs?: number;
  /** UDP packet budget for broadcasts (default 1400). */
  packetSize?: number;
  random?: () => number;
}

interface SimMember {
  name: string;
  info: NodeInfo;
  delegate: Delegate;
  events: EventDelegate;
  cluster: SimCluster;
  alive: boolean;
  group: number;
}

export interface SimHubStats {
  userMessages: number;
  broadcastMessages: number;
  pushPulls: number;
  dropped: number;
}

export class SimHub {
  readonly stats: SimHubStats = { userMessages: 0, broadcastMessages: 0, pushPulls: 0, dropped: 0 };
  private readonly members = new Map<string, SimMember>();
  private readonly order: SimMember[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly gossipIntervalMs: number;
  private readonly gossipNodes: number;
  private readonly pushPullIntervalMs: number;
  private readonly packetSize: number;
  private readonly random: () => number;

  constructor(opts: SimHubOptions = {}) {
    this.gossipIntervalMs = opts.gossipIntervalMs ?? 200;
    this.gossipNodes = opts.gossipNodes ?? 3;
    this.pushPullIntervalMs = opts.pushPullIntervalMs ?? 30_000;
    this.packetSize = opts.packetSize ?? 1400;
    this.random = opts.random ?? Math.random;
  }

  /** Register a member (not yet joined). Returns the Cluster handle its NetworkDB uses to send. */
  add(name: string, delegate: Delegate, events: EventDelegate, addr = `10.0.${this.order.length >> 8}.${this.order.length & 255}`): SimCluster {
    if (this.members.has(name)) throw new Error(`sim hub: member ${name} already exists`);
    const info: NodeInfo = { name, addr, port: 7946, meta: Buffer.alloc(0), state: 'alive', incarnation: 1, vsn: [1, 5, 2, 2, 5, 4] };
    const cluster = new SimCluster(this, name);
    const m: SimMember = { name, info, delegate, events, cluster, alive: false, group: 0 };
    this.members.set(name, m);
    this.order.push(m);
    return cluster;
  }

  /** Bring a member up: everyone reachable learns of it, then it push/pulls with `seed`. */
  join(name: string, seed?: string): void {
    const m = this.must(name);
    m.alive = true;
    m.events.notifyJoin(m.info);
    for (const o of this.order) {
      if (o === m || !this.reachable(m, o)) continue;
      o.events.notifyJoin(m.info);
      m.events.notifyJoin(o.info);
    }
    if (seed !== undefined) this.pushPull(name, seed, true);
  }

  /** Crash a member: every member that could reach it sees it fail. */
  kill(name: string): void {
    const m = this.must(name);
    if (!m.alive) return;
    for (const o of this.order) if (o !== m && this.reachable(m, o)) o.events.notifyLeave({ ...m.info, state: 'dead' });
    m.alive = false;
  }

  /** Restart a crashed member with its state intact and rejoin through `seed`. */
  revive(name: string, seed: string): void {
    this.join(name, seed);
  }

  /** Split members into groups; each side sees the other side fail. Unlisted members join group 0. */
  partition(groups: string[][]): void {
    const before = new Map(this.order.map((m) => [m, m.group]));
    for (const m of this.order) m.group = 0;
    groups.forEach((g, i) => g.forEach((n) => (this.must(n).group = i)));
    for (const a of this.order) {
      for (const b of this.order) {
        if (a === b || !a.alive || !b.alive) continue;
        const wasTogether = before.get(a) === before.get(b);
        if (wasTogether && a.group !== b.group) a.events.notifyLeave({ ...b.info, state: 'dead' });
      }
    }
  }

  /**
   * Undo partitions. With `rediscover` (default) members immediately see each other again and
   * each push/pulls across the old split; without it only reachability returns, and the members
   * must find each other themselves (NetworkDB's reconnect loop calls Cluster.join).
   */
  heal(rediscover = true): void {
    const was = new Map(this.order.map((m) => [m, m.group]));
    for (const m of this.order) m.group = 0;
    if (!rediscover) return;
    for (const a of this.order) {
      for (const b of this.order) {
        if (a !== b && a.alive && b.alive && was.get(a) !== was.get(b)) a.events.notifyJoin(b.info);
      }
    }
    for (const a of this.order) {
      if (!a.alive) continue;
      const others = this.order.filter((b) => b.alive && was.get(b) !== was.get(a));
      const peer = others[Math.floor(this.random() * others.length)];
      if (peer) this.pushPull(a.name, peer.name, true);
    }
  }

  /** Exchange push/pull state both ways, as memberlist does on join and periodically. */
  pushPull(a: string, b: string, join = false): void {
    const ma = this.must(a);
    const mb = this.must(b);
    if (!this.reachable(ma, mb)) return;
    this.stats.pushPulls++;
    const sa = ma.delegate.localState(join);
    const sb = mb.delegate.localState(join);
    mb.delegate.mergeRemoteState(sa, join);
    ma.delegate.mergeRemoteState(sb, join);
  }

  /** Start the periodic broadcast gossip and push/pull rounds. */
  start(): void {
    const g = setInterval(() => this.gossipRound(), this.gossipIntervalMs);
    const p = setInterval(() => this.pushPullRound(), this.pushPullIntervalMs);
    g.unref?.();
    p.unref?.();
    this.timers.push(g, p);
  }

  close(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** Piggyback each member's queued broadcasts to a few random reachable members. */
  gossipRound(): void {
    for (const m of this.order) {
      if (!m.alive) continue;
      for (const target of this.randomReachable(m, this.gossipNodes)) {
        const msgs = m.delegate.getBroadcasts(2, this.packetSize - 4);
        if (msgs.length === 0) break;
        for (const msg of msgs) {
          this.stats.broadcastMessages++;
          this.deliverLater(m, target, msg);
        }
      }
    }
  }

  private pushPullRound(): void {
    for (const m of this.order) {
      if (!m.alive) continue;
      const [peer] = this.randomReachable(m, 1);
      if (peer) this.pushPull(m.name, peer.name);
    }
  }

  // ------------------------------------------------------------ used by SimCluster

  joinByAddr(from: string, addrs: string[]): number {
    const a = this.must(from);
    let contacted = 0;
    for (const hostPort of addrs) {
      const b = this.order.find((o) => `${o.info.addr}:${o.info.port}` === hostPort);
      if (!b || !this.reachable(a, b)) continue;
      a.events.notifyJoin(b.info);
      b.events.notifyJoin(a.info);
      this.pushPull(a.name, b.name, true);
      contacted++;
    }
    if (contacted === 0) throw new Error(`sim hub: ${from} could not reach ${addrs.join(', ')}`);
    return contacted;
  }

  membersOf(name: string): NodeInfo[] {
    const m = this.must(name);
    return this.order.filter((o) => o.alive && (o === m || this.reachable(m, o))).map((o) => o.info);
  }

  send(from: string, to: string, msg: Buffer, reliable: boolean): Promise<void> {
    const a = this.must(from);
    const b = this.members.get(to);
    if (!b || !this.reachable(a, b)) {
      this.stats.dropped++;
      return reliable ? Promise.reject(new Error(`sim hub: ${to} is unreachable from ${from}`)) : Promise.resolve();
    }
    this.stats.userMessages++;
    this.deliverLater(a, b, msg);
    return Promise.resolve();
  }

  private deliverLater(from: SimMember, to: SimMember, msg: Buffer): void {
    queueMicrotask(() => {
      // Partitions or crashes that happen while a message is "in flight" drop it.
      if (this.reachable(from, to)) to.delegate.notifyMsg(msg);
      else this.stats.dropped++;
    });
  }

  private reachable(a: SimMember, b: SimMember): boolean {
    return a.alive && b.alive && a.group === b.group;
  }

  private randomReachable(m: SimMember, k: number): SimMember[] {
    const picked = new Set<SimMember>();
    const n = this.order.length;
    // Random probing is cheap for large clusters; fall back to a scan when few are reachable.
    for (let tries = 0; tries < k * 8 && picked.size < k; tries++) {
      const o = this.order[Math.floor(this.random() * n)];
      if (o && o !== m && this.reachable(m, o)) picked.add(o);
    }
    if (picked.size < k) {
      for (const o of this.order) {
        if (picked.size >= k) break;
        if (o !== m && this.reachable(m, o)) picked.add(o);
      }
    }
    return [...picked];
  }

  private must(name: string): SimMember {
    const m = this.members.get(name);
    if (!m) throw new Error(`sim hub: no member ${name}`);
    return m;
  }
}

export class SimCluster implements Cluster {
  constructor(
    private readonly hub: SimHub,
    readonly localName: string,
  ) {}

  members(): NodeInfo[] {
    return this.hub.membersOf(this.localName);
  }

  numMembers(): number {
    return this.members().length;
  }

  /** Contact members by "addr:port" and push/pull with each reachable one, as memberlist does. */
  async join(addrs: string[]): Promise<number> {
    return this.hub.joinByAddr(this.localName, addrs);
  }

  sendBestEffort(node: string, msg: Buffer): Promise<void> {
    return this.hub.send(this.localName, node, msg, false);
  }

  sendReliable(node: string, msg: Buffer): Promise<void> {
    return this.hub.send(this.localName, node, msg, true);
  }

  async leave(_timeoutMs: number): Promise<void> {
    this.hub.kill(this.localName);
  }

  async shutdown(): Promise<void> {
    this.hub.kill(this.localName);
  }
}
