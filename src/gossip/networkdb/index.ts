// Docker NetworkDB's model (scoped gossip tables) on top of vxmesh's memberlist layer.
export * from './proto.js';
export { ProtoReader, ProtoWriter } from './protoWire.js';
export { LamportClock } from './clock.js';
export { BroadcastQueue, retransmitLimit, type QueuedBroadcast } from './broadcastQueue.js';
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
export { SimHub, SimCluster, type SimHubOptions, type SimHubStats } from './simCluster.js';
