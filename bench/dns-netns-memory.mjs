// Agent memory and setup latency per served namespace: one process (in a throwaway "host" netns,
// like the agent) serves 127.0.0.11:53 UDP+TCP in N workload namespaces through the native addon.
// node bench/dns-netns-memory.mjs [--namespaces 1000]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, sh } from './dns-common.mjs';

const { values } = parseArgs({ options: { namespaces: { type: 'string', default: '1000' }, child: { type: 'string' } } });

if (values.child) {
  // The measuring process: runs inside the host netns, with --expose-gc.
  const { DnsServer, RecordStore, serveInNetns } = await import(join(ROOT, 'dist/dns/index.js'));
  const paths = JSON.parse(values.child);
  const store = new RecordStore();
  for (let i = 0; i < 1000; i++) store.upsertEndpoint({ id: `h${i}`, network: 'n1', name: `host${i}`, ipv4: `10.77.${i >> 8}.${i & 255}` });
  const server = new DnsServer({});
  const rss = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().rss; };
  const r0 = rss();
  const times = [];
  const served = [];
  for (const p of paths) {
    const t = process.hrtime.bigint();
    served.push(await serveInNetns(server, p, store.view(['n1'])));
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const r1 = rss();
  process.stdout.write(JSON.stringify({ r0, r1, times }) + '\n');
  await new Promise((resolve) => process.stdin.once('data', resolve)); // parent queries meanwhile
  await Promise.all(served.map((s) => s.close()));
  process.exit(0);
}

const n = Number(values.namespaces);
const prefix = `vxm${randomBytes(2).toString('hex')}`;
const names = Array.from({ length: n }, (_, i) => `${prefix}w${i}`);
const host = `${prefix}host`;
try {
  const t0 = Date.now();
  sh('ip', ['-batch', '-'], [host, ...names].map((x) => `netns add ${x}`).join('\n') + '\n');
  for (const x of names) sh('ip', ['-n', x, 'link', 'set', 'lo', 'up']);
  const nsMs = Date.now() - t0;
  const child = spawn('nsenter', [`--net=/run/netns/${host}`, process.execPath, '--expose-gc', import.meta.filename,
    '--child', JSON.stringify(names.map((x) => `/run/netns/${x}`))], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  while (!out.includes('\n')) {
    if (child.exitCode !== null) throw new Error('child failed');
    await new Promise((r) => setTimeout(r, 50));
  }
  const { r0, r1, times } = JSON.parse(out);
  const probe = names[Math.floor(n / 2)];
  const dig = spawnSync('nsenter', [`--net=/run/netns/${probe}`, 'dig', '@127.0.0.11', '+short', '+tries=1', 'host5'], { encoding: 'utf8' }).stdout.trim();
  child.stdin.write('done\n');
  await new Promise((r) => child.on('close', r));
  times.sort((a, b) => a - b);
  const mib = (b) => (b / 2 ** 20).toFixed(1);
  console.log(`date ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${n} namespaces made in ${nsMs} ms (not counted)`);
  console.log(`RSS ${mib(r0)} MiB with the resolver and 1000 names -> ${mib(r1)} MiB serving ${n} namespaces: +${mib(r1 - r0)} MiB, ${((r1 - r0) / n / 1024).toFixed(1)} KiB per namespace`);
  console.log(`setup per namespace (UDP+TCP sockets via the addon, serve): p50 ${times[Math.floor(n / 2)].toFixed(2)} ms, p99 ${times[Math.floor(n * 0.99)].toFixed(2)} ms, max ${times[n - 1].toFixed(2)} ms`);
  console.log(`dig host5 in ${probe}: ${dig}`);
} finally {
  spawnSync('ip', ['-batch', '-'], { input: [host, ...names].map((x) => `netns del ${x}`).join('\n') + '\n' });
}
