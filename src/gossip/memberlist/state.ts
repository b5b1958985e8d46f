// Node states and the pure helpers of memberlist's membership table (state.go, util.go).
import { ipFromBytes, joinHostPort } from './addr.js';
import type { NodeInfo, NodeStateName } from './types.js';

export const NodeStateType = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
export type NodeStateValue = (typeof NodeStateType)[keyof typeof NodeStateType];

const STATE_NAMES: NodeStateName[] = ['alive', 'suspect', 'dead', 'left'];

export interface NodeState {
  name: string;
  addr: Buffer;
  port: number;
  meta: Buffer | null;
  incarnation: number;
  state: NodeStateValue;
  /** ms timestamp of the last state change. */
  stateChange: number;
  /** [PMin, PMax, PCur, DMin, DMax, DCur] */
  vsn: number[];
}

export function deadOrLeft(n: NodeState): boolean {
  return n.state === NodeStateType.dead || n.state === NodeStateType.left;
}

export function nodeAddress(n: NodeState): string {
  return joinHostPort(ipFromBytes(n.addr), n.port);
}

export function toNodeInfo(n: NodeState): NodeInfo {
  return {
    name: n.name,
    addr: ipFromBytes(n.addr),
    port: n.port,
    meta: Buffer.from(n.meta ?? Buffer.alloc(0)),
    state: STATE_NAMES[n.state]!,
    incarnation: n.incarnation,
    vsn: [...n.vsn],
  };
}

/** Up to k random nodes not excluded by `exclude` (util.go kRandomNodes). */
export function kRandomNodes(k: number, nodes: NodeState[], exclude: (n: NodeState) => boolean, random: () => number): NodeState[] {
  const n = nodes.length;
  const out: NodeState[] = [];
  for (let i = 0; i < 3 * n && out.length < k; i++) {
    const node = nodes[Math.floor(random() * n)]!;
    if (exclude(node) || out.includes(node)) continue;
    out.push(node);
  }
  return out;
}

export function shuffle<T>(arr: T[], random: () => number): void {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [arr[i], arr[j]] = [arr[j]!, arr[i]!];
  }
}

/** Push/pull interval scaled up once the cluster passes 32 nodes. */
export function pushPullScale(intervalMs: number, n: number): number {
  const threshold = 32;
  if (n <= threshold) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1;
  return multiplier * intervalMs;
}
