// Does a saturated resolver starve the rest of the agent? One process serves DNS at 127.0.0.11 and
// a UDP echo at 127.0.0.13:7946 (standing in for memberlist's ping/ack) in a throwaway netns; a
// separate pinger measures echo round trips while dnsperf saturates the resolver. Two layouts:
// inline (resolver on the main thread) and worker (resolver in a worker_thread).
// node bench/dns-isolation.mjs [--duration 10]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { ROOT, makeNetns, startIn, stop } from './dns-common.mjs';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, role: { type: 'string' } }, strict: false });

async function serveDns() {
  const dgram = await import('node:dgram');
  const { DnsServer, RecordStore } = await import(join(ROOT, 'dist/dns/index.js'));
  const store = new RecordStore();
  for (let i = 0; i < 1000; i++) store.upsertEndpoint({ id: `h${i}`, network: 'n1', name: `host${i}`, ipv4: `10.77.${i >> 8}.${i & 255}` });
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(53, '127.0.0.11', r));
  new DnsServer({}).serveUdp(s, store.view(['n1']));
}

if (!isMainThread && workerData === 'dns') {
  await serveDns();
} else if (values.role === 'inline' || values.role === 'worker') {
  const dgram = await import('node:dgram');
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  if (values.role === 'inline') await serveDns();
  else {
    const w = new Worker(import.meta.filename, { workerData: 'dns' });
    await new Promise((r) => setTimeout(r, 500));
    w.unref();
  }
  const echo = dgram.createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  await new Promise((r) => echo.bind(7946, '127.0.0.13', r));
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  process.stdin.on('data', () => {
    process.stdout.write(JSON.stringify({ p99: h.percentile(99) / 1e6, max: h.max / 1e6 }) + '\n');
    h.reset();
  });
  process.stdout.write('ready\n');
} else if (values.role === 'pinger') {
  const dgram = await import('node:dgram');
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, r));
  const rtts = [];
  const sent = new Map();
  s.on('message', (m) => { const t = sent.get(m.readUInt32BE(0)); if (t !== undefined) { rtts.push(Number(process.hrtime.bigint() - t) / 1e6); sent.delete(m.readUInt32BE(0)); } });
  const end = Date.now() + Number(values.duration) * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const b = Buffer.alloc(64); b.writeUInt32BE(i, 0); sent.set(i, process.hrtime.bigint());
    s.send(b, 7946, '127.0.0.13');
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 600));
  rtts.sort((a, b) => a - b);
  const late = rtts.filter((x) => x > 500).length + sent.size;
  console.log(JSON.stringify({ n: rtts.length + sent.size, p50: rtts[Math.floor(rtts.length / 2)], p99: rtts[Math.floor(rtts.length * 0.99)], max: rtts[rtts.length - 1], over500msOrLost: late }));
  process.exit(0);
} else {
  const ns = makeNetns('iso');
  const queries = join(ROOT, 'bench', '.dns-iso-queries.txt');
  const { writeFileSync, rmSync } = await import('node:fs');
  writeFileSync(queries, Array.from({ length: 1000 }, (_, i) => `host${i} A`).join('\n') + '\n');
  const run = (cmd, args) => new Promise((res) => {
    const p = spawn('nsenter', [`--net=${ns.path}`, cmd, ...args]);
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.on('close', () => res(out));
  });
  try {
    for (const layout of ['inline', 'worker']) {
      const srv = await startIn(ns.path, process.execPath, [import.meta.filename, '--role', layout], (o) => o.includes('ready'));
      const lag = async () => { const before = srv.log().length; srv.proc.stdin.write('x\n'); while (!srv.log().slice(before).includes('\n')) await new Promise((r) => setTimeout(r, 10)); return JSON.parse(srv.log().slice(before).trim()); };
      await lag();
      const idle = JSON.parse(await run(process.execPath, [import.meta.filename, '--role', 'pinger', '--duration', '3']));
      const idleLag = await lag();
      const [busy, perf] = await Promise.all([
        run(process.execPath, [import.meta.filename, '--role', 'pinger', '--duration', values.duration]).then(JSON.parse),
        run('dnsperf', ['-s', '127.0.0.11', '-d', queries, '-c', '4', '-q', '100', '-l', values.duration]),
      ]);
      const busyLag = await lag();
      const qps = /Queries per second:\s+([\d.]+)/.exec(perf)?.[1];
      const f = (x) => x.toFixed(2);
      console.log(`${layout}: idle echo RTT p50 ${f(idle.p50)} p99 ${f(idle.p99)} max ${f(idle.max)} ms, main-thread lag p99 ${f(idleLag.p99)} max ${f(idleLag.max)} ms`);
      console.log(`${layout}: saturated (${Number(qps).toFixed(0)} qps) echo RTT p50 ${f(busy.p50)} p99 ${f(busy.p99)} max ${f(busy.max)} ms, >500 ms or lost ${busy.over500msOrLost}/${busy.n}, main-thread lag p99 ${f(busyLag.p99)} max ${f(busyLag.max)} ms`);
      stop(srv.proc);
      await new Promise((r) => srv.proc.on('close', r));
    }
  } finally {
    ns.remove();
    rmSync(queries, { force: true });
  }
}
