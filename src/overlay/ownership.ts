// What start-up garbage collection may remove: only objects this agent made. A kernel object is
// this agent's when it carries the agent's prefix in vxmesh's exact naming pattern; it is accounted
// for when a record (or a pending intent) in the agent's store names it. With --salvage nothing
// unaccounted is removed: the store may have lost the record, so the object may still be in use.

export interface GcDecision {
  /** Ours and unaccounted: removed (never with salvage). */
  remove: string[];
  /** Ours and unaccounted, left in place because of salvage. */
  kept: string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Sandbox namespace names this agent makes: `<prefix>-n-<12 hex>`, nothing looser. */
export function sandboxPattern(netnsPrefix: string): RegExp {
  return new RegExp(`^${escape(netnsPrefix)}-n-[0-9a-f]{12}$`);
}

/**
 * Splits the objects found in the kernel: those not ours (no match) are never named here; ours
 * and recorded stay; ours and unrecorded go, unless salvage keeps them.
 */
export function decideGc(found: Iterable<string>, isOurs: (name: string) => boolean, recorded: ReadonlySet<string>, salvage: boolean): GcDecision {
  const unaccounted = [...found].filter((n) => isOurs(n) && !recorded.has(n)).sort();
  return salvage ? { remove: [], kept: unaccounted } : { remove: unaccounted, kept: [] };
}

/** One log line for N objects: the count and (up to `max`) names, never N lines. */
export function summarize(names: readonly string[], max = 50): { count: number; names: string[]; more?: number } {
  return names.length > max ? { count: names.length, names: names.slice(0, max), more: names.length - max } : { count: names.length, names: [...names] };
}
