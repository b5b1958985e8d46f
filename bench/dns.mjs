// dnsperf against vxmesh's resolver and dnsmasq serving the same names, same netns, same settings.
// node bench/dns.mjs [--duration 30] [--clients 4] [--outstanding 100] [--names 1000] [--paced-qps 20000]
// 1) saturation: dnsperf -c C -q Q -l D: qps, average latency, lost, server CPU per query;
// 2) latency at a fixed rate: dnsperf -Q RATE -v for percentiles (dnsperf prints no histogram).
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
  for (const [label, addr, pid] of servers) {
    const cpu0 = cpuSeconds(pid);
    sat[label] = await dnsperf(ns.path, addr, ['-c', values.clients, '-q', values.outstanding, '-l', values.duration], false);
    sat[label].usPerQuery = ((cpuSeconds(pid) - cpu0) / sat[label].sent) * 1e6;
  }
  for (const [label, addr] of servers) {
    paced[label] = await dnsperf(ns.path, addr, ['-c', values.clients, '-q', values.outstanding, '-Q', values['paced-qps'], '-l', values['paced-duration']], true);
  }
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  console.log(`date ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load ${load} -> ${loadavg()[0].toFixed(1)}`);
  console.log(`saturation: dnsperf -c ${values.clients} -q ${values.outstanding} -l ${values.duration}, ${names} names`);
  for (const [label] of servers) {
    const s = sat[label];
    console.log(`  ${label.padEnd(8)} ${f(s.qps)} qps, avg ${f(s.avgMs, 2)} ms, lost ${s.lost}/${s.sent}, server CPU ${f(s.usPerQuery, 1)} us/query`);
  }
  console.log(`  ratio vxmesh/dnsmasq ${f(sat.vxmesh.qps / sat.dnsmasq.qps, 2)}x`);
  console.log(`paced: dnsperf -Q ${values['paced-qps']} -l ${values['paced-duration']} -v`);
  for (const [label] of servers) {
    const s = paced[label];
    console.log(`  ${label.padEnd(8)} ${f(s.qps)} qps, p50 ${f(s.p50, 3)} ms, p99 ${f(s.p99, 3)} ms, p99.9 ${f(s.p999, 3)} ms, lost ${s.lost}/${s.sent}`);
  }
} finally {
  stop(vx?.proc);
  stop(dm?.proc);
  ns.remove();
  rmSync(dir, { recursive: true, force: true });
}
