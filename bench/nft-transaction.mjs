#!/usr/bin/env node
// nft transactions: a 1-element map change against a table holding 10,000 map elements vs the same
// change against an empty map, interleaved in the same run, through NftTableReconciler (plan + one
// `nft -f` transaction). Also: full programming of 10,000 elements, a drift check (fresh read of
// the 10k table), the same change given as a plain element list (O(N) diff in JS), and the anchor:
// the old way (delete and recreate the whole table on every change).
// Runs in a throwaway netns it creates and deletes.
// Usage: node bench/nft-transaction.mjs [N=300] [ELEMENTS=10000]   (root; `npx tsc -p tsconfig.json` first)
// With ELEMENTS above 10,000 the slow side series (fresh read, list form, old rewrite) take fewer samples.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(import.meta.dirname, '..');
const { NftElements, NftReconciler, NftTableReconciler, namedNs } = await import(`${ROOT}/dist/kernel/index.js`);

const N = Math.max(200, Number(process.argv[2] ?? 300));
const BIG = Number(process.argv[3] ?? 10_000);
const SLOW = BIG > 10_000 ? 0.2 : 1; // sample-count factor for the O(n) series
const NS = `vxbnft${randomBytes(3).toString('hex')}`;
const ns = namedNs(NS);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const f = (x) => `${x.toFixed(2)} ms`;

const TYPE = ['ipv4_addr', 'inet_service'];
const fill = (els, n) => {
  for (let i = 0; i < n; i++) els.set([`10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, '80'], [`10.0.${(i >> 8) & 255}.${i & 255}`, '8080']);
  return els;
};
const table = (name, elements) => ({
  family: 'inet',
  name,
  sets: [{ name: 'backends', type: TYPE, value: TYPE, elements }],
  chains: [
    {
      name: 'prerouting',
      base: { type: 'nat', hook: 'prerouting', priority: { name: 'dstnat' } },
      rules: [{ match: 'meta l4proto tcp dnat ip to ip daddr . tcp dport map @backends', comment: 'bench: lb' }],
    },
  ],
});

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main() {
  spawnSync('ip', ['netns', 'add', NS]);
  const rec = new NftTableReconciler();
  const out = {};

  // Full programming of 10,000 elements (table made from nothing), 5 times.
  const full = [];
  for (let i = 0; i < (SLOW < 1 ? 3 : 5); i++) {
    await rec.remove(ns, 'inet', 'vxb_full');
    const els = fill(new NftElements(TYPE, TYPE), BIG);
    full.push(await time(() => rec.reconcile(ns, table('vxb_full', els))));
  }
  await rec.remove(ns, 'inet', 'vxb_full');
  out.full = full;

  // 1-element change: big vs empty map, interleaved.
  const big = fill(new NftElements(TYPE, TYPE), BIG);
  const small = new NftElements(TYPE, TYPE);
  await rec.reconcile(ns, table('vxb_big', big));
  await rec.reconcile(ns, table('vxb_small', small));
  const tBig = [];
  const tSmall = [];
  for (let i = 0; i < N + 20; i++) {
    const toggle = (els) => (i % 2 === 0 ? els.set(['10.200.0.1', '80'], ['10.1.0.1', '80']) : els.delete(['10.200.0.1', '80']));
    const b = await time(async () => {
      toggle(big);
      const r = await rec.reconcile(ns, table('vxb_big', big));
      if (r.commands.length !== 1) throw new Error(`expected one command, got ${r.commands.length}`);
    });
    const s = await time(async () => {
      toggle(small);
      const r = await rec.reconcile(ns, table('vxb_small', small));
      if (r.commands.length !== 1) throw new Error(`expected one command, got ${r.commands.length}`);
    });
    if (i >= 20) {
      tBig.push(b);
      tSmall.push(s);
    }
  }
  out.big = tBig;
  out.small = tSmall;

  // Drift check on the 10k table: a fresh read (nft -j list) and a diff that finds nothing.
  const fresh = [];
  for (let i = 0; i < 30 * SLOW; i++) fresh.push(await time(() => rec.reconcile(ns, table('vxb_big', big), { fresh: true })));
  out.fresh = fresh;

  // The same 1-element change with the 10k elements given as a plain list (O(N) diff in JS).
  const list = [...big].map(([k, v]) => ({ key: k.split(' . '), value: v.split(' . ') }));
  const listTimes = [];
  await rec.reconcile(ns, table('vxb_big', list), { fresh: true });
  for (let i = 0; i < 60 * SLOW; i++) {
    const els = i % 2 === 0 ? [...list, { key: ['10.201.0.1', '80'], value: ['10.1.0.1', '80'] }] : list;
    listTimes.push(await time(() => rec.reconcile(ns, table('vxb_big', els))));
  }
  out.list = listTimes.slice(10 * SLOW);

  // Anchor: the old NftReconciler (delete + recreate the table, 10,000 elements) for one change.
  const old = new NftReconciler('vxb_old');
  const body = (extra) =>
    `  map backends {\n    type ipv4_addr . inet_service : ipv4_addr . inet_service\n    elements = { ${[...big].map(([k, v]) => `${k} : ${v}`).join(', ')}${extra ? ', 10.202.0.1 . 80 : 10.1.0.1 . 80' : ''} }\n  }\n` +
    `  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    meta l4proto tcp dnat ip to ip daddr . tcp dport map @backends comment "bench: lb"\n  }`;
  const oldTimes = [];
  for (let i = 0; i < 25 * SLOW; i++) oldTimes.push(await time(() => old.apply(ns, body(i % 2 === 0))));
  out.old = oldTimes.slice(5 * SLOW);
  return out;
}

let out;
try {
  out = await main();
} finally {
  spawnSync('ip', ['netns', 'del', NS]);
}
const load = (await import('node:os')).loadavg()[0].toFixed(1);
const p50b = pct(out.big, 50);
const p50s = pct(out.small, 50);
const p99b = pct(out.big, 99);
const p99s = pct(out.small, 99);
console.log(`nft transactions (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load ${load}, nft ${spawnSync('nft', ['--version'], { encoding: 'utf8' }).stdout.trim()})`);
console.log(`1-element change, map of ${BIG} (n=${out.big.length}):  p50 ${f(p50b)}  p99 ${f(p99b)}`);
console.log(`1-element change, empty map (n=${out.small.length}):      p50 ${f(p50s)}  p99 ${f(p99s)}`);
console.log(`ratio big/empty:                            p50 ${(p50b / p50s).toFixed(2)}x  p99 ${(p99b / p99s).toFixed(2)}x`);
console.log(`full programming of ${BIG} elements (n=${out.full.length}):    median ${f(pct(out.full, 50))}  max ${f(Math.max(...out.full))}`);
console.log(`drift check, fresh read of the ${BIG} table (n=${out.fresh.length}): p50 ${f(pct(out.fresh, 50))}  max ${f(Math.max(...out.fresh))}`);
console.log(`1-element change, ${BIG} given as a list (n=${out.list.length}): p50 ${f(pct(out.list, 50))}  max ${f(Math.max(...out.list))}`);
console.log(`anchor: old delete+recreate of the table, ${BIG} (n=${out.old.length}): p50 ${f(pct(out.old, 50))}  max ${f(Math.max(...out.old))}`);
