// 10^6 fuzzed queries (random + mutated, 10% over TCP) against vxmesh's resolver in a throwaway
// netns, with dnsmasq as its upstream: no crash, RFC answers or silence, a normal query still answered.
// node bench/dns-fuzz.mjs [--count 1000000] [--seed N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, makeNetns, startDnsmasq, startVxmesh, stop } from './dns-common.mjs';

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000000' }, seed: { type: 'string', default: String(Date.now() % 100000) } } });
const dir = mkdtempSync(join(tmpdir(), 'vxmesh-dnsfuzz-'));
writeFileSync(join(dir, 'hosts'), '203.0.113.99 www.example.test\n');
const ns = makeNetns('fz');
let vx; let dm;
try {
  dm = await startDnsmasq(ns.path, '127.0.0.12', join(dir, 'hosts'));
  vx = await startVxmesh(ns.path, '127.0.0.11', {
    upstreams: ['127.0.0.12'], attemptTimeoutMs: 500,
    services: [{ id: 's', name: 'api', mode: 'vip', vips: [{ network: 'n1', ipv4: '10.1.0.2' }], tasks: [{ network: 'n1', ipv4: '10.1.0.10' }], ports: [{ protocol: 'tcp', targetPort: 80 }] }],
  });
  const stats = async () => {
    const before = vx.log().length;
    vx.proc.stdin.write('stats\n');
    while (!vx.log().slice(before).includes('\n')) await new Promise((r) => setTimeout(r, 10));
    return JSON.parse(vx.log().slice(before).split('\n')[0]);
  };
  const s0 = await stats();
  const t0 = Date.now();
  const fuzzer = spawn('nsenter', [`--net=${ns.path}`, process.execPath, join(ROOT, 'test/netns/dns-fuzz-client.mjs'),
    JSON.stringify({ server: '127.0.0.11', port: 53, count: Number(values.count), seed: Number(values.seed) })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  fuzzer.stdout.on('data', (b) => (out += b));
  await new Promise((r) => fuzzer.on('close', r));
  const s1 = await stats();
  const dig = spawnSync('nsenter', [`--net=${ns.path}`, 'dig', '@127.0.0.11', '+short', '+tries=1', 'api'], { encoding: 'utf8' }).stdout.trim();
  const r = JSON.parse(out);
  console.log(`date ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, seed ${values.seed}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`sent ${r.sent} UDP + ${r.tcpSent} TCP; must-answer ${r.expected} UDP: answered ${r.answered}, missing ${r.missing} (kernel rcvbuf drops ${r.rcvbufErrors}); TCP answered ${r.tcpAnswered}, missing ${r.tcpMissing}`);
  console.log(`answered what must stay silent: ${r.unexpected}; malformed answers: ${r.malformed}; server alive: ${vx.proc.exitCode === null}; server errors: ${s1.server.errors}; dig api after: ${dig}`);
  console.log(`server RSS ${(s0.rss / 2 ** 20).toFixed(0)} -> ${(s1.rss / 2 ** 20).toFixed(0)} MiB; forwarded ${s1.forwarder.forwarded}`);
} finally {
  stop(vx?.proc);
  stop(dm?.proc);
  ns.remove();
  rmSync(dir, { recursive: true, force: true });
}
