// Pure diff of one nft table: the commands of ONE `nft -f` transaction that move the kernel's
// table (actual) to the desired one, touching only what differs.
//
// Order inside the transaction (each step may depend on the ones before):
//   add table -> flush chains to rewrite/delete -> delete stale elements -> delete sets/maps
//   -> delete chains -> add chains -> add sets/maps -> add elements -> add rules.
// Chains come before sets because verdict-map elements name chains; elements before rules
// is free; flushes come first so nothing still refers to an object being deleted.
import type {
  NftActualChain,
  NftActualRule,
  NftActualSet,
  NftActualTable,
  NftChain,
  NftRule,
  NftSet,
  NftTable,
} from './nft-model.js';
import { priorityNumber, priorityText } from './nft-model.js';
import { NftElements } from './nft-elements.js';
import { elementKey, elementValue, renderParts } from './nft-values.js';

/** The kernel's canonical form of a rule text, when known (see NftTableReconciler). */
export type CanonLookup = (match: string) => string | undefined;

export interface NftPlanSummary {
  tableCreated: boolean;
  chainsCreated: string[];
  chainsRewritten: string[];
  chainsDeleted: string[];
  setsCreated: string[];
  setsDeleted: string[];
  elementsAdded: number;
  elementsDeleted: number;
}

export interface NftPlan {
  /** Lines of one `nft -f` transaction; empty when the table is converged. */
  commands: string[];
  /** The table as it will be once the transaction is committed. */
  next: NftActualTable;
  summary: NftPlanSummary;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** Throws an Error naming the table and the object when the desired table cannot be written. */
export function validateNftTable(t: NftTable): void {
  const where = `nft table ${t.family} ${t.name}`;
  if (!NAME.test(t.name)) throw new Error(`${where}: bad table name (letters, digits, _ . -; at most 64)`);
  const seen = new Set<string>();
  for (const c of t.chains) {
    if (!NAME.test(c.name)) throw new Error(`${where}: bad chain name "${c.name}"`);
    if (seen.has(`c ${c.name}`)) throw new Error(`${where}: chain "${c.name}" is defined twice`);
    seen.add(`c ${c.name}`);
    if (c.base) priorityNumber(t.family, c.base.priority);
    for (const r of c.rules) {
      if (/[\n;]/.test(r.match) || r.match.trim() === '') throw new Error(`${where}: chain "${c.name}": a rule must be one non-empty statement list without newlines or ';' (${JSON.stringify(r.match)})`);
      if (r.comment !== undefined && (/["\\\n]/.test(r.comment) || r.comment.length > 128)) {
        throw new Error(`${where}: chain "${c.name}": a comment holds no quotes, backslashes or newlines and at most 128 characters (${JSON.stringify(r.comment)})`);
      }
    }
  }
  for (const s of t.sets) {
    if (!NAME.test(s.name)) throw new Error(`${where}: bad set/map name "${s.name}"`);
    if (seen.has(`s ${s.name}`)) throw new Error(`${where}: set/map "${s.name}" is defined twice`);
    seen.add(`s ${s.name}`);
    if (!s.type.length) throw new Error(`${where}: set "${s.name}" has no key type`);
    if (s.typeof && s.value !== undefined && !s.typeof.value) throw new Error(`${where}: map "${s.name}" declared by typeof needs typeof.value too (nft does not mix typeof and type)`);
    if (s.typeof && /[;{}\n]/.test(`${s.typeof.key} ${s.typeof.value ?? ''}`)) throw new Error(`${where}: set "${s.name}": typeof holds expressions only`);
  }
}

/** Canonical key -> value of a desired set's elements; throws on a malformed or conflicting element. */
export function desiredElements(table: NftTable, s: NftSet): Map<string, string> {
  const out = new Map<string, string>();
  if (s.elements instanceof NftElements) return new Map(s.elements);
  for (const e of s.elements ?? []) {
    let k: string;
    let v: string;
    try {
      k = elementKey(s, e);
      v = elementValue(s, e);
    } catch (err) {
      throw new Error(`nft table ${table.family} ${table.name}: ${(err as Error).message}`);
    }
    const prev = out.get(k);
    if (prev !== undefined && prev !== v) throw new Error(`nft table ${table.family} ${table.name}: map "${s.name}" has two values for ${k} (${prev}, ${v})`);
    out.set(k, v);
  }
  return out;
}

/** Elements per `add/delete element` line: keeps each line of a 100k-element programming moderate. */
const ELEMENTS_PER_LINE = 5000;

function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += ELEMENTS_PER_LINE) out.push(xs.slice(i, i + ELEMENTS_PER_LINE));
  return out;
}

interface ElementDiff {
  stale: [string, string][];
  missing: [string, string][];
  nextElements?: Map<string, string>;
  nextSnapshot?: { source: NftElements; generation: number };
}

/**
 * True when `actual` cannot be planned against without reading the kernel: it records a snapshot
 * of an NftElements whose journal no longer reaches back to it, or that the set no longer uses.
 */
export function needsKernelRead(desired: NftTable, actual: NftActualTable | undefined): boolean {
  if (!actual) return false;
  return desired.sets.some((s) => {
    const snap = actual.sets.get(s.name)?.snapshot;
    if (!snap) return false;
    return !(s.elements instanceof NftElements && s.elements === snap.source && s.elements.changesSince(snap.generation));
  });
}

/** Elements to delete and add so the kernel's set (`a`, undefined when made anew) holds the desired ones. */
function diffElements(table: NftTable, s: NftSet, a: NftActualSet | undefined): ElementDiff {
  const stale: [string, string][] = [];
  const missing: [string, string][] = [];
  const src = s.elements;
  if (src === undefined) return { stale, missing }; // the packet path owns them
  if (src instanceof NftElements) {
    checkElementsType(table, s, src);
    const nextSnapshot = { source: src, generation: src.generation };
    const changes = a?.snapshot?.source === src ? src.changesSince(a.snapshot.generation) : undefined;
    if (a?.snapshot && !changes) throw new Error(`nft table ${table.family} ${table.name}: set "${s.name}" must be read from the kernel first`);
    if (changes) {
      for (const [k, before] of changes) {
        const now = src.valueOf(k);
        if (before === now) continue;
        if (before !== undefined) stale.push([k, before]);
        if (now !== undefined) missing.push([k, now]);
      }
    } else {
      if (a) for (const [k, v] of a.elements) if (src.valueOf(k) !== v) stale.push([k, v]);
      for (const [k, v] of src) if (!a || a.elements.get(k) !== v) missing.push([k, v]);
    }
    return { stale, missing, nextSnapshot };
  }
  if (a?.snapshot) throw new Error(`nft table ${table.family} ${table.name}: set "${s.name}" must be read from the kernel first`);
  const want = desiredElements(table, s);
  if (a) {
    for (const [k, v] of a.elements) {
      const w = want.get(k);
      if (w === undefined || w !== v) stale.push([k, v]);
    }
  }
  for (const [k, v] of want) if (!a || a.elements.get(k) !== v) missing.push([k, v]);
  return { stale, missing, nextElements: want };
}

function checkElementsType(table: NftTable, s: NftSet, src: NftElements): void {
  const t = (x: readonly string[] | 'verdict' | undefined) => (x === undefined ? '' : x === 'verdict' ? x : x.join(' . '));
  if (t(src.type) !== t(s.type) || t(src.value) !== t(s.value)) {
    throw new Error(`nft table ${table.family} ${table.name}: the elements given for "${s.name}" are of type ${t(src.type)}${src.value ? ` : ${t(src.value)}` : ''}, the set is ${t(s.type)}${s.value ? ` : ${t(s.value)}` : ''}`);
  }
}

const flagsOf = (f: readonly string[] | undefined) => [...(f ?? [])].filter((x) => x !== 'dynamic').sort().join(',');

function sameSetDefinition(d: NftSet, a: NftActualSet): boolean {
  const value = d.value === undefined ? undefined : d.value === 'verdict' ? 'verdict' : d.value.join(' . ');
  const aValue = a.value === undefined ? undefined : a.value === 'verdict' ? 'verdict' : a.value.join(' . ');
  return d.type.join(' . ') === a.type.join(' . ') && value === aValue && flagsOf(d.flags) === flagsOf(a.flags);
}

function sameRule(d: NftRule, a: NftActualRule, canon: CanonLookup): boolean {
  if ((a.comment ?? '') !== (d.comment ?? '')) return false;
  if (a.text !== undefined) return a.text === d.match;
  const c = canon(d.match);
  return c !== undefined && c === a.canon;
}

function sameRules(d: NftChain, a: NftActualChain, canon: CanonLookup): boolean {
  return d.rules.length === a.rules.length && d.rules.every((r, i) => sameRule(r, a.rules[i]!, canon));
}

/** 'same', 'policy' (only the policy differs: updated in place) or 'recreate'. */
function baseChange(family: NftTable['family'], d: NftChain, a: NftActualChain): 'same' | 'policy' | 'recreate' {
  if (!d.base && !a.base) return 'same';
  if (!d.base || !a.base) return 'recreate';
  if (d.base.type !== a.base.type || d.base.hook !== a.base.hook || priorityNumber(family, d.base.priority) !== a.base.priority) return 'recreate';
  return (d.base.policy ?? 'accept') === a.base.policy ? 'same' : 'policy';
}

/**
 * Rule texts whose kernel form must be known to decide whether a chain read from the kernel
 * already holds them: only chains whose rule count and comments already match need it.
 */
export function rulesToCanonicalize(desired: NftTable, actual: NftActualTable | undefined, canon: CanonLookup): string[] {
  if (!actual) return [];
  const out = new Set<string>();
  for (const d of desired.chains) {
    const a = actual.chains.get(d.name);
    if (!a || a.rules.length !== d.rules.length) continue;
    if (!d.rules.every((r, i) => (a.rules[i]!.comment ?? '') === (r.comment ?? ''))) continue;
    d.rules.forEach((r, i) => {
      if (a.rules[i]!.text === undefined && canon(r.match) === undefined) out.add(r.match);
    });
  }
  return [...out];
}

export function chainSpecText(family: NftTable['family'], c: NftChain): string {
  if (!c.base) return '';
  const b = c.base;
  return ` { type ${b.type} hook ${b.hook} priority ${priorityText(family, b.priority, b.hook)}; policy ${b.policy ?? 'accept'}; }`;
}

export function setSpecText(s: NftSet): string {
  const key = s.type.join(' . ');
  let type = `type ${s.value === undefined ? key : `${key} : ${s.value === 'verdict' ? 'verdict' : s.value.join(' . ')}`}`;
  if (s.typeof) type = `typeof ${s.typeof.key}${s.value !== undefined ? ` : ${s.typeof.value}` : ''}`;
  const flags = (s.flags ?? []).length ? ` flags ${(s.flags ?? []).join(',')};` : '';
  return `${s.value === undefined ? 'set' : 'map'} %T ${s.name} { ${type};${flags} }`;
}

export function ruleText(r: NftRule): string {
  return r.comment !== undefined ? `${r.match} comment "${r.comment}"` : r.match;
}

function elementsText(s: NftSet, entries: Iterable<[string, string]>, withValues: boolean): string {
  const valueTypes = s.value === undefined ? [] : s.value === 'verdict' ? (['verdict'] as const) : s.value;
  const parts: string[] = [];
  for (const [k, v] of entries) {
    const key = renderParts(s.type, k);
    parts.push(withValues && s.value !== undefined ? `${key} : ${renderParts(valueTypes, v)}` : key);
  }
  return parts.join(', ');
}

export function planNftTable(desired: NftTable, actual: NftActualTable | undefined, canon: CanonLookup): NftPlan {
  validateNftTable(desired);
  const T = `${desired.family} ${desired.name}`;
  const summary: NftPlanSummary = {
    tableCreated: !actual,
    chainsCreated: [],
    chainsRewritten: [],
    chainsDeleted: [],
    setsCreated: [],
    setsDeleted: [],
    elementsAdded: 0,
    elementsDeleted: 0,
  };
  const flush: string[] = [];
  const delElems: string[] = [];
  const delSets: string[] = [];
  const delChains: string[] = [];
  const addChains: string[] = [];
  const addSets: string[] = [];
  const addElems: string[] = [];
  const addRules: string[] = [];
  const next: NftActualTable = { family: desired.family, name: desired.name, chains: new Map(), sets: new Map() };
  const have = actual ?? { family: desired.family, name: desired.name, chains: new Map(), sets: new Map() };

  // Sets and maps: which must be (re)created; chains whose rules refer to a recreated set are rewritten.
  const recreatedSets = new Set<string>();
  const wantSets = new Map(desired.sets.map((s) => [s.name, s]));
  for (const [name, a] of have.sets) {
    if (!wantSets.has(name)) {
      delSets.push(`delete ${a.value === undefined ? 'set' : 'map'} ${T} ${name}`);
      summary.setsDeleted.push(name);
    }
  }
  for (const s of desired.sets) {
    const a = have.sets.get(s.name);
    if (a && !sameSetDefinition(s, a)) {
      delSets.push(`delete ${a.value === undefined ? 'set' : 'map'} ${T} ${s.name}`);
      recreatedSets.add(s.name);
    }
    const fresh = !a || recreatedSets.has(s.name);
    if (fresh) {
      addSets.push(`add ${setSpecText(s).replace('%T', T)}`);
      summary.setsCreated.push(s.name);
    }
    const d = diffElements(desired, s, fresh ? undefined : a);
    for (const part of chunks(d.stale)) delElems.push(`delete element ${T} ${s.name} { ${elementsText(s, part, false)} }`);
    for (const part of chunks(d.missing)) addElems.push(`add element ${T} ${s.name} { ${elementsText(s, part, true)} }`);
    summary.elementsAdded += d.missing.length;
    summary.elementsDeleted += d.stale.length;
    next.sets.set(s.name, {
      name: s.name,
      type: [...s.type],
      value: s.value === undefined ? undefined : s.value === 'verdict' ? 'verdict' : [...s.value],
      flags: [...(s.flags ?? [])].sort(),
      elements: d.nextSnapshot ? new Map() : d.nextElements ?? (fresh ? new Map() : a!.elements),
      snapshot: d.nextSnapshot,
    });
  }

  // Chains.
  const wantChains = new Set(desired.chains.map((c) => c.name));
  for (const [name] of have.chains) {
    if (!wantChains.has(name)) {
      flush.push(`flush chain ${T} ${name}`);
      delChains.push(`delete chain ${T} ${name}`);
      summary.chainsDeleted.push(name);
    }
  }
  const refersToRecreated = (c: NftChain) =>
    [...recreatedSets].some((s) => c.rules.some((r) => new RegExp(`@${s.replace(/\./g, '\\.')}(?![A-Za-z0-9_.-])`).test(r.match)));
  for (const c of desired.chains) {
    const a = have.chains.get(c.name);
    const change = a ? baseChange(desired.family, c, a) : 'recreate';
    let writeRules = true;
    if (!a) {
      addChains.push(`add chain ${T} ${c.name}${chainSpecText(desired.family, c)}`);
      summary.chainsCreated.push(c.name);
    } else if (change === 'recreate') {
      flush.push(`flush chain ${T} ${c.name}`);
      delChains.push(`delete chain ${T} ${c.name}`);
      addChains.push(`add chain ${T} ${c.name}${chainSpecText(desired.family, c)}`);
      summary.chainsRewritten.push(c.name);
    } else {
      if (change === 'policy') addChains.push(`add chain ${T} ${c.name}${chainSpecText(desired.family, c)}`);
      if (sameRules(c, a, canon) && !refersToRecreated(c)) writeRules = false;
      else {
        flush.push(`flush chain ${T} ${c.name}`);
        summary.chainsRewritten.push(c.name);
      }
    }
    if (writeRules) for (const r of c.rules) addRules.push(`add rule ${T} ${c.name} ${ruleText(r)}`);
    next.chains.set(c.name, {
      name: c.name,
      base: c.base && {
        type: c.base.type,
        hook: c.base.hook,
        priority: priorityNumber(desired.family, c.base.priority),
        policy: c.base.policy ?? 'accept',
      },
      rules: writeRules
        ? c.rules.map((r) => ({ text: r.match, comment: r.comment, canon: canon(r.match) }))
        : c.rules.map((r, i) => ({ ...a!.rules[i]!, text: r.match })),
    });
  }

  const commands = [
    ...(actual ? [] : [`add table ${T}`]),
    ...flush,
    ...delElems,
    ...delSets,
    ...delChains,
    ...addChains,
    ...addSets,
    ...addElems,
    ...addRules,
  ];
  return { commands, next, summary };
}
