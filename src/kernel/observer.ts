// What the reconcilers tell whoever watches them (the agent's metrics): each batch they run and the
// drift a fresh read found and repaired. An interface here, so src/kernel needs no metrics library.

/** The tool a batch ran: `ip -batch`, `bridge -batch`, one `nft -f` transaction or one `ipvsadm -R` restore. */
export type KernelBatchTool = 'ip' | 'bridge' | 'nft' | 'ipvsadm';

export interface KernelObserver {
  /** One batch finished (ok or not) after `seconds`. */
  batch(tool: KernelBatchTool, seconds: number, ok: boolean): void;
  /** A reconcile that read the kernel afresh had to apply `changes` commands: drift was repaired. */
  driftRepaired(kind: 'links' | 'nft', changes: number): void;
}

/** Runs one batch and reports it to the observer (if any). */
export async function observed<T>(observer: KernelObserver | undefined, tool: KernelBatchTool, run: () => Promise<T>): Promise<T> {
  if (!observer) return run();
  const start = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
  try {
    const result = await run();
    observer.batch(tool, seconds(), true);
    return result;
  } catch (e) {
    observer.batch(tool, seconds(), false);
    throw e;
  }
}
