// Memberlist configuration: Go's DefaultLANConfig values, plus a fast profile for tests.
import type { Keyring } from './keyring.js';

export interface MemberlistConfig {
  /** Unique node name. */
  name: string;
  bindAddr: string;
  bindPort: number;
  /** Address/port other nodes use to reach us; default: the bound ones. */
  advertiseAddr?: string;
  advertisePort?: number;
  /** Protocol version we speak (PCur); encryption version 1 when >= 2. */
  protocolVersion: number;
  tcpTimeoutMs: number;
  indirectChecks: number;
  retransmitMult: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  pushPullIntervalMs: number;
  probeTimeoutMs: number;
  probeIntervalMs: number;
  disableTcpPings: boolean;
  awarenessMaxMultiplier: number;
  gossipNodes: number;
  gossipIntervalMs: number;
  gossipToTheDeadTimeMs: number;
  gossipVerifyIncoming: boolean;
  gossipVerifyOutgoing: boolean;
  enableCompression: boolean;
  handoffQueueDepth: number;
  udpBufferSize: number;
  deadNodeReclaimTimeMs: number;
  /** Delegate protocol versions advertised in Vsn. */
  delegateProtocolMin: number;
  delegateProtocolMax: number;
  delegateProtocolVersion: number;
  /** Encryption keyring; null = plaintext. */
  keyring: Keyring | null;
  /** memberlist 0.5 label; "" = none (Docker/NetworkDB use none). */
  label: string;
  skipInboundLabelCheck: boolean;
}

export const PROTOCOL_VERSION_MIN = 1;
export const PROTOCOL_VERSION_2_COMPATIBLE = 2;
export const PROTOCOL_VERSION_MAX = 5;
export const META_MAX_SIZE = 512;

export function defaultLanConfig(overrides: Partial<MemberlistConfig> & { name: string }): MemberlistConfig {
  return {
    bindAddr: '0.0.0.0',
    bindPort: 7946,
    protocolVersion: PROTOCOL_VERSION_2_COMPATIBLE,
    tcpTimeoutMs: 10_000,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    pushPullIntervalMs: 30_000,
    probeTimeoutMs: 500,
    probeIntervalMs: 1_000,
    disableTcpPings: false,
    awarenessMaxMultiplier: 8,
    gossipNodes: 3,
    gossipIntervalMs: 200,
    gossipToTheDeadTimeMs: 30_000,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: true,
    handoffQueueDepth: 1024,
    udpBufferSize: 1400,
    deadNodeReclaimTimeMs: 0,
    delegateProtocolMin: 0,
    delegateProtocolMax: 0,
    delegateProtocolVersion: 0,
    keyring: null,
    label: '',
    skipInboundLabelCheck: false,
    ...overrides,
  };
}

/** LAN defaults with probe 200 ms / probe timeout 100 ms / gossip 50 ms (the gopeer -fast profile). */
export function fastTestConfig(overrides: Partial<MemberlistConfig> & { name: string }): MemberlistConfig {
  return defaultLanConfig({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, ...overrides });
}

export function validateConfig(c: MemberlistConfig): void {
  if (c.name === '') throw new Error('memberlist config: name is required');
  if (!Number.isInteger(c.bindPort) || c.bindPort < 0 || c.bindPort > 65535) {
    throw new Error(`memberlist config: bad bindPort ${c.bindPort}`);
  }
  if (c.protocolVersion < PROTOCOL_VERSION_MIN || c.protocolVersion > PROTOCOL_VERSION_MAX) {
    throw new Error(
      `memberlist config: protocolVersion ${c.protocolVersion} outside [${PROTOCOL_VERSION_MIN}, ${PROTOCOL_VERSION_MAX}]`,
    );
  }
  if (c.probeTimeoutMs <= 0 || c.probeIntervalMs <= 0 || c.gossipIntervalMs <= 0) {
    throw new Error('memberlist config: intervals must be positive');
  }
  if (c.udpBufferSize < 64) throw new Error('memberlist config: udpBufferSize too small');
}
