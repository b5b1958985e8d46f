// What every part of one NetworkDB shares: identity, configuration, time, the two Lamport
// clocks (network events and table events, as Docker keeps them), the cluster it sends
// through, counters, and how protocol errors are reported.
import { pino } from 'pino';
import { VxError } from '../../errors.js';
import { resolveNetworkDBConfig, type NetworkDBConfig } from './config.js';
import { LamportClock } from './lamport-clock.js';
import { ProtoDecodeError } from './proto-wire.js';
import type { NetworkDBOptions, NetworkDBStats } from './types.js';
import { toLogSink, type LogSink } from '../memberlist/reject-log.js';
import type { Cluster } from '../memberlist/types.js';
import { realClock, type Clock } from '../../util/clock.js';

export class NetworkDBCore {
  readonly nodeName: string;
  readonly config: NetworkDBConfig;
  readonly clock: Clock;
  readonly stats: NetworkDBStats = { decodeErrors: 0, sendErrors: 0, bulkSyncTimeouts: 0 };
  readonly networkClock = new LamportClock();
  readonly tableClock = new LamportClock();
  cluster: Cluster | undefined;
  closed = false;
  private readonly log: LogSink;

  constructor(opts: NetworkDBOptions) {
    const { nodeName, logger, clock, ...overrides } = opts;
    this.nodeName = requireName('nodeName', nodeName);
    this.config = resolveNetworkDBConfig(overrides);
    this.clock = clock ?? realClock;
    this.log = toLogSink(logger ?? pino({ level: 'silent' }));
  }

  /** Bad input we dropped (counted when it failed to decode). */
  protocolError(err: unknown): void {
    if (err instanceof ProtoDecodeError) this.stats.decodeErrors++;
    this.report(err, 'networkdb: dropped input');
  }

  /** Fire and forget; a cluster may reject synchronously (unknown node) or asynchronously. */
  send(start: () => Promise<void>): void {
    const fail = (err: unknown): void => {
      this.stats.sendErrors++;
      this.report(err, 'networkdb: send failed');
    };
    try {
      start().catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  private report(err: unknown, what: string): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.log.debug({ err: e.message }, what);
  }
}

export function requireName(what: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) {
    throw new VxError('INVALID_ARGUMENT', `networkdb: ${what} must be a non-empty string`);
  }
  return v;
}

/** Broadcast-queue name of a table entry: a newer event about the same entry replaces an older one. */
export function broadcastKey(table: string, key: string): string {
  return `${table.length}:${table}${key}`;
}
