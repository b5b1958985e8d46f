// RPS on the sandboxes' veth ends and the symmetric flow hash on the workloads' overlay interfaces
// that feeds it (desired.ts rpsLinks/flowHashLinks; README "Data-path cost"), kept off the attach's
// path: each write is a process, so writes wait until the syncs have been quiet for a short time
// (attaches come in bursts, and a burst to many namespaces would otherwise run a process per
// namespace beside the attaches still in flight), then go one namespace after another.
import type { Logger } from 'pino';
import { nsExists, onlineCpuMask, setRpsCpus, setSymmetricFlowHash, type NsRef } from '../kernel/index.js';
import { Coalescer } from '../util/coalescer.js';
import { errText } from '../errors.js';

interface Wanted {
  ns: NsRef;
  devices: string[];
}

/** What one steering writes: the RPS masks of sandbox veth ends, or the flow-hash program of workload interfaces. */
export interface SteeringTarget {
  /** For logs: what the namespaces are. */
  kind: 'sandbox' | 'workload';
  write(ns: NsRef, devices: string[], cpuMask: string): Promise<void>;
  /** How long the syncs must have been quiet before the pending writes run... */
  quietMs: number;
  /** ... but a steady stream of syncs delays a pending write no longer than this. */
  maxWaitMs: number;
  /** The log line when a write fails (what it costs). */
  failure: string;
}

/** RPS over every online CPU on the sandboxes' veth ends. */
export const SANDBOX_RPS: SteeringTarget = {
  kind: 'sandbox',
  write: (ns, devices, mask) => setRpsCpus(ns, devices, mask),
  // One sandbox per network: a burst of attaches makes one write.
  quietMs: 200,
  maxWaitMs: 2000,
  failure: 'could not set RPS on the sandbox veths (their flows keep all forwarding on the sending CPU)',
};

/** The symmetric flow hash on the workloads' overlay interfaces (what RPS on the sandbox ends hashes). */
export const WORKLOAD_FLOW_HASH: SteeringTarget = {
  kind: 'workload',
  write: (ns, devices) => setSymmetricFlowHash(ns, devices),
  // One write (a tc process loading the program, ~10 ms) per workload namespace: a burst of attaches
  // is a burst of writes, so they wait for a longer lull (the flows are steered meanwhile, by the
  // socket's hash).
  quietMs: 1000,
  maxWaitMs: 10_000,
  failure: "could not put the flow-hash program on the workload's overlay interfaces (RPS then hashes each direction of a connection apart)",
};

export class Steering {
  private readonly wanted = new Map<string, Wanted>();
  /**
   * Per namespace: the devices written (each once; see update's `renew`). A renewal replaces the set
   * and forget() drops it, so a write that overlapped either claims nothing.
   */
  private readonly steered = new Map<string, Set<string>>();
  /** Namespaces whose write waits for the quiet time. */
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** When the oldest pending write was asked for (for the target's maxWaitMs). */
  private pendingSince = 0;
  private readonly runs = new Coalescer();
  /** Every online CPU (undefined: not read yet; '' on a one-CPU host, where RPS has nothing to spread). */
  private mask: string | undefined;

  constructor(
    private readonly enabled: boolean,
    private readonly log: Logger,
    private readonly target: SteeringTarget,
    private readonly readMask: () => Promise<string> = onlineCpuMask,
  ) {}

  /**
   * The namespace's devices as its sync left them (`name`: the sandbox, or the workload's path).
   * Each device is written once: again only when it is in `renew` (it is a new device: made, moved
   * in or made again) or after forget(). A periodic resync therefore costs no process when nothing
   * changed; a setting undone by hand on a device that stayed comes back at the agent's next start.
   * `wait` (a full resync): written now, and the promise waits for it; otherwise once the syncs
   * have been quiet for the target's quietMs. Never rejects: a failure costs throughput, not
   * function, so it is logged and the next sync tries again.
   */
  update(ns: NsRef, name: string, devices: string[], opts: { wait: boolean; renew?: string[] }): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    this.wanted.set(name, { ns, devices });
    let written = this.steered.get(name);
    if (opts.renew?.length && written) {
      const renew = new Set(opts.renew);
      written = new Set([...written].filter((d) => !renew.has(d)));
      this.steered.set(name, written);
    }
    if (opts.wait) {
      this.cancel(name);
      return this.runs.request(name, () => this.steer(name));
    }
    if (devices.every((d) => written?.has(d))) return Promise.resolve();
    this.pending.add(name);
    const now = Date.now();
    if (this.timer) clearTimeout(this.timer);
    else this.pendingSince = now;
    this.timer = setTimeout(() => void this.flush(), Math.max(0, Math.min(this.target.quietMs, this.pendingSince + this.target.maxWaitMs - now)));
    this.timer.unref();
    return Promise.resolve();
  }

  /** The pending writes, one namespace at a time (never a process per namespace at once). */
  private async flush(): Promise<void> {
    this.timer = undefined;
    const names = [...this.pending];
    this.pending.clear();
    for (const name of names) await this.runs.request(name, () => this.steer(name));
  }

  /** The namespace was made again, removed or its devices changed: nothing of it counts as written. */
  forget(name: string): void {
    this.cancel(name);
    this.wanted.delete(name);
    this.steered.delete(name);
  }

  private cancel(name: string): void {
    this.pending.delete(name);
  }

  private async steer(name: string): Promise<void> {
    const w = this.wanted.get(name);
    if (!w) return;
    try {
      this.mask ??= await this.readMask();
      if (!this.mask) return;
      let written = this.steered.get(name);
      const todo = w.devices.filter((d) => !written?.has(d));
      if (!todo.length) return;
      if (!written) this.steered.set(name, (written = new Set()));
      await this.target.write(w.ns, todo, this.mask);
      // Renewed or forgotten meanwhile: the write may have met the old device; the next sync writes again.
      if (this.steered.get(name) !== written) return;
      for (const d of todo) written.add(d);
    } catch (e) {
      this.steered.delete(name);
      if (!nsExists(w.ns)) return; // the network went meanwhile
      this.log.warn({ [this.target.kind]: name, err: errText(e) }, this.target.failure);
    }
  }
}
