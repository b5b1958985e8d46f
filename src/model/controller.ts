// The common shape of every plane's controller (networks, endpoints, peers, services, dns, ...).
// The composition root (src/agent) starts controllers in order, stops them in reverse, and rolls a
// half-done start back in reverse; `reconcile` makes the kernel match the records (drift repair).

export interface Controller {
  /** Short name for logs and errors, e.g. "networks". */
  readonly name: string;
  /** Loads records, repairs what a crash left half-done, reconciles the kernel. Throws to abort start-up. */
  start(): Promise<void>;
  /** Stops timers and watches. Kernel objects stay, so workloads keep their connectivity. */
  stop(): Promise<void>;
  /** Re-reads the kernel and repairs drift. Safe to call at any time after start. */
  reconcile(): Promise<void>;
}
