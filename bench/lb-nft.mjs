#!/usr/bin/env node
// The nftables load balancer at 10,000 services x 10 backends (issue 10): full programming time and
// the p99 of a 1-backend change (remove / re-add one backend of a random service) at 100, 1,000 and
// 10,000 services, two ways: `sync` (the whole frontend list, as LoadBalancer.sync) and `patch`
// (only the changed frontend: the precise hot path). Each is validate + diff + plan + one nft
// transaction, through the reconciler's kept `nft -i` session (src/kernel/nft-session.ts); a third
// path, `patch-exec`, is `patch` with one `nft -f` process per change (the reconciler's
// `sessions: false`, what every change cost before), in the same run. The time spent in nft is
// reported apart, and the JS CPU time (process.cpuUsage, which does
// not count the nft child) beside it, since on a loaded machine wall times mostly measure waiting.
// Anchor, same run: kube-proxy's iptables mode for the same services (KUBE-SERVICES -> KUBE-SVC-*
// with `statistic --mode random --probability` -> KUBE-SEP-* with DNAT), loaded with
// iptables-legacy-restore; kube-proxy rewrites every chain on a change, so a 1-backend change is a
// full restore of the changed ruleset.
// Each side runs in a throwaway netns it creates and deletes.
// Usage: node bench/lb-nft.mjs [SERVICES=10000] [SAMPLES=150]   (root; `npx tsc -p tsconfig.json` first)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(import.meta.dirname, '..');
const { NftTableReconciler, namedNs } = await import(`${ROOT}/dist/kernel/index.js`);
const { NftLoadBalancer } = await import(`${ROOT}/dist/ingress/lb/nft-lb.js`);

const MAX = Number(process.argv[2] ?? 10_000);
const SAMPLES = Number(process.argv[3] ?? 150);
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

/** Runs a command with stdin under bash's `time`: wall ms and the child's CPU ms (user + sys). */
function timed(cmd, input) {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; time ${cmd}`], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  const [u, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: (u + sys) * 1000 };
}

let lastIptCpu = 0;
function iptRestore(text) {
  const r = timed(`nsenter --net=/run/netns/${IPT_NS} iptables-legacy-restore`, text);
  lastIptCpu = r.cpu;
  return r.wall;
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
    console.log(`${metric}: ${f(ours)}${anchor ? `, kube-proxy iptables ${f(anchor)}, ratio ${ratio}` : ''}`);
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
    const iptText = kubeProxyRules(MAX, (i) => fes[i].backends);
    const iptFull = [iptRestore(iptText)]; // one sample: at 10,000 services it takes seconds
    const iptFullCpu = lastIptCpu;
    say(`full programming, ${MAX} services x ${BACKENDS} (median of 3; anchor n=1)`, med(fullRuns), med(iptFull));
    console.log(`  of which nft: ${f(med(fullNft))}`);
    // CPU, which the machine's load does not inflate: the same full transaction replayed by nft
    // into a fresh table (under bash's time), and the JS side of one full sync.
    const lb = new NftLoadBalancer(new NftTableReconciler(observer));
    await lb.clear(ns);
    const c0 = process.cpuUsage();
    const res = await lb.syncWithResult(ns, fes);
    const c = process.cpuUsage(c0);
    await lb.clear(ns);
    const replay = timed(`nsenter --net=/run/netns/${NS} nft -f -`, res.commands.join('\n') + '\n');
    const cpuOurs = replay.cpu + (c.user + c.system) / 1000;
    say(`full programming, CPU (nft user+sys ${f(replay.cpu)} + JS ${f((c.user + c.system) / 1000)})`, cpuOurs, iptFullCpu);

    // 1-backend changes at each size: remove backend 0 of a random service, then put it back.
    for (const size of SIZES) {
      const lb = new NftLoadBalancer(new NftTableReconciler(observer));
      await lb.clear(ns);
      const cur = frontends(size);
      await lb.sync(ns, cur);
      const ours = {};
      for (const path of ['sync', 'patch', 'patch-exec']) {
        // patch-exec: a second LB on the same table (it reads the kernel's slots on first use).
        const lbNow = path === 'patch-exec' ? new NftLoadBalancer(new NftTableReconciler(observer, { sessions: false })) : lb;
        if (path === 'patch-exec') await lbNow.sync(ns, cur);
        const times = [];
        const nftTimes = [];
        const cpu = [];
        let lines = 0;
        for (let k = 0; k < SAMPLES + 10; k++) {
          const i = Math.floor(Math.random() * size);
          const fe = cur[i];
          cur[i] = { ...fe, backends: fe.backends.length === BACKENDS ? fe.backends.slice(1) : [backendOf(i, 0), ...fe.backends] };
          nftSeconds = 0;
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const r = path === 'sync' ? await lbNow.syncWithResult(ns, cur) : await lbNow.patch(ns, { upsert: [cur[i]] });
          const wall = performance.now() - t0;
          const c = process.cpuUsage(c0);
          if (k >= 10) {
            times.push(wall);
            nftTimes.push(nftSeconds * 1000);
            cpu.push((c.user + c.system) / 1000);
            lines = Math.max(lines, r.commands.length);
          }
        }
        ours[path] = times;
        console.log(`${size} services via ${path}: p50 ${f(med(times))} p99 ${f(pct(times, 99))}; `+`  nft p50 ${f(med(nftTimes))} p99 ${f(pct(nftTimes, 99))}; JS CPU p50 ${f(med(cpu))} p99 ${f(pct(cpu, 99))}; transaction lines max ${lines}`);
      }
      // Anchor: kube-proxy rewrites the whole ruleset for one change.
      const base = frontends(size);
      iptRestore(kubeProxyRules(size, (x) => base[x].backends)); // untimed: replace the previous size's table first
      const iptTimes = [];
      const iptSamples = size >= 10_000 ? 1 : size >= 1000 ? 5 : 20;
      for (let k = 0; k < iptSamples; k++) {
        const i = Math.floor(Math.random() * size);
        iptTimes.push(iptRestore(kubeProxyRules(size, (x) => (x === i ? base[x].backends.slice(1) : base[x].backends))));
      }
      for (const path of ['sync', 'patch', 'patch-exec']) {
        say(`1-backend change at ${size} services via ${path}, p50 (n=${SAMPLES}; anchor n=${iptSamples})`, med(ours[path]), med(iptTimes));
        say(`1-backend change at ${size} services via ${path}, p99`, pct(ours[path], 99), pct(iptTimes, 99));
      }
    }
    console.log('\n| metric | time | kube-proxy iptables-restore | ratio |\n|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  } finally {
    spawnSync('ip', ['netns', 'del', NS]);
    spawnSync('ip', ['netns', 'del', IPT_NS]);
  }
}

await main();
