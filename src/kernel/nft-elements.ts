import type { NftDataType } from './nft-model.js';
import { canonComponent } from './nft-values.js';

interface Change {
  gen: number;
  key: string;
  /** The value before this change; undefined when the key was absent. */
  before: string | undefined;
}

/**
 * The desired elements of one large set or map, kept by its owner across reconciles (e.g. the
 * load balancer's backends). Values are canonicalised once, on insert, and every change is
 * journalled, so the reconciler diffs a map of 10,000 or 100,000 elements in O(changes) instead
 * of O(elements): it remembers the generation it last wrote and asks for what changed since.
 */
export class NftElements {
  private readonly entries = new Map<string, string>();
  private journal: Change[] = [];
  private gen = 0;
  /** changesSince(g) is answerable for g >= floor (older entries were dropped). */
  private floor = 0;

  constructor(
    readonly type: readonly NftDataType[],
    readonly value?: readonly NftDataType[] | 'verdict',
    private readonly journalLimit = 4096,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get generation(): number {
    return this.gen;
  }

  /** Adds or replaces an element (a map needs `value`, a set must not have one). */
  set(key: readonly string[], value?: readonly string[]): this {
    const k = this.canon(this.type, key, 'key');
    let v = '';
    if (this.value !== undefined) {
      if (!value) throw new Error(`map element ${key.join(' . ')} has no value`);
      v = this.canon(this.value === 'verdict' ? ['verdict'] : this.value, value, 'value');
    } else if (value) throw new Error(`set element ${key.join(' . ')} has a value, but this is a set`);
    const before = this.entries.get(k);
    if (before === v) return this;
    this.entries.set(k, v);
    this.record(k, before);
    return this;
  }

  delete(key: readonly string[]): boolean {
    const k = this.canon(this.type, key, 'key');
    const before = this.entries.get(k);
    if (before === undefined) return false;
    this.entries.delete(k);
    this.record(k, before);
    return true;
  }

  has(key: readonly string[]): boolean {
    return this.entries.has(this.canon(this.type, key, 'key'));
  }

  /** Canonical value of a canonical key ('' for a set element), undefined when absent. */
  valueOf(canonKey: string): string | undefined {
    return this.entries.get(canonKey);
  }

  /** [canonical key, canonical value] pairs. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries.entries();
  }

  /**
   * Keys changed after generation `g`, each with its value at `g` (undefined: absent then);
   * undefined when the journal no longer reaches back to `g`.
   */
  changesSince(g: number): Map<string, string | undefined> | undefined {
    if (g < this.floor || g > this.gen) return undefined;
    const out = new Map<string, string | undefined>();
    // Newest first: the oldest change after g overwrites, leaving the value as it was at g.
    for (let i = this.journal.length - 1; i >= 0 && this.journal[i]!.gen > g; i--) out.set(this.journal[i]!.key, this.journal[i]!.before);
    return out;
  }

  private record(key: string, before: string | undefined): void {
    this.gen++;
    this.journal.push({ gen: this.gen, key, before });
    if (this.journal.length > Math.max(this.journalLimit, 2)) {
      const drop = this.journal.length >> 1;
      this.floor = this.journal[drop - 1]!.gen;
      this.journal = this.journal.slice(drop);
    }
  }

  private canon(types: readonly (NftDataType | 'verdict')[], parts: readonly string[], what: string): string {
    if (parts.length !== types.length) throw new Error(`element ${what} ${parts.join(' . ')} has ${parts.length} part(s), the type has ${types.length} (${types.join(' . ')})`);
    let out = canonComponent(types[0]!, parts[0]!);
    for (let i = 1; i < parts.length; i++) out += ` . ${canonComponent(types[i]!, parts[i]!)}`;
    return out;
  }
}
