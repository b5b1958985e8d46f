// dnsperf against vxmesh's resolver and dnsmasq serving the same names, same netns, same settings.
// node bench/dns.mjs [--duration 30] [--rounds 3] [--clients 4] [--outstanding 100] [--names 1000] [--paced-qps 20000] [--tcp]
// 1) saturation: dnsperf -c C -q Q for D seconds per server, in R interleaved rounds (vxmesh, dnsmasq,
//    vxmesh, ...): qps, average latency, lost, server CPU per query;
// 2) latency at a fixed rate: dnsperf -Q RATE -v for percentiles (dnsperf prints no histogram);
// 3) with --tcp: saturation over TCP (dnsperf -m tcp, 4 connections).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds, makeNetns, startDnsmasq, startVxmesh, stop } from './dns-common.mjs';

const { values } = parseArgs({ options: {
  duration: { type: 'string', default: '30' }, clients: { type: 'string', default: '4' },
  outstanding: { type: 'string', default: '100' }, names: { type: 'string', default: '1000' },
  'paced-qps': { type: 'string', default: '20000' }, 'paced-duration': { type: 'string', default: '10' },
  tcp: { type: 'boolean', default: false }, rounds: { type: 'string', default: '3' },
} });
const names = Number(values.names);
const dir = mkdtempSync(join(tmpdir(), 'vxmesh-dnsbench-'));
const hosts = join(dir, 'hosts');
const queries = join(dir, 'queries');
writeFileSync(hosts, Array.from({ length: names }, (_, i) => `10.77.${i >> 8}.${i & 255} host${i}`).join('\n') + '\n');
writeFileSync(queries, Array.from({ length: names }, (_, i) => `host${i} A`).join('\n') + '\n');

function dnsperf(nsPath, server, args, verbose) {
  return new Promise((resolve, reject) => {
    const p = spawn('nsenter', [`--net=${nsPath}`, 'dnsperf', '-s', server, '-d', queries, ...args, ...(verbose ? ['-v'] : [])]);
    let out = '';
    const lat = [];
    let rest = '';
    p.stdout.on('data', (b) => {
      const text = rest + b;
      const lines = text.split('\n');
      rest = lines.pop();
      for (const l of lines) {
        if (verbose && l.startsWith('> ')) lat.push(Number(l.slice(l.lastIndexOf(' ') + 1)));
        else out += l + '\n';
      }
    });
    p.stderr.on('data', (b) => (out += b));
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`dnsperf failed: ${out}`));
      const num = (re) => Number(re.exec(out)?.[1] ?? NaN);
      lat.sort((a, b) => a - b);
      const pct = (q) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] * 1000 : NaN);
      resolve({
        qps: num(/Queries per second:\s+([\d.]+)/), sent: num(/Queries sent:\s+(\d+)/), lost: num(/Queries lost:\s+(\d+)/),
        avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000, p50: pct(0.5), p99: pct(0.99), p999: pct(0.999),
      });
    });
  });
}

const ns = makeNetns('dns');
let vx; let dm;
try {
  vx = await startVxmesh(ns.path, '127.0.0.11', { hostsCount: names });
  dm = await startDnsmasq(ns.path, '127.0.0.12', hosts);
  const servers = [['vxmesh', '127.0.0.11', vx.proc.pid], ['dnsmasq', '127.0.0.12', dm.proc.pid]];
  const sat = {};
  const paced = {};
  const load = loadavg()[0].toFixed(1);
  // Interleaved rounds, so load that comes and goes (other work on the machine) hits both alike.
  const rounds = Number(values.rounds);
  const slice = String(Math.max(1, Math.round(Number(values.duration) / rounds)));
  const perRound = [];
  for (let r = 0; r < rounds; r++) {
    const row = {};
    for (const [label, addr, pid] of servers) {
      const cpu0 = cpuSeconds(pid);
      const res = await dnsperf(ns.path, addr, ['-c', values.clients, '-q', values.outstanding, '-l', slice], false);
      res.cpu = cpuSeconds(pid) - cpu0;
      row[label] = res;
      const acc = (sat[label] ??= { sent: 0, lost: 0, completed: 0, seconds: 0, cpu: 0, latencySum: 0 });
      acc.sent += res.sent; acc.lost += res.lost; acc.cpu += res.cpu;
      acc.seconds += Number(slice); acc.completed += res.qps * Number(slice); acc.latencySum += res.avgMs * res.qps * Number(slice);
    }
    perRound.push((row.vxmesh.qps / row.dnsmasq.qps).toFixed(2));
  }
  for (const [label] of servers) {
    const a = sat[label];
    sat[label] = { qps: a.completed / a.seconds, avgMs: a.latencySum / a.completed, lost: a.lost, sent: a.sent, usPerQuery: (a.cpu / a.sent) * 1e6 };
  }
  for (const [label, addr] of servers) {
    paced[label] = await dnsperf(ns.path, addr, ['-c', values.clients, '-q', values.outstanding, '-Q', values['paced-qps'], '-l', values['paced-duration']], true);
  }
  const tcp = {};
  if (values.tcp) {
    for (const [label, addr] of servers) {
      tcp[label] = await dnsperf(ns.path, addr, ['-m', 'tcp', '-c', values.clients, '-q', values.outstanding, '-l', values['paced-duration']], false);
    }
  }
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  console.log(`date ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load ${load} -> ${loadavg()[0].toFixed(1)}`);
  console.log(`saturation: dnsperf -c ${values.clients} -q ${values.outstanding}, ${rounds} interleaved rounds of ${slice} s each, ${names} names`);
  for (const [label] of servers) {
    const s = sat[label];
    console.log(`  ${label.padEnd(8)} ${f(s.qps)} qps, avg ${f(s.avgMs, 2)} ms, lost ${s.lost}/${s.sent}, server CPU ${f(s.usPerQuery, 1)} us/query`);
  }
  console.log(`  ratio vxmesh/dnsmasq ${f(sat.vxmesh.qps / sat.dnsmasq.qps, 2)}x (per round: ${perRound.join(', ')})`);
  console.log(`paced: dnsperf -Q ${values['paced-qps']} -l ${values['paced-duration']} -v`);
  for (const [label] of servers) {
    const s = paced[label];
    console.log(`  ${label.padEnd(8)} ${f(s.qps)} qps, p50 ${f(s.p50, 3)} ms, p99 ${f(s.p99, 3)} ms, p99.9 ${f(s.p999, 3)} ms, lost ${s.lost}/${s.sent}`);
  }
  if (values.tcp) {
    console.log(`tcp: dnsperf -m tcp -c ${values.clients} -q ${values.outstanding} -l ${values['paced-duration']}`);
    for (const [label] of servers) console.log(`  ${label.padEnd(8)} ${f(tcp[label].qps)} qps, avg ${f(tcp[label].avgMs, 2)} ms, lost ${tcp[label].lost}/${tcp[label].sent}`);
    console.log(`  ratio vxmesh/dnsmasq ${f(tcp.vxmesh.qps / tcp.dnsmasq.qps, 2)}x`);
  }
} finally {
  stop(vx?.proc);
  stop(dm?.proc);
  ns.remove();
  rmSync(dir, { recursive: true, force: true });
}
