// A rate limiter for "rejected input" log lines, so a flood of bad packets costs one line per
// reason per window.
import type { Logger } from 'pino';
import type { Clock } from '../../util/clock.js';

type LogCall = (obj: Record<string, unknown>, msg?: string) => void;
/** What gossip code logs through: pino's Logger (tests: `pino({ level: 'silent' })`). */
export type GossipLogger = Logger;

/** The four calls gossip code makes (a pino Logger has them all). */
export interface LogSink {
  info: LogCall;
  warn: LogCall;
  debug: LogCall;
  error: LogCall;
}

export function toLogSink(logger: GossipLogger): LogSink {
  return logger;
}

export class RejectLog {
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();
  /** Total rejected inputs, by reason. */
  readonly counts = new Map<string, number>();

  constructor(
    private readonly logger: LogSink,
    private readonly clock: Clock,
    private readonly windowMs = 10_000,
  ) {}

  reject(reason: string, from: string, err?: unknown): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const now = this.clock.now();
    const last = this.lastLogged.get(reason);
    if (last !== undefined && now - last < this.windowMs) {
      this.suppressed.set(reason, (this.suppressed.get(reason) ?? 0) + 1);
      return;
    }
    const suppressed = this.suppressed.get(reason) ?? 0;
    this.suppressed.delete(reason);
    this.lastLogged.set(reason, now);
    this.logger.warn(
      {
        reason,
        from,
        ...(err !== undefined ? { error: err instanceof Error ? err.message : String(err) } : {}),
        ...(suppressed > 0 ? { suppressed } : {}),
      },
      `memberlist: rejected input (${reason})`,
    );
  }

  total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }
}
