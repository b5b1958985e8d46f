#!/usr/bin/env node
// The nftables load balancer at 10,000 services x 10 backends (issue 10): full programming time and
// the p99 of a 1-backend change (remove / re-add one backend of a random service) at 100, 1,000 and
// 10,000 services, through NftLoadBalancer.sync (validate + diff + plan + one `nft -f`). The time
// spent in `nft -f` itself is reported apart (the rest is JS).
// Anchor, same run: kube-proxy's iptables mode for the same services (KUBE-SERVICES -> KUBE-SVC-*
// with `statistic --mode random --probability` -> KUBE-SEP-* with DNAT), loaded with
// iptables-legacy-restore; kube-proxy rewrites every chain on a change, so a 1-backend change is a
// full restore of the changed ruleset.
// Each side runs in a throwaway netns it creates and deletes.
// Usage: node bench/lb-nft.mjs [SERVICES=10000] [SAMPLES=200]   (root; `npx tsc -p tsconfig.json` first)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(import.meta.dirname, '..');
const { NftTableReconciler, namedNs } = await import(`${ROOT}/dist/kernel/index.js`);
const { NftLoadBalancer } = await import(`${ROOT}/dist/ingress/lb/nft-lb.js`);

const MAX = Number(process.argv[2] ?? 10_000);
const SAMPLES = Number(process.argv[3] ?? 200);
const BACKENDS = 10;
const SIZES = [100, 1000, 10_000].filter((s) => s <= MAX);
const NS = `vxblb${randomBytes(3).toString('hex')}`;
const IPT_NS = `vxbipt${randomBytes(3).toString('hex')}`;
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const med = (xs) => pct(xs, 50);
const f = (x) => `${x.toFixed(1)} ms`;

const vipOf = (i) => `10.96.${i >> 8}.${i & 255}`;
const backendOf = (i, j) => `10.${100 + j}.${i >> 8}.${i & 255}`;
const frontends = (n) =>
  Array.from({ length: n }, (_, i) => ({
    id: `svc-${i}/net-bench`,
    match: { kind: 'vip', vip: vipOf(i) },
    backends: Array.from({ length: BACKENDS }, (_, j) => backendOf(i, j)),
    affinity: 'none',
  }));

function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** kube-proxy iptables-mode ruleset (nat table) for n services with `backends(i)` each. */
function kubeProxyRules(n, backends) {
  const hash = (s) => s.toUpperCase().padStart(16, '0').slice(-16);
  const chains = [':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
  const rules = ['-A PREROUTING -j KUBE-SERVICES', '-A OUTPUT -j KUBE-SERVICES', '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'];
  for (let i = 0; i < n; i++) {
    const svc = `KUBE-SVC-${hash(i.toString(16))}`;
    chains.push(`:${svc} - [0:0]`);
    rules.push(`-A KUBE-SERVICES -d ${vipOf(i)}/32 -p tcp -m tcp --dport 80 -j ${svc}`);
    const bs = backends(i);
    bs.forEach((b, j) => {
      const sep = `KUBE-SEP-${hash(`${i.toString(16)}x${j}`)}`;
      chains.push(`:${sep} - [0:0]`);
      const left = bs.length - j;
      rules.push(left > 1 ? `-A ${svc} -m statistic --mode random --probability ${(1 / left).toFixed(11)} -j ${sep}` : `-A ${svc} -j ${sep}`);
      rules.push(`-A ${sep} -s ${b}/32 -j KUBE-MARK-MASQ`, `-A ${sep} -p tcp -m tcp -j DNAT --to-destination ${b}:80`);
    });
  }
  return `*nat\n${chains.join('\n')}\n${rules.join('\n')}\nCOMMIT\n`;
}

function iptRestore(text) {
  const t0 = performance.now();
  sh('nsenter', [`--net=/run/netns/${IPT_NS}`, 'iptables-legacy-restore'], text);
  return performance.now() - t0;
}

async function main() {
  sh('ip', ['netns', 'add', NS]);
  sh('ip', ['netns', 'add', IPT_NS]);
  const ns = namedNs(NS);
  let nftSeconds = 0;
  const observer = { batch: (_t, s) => (nftSeconds += s), driftRepaired: () => undefined };
  const rows = [];
  const say = (metric, ours, anchor) => {
    const ratio = anchor ? `${(ours / anchor).toFixed(3)}x` : '';
    rows.push([metric, f(ours), anchor ? f(anchor) : '', ratio]);
    console.log(`${metric}: vxmesh ${f(ours)}${anchor ? `, kube-proxy iptables ${f(anchor)}, ratio ${ratio}` : ''}`);
  };
  try {
    // Full programming of MAX services, from no table (3 runs, median).
    const fullRuns = [];
    const fullNft = [];
    const fes = frontends(MAX);
    for (let r = 0; r < 3; r++) {
      const lb = new NftLoadBalancer(new NftTableReconciler(observer));
      await lb.clear(ns);
      nftSeconds = 0;
      const t0 = performance.now();
      const res = await lb.syncWithResult(ns, fes);
      fullRuns.push(performance.now() - t0);
      fullNft.push(nftSeconds * 1000);
      if (r === 0) console.log(`full transaction: ${res.commands.length} lines, ${res.commands.join('\n').length} bytes`);
    }
    const iptFull = [];
    const iptText = kubeProxyRules(MAX, (i) => fes[i].backends);
    for (let r = 0; r < 3; r++) iptFull.push(iptRestore(iptText));
    say(`full programming, ${MAX} services x ${BACKENDS} (median of 3)`, med(fullRuns), med(iptFull));
    console.log(`  of which nft -f: ${f(med(fullNft))}`);

    // 1-backend changes at each size: remove backend 0 of a random service, then put it back.
    for (const size of SIZES) {
      const lb = new NftLoadBalancer(new NftTableReconciler(observer));
      await lb.clear(ns);
      const cur = frontends(size);
      await lb.sync(ns, cur);
      const times = [];
      const nftTimes = [];
      const lines = [];
      for (let k = 0; k < SAMPLES + 10; k++) {
        const i = Math.floor(Math.random() * size);
        const fe = cur[i];
        cur[i] = { ...fe, backends: fe.backends.length === BACKENDS ? fe.backends.slice(1) : [backendOf(i, 0), ...fe.backends] };
        nftSeconds = 0;
        const t0 = performance.now();
        const r = await lb.syncWithResult(ns, cur);
        if (k >= 10) {
          times.push(performance.now() - t0);
          nftTimes.push(nftSeconds * 1000);
          lines.push(r.commands.length);
        }
      }
      // Anchor: kube-proxy rewrites the whole ruleset for one change.
      const iptTimes = [];
      const iptSamples = size >= 10_000 ? 3 : size >= 1000 ? 10 : 30;
      const base = frontends(size);
      for (let k = 0; k < iptSamples; k++) {
        const i = Math.floor(Math.random() * size);
        iptTimes.push(iptRestore(kubeProxyRules(size, (x) => (x === i ? base[x].backends.slice(1) : base[x].backends))));
      }
      say(`1-backend change at ${size} services, p50 (n=${SAMPLES}; anchor n=${iptSamples})`, med(times), med(iptTimes));
      say(`1-backend change at ${size} services, p99`, pct(times, 99), pct(iptTimes, 99));
      console.log(`  nft -f p50 ${f(med(nftTimes))} p99 ${f(pct(nftTimes, 99))}; JS (sync minus nft) p50 ${f(med(times.map((t, k) => t - nftTimes[k])))}; transaction lines max ${Math.max(...lines)}`);
    }
    console.log('\n| metric | vxmesh nft | kube-proxy iptables-restore | ratio |\n|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  } finally {
    spawnSync('ip', ['netns', 'del', NS]);
    spawnSync('ip', ['netns', 'del', IPT_NS]);
  }
}

await main();
