// RPS on the sandboxes' veth ends (desired.ts rpsLinks; README "Data-path cost"), kept off the
// attach's path: each write is a process (sysfs in a private mount namespace), so writes after
// attaches wait for a short quiet time and a burst of attaches to one sandbox makes one process.
import type { Logger } from 'pino';
import { nsExists, onlineCpuMask, setRpsCpus, type NsRef } from '../kernel/index.js';
import { Coalescer } from '../util/coalescer.js';
import { errText } from '../errors.js';

/** How long after a sandbox sync its RPS write waits for more changes (attaches come in bursts). */
export const STEER_QUIET_MS = 200;

interface Wanted {
  ns: NsRef;
  devices: string[];
  /** Write every device, not only the ones not written yet (a new sandbox, a full resync). */
  all: boolean;
}

export class SandboxSteering {
  private readonly wanted = new Map<string, Wanted>();
  /** Per sandbox: the devices whose mask is written. */
  private readonly steered = new Map<string, Set<string>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly runs = new Coalescer();
  /** Every online CPU (undefined: not read yet; '' on a one-CPU host, where RPS has nothing to spread). */
  private mask: string | undefined;

  constructor(
    private readonly enabled: boolean,
    private readonly log: Logger,
  ) {}

  /**
   * The sandbox's RPS devices as its sync left them. `wait` (a full resync): written now, and the
   * promise waits for it; otherwise after STEER_QUIET_MS. Never rejects: a failure costs
   * throughput, not function, so it is logged and the next sync tries again.
   */
  update(ns: NsRef, name: string, devices: string[], opts: { all: boolean; wait: boolean }): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    this.wanted.set(name, { ns, devices, all: opts.all || (this.wanted.get(name)?.all ?? false) });
    if (opts.wait) {
      this.cancel(name);
      return this.runs.request(name, () => this.steer(name));
    }
    if (!this.timers.has(name)) {
      const t = setTimeout(() => {
        this.timers.delete(name);
        void this.runs.request(name, () => this.steer(name));
      }, STEER_QUIET_MS);
      t.unref();
      this.timers.set(name, t);
    }
    return Promise.resolve();
  }

  /** The sandbox was made again or removed: nothing of it is written any more. */
  forget(name: string): void {
    this.cancel(name);
    this.wanted.delete(name);
    this.steered.delete(name);
  }

  private cancel(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  private async steer(name: string): Promise<void> {
    const w = this.wanted.get(name);
    if (!w) return;
    this.wanted.set(name, { ...w, all: false });
    try {
      this.mask ??= await onlineCpuMask();
      if (!this.mask) return;
      const done = w.all ? new Set<string>() : (this.steered.get(name) ?? new Set<string>());
      const todo = w.devices.filter((d) => !done.has(d));
      if (!todo.length) return;
      await setRpsCpus(w.ns, todo, this.mask);
      this.steered.set(name, new Set(w.devices));
    } catch (e) {
      this.steered.delete(name);
      if (!nsExists(w.ns)) return; // the network went meanwhile
      this.log.warn({ sandbox: name, err: errText(e) }, 'could not set RPS on the sandbox veths (their flows keep all forwarding on the sending CPU)');
    }
  }
}
