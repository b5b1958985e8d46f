// An ordered start and a reverse stop: each step undoes only itself, and a failed start undoes
// what already started, in reverse, before the failure is reported.

export interface LifecycleStep {
  /** Short and user-facing: it names the step in the one line a failed start logs. */
  name: string;
  start(): Promise<void>;
  /** Undo start(). Absent when there is nothing to undo (a check, a read). */
  stop?(): Promise<void>;
}

export interface LifecycleLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** A start that failed at `step`; `cause` is the step's own error (its message is what the user reads). */
export class StartError extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StartError';
  }
}

export interface LifecycleOptions {
  log: LifecycleLogger;
  /** Longest a single stop() may take before the next one runs regardless (default 5 s). */
  stopTimeoutMs?: number;
}

/** Runs steps in order; stops the started ones in reverse, on failure or on stop(). */
export class Lifecycle {
  private readonly started: LifecycleStep[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: LifecycleOptions) {}

  /** Names of the steps that are running, in start order. */
  get running(): string[] {
    return this.started.map((s) => s.name);
  }

  /** Starts each step in turn. On a failure the started ones stop in reverse and a StartError is thrown. */
  async start(steps: LifecycleStep[]): Promise<void> {
    for (const step of steps) {
      if (this.stopping) throw new StartError(step.name, new Error('stopped while starting'));
      try {
        await step.start();
      } catch (e) {
        await this.stop();
        throw new StartError(step.name, e);
      }
      const stopping = this.stopRequested();
      if (stopping) {
        await stopping; // stop() ran while this step was starting: undo it too, last
        await this.stopStep(step);
        throw new StartError(step.name, new Error('stopped while starting'));
      }
      this.started.push(step);
    }
  }

  /** Read through a method: TypeScript would keep the narrowing from before the await in start(). */
  private stopRequested(): Promise<void> | undefined {
    return this.stopping;
  }

  /** Stops the started steps in reverse; one that fails or hangs is logged and the rest still stop. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (let step = this.started.pop(); step; step = this.started.pop()) await this.stopStep(step);
    })();
    return this.stopping;
  }

  private async stopStep(step: LifecycleStep): Promise<void> {
    if (!step.stop) return;
    const timeoutMs = this.opts.stopTimeoutMs ?? 5_000;
    const result = await withTimeout(step.stop(), timeoutMs);
    if (result === 'timeout') this.opts.log.warn({ step: step.name, timeoutMs }, 'stop step did not finish in time; going on');
    else if (result instanceof Error) this.opts.log.warn({ step: step.name, err: result.message }, 'stop step failed; going on');
  }
}

async function withTimeout(work: Promise<void>, ms: number): Promise<'ok' | 'timeout' | Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([work.then(() => 'ok' as const), timeout]);
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  } finally {
    clearTimeout(timer);
  }
}
