// NetworkDB tunables. Defaults are Docker's (libnetwork networkdb + memberlist LAN config);
// FAST_TEST_PROFILE shrinks every period so in-process tests converge in simulated seconds.

export interface NetworkDBConfig {
  /** Table gossip period (memberlist GossipInterval, LAN 200 ms). */
  gossipIntervalMs: number;
  /** Peers per network chosen each gossip round. */
  gossipFanout: number;
  /** Periodic bulk sync of all tables (memberlist PushPullInterval, LAN 30 s). */
  bulkSyncIntervalMs: number;
  /** How long a deleted entry lingers as a tombstone (Docker reapEntryInterval, 30 min). */
  reapEntryIntervalMs: number;
  /** How often tombstones and left networks are swept (Docker reapPeriod, 5 s). */
  reapPeriodMs: number;
  /** Retransmit multiplier for table and network broadcast queues (memberlist default 4). */
  retransmitMult: number;
  /** Largest UDP gossip packet (Docker PacketBufferSize, 1400). */
  packetBufferSize: number;
  /** How long a bulk-sync initiator waits for the answer (Docker: 30 s). */
  bulkSyncTimeoutMs: number;
  /** How often one failed node is re-contacted with a cluster join (Docker retryInterval, 1 s). */
  reconnectIntervalMs: number;
  /** Source of randomness for peer selection; tests can make it deterministic. */
  random: () => number;
  /**
   * Send a local table write to the network's peers at once instead of on the next gossip round
   * (vxmesh: a new endpoint is reachable sooner). Docker waits for the round; both interoperate.
   */
  immediateTableGossip: boolean;
}

export const DEFAULT_NETWORKDB_CONFIG: Readonly<NetworkDBConfig> = Object.freeze({
  gossipIntervalMs: 200,
  gossipFanout: 3,
  bulkSyncIntervalMs: 30_000,
  reapEntryIntervalMs: 30 * 60_000,
  reapPeriodMs: 5_000,
  retransmitMult: 4,
  packetBufferSize: 1400,
  bulkSyncTimeoutMs: 30_000,
  reconnectIntervalMs: 1_000,
  random: Math.random,
  immediateTableGossip: false,
});

export const FAST_TEST_PROFILE: Readonly<Partial<NetworkDBConfig>> = Object.freeze({
  gossipIntervalMs: 50,
  bulkSyncIntervalMs: 1_000,
  reapEntryIntervalMs: 10_000,
  reapPeriodMs: 500,
  bulkSyncTimeoutMs: 2_000,
  reconnectIntervalMs: 250,
});

export function resolveNetworkDBConfig(overrides: Partial<NetworkDBConfig> = {}): NetworkDBConfig {
  const cfg: NetworkDBConfig = { ...DEFAULT_NETWORKDB_CONFIG, ...overrides };
  const positive: (keyof NetworkDBConfig)[] = [
    'gossipIntervalMs',
    'gossipFanout',
    'bulkSyncIntervalMs',
    'reapEntryIntervalMs',
    'reapPeriodMs',
    'retransmitMult',
    'packetBufferSize',
    'bulkSyncTimeoutMs',
    'reconnectIntervalMs',
  ];
  for (const k of positive) {
    const v = cfg[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`networkdb config ${k} must be a positive number, got ${String(v)}`);
    }
  }
  if (cfg.packetBufferSize < 64) throw new RangeError('networkdb config packetBufferSize must be >= 64');
  return cfg;
}
