// Docker NetworkDB's model (scoped gossip tables) on top of vxmesh's memberlist layer.
export * from './proto.js';
export { ProtoReader } from './proto-wire.js';
export { LamportClock } from './lamport-clock.js';
export {
  DEFAULT_NETWORKDB_CONFIG,
  FAST_TEST_PROFILE,
  resolveNetworkDBConfig,
  type NetworkDBConfig,
} from './config.js';
export {
  NetworkDB,
  type NetworkDBOptions,
  type NetworkDBStats,
  type NetworkPeer,
  type TableChange,
  type TableEntryView,
  type TableEventKind,
} from './networkdb.js';
export type { NetworkDbTableWatch, NetworkDbTables } from './types.js';
