import { KernelError, runProcess } from './exec.js';
import type { NftActualChain, NftActualRule, NftActualSet, NftActualTable, NftFamily } from './nft-model.js';
import { jsonValueText } from './nft-values.js';
import { inNs, nsKey, type NsRef } from './ns.js';

interface JsonTable {
  family: string;
  name: string;
}
interface JsonChain {
  name: string;
  table: string;
  type?: string;
  hook?: string;
  prio?: number;
  policy?: string;
}
interface JsonSet {
  name: string;
  table: string;
  type: string | string[];
  map?: string | string[];
  flags?: string[];
  elem?: unknown[];
}
interface JsonRule {
  chain: string;
  table: string;
  handle?: number;
  comment?: string;
  expr?: unknown[];
}

/**
 * The canonical form of a rule's expressions: the kernel's JSON with counter values zeroed (they
 * change with traffic, the rule does not).
 */
export function canonRuleExpr(expr: unknown[]): string {
  return JSON.stringify(expr, (k, v: unknown) => (k === 'counter' && v && typeof v === 'object' && 'packets' in v ? { packets: 0, bytes: 0 } : v));
}

function counterOf(expr: unknown[]): { packets: number; bytes: number } | undefined {
  for (const e of expr) {
    const c = (e as { counter?: { packets?: number; bytes?: number } }).counter;
    if (c && typeof c.packets === 'number') return { packets: c.packets, bytes: c.bytes ?? 0 };
  }
  return undefined;
}

const asList = (t: string | string[]) => (Array.isArray(t) ? t : t.split(' . '));

/**
 * Parses `nft -j list table FAMILY NAME` output into the actual-state model. Objects of other
 * tables (there are none in that listing, but a ruleset listing has them) are ignored.
 */
export function parseNftTable(json: string, family: NftFamily, name: string): NftActualTable | undefined {
  const doc = JSON.parse(json) as { nftables?: Record<string, unknown>[] };
  const out: NftActualTable = { family, name, chains: new Map(), sets: new Map() };
  let found = false;
  const rules: JsonRule[] = [];
  for (const item of doc.nftables ?? []) {
    const [kind, body] = Object.entries(item)[0] ?? [];
    if (!body || typeof body !== 'object') continue;
    const b = body as { family?: string; table?: string; name?: string };
    if (b.family !== family) continue;
    if (kind === 'table') {
      if ((body as JsonTable).name === name) found = true;
      continue;
    }
    if (b.table !== name) continue;
    if (kind === 'chain') {
      const c = body as JsonChain;
      const chain: NftActualChain = { name: c.name, rules: [] };
      if (c.hook) chain.base = { type: c.type ?? '', hook: c.hook, priority: c.prio ?? 0, policy: c.policy ?? 'accept' };
      out.chains.set(c.name, chain);
    } else if (kind === 'set' || kind === 'map') {
      const s = body as JsonSet;
      const set: NftActualSet = {
        name: s.name,
        type: asList(s.type),
        flags: [...(s.flags ?? [])].sort(),
        elements: new Map(),
      };
      if (kind === 'map') set.value = s.map === 'verdict' ? 'verdict' : asList(s.map ?? '');
      for (const e of s.elem ?? []) {
        if (kind === 'map') {
          const [k, v] = e as [unknown, unknown];
          set.elements.set(jsonValueText(k), jsonValueText(v));
        } else set.elements.set(jsonValueText(e), '');
      }
      out.sets.set(s.name, set);
    } else if (kind === 'rule') rules.push(body as JsonRule);
  }
  if (!found) return undefined;
  for (const r of rules) {
    const expr = r.expr ?? [];
    const rule: NftActualRule = { canon: canonRuleExpr(expr), handle: r.handle };
    if (r.comment !== undefined) rule.comment = r.comment;
    const counter = counterOf(expr);
    if (counter) rule.counter = counter;
    out.chains.get(r.chain)?.rules.push(rule);
  }
  return out;
}

/** Reads one table from the kernel (`nft -j list table`); undefined when it does not exist. */
export async function readNftTable(ns: NsRef, family: NftFamily, name: string): Promise<NftActualTable | undefined> {
  const [cmd, args] = inNs(ns, 'nft', ['-j', 'list', 'table', family, name]);
  const r = await runProcess(cmd, args);
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return undefined;
    throw new KernelError(`reading nft table ${family} ${name} in ${nsKey(ns)}: ${r.stderr.trim()}`, `${cmd} ${args.join(' ')}`, r.stderr);
  }
  return parseNftTable(r.stdout, family, name);
}

/** Packet/byte counters of the table's commented rules that carry a counter, by comment. */
export function ruleCounters(table: NftActualTable): Map<string, { packets: number; bytes: number }> {
  const out = new Map<string, { packets: number; bytes: number }>();
  for (const c of table.chains.values()) {
    for (const r of c.rules) if (r.comment !== undefined && r.counter) out.set(r.comment, r.counter);
  }
  return out;
}
