// The typed model of one nftables table vxmesh owns, as plain data (desired state), and the
// shape the kernel's copy is read into (actual state). Modelled on kube-proxy's knftables:
// rules are nft rule text, elements are lists of concatenation components.
import type { NftElements } from './nft-elements.js';

export type NftFamily = 'inet' | 'ip' | 'ip6' | 'bridge' | 'netdev' | 'arp';
export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress';
export type NftChainType = 'filter' | 'nat' | 'route';
export type NftPriorityName = 'raw' | 'mangle' | 'dstnat' | 'filter' | 'security' | 'srcnat' | 'out';
/** A number, or a named priority with an offset (`filter - 10` is `{ name: 'filter', offset: -10 }`). */
export type NftPriority = number | { name: NftPriorityName; offset?: number };

/** Data types elements are made of (a set's key or a map's value; concatenations are arrays). */
export type NftDataType =
  | 'ipv4_addr'
  | 'ipv6_addr'
  | 'inet_service'
  | 'inet_proto'
  | 'ether_addr'
  | 'mark'
  | 'ifname'
  | 'iface_index'
  /** A plain number, e.g. the key of a `numgen random mod N` map (declared with `typeof`). */
  | 'integer';

export interface NftRule {
  /** The rule in nft syntax, without `comment` (e.g. `iifname "br0" ip daddr @net4 counter drop`). */
  match: string;
  comment?: string;
}

export interface NftBaseChain {
  type: NftChainType;
  hook: NftHook;
  priority: NftPriority;
  policy?: 'accept' | 'drop';
}

export interface NftChain {
  name: string;
  /** Present for a base chain (attached to a hook); absent for a regular chain (jump/goto target). */
  base?: NftBaseChain;
  rules: NftRule[];
}

export interface NftElement {
  /** One component per part of the key type (`10.0.0.1 . tcp . 80` is ['10.0.0.1', 'tcp', '80']). */
  key: string[];
  /** Maps only: the value, one component per part (a verdict map's value is e.g. ['goto svc-web']). */
  value?: string[];
}

export type NftSetFlag = 'interval' | 'timeout' | 'constant' | 'dynamic';

export interface NftSet {
  name: string;
  /** Key type, one entry per concatenated part. */
  type: NftDataType[];
  /** Present for a map: its value type (`'verdict'` for a verdict map). */
  value?: NftDataType[] | 'verdict';
  flags?: NftSetFlag[];
  /**
   * Declare the set by expressions instead of `type` (for keys that have no type name, e.g.
   * `{ key: 'numgen random mod 2', value: 'ip daddr . tcp dport' }`; a map needs both). `type` and
   * `value` must still say the data types: they spell elements and compare with the kernel.
   */
  typeof?: { key: string; value?: string };
  /**
   * The elements vxmesh wants, exactly: a list, or for large sets and maps an NftElements kept
   * across reconciles (diffed in O(changes)). Leave undefined for a set the packet path fills
   * (dynamic): its elements are then neither read nor written.
   */
  elements?: NftElement[] | NftElements;
}

export interface NftTable {
  family: NftFamily;
  name: string;
  chains: NftChain[];
  /** Sets and maps. */
  sets: NftSet[];
}

// ---- actual state (what the kernel holds, or what vxmesh knows it wrote)

export interface NftActualRule {
  comment?: string;
  /** The rule text vxmesh wrote (known when this state came from our own transaction). */
  text?: string;
  /** The kernel's JSON of the rule's expressions, counters zeroed (known when read from the kernel). */
  canon?: string;
  handle?: number;
  counter?: { packets: number; bytes: number };
}

export interface NftActualChain {
  name: string;
  base?: { type: string; hook: string; priority: number; policy: string };
  rules: NftActualRule[];
}

export interface NftActualSet {
  name: string;
  type: string[];
  value?: string[] | 'verdict';
  flags: string[];
  /** Canonical element key -> canonical value ('' for a set); unused (empty) with `snapshot`. */
  elements: Map<string, string>;
  /**
   * Set instead of `elements` after vxmesh wrote an NftElements: the kernel holds exactly what
   * `source` held at `generation`.
   */
  snapshot?: { source: NftElements; generation: number };
}

export interface NftActualTable {
  family: NftFamily;
  name: string;
  chains: Map<string, NftActualChain>;
  sets: Map<string, NftActualSet>;
}

export function emptyActualTable(family: NftFamily, name: string): NftActualTable {
  return { family, name, chains: new Map(), sets: new Map() };
}

// ---- priorities: the numbers behind nft's names, per family (nft(8), "PRIORITY")

const INET_PRIORITIES: Record<NftPriorityName, number | undefined> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
  out: undefined,
};
const BRIDGE_PRIORITIES: Record<NftPriorityName, number | undefined> = {
  raw: undefined,
  mangle: undefined,
  dstnat: -300,
  filter: -200,
  security: undefined,
  srcnat: 300,
  out: 100,
};

export function priorityNumber(family: NftFamily, p: NftPriority): number {
  if (typeof p === 'number') return p;
  const base = (family === 'bridge' ? BRIDGE_PRIORITIES : INET_PRIORITIES)[p.name];
  if (base === undefined) throw new Error(`priority "${p.name}" does not exist in the ${family} family`);
  return base + (p.offset ?? 0);
}

/** nft accepts these names only on one hook (nft(8)); elsewhere the number is written. */
const NAME_ONLY_ON: Partial<Record<NftPriorityName, NftHook>> = { dstnat: 'prerouting', srcnat: 'postrouting', out: 'output' };

export function priorityText(family: NftFamily, p: NftPriority, hook: NftHook): string {
  if (typeof p === 'number') return String(p);
  const n = priorityNumber(family, p); // validates the name for the family
  const only = NAME_ONLY_ON[p.name];
  if (only && only !== hook) return String(n);
  const off = p.offset ?? 0;
  return off === 0 ? p.name : `${p.name} ${off < 0 ? '-' : '+'} ${Math.abs(off)}`;
}

/**
 * One table from the parts several owners contribute (e.g. the host firewall's chains, the peer
 * controller's member set, the load balancer's maps). Names must not repeat across parts
 * (validateNftTable says which).
 */
export function mergeNftTables(family: NftFamily, name: string, parts: Pick<NftTable, 'chains' | 'sets'>[]): NftTable {
  return { family, name, chains: parts.flatMap((p) => p.chains), sets: parts.flatMap((p) => p.sets) };
}
