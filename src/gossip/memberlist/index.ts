// vxmesh's hashicorp/memberlist-compatible gossip layer.
import { defaultLanConfig, fastTestConfig, type MemberlistConfig } from './config.js';
import type { Clock } from '../../util/clock.js';
import type { GossipLogger } from './reject-log.js';
import { Memberlist } from './memberlist.js';
import { NetTransport } from './net-transport.js';
import type { Transport } from './transport.js';
import type { Delegate, EventDelegate } from './types.js';

export type { Cluster, Delegate, EventDelegate, NodeInfo, NodeStateName } from './types.js';
export { Memberlist, type MemberlistOptions, type MemberlistStats } from './memberlist.js';
export { defaultLanConfig, fastTestConfig, type MemberlistConfig } from './config.js';
export { Keyring } from './keyring.js';
export { TransmitLimitedQueue, retransmitLimit, type Broadcast } from './broadcast-queue.js';
export { NetTransport } from './net-transport.js';
export { MemNetwork, MemTransport, type MemNetworkOptions } from './mem-transport.js';
export type { Transport, StreamConn, TransportHandlers } from './transport.js';
export type { GossipLogger } from './reject-log.js';
export { suspicionTimeoutMs } from './suspicion.js';
export { realClock, VirtualClock, type Clock, type TimerHandle } from '../../util/clock.js';

export interface CreateMemberlistOptions {
  delegate?: Delegate;
  events?: EventDelegate;
  /** Default: real UDP+TCP sockets (NetTransport). */
  transport?: Transport;
  logger?: GossipLogger;
  random?: () => number;
  clock?: Clock;
}

/** Create and start a memberlist node (binds its transport, declares itself alive). */
export async function createMemberlist(config: MemberlistConfig, opts: CreateMemberlistOptions = {}): Promise<Memberlist> {
  const m = new Memberlist(config, { ...opts, transport: opts.transport ?? new NetTransport() });
  await m.start();
  return m;
}

// Re-exported for callers that build configs without importing config.js directly.
export const configs = { defaultLanConfig, fastTestConfig };
