// Public and shared types of vxmesh's NetworkDB.
import type { NetworkDBConfig } from './config.js';
import type { GossipLogger } from '../memberlist/reject-log.js';
import type { Clock } from '../../util/clock.js';
import type { NodeInfo } from '../memberlist/types.js';

export type TableEventKind = 'create' | 'update' | 'delete';

export interface TableChange {
  type: TableEventKind;
  table: string;
  nid: string;
  key: string;
  value: Buffer;
  /** Node that wrote the entry. */
  owner: string;
}

export interface TableEntryView {
  value: Buffer;
  owner: string;
}

/** What a table reader needs of NetworkDB (NetworkDB has it; tests give fakes). */
export interface NetworkDbTableWatch {
  readonly nodeName: string;
  /** Reports every live entry first (synchronously), then every change; returns the unsubscribe. */
  watch(table: string, nid: string | undefined, cb: (change: TableChange) => void): () => void;
}

/** What a table writer needs of NetworkDB: this host's entries in the networks it joined. */
export interface NetworkDbTables extends NetworkDbTableWatch {
  joinedNetworks(): string[];
  createEntry(table: string, nid: string, key: string, value: Buffer): void;
  updateEntry(table: string, nid: string, key: string, value: Buffer): void;
  deleteEntry(table: string, nid: string, key: string): void;
  getTableByNetwork(table: string, nid: string): Map<string, TableEntryView>;
}

export interface NetworkPeer {
  name: string;
  addr: string;
}

export interface NetworkDBStats {
  /** Inbound messages that failed to decode (dropped). */
  decodeErrors: number;
  /** Sends that the cluster rejected. */
  sendErrors: number;
  /** Bulk syncs that got no answer in time. */
  bulkSyncTimeouts: number;
}

export interface NetworkDBOptions extends Partial<NetworkDBConfig> {
  /** Must equal the memberlist node name of the cluster passed to attach(). */
  nodeName: string;
  /** Dropped bad input and failed sends are logged here at debug level (default: silent). */
  logger?: GossipLogger;
  /** Time source for loops, timeouts and reap times (a VirtualClock in simulations). */
  clock?: Clock;
}

export type NodeState = 'active' | 'failed' | 'left';

export interface KnownNode {
  info: NodeInfo;
  state: NodeState;
  /** Lamport time of the last node event applied (network clock). */
  lTime: bigint;
  /** When a failed/left node is forgotten entirely (ms epoch); 0 while active. */
  reapAtMs: number;
}

export interface Entry {
  lTime: bigint;
  owner: string;
  value: Buffer;
  deleting: boolean;
  /** Tombstone expiry (ms epoch); 0 for live entries. */
  reapAtMs: number;
}
