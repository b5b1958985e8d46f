// Shared helpers for the memberlist unit tests: in-process clusters on the mem transport.
import {
  createMemberlist,
  fastTestConfig,
  type MemNetwork,
  TransmitLimitedQueue,
  type Delegate,
  type Memberlist,
  type MemberlistConfig,
  type NodeInfo,
} from '../../../src/gossip/memberlist/index.js';

export class TestDelegate implements Delegate {
  readonly received: string[] = [];
  readonly queue: TransmitLimitedQueue;
  readonly joins: string[] = [];
  readonly leaves: Array<{ name: string; state: string }> = [];
  remoteStates: string[] = [];

  constructor(numNodes: () => number, private readonly meta = 'meta') {
    // User broadcasts are best effort (as in Go's memberlist: the origin alone sends them, retransmitLimit
    // times, also piggybacked on probes to one node); 4 sends over 3 peers could miss one under load,
    // so the test delegate retransmits more — the tests assert delivery, not the spread.
    this.queue = new TransmitLimitedQueue(numNodes, 8);
  }
  nodeMeta(): Buffer {
    return Buffer.from(this.meta);
  }
  notifyMsg(msg: Buffer): void {
    this.received.push(msg.toString());
  }
  getBroadcasts(overhead: number, limit: number): Buffer[] {
    return this.queue.getBroadcasts(overhead, limit);
  }
  localState(): Buffer {
    return Buffer.from(`state-of-${this.meta}`);
  }
  mergeRemoteState(buf: Buffer): void {
    this.remoteStates.push(buf.toString());
  }
  broadcast(text: string): void {
    this.queue.queueBroadcast({ message: Buffer.from(text), unique: true });
  }
  readonly events = {
    notifyJoin: (n: NodeInfo): void => void this.joins.push(n.name),
    notifyLeave: (n: NodeInfo): void => void this.leaves.push({ name: n.name, state: n.state }),
    notifyUpdate: (): void => undefined,
  };
}

export interface TestNode {
  ml: Memberlist;
  d: TestDelegate;
  addr: string;
}

export async function startCluster(
  net: MemNetwork,
  count: number,
  overrides: Partial<MemberlistConfig> = {},
  prefix = 'n',
  firstHost = 1,
): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (let i = 0; i < count; i++) {
    let ml: Memberlist | null = null;
    const d = new TestDelegate(() => ml?.numMembers() ?? 1, `${prefix}${i}`);
    const h = i + firstHost - 1;
    const ip = `127.0.${Math.floor(h / 250)}.${(h % 250) + 1}`;
    ml = await createMemberlist(fastTestConfig({ name: `${prefix}${i}`, bindAddr: ip, bindPort: 7946, ...overrides }), {
      transport: net.transport(),
      delegate: d,
      events: d.events,
    });
    nodes.push({ ml, d, addr: `${ip}:7946` });
  }
  for (let i = 1; i < nodes.length; i++) await nodes[i]!.ml.join([nodes[0]!.addr]);
  return nodes;
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what = 'condition'): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

export async function stopAll(nodes: TestNode[]): Promise<void> {
  for (const n of nodes) await n.ml.shutdown();
}

export function stateOf(ml: Memberlist, name: string): string | undefined {
  return ml.allNodes().find((n) => n.name === name)?.state;
}
