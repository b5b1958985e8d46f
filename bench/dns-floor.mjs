// Server CPU per query under dnsperf saturation: vxmesh's resolver, dnsmasq, and the floor of any
// single-threaded Node 20 UDP responder (a bare echo that flips QR: one 'message' event + one send).
// CPU per query is steadier than qps on a shared machine. node bench/dns-floor.mjs [--seconds 8] [--rounds 2]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds, makeNetns, startDnsmasq, startIn, startVxmesh, stop } from './dns-common.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, rounds: { type: 'string', default: '2' } } });
const ECHO = `const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => { m[2] |= 0x80; s.send(m, r.port, r.address); });
s.bind(53, '127.0.0.13', () => console.log('ready')); process.stdin.resume();`;
const dir = mkdtempSync(join(tmpdir(), 'vxmesh-dnsfloor-'));
const hosts = join(dir, 'hosts');
const queries = join(dir, 'queries');
writeFileSync(hosts, Array.from({ length: 1000 }, (_, i) => `10.77.${i >> 8}.${i & 255} host${i}`).join('\n') + '\n');
writeFileSync(queries, Array.from({ length: 1000 }, (_, i) => `host${i} A`).join('\n') + '\n');
const ns = makeNetns('fl');
const procs = [];
try {
  const servers = [
    ['node echo (floor)', '127.0.0.13', await startIn(ns.path, process.execPath, ['-e', ECHO], (o) => o.includes('ready'))],
    ['vxmesh', '127.0.0.11', await startVxmesh(ns.path, '127.0.0.11', { hostsCount: 1000 })],
    ['dnsmasq', '127.0.0.12', await startDnsmasq(ns.path, '127.0.0.12', hosts)],
  ];
  procs.push(...servers.map((s) => s[2].proc));
  const acc = new Map(servers.map(([label]) => [label, { cpu: 0, sent: 0, qps: 0 }]));
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const [label, addr, p] of servers) {
      const c0 = cpuSeconds(p.proc.pid);
      const out = spawnSync('nsenter', [`--net=${ns.path}`, 'dnsperf', '-s', addr, '-d', queries, '-c', '4', '-q', '100', '-l', values.seconds], { encoding: 'utf8' }).stdout;
      const a = acc.get(label);
      a.cpu += cpuSeconds(p.proc.pid) - c0;
      a.sent += Number(/Queries sent:\s+(\d+)/.exec(out)[1]);
      a.qps += Number(/Queries per second:\s+([\d.]+)/.exec(out)[1]) / Number(values.rounds);
    }
  }
  console.log(`date ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; dnsperf -c 4 -q 100, ${values.rounds} x ${values.seconds} s each, interleaved`);
  for (const [label, a] of acc) console.log(`  ${label.padEnd(18)} ${(a.cpu / a.sent * 1e6).toFixed(2)} us CPU/query, ${a.qps.toFixed(0)} qps`);
} finally {
  for (const p of procs) stop(p);
  ns.remove();
  rmSync(dir, { recursive: true, force: true });
}
