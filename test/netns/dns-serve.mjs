// A stand-in for the agent's dns controller in tests and benches: serves vxmesh's resolver on
// ADDRESS:PORT (UDP+TCP), either in the namespace this process runs in (started with
// nsenter --net=...) or, with `netns`, inside that workload namespace through the native addon.
// argv[2]: JSON {address, port, networks: [..], netns?: path, upstreams?: ["ip[:port]"], attemptTimeoutMs?,
//                endpoints?: EndpointRecord[], services?: ServiceRecord[], hostsCount?: number}
// stdin: JSON lines {op: "upsertEndpoint"|"removeEndpoint"|"upsertService"|"removeService", arg}
//        each acknowledged with "ok N" / "err MESSAGE" on stdout; "stats" prints a JSON line.
import net from 'node:net';
import readline from 'node:readline';
import { DnsServer, Forwarder, RecordStore, createDnsUdpSocket, parseUpstream, serveInNetns } from '../../dist/dns/index.js';

const cfg = JSON.parse(process.argv[2]);
const store = new RecordStore();
for (const e of cfg.endpoints ?? []) store.upsertEndpoint(e);
for (const s of cfg.services ?? []) store.upsertService(s);
// hostsCount: host0..hostN-1 -> 10.77.x.y on the first network, like a 1000-name hosts file.
for (let i = 0; i < (cfg.hostsCount ?? 0); i++) {
  store.upsertEndpoint({ id: `h${i}`, network: cfg.networks[0], name: `host${i}`, ipv4: `10.77.${i >> 8}.${i & 255}` });
}
const upstreams = (cfg.upstreams ?? []).map((u, i) => parseUpstream(u, `upstreams[${i}]`));
const forwarder = upstreams.length ? new Forwarder({ upstreams, attemptTimeoutMs: cfg.attemptTimeoutMs ?? 1000 }) : undefined;
const server = new DnsServer({ forwarder });
const view = store.view(cfg.networks);

if (cfg.netns) {
  await serveInNetns(server, cfg.netns, view, { address: cfg.address, port: cfg.port });
} else {
  const udp = createDnsUdpSocket('udp4');
  await new Promise((resolve, reject) => { udp.once('error', reject); udp.bind(cfg.port, cfg.address, resolve); });
  const tcp = net.createServer();
  await new Promise((resolve, reject) => { tcp.once('error', reject); tcp.listen(cfg.port, cfg.address, resolve); });
  server.serveUdp(udp, view);
  server.serveTcp(tcp, view);
}
process.stdout.write(`ready ${process.pid}\n`);

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === 'stats') {
    globalThis.gc?.(); // when started with --expose-gc: report live memory, not garbage
    const mem = process.memoryUsage();
    process.stdout.write(JSON.stringify({ server: server.stats, forwarder: forwarder?.stats, rss: mem.rss, heapUsed: mem.heapUsed, arrayBuffers: mem.arrayBuffers, store: store.stats() }) + '\n');
    return;
  }
  try {
    const { op, arg } = JSON.parse(line);
    const result = store[op](arg);
    process.stdout.write(`ok ${JSON.stringify(result ?? null)}\n`);
  } catch (e) {
    process.stdout.write(`err ${e.message}\n`);
  }
});
rl.on('close', () => process.exit(0));
