// Public types of vxmesh's hashicorp/memberlist-compatible layer. Mirrors Go's Delegate,
// EventDelegate and Memberlist surface so NetworkDB (src/gossip/networkdb) can sit on top.

export type NodeStateName = 'alive' | 'suspect' | 'dead' | 'left';

export interface NodeInfo {
  name: string;
  addr: string; // IP as text
  port: number;
  meta: Buffer;
  state: NodeStateName;
  incarnation: number;
  /** [PMin, PMax, PCur, DMin, DMax, DCur] */
  vsn: number[];
}

/** Go memberlist.Delegate */
export interface Delegate {
  nodeMeta(limit: number): Buffer;
  notifyMsg(msg: Buffer): void;
  /** Return queued broadcasts; each costs `overhead` bytes extra; total at most `limit`. */
  getBroadcasts(overhead: number, limit: number): Buffer[];
  localState(join: boolean): Buffer;
  mergeRemoteState(buf: Buffer, join: boolean): void;
}

/** Go memberlist.EventDelegate */
export interface EventDelegate {
  notifyJoin(node: NodeInfo): void;
  notifyLeave(node: NodeInfo): void;
  notifyUpdate(node: NodeInfo): void;
  /** A member became suspect (optional: metrics count these). */
  notifySuspect?(node: NodeInfo): void;
}

/** What NetworkDB (and the agent) need from a running memberlist node. */
export interface Cluster {
  readonly localName: string;
  members(): NodeInfo[];
  numMembers(): number;
  join(addrs: string[]): Promise<number>;
  sendBestEffort(node: string, msg: Buffer): Promise<void>;
  sendReliable(node: string, msg: Buffer): Promise<void>;
  leave(timeoutMs: number): Promise<void>;
  shutdown(): Promise<void>;
}
