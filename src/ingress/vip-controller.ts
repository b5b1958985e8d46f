// The VIP plane: keeps every local workload namespace's load balancer equal to the VIP frontends of
// the services on its networks (vip-desired.ts). One LB batch per namespace, and only for namespaces
// whose frontends changed (a fingerprint per namespace); the last endpoint of a namespace gone, its
// LB state is cleared. Re-synced on service/task changes and on endpoint record changes (coalesced);
// a restart, or the periodic resync, is one more full pass.

import type { Logger } from 'pino';
import { nsFromPath } from '../kernel/index.js';
import type { Controller } from '../model/controller.js';
import type { OverlayRecords } from '../overlay/records.js';
import { Coalescer } from '../util/coalescer.js';
import type { LbFrontend, LoadBalancer } from './lb/types.js';
import type { ServiceView } from './model.js';
import { desiredVipFrontends, frontendsFingerprint } from './vip-desired.js';
import { errText } from '../errors.js';

export interface VipControllerOptions {
  /** Networks whose VIPs are not balanced in workload namespaces (the ingress network). */
  skipNetwork?: (networkId: string) => boolean;
  /** Namespaces whose LB another plane owns (the ingress sandbox). */
  skipNamespace?: (netns: string) => boolean;
}

export class VipController implements Controller {
  readonly name = 'vip';
  private readonly coalesce = new Coalescer();
  /** Namespace path -> fingerprint of the frontends last applied there. */
  private readonly applied = new Map<string, string>();
  private readonly unsubscribe: Array<() => void> = [];
  private running = false;
  /** The next pass reads each namespace's LB state from the kernel (periodic resync: repairs drift). */
  private freshNext = false;
  /** The first pass after start clears namespaces without VIPs (a previous life may have left a table there). */
  private firstPass = true;

  constructor(
    private readonly records: OverlayRecords,
    private readonly view: ServiceView,
    private readonly lb: LoadBalancer,
    private readonly opts: VipControllerOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.unsubscribe.push(this.view.onChange(() => this.kick()));
    this.unsubscribe.push(this.records.endpoints.onChange(() => this.kick()));
    await this.sync();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Periodic resync: every namespace is synced again (the LB re-reads and repairs what differs). */
  async reconcile(): Promise<void> {
    // Namespaces with VIPs are synced again (the LB re-reads and repairs); empty ones cost nothing.
    for (const [netns, fp] of [...this.applied]) if (fp !== EMPTY) this.applied.delete(netns);
    this.freshNext = true;
    await this.sync();
  }

  /** Resolves once a pass that started after this call is done (tests, attach paths). */
  sync(): Promise<void> {
    return this.coalesce.request('vip', () => this.pass());
  }

  /** Per local workload namespace (path), the VIP frontends its LB should hold now (also for `vxmesh doctor`). */
  desiredFrontends(): Map<string, LbFrontend[]> {
    const skipNs = this.opts.skipNamespace;
    const endpoints = this.records.localEndpoints().filter((e) => !e.leaveInHost && e.netns !== '' && !skipNs?.(e.netns));
    return desiredVipFrontends(endpoints, this.view, this.opts.skipNetwork);
  }

  private kick(): void {
    if (!this.running) return;
    this.sync().catch((e: unknown) => this.log.error({ err: errText(e) }, 'VIP sync failed'));
  }

  private async pass(): Promise<void> {
    // Until the service tables are synced after a start, the kernel keeps the backends it has (a
    // restart must not drop every other host's tasks for a moment); onChange fires when caught up.
    if (this.view.caughtUp?.() === false) return;
    const desired = this.desiredFrontends();
    const fresh = this.freshNext;
    this.freshNext = false;
    const failed: string[] = [];
    const first = this.firstPass;
    this.firstPass = false;
    await eachLimited(
      [...desired],
      SYNC_CONCURRENCY,
      async ([netns, frontends]) => {
        const fp = frontendsFingerprint(frontends);
        const had = this.applied.get(netns);
        if (had === fp) return;
        // A namespace new to this agent life without VIPs has nothing of the LB's: no process spawned for it.
        if (fp === EMPTY && had === undefined && !first) return void this.applied.set(netns, fp);
        try {
          // No VIP to balance: nothing of the LB's stays in the workload (clear is harmless when there is none).
          if (frontends.length) await this.lb.sync(nsFromPath(netns), frontends, { fresh });
          else await this.lb.clear(nsFromPath(netns));
          this.applied.set(netns, fp);
          this.log.debug({ netns, frontends: frontends.length, backends: frontends.reduce((n, f) => n + f.backends.length, 0) }, 'VIP frontends synced');
        } catch (e) {
          this.applied.delete(netns);
          failed.push(`${netns}: ${errText(e)}`);
        }
      },
    );
    for (const netns of [...this.applied.keys()].filter((n) => !desired.has(n))) {
      this.applied.delete(netns);
      // The namespace may be gone with its workload: then there is nothing left to clear.
      await this.lb.clear(nsFromPath(netns)).catch((e: unknown) => this.log.debug({ netns, err: errText(e) }, 'VIP state not cleared (namespace gone?)'));
    }
    if (failed.length) this.log.warn({ failed }, 'VIP frontends not synced in some namespaces (retried at the next change or resync)');
  }
}

const EMPTY = frontendsFingerprint([]);
/** Namespaces synced at once (each sync is a process): a service change on a busy host does not fork hundreds. */
const SYNC_CONCURRENCY = 8;

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
