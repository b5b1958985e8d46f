// Would a second resolver thread get vxmesh past ~0.8x dnsmasq? Node 20 cannot set SO_REUSEPORT and
// the native addon does not, so here a tiny python3 launcher makes N SO_REUSEPORT UDP sockets on
// 127.0.0.11:53 in a throwaway netns and execs Node with them as fds 10..; the main thread serves
// fd 10 and N-1 worker_threads serve the others, each with its own copy of the 1000 records.
// dnsperf (interleaved rounds) against 1 thread, N threads and dnsmasq.
// node bench/dns-threads.mjs [--threads 2] [--seconds 8] [--rounds 2] [--clients 8]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { ROOT, cpuSeconds, makeNetns, startDnsmasq, startIn, stop } from './dns-common.mjs';

const { values } = parseArgs({ options: {
  threads: { type: 'string', default: '2' }, seconds: { type: 'string', default: '8' }, rounds: { type: 'string', default: '2' },
  clients: { type: 'string', default: '8' }, role: { type: 'string' }, fds: { type: 'string' },
}, strict: false });

async function serveFd(fd) {
  const { DnsServer, RecordStore, createDnsUdpSocket } = await import(join(ROOT, 'dist/dns/index.js'));
  const store = new RecordStore();
  for (let i = 0; i < 1000; i++) store.upsertEndpoint({ id: `h${i}`, network: 'n1', name: `host${i}`, ipv4: `10.77.${i >> 8}.${i & 255}` });
  const s = createDnsUdpSocket('udp4');
  await new Promise((r) => s.bind({ fd }, r));
  new DnsServer({}).serveUdp(s, store.view(['n1']));
}

const LAUNCH = `import os, socket, sys
n = int(sys.argv[1])
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.11", 53))
    os.dup2(s.fileno(), 10 + i)
    os.set_inheritable(10 + i, True)
os.execvp(sys.argv[2], sys.argv[2:])`;

if (!isMainThread) {
  await serveFd(workerData);
} else if (values.role === 'serve') {
  const fds = values.fds.split(',').map(Number);
  await serveFd(fds[0]);
  for (const fd of fds.slice(1)) new Worker(import.meta.filename, { workerData: fd });
  await new Promise((r) => setTimeout(r, 1000)); // workers load and bind
  console.log('ready');
  process.stdin.resume();
} else {
  const dir = mkdtempSync(join(tmpdir(), 'vxmesh-dnsthreads-'));
  const hosts = join(dir, 'hosts');
  const queries = join(dir, 'queries');
  writeFileSync(hosts, Array.from({ length: 1000 }, (_, i) => `10.77.${i >> 8}.${i & 255} host${i}`).join('\n') + '\n');
  writeFileSync(queries, Array.from({ length: 1000 }, (_, i) => `host${i} A`).join('\n') + '\n');
  const layouts = ['1', values.threads];
  const results = new Map();
  const procs = [];
  try {
    for (const rnd of Array.from({ length: Number(values.rounds) }, (_, i) => i)) {
      for (const threads of [...layouts, 'dnsmasq']) {
        // One netns per measurement: the reuseport group on 127.0.0.11:53 belongs to one server.
        const ns = makeNetns('th');
        try {
          const fds = Array.from({ length: Number(threads) || 0 }, (_, i) => 10 + i).join(',');
          const srv = threads === 'dnsmasq'
            ? await startDnsmasq(ns.path, '127.0.0.11', hosts)
            : await startIn(ns.path, 'python3', ['-c', LAUNCH, threads, process.execPath, import.meta.filename, '--role', 'serve', '--fds', fds], (o) => o.includes('ready'));
          procs.push(srv.proc);
          const c0 = cpuSeconds(srv.proc.pid);
          const out = spawnSync('nsenter', [`--net=${ns.path}`, 'dnsperf', '-s', '127.0.0.11', '-d', queries, '-c', values.clients, '-q', '100', '-l', values.seconds], { encoding: 'utf8' }).stdout;
          const cpu = cpuSeconds(srv.proc.pid) - c0;
          stop(srv.proc);
          const label = threads === 'dnsmasq' ? 'dnsmasq' : `vxmesh ${threads} thread${threads === '1' ? '' : 's'}`;
          const a = results.get(label) ?? { qps: 0, sent: 0, lost: 0, cpu: 0 };
          a.qps += Number(/Queries per second:\s+([\d.]+)/.exec(out)[1]) / Number(values.rounds);
          a.sent += Number(/Queries sent:\s+(\d+)/.exec(out)[1]);
          a.lost += Number(/Queries lost:\s+(\d+)/.exec(out)[1]);
          a.cpu += cpu;
          results.set(label, a);
        } finally {
          ns.remove();
        }
        void rnd;
      }
    }
    console.log(`date ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; dnsperf -c ${values.clients} -q 100, ${values.rounds} interleaved rounds x ${values.seconds} s`);
    const dm = results.get('dnsmasq').qps;
    for (const [label, a] of results) {
      console.log(`  ${label.padEnd(18)} ${a.qps.toFixed(0)} qps (${(a.qps / dm).toFixed(2)}x dnsmasq), lost ${a.lost}/${a.sent}, ${(a.cpu / a.sent * 1e6).toFixed(2)} us CPU/query`);
    }
  } finally {
    for (const p of procs) stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
}
