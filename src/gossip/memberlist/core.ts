// What every part of one memberlist node shares: its configuration, time and random sources,
// logger, transport, delegates, counters, and the few flags and counters they all read.
import { pino } from 'pino';
import { ipToBytes } from './addr.js';
import type { MemberlistConfig } from './config.js';
import { RejectLog, toLogSink, type GossipLogger, type LogSink } from './reject-log.js';
import type { EncryptionVersion } from './security.js';
import type { Transport } from './transport.js';
import type { Delegate, EventDelegate } from './types.js';
import { realClock, type Clock } from '../../util/clock.js';

export interface MemberlistOptions {
  delegate?: Delegate;
  events?: EventDelegate;
  transport: Transport;
  /** Default: silent. */
  logger?: GossipLogger;
  /** Random source (seeded in simulations). */
  random?: () => number;
  /** Time source for every timer and timestamp (a VirtualClock in simulations). */
  clock?: Clock;
}

export interface MemberlistStats {
  udpBytesSent: number;
  udpPacketsSent: number;
  tcpBytesSent: number;
  rejected: number;
}

/** An input we refuse: counted and logged under `reason`, never thrown to the caller. */
export class Rejected extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class EndOfStream extends Error {
  constructor() {
    super('end of stream');
  }
}

export const MAX_PUSH_STATE_BYTES = 20 * 1024 * 1024;

export class MemberlistCore {
  readonly delegate: Delegate | undefined;
  readonly events: EventDelegate | undefined;
  readonly transport: Transport;
  readonly logger: LogSink;
  readonly random: () => number;
  readonly clock: Clock;
  readonly rejects: RejectLog;
  readonly stats: MemberlistStats = { udpBytesSent: 0, udpPacketsSent: 0, tcpBytesSent: 0, rejected: 0 };
  shut = false;
  leaving = false;
  advertiseAddr = '';
  advertisePort = 0;
  private sequenceNum = 0;

  constructor(
    readonly config: MemberlistConfig,
    opts: MemberlistOptions,
  ) {
    this.delegate = opts.delegate;
    this.events = opts.events;
    this.transport = opts.transport;
    this.logger = toLogSink(opts.logger ?? pino({ level: 'silent' }));
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? realClock;
    this.rejects = new RejectLog(this.logger, this.clock);
  }

  nextSeqNo(): number {
    this.sequenceNum = (this.sequenceNum + 1) >>> 0;
    return this.sequenceNum;
  }

  encryptionVersion(): EncryptionVersion {
    return this.config.protocolVersion === 1 ? 0 : 1;
  }

  encryptionEnabled(): boolean {
    return this.config.keyring !== null;
  }

  selfAddrBytes(): Buffer {
    return ipToBytes(this.advertiseAddr);
  }

  reject(reason: string, from: string, err?: unknown): void {
    this.stats.rejected++;
    this.rejects.reject(reason, from, err);
  }
}

export function bytesEqual(a: Buffer | null, b: Buffer | null): boolean {
  return (a ?? Buffer.alloc(0)).equals(b ?? Buffer.alloc(0));
}
