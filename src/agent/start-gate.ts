// The API and plugin sockets are bound early in the start (a taken socket fails it before anything
// else happens), but calls must not reach the agent before it has started. A gate stands in for the
// agent: calls wait until it opens, and once it closes new calls are refused and in-flight ones drain.
import { VxError } from '../errors.js';

type AsyncMethods<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<R> : never };

export class StartGate<T extends AsyncMethods<T>> {
  /** What the servers are given: every method waits for the gate, then calls the real target. */
  readonly api: T;
  private target: T | undefined;
  private closed = false;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private readonly ready: Promise<void>;
  private release!: () => void;
  private refuse!: (e: Error) => void;

  constructor() {
    this.ready = new Promise<void>((resolve, reject) => {
      this.release = resolve;
      this.refuse = reject;
    });
    this.ready.catch(() => undefined); // a gate closed before it opened refuses callers, not the process
    this.api = new Proxy({} as T, {
      get: (_, prop) => (typeof prop === 'string' && prop !== 'then' ? (...args: unknown[]) => this.call(prop as keyof T, args) : undefined),
    });
  }

  open(target: T): void {
    this.target = target;
    this.release();
  }

  /** Refuses new calls and waits (up to drainMs) for the ones already running. */
  async close(drainMs = 3_000): Promise<void> {
    this.closed = true;
    this.refuse(stopping());
    if (!this.inFlight) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, drainMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async call(method: keyof T, args: unknown[]): Promise<unknown> {
    if (this.closed) throw stopping();
    await this.ready;
    if (this.closed) throw stopping();
    this.inFlight++;
    try {
      return await (this.target![method] as (...a: unknown[]) => Promise<unknown>).apply(this.target, args);
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
  }
}

function stopping(): VxError {
  return new VxError('FAILED_PRECONDITION', 'the vxmesh agent is stopping');
}
