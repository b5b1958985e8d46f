// Store txn latency and throughput: the embedded file store vs a real etcd (Debian etcd-server),
// same operations, same run. Needs `npx tsc -p tsconfig.json` first (uses dist/store).
//   node bench/store-txn.mjs [sequentialTxns=500] [concurrentTxns=2000] [writers=16]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const { FileStore, EtcdStore, StoreConflict } = await import(pathToFileURL(join(ROOT, 'dist/store/index.js')).href);
const SEQ = Number(process.argv[2] ?? 500);
const CONC = Number(process.argv[3] ?? 2000);
const WRITERS = Number(process.argv[4] ?? 16);

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });

async function startEtcd(dataDir) {
  const [c, p] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${c}`;
  const peer = `http://127.0.0.1:${p}`;
  const child = spawn('/usr/bin/etcd', ['--name', 'bench', '--data-dir', dataDir, '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `bench=${peer}`, '--log-level', 'error'], { stdio: 'ignore' });
  const deadline = Date.now() + 15000;
  for (;;) {
    const ok = await fetch(`${client}/health`).then((r) => r.ok, () => false);
    if (ok) return { child, endpoint: client };
    if (Date.now() > deadline) throw new Error('etcd did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** One allocation step as IPAM does it: read a key, CAS-write it back. */
async function casStep(store, key) {
  for (;;) {
    const cur = await store.get(key);
    try {
      return await store.txn([{ op: 'put', key, value: { n: (cur?.value.n ?? 0) + 1, pad: 'x'.repeat(100) }, expectRevision: cur?.revision ?? 0 }]);
    } catch (e) {
      if (!(e instanceof StoreConflict)) throw e;
    }
  }
}

async function measure(name, store) {
  const lat = [];
  for (let i = 0; i < SEQ; i++) {
    const t0 = process.hrtime.bigint();
    await casStep(store, `seq/${i % 50}`);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  lat.sort((a, b) => a - b);
  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      while (next < CONC) {
        next++;
        await casStep(store, `conc/${w}`);
      }
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  return { name, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1], tps: CONC / secs };
}

const rows = [];
const dir = await mkdtemp(join(tmpdir(), 'vxmesh-bench-store-'));
let etcd;
try {
  const fs = await FileStore.open(join(dir, 'file'));
  rows.push(await measure('file store', fs));
  await fs.close();
  if (existsSync('/usr/bin/etcd')) {
    etcd = await startEtcd(join(dir, 'etcd'));
    const es = await EtcdStore.connect({ endpoints: [etcd.endpoint] });
    rows.push(await measure('etcd (1 member, loopback)', es));
    await es.close();
  }
} finally {
  if (etcd) etcd.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}
console.log(`store txn bench: ${SEQ} sequential get+CAS txns (p50/p99/max ms), ${CONC} txns from ${WRITERS} concurrent writers (txn/s)`);
console.log('store                      p50     p99     max     txn/s');
for (const r of rows) console.log(`${r.name.padEnd(26)} ${r.p50.toFixed(2).padStart(6)}  ${r.p99.toFixed(2).padStart(6)}  ${r.max.toFixed(2).padStart(6)}  ${r.tps.toFixed(0).padStart(7)}`);
