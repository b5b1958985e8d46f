import type { Controller } from '../model/controller.js';

/**
 * Controllers run as one: started in order, a failed start stops the started ones in reverse and
 * rethrows, stop is the reverse of start, reconcile goes plane by plane in start order.
 */
export class ControllerGroup implements Controller {
  private started: Controller[] = [];

  constructor(
    readonly name: string,
    private readonly members: readonly Controller[],
    private readonly log: { error(details: object, msg: string): void },
  ) {}

  async start(): Promise<void> {
    for (const c of this.members) {
      try {
        await c.start();
      } catch (e) {
        this.log.error({ controller: c.name, err: e instanceof Error ? e.message : String(e) }, `${c.name}: start failed; stopping what was started`);
        await this.stop();
        throw e;
      }
      this.started.push(c);
    }
  }

  /** Stops in reverse; a failing stop is logged and the others still stop. */
  async stop(): Promise<void> {
    const started = this.started;
    this.started = [];
    for (const c of started.reverse()) {
      await c.stop().catch((e: unknown) => this.log.error({ controller: c.name, err: e instanceof Error ? e.message : String(e) }, `${c.name}: stop failed`));
    }
  }

  async reconcile(): Promise<void> {
    for (const c of [...this.started]) await c.reconcile();
  }
}
