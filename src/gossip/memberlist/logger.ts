// A pino-compatible logger surface, and a rate limiter for "rejected input" lines so a
// flood of bad packets costs one log line per reason per window.

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;
export interface Logger {
  info: LogFn;
  warn: LogFn;
  debug: LogFn;
  error: LogFn;
}

const noop: LogFn = () => undefined;
export const silentLogger: Logger = { info: noop, warn: noop, debug: noop, error: noop };

export class RejectLog {
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();
  /** Total rejected inputs, by reason. */
  readonly counts = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = 10_000,
  ) {}

  reject(reason: string, from: string, err?: unknown): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const now = Date.now();
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
