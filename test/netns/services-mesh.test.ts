// Services end to end (issue 10): 3 netns hosts with etcd and gossip, a client namespace on the
// underlay that is not a member, a 3-task service (tasks on hosts 1, 2, 3) with published ports.
// Real TCP/UDP through the VIP plane (LB in each workload namespace), the ingress routing mesh
// (host DNAT -> ingress sandbox -> LB over the ingress overlay) and host-mode publishing; scale
// down, rolling replacement, a killed host, and HAProxy in front of the mesh.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT, inNs, mustSh, type AgentProcess } from '../helpers/netns.js';
import { EtcdServer } from '../support/etcd-server.js';
import { waitFor } from '../support/wait.js';

interface Ep { id: string; ipv4: string }
interface Svc { id: string; name: string; vips: { network: string; ipv4?: string }[]; ports: { publishedPort: number; targetPort: number; protocol: string; mode: string }[] }
interface Burst { replies: Record<string, number>; failures: unknown[]; total: number }
interface Loop { replies: Record<string, number>; failures: { t: number; error: string }[]; total: number; t0: number }

const h = new Harness();
/** The load balancer under test: nftables here; VXMESH_TEST_LB=ipvs under ../shared/tools/run-in-vm.sh (a kernel with ip_vs). */
const LB = process.env.VXMESH_TEST_LB === 'ipvs' ? 'ipvs' : 'nftables';
const SERVER = join(ROOT, 'test/netns/mesh-server.mjs');
const CLIENT = join(ROOT, 'test/netns/mesh-client.mjs');
const procs: ChildProcess[] = [];
let etcd: EtcdServer | undefined;
const agents: AgentProcess[] = [];
const hosts: string[] = [];
let client = ''; // the non-member namespace on the underlay
let c1 = ''; // a workload on host 1 (not a task)
let web: Svc;
/** task name -> { endpoint, namespace path, host index } */
const tasks = new Map<string, { ep: Ep; netns: string; k: number }>();

const ip4 = (cidr: string) => cidr.split('/')[0]!;
const vipOf = (s: Svc, network = 'web') => ip4(s.vips.find((v) => v.network === network)!.ipv4!);
const hostNs = (k: number) => `/run/netns/${hosts[k - 1]}`;

function run(nsPath: string, script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('nsenter', [`--net=${nsPath}`, process.execPath, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} ${args.join(' ')} in ${nsPath}: exit ${code}: ${err}`))));
  });
}

const burst = async (nsPath: string, proto: 'tcp' | 'udp' | 'http', host: string, port: number, count: number): Promise<Burst> =>
  JSON.parse(await run(nsPath, CLIENT, ['burst', proto, host, String(port), String(count)])) as Burst;
const loop = async (nsPath: string, host: string, port: number, ms: number, proto: 'tcp' | 'http' = 'tcp'): Promise<Loop> =>
  JSON.parse(await run(nsPath, CLIENT, ['loop', proto, host, String(port), String(ms)])) as Loop;

/** HAProxy in the client namespace: round robin over every host's published HTTP port, health-checked every 300 ms (down after 3 failed checks). */
async function haproxy(port: number): Promise<void> {
  const cfg = join(h.tmp, 'haproxy.cfg');
  writeFileSync(cfg, [
    'global', '  maxconn 512',
    'defaults', '  mode http', '  timeout connect 500ms', '  timeout check 1s', '  timeout client 5s', '  timeout server 2s', '  retries 3', '  option redispatch 1',
    'frontend fe', `  bind 127.0.0.1:${port}`, '  default_backend mesh',
    'backend mesh', '  balance roundrobin', '  option httpchk GET /', '  default-server inter 300ms fall 3 rise 2',
    ...[1, 2, 3].map((k) => `  server h${k} 198.51.100.${k}:8082 check`),
  ].join('\n') + '\n');
  const p = spawn('nsenter', [`--net=${client}`, 'haproxy', '-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  await waitFor(() => burst(client, 'http', '127.0.0.1', port, 30), { what: 'HAProxy answering', until: (b) => b.failures.length === 0, timeoutMs: 15_000, intervalMs: 200 });
}

/** A task server in its namespace (TCP 80, UDP 7000, HTTP 8000), up when this resolves. */
async function serve(name: string, netns: string): Promise<void> {
  const p = spawn('nsenter', [`--net=${netns}`, process.execPath, SERVER, name, '80', '7000', '8000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  await new Promise<void>((resolve, reject) => {
    p.stdout.once('data', () => resolve());
    p.once('exit', (c) => reject(new Error(`server ${name} exited ${c}`)));
  });
}

async function task(name: string, k: number, service = 'web', network = 'web'): Promise<Ep> {
  const netns = h.workload(name);
  // Listening before it joins the service, as a started task does (0.0.0.0 binds before any interface exists).
  await serve(name, netns);
  const ep = await agents[k - 1]!.json<Ep>('endpoint', 'attach', '--netns', netns, '--network', network, '--service', service);
  tasks.set(name, { ep, netns, k });
  return ep;
}

/** Waits until bursts from `from` to host:port reach exactly `names` (the LBs converged), then returns a full burst. */
async function converged(from: string, proto: 'tcp' | 'udp', host: string, port: number, names: string[], count = 300): Promise<Burst> {
  const want = JSON.stringify([...names].sort());
  await waitFor(() => burst(from, proto, host, port, 30), {
    what: `${proto} ${host}:${port} from ${from} reaching exactly ${want}`,
    until: (b) => JSON.stringify(Object.keys(b.replies).sort()) === want && b.failures.length === 0,
    timeoutMs: 15_000,
    intervalMs: 200,
  });
  return burst(from, proto, host, port, count);
}

beforeAll(async () => {
  for (const k of [1, 2, 3]) hosts.push(h.host(k));
  client = `/run/netns/${h.host(50)}`;
  const keyFile = join(h.tmp, 'gossip.key');
  writeFileSync(keyFile, randomBytes(16).toString('base64') + '\n', { mode: 0o600 });
  etcd = await EtcdServer.start({ netns: hosts[0], host: '198.51.100.1' });
  for (const k of [1, 2, 3]) {
    agents.push(h.agent(hosts[k - 1]!, ['--advertise-addr', `198.51.100.${k}`, '--store', etcd!.storeUrl, '--gossip-key-file', keyFile,
      '--join', k === 1 ? '198.51.100.2' : '198.51.100.1', '--lb', LB]));
  }
  await Promise.all(agents.map((a) => a.start()));
  for (const a of agents) {
    await waitFor(() => a.json<{ gossip?: { alive: number } }>('status'), { what: `3 members seen by ${a.host}`, until: (s) => s.gossip?.alive === 3, timeoutMs: 20_000, intervalMs: 200 });
  }
  await agents[0]!.json('network', 'create', '--subnet', '10.80.0.0/24', 'web');
  web = await agents[0]!.json<Svc>('service', 'create', 'web', '--network', 'web', '--publish', '8080:80', '--publish', '8081:7000/udp', '--publish', '8082:8000');
  for (const k of [1, 2, 3]) await task(`t${k}`, k);
  c1 = h.workload('c1');
  await agents[0]!.json('endpoint', 'attach', '--netns', c1, '--network', 'web');
}, 150_000);

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await etcd?.stop();
  await h.cleanup();
});

describe('the VIP plane', () => {
  it('spreads 300 TCP connections from a workload on host 1 over the tasks on hosts 1, 2 and 3, none failing; UDP too', async () => {
    const status = await agents[0]!.json<{ loadBalancer?: string }>('status');
    expect(status.loadBalancer).toBe(LB);
    const vip = vipOf(web);
    const b = await converged(c1, 'tcp', vip, 80, ['t1', 't2', 't3']);
    console.log(`VIP ${vip}: ${JSON.stringify(b.replies)}`);
    expect(b.failures).toEqual([]);
    expect(Object.values(b.replies).reduce((a, n) => a + n, 0)).toBe(300);
    for (const n of ['t1', 't2', 't3']) expect(b.replies[n]).toBeGreaterThan(30);
    const u = await converged(c1, 'udp', vip, 7000, ['t1', 't2', 't3'], 90);
    expect(u.failures).toEqual([]);
  }, 60_000);

  it('dnsrr: the service gets no VIP and its tasks answer on their own addresses', async () => {
    const rr = await agents[0]!.json<Svc>('service', 'create', 'rr', '--network', 'web', '--endpoint-mode', 'dnsrr');
    expect(rr.vips.filter((v) => v.ipv4)).toEqual([]);
    const r1 = await task('r1', 2, 'rr');
    const b = await burst(c1, 'tcp', ip4(r1.ipv4), 80, 20);
    expect(b.replies).toEqual({ r1: 20 });
  }, 60_000);
});

describe('the ingress routing mesh', () => {
  it("publishes the port on every host, including one without a task: from the client namespace and from each host itself, every task answers", async () => {
    // A 4th host with no task of the service.
    for (const k of [1, 2, 3]) {
      const b = await converged(client, 'tcp', `198.51.100.${k}`, 8080, ['t1', 't2', 't3'], 90);
      expect(b.failures, `client -> host ${k}`).toEqual([]);
      const self = await converged(hostNs(k), 'tcp', `198.51.100.${k}`, 8080, ['t1', 't2', 't3'], 60);
      expect(self.failures, `host ${k} -> itself`).toEqual([]);
    }
    const u = await converged(client, 'udp', '198.51.100.2', 8081, ['t1', 't2', 't3'], 60);
    expect(u.failures).toEqual([]);
  }, 120_000);

  it('reaches every task through a host that runs none of them', async () => {
    // Move host 3's task away: host 3 keeps publishing and balancing over hosts 1 and 2.
    const t3 = tasks.get('t3')!;
    expect((await agents[2]!.cli('endpoint', 'detach', t3.ep.id)).code).toBe(0);
    tasks.delete('t3');
    const b = await converged(client, 'tcp', '198.51.100.3', 8080, ['t1', 't2'], 90);
    expect(b.failures).toEqual([]);
    await task('t3b', 3);
    await converged(client, 'tcp', '198.51.100.3', 8080, ['t1', 't2', 't3b'], 30);
  }, 90_000);

  it('mode=host publishes only where a task runs, straight to the local task', async () => {
    await agents[1]!.json<Svc>('service', 'create', 'hm', '--network', 'web', '--publish', 'mode=host,9090:80');
    await task('hm2', 2, 'hm');
    const b = await converged(client, 'tcp', '198.51.100.2', 9090, ['hm2'], 30);
    expect(b.replies).toEqual({ hm2: 30 });
    const elsewhere = await burst(client, 'tcp', '198.51.100.1', 9090, 5);
    expect(elsewhere.replies).toEqual({});
    expect(elsewhere.failures.length).toBe(5);
  }, 60_000);
});

describe('changes under load', () => {
  it('scale 3 -> 2: the removed task gets no new connection, a long-lived connection to a remaining task survives', async () => {
    const vip = vipOf(web);
    const names = [...tasks.keys()].filter((n) => n.startsWith('t'));
    await converged(c1, 'tcp', vip, 80, names, 30);
    const hold = spawn('nsenter', [`--net=${c1}`, process.execPath, CLIENT, 'hold', vip, '80'], { stdio: ['pipe', 'pipe', 'pipe'] });
    procs.push(hold);
    const lines: string[] = [];
    createInterface({ input: hold.stdout }).on('line', (l) => lines.push(l));
    await waitFor(() => lines.length, { what: 'the long-lived connection', until: (n) => n >= 1, timeoutMs: 5_000 });
    const held = lines[0]!;
    // Remove a task on another host than the held one's (and not host 1, where the client is).
    const victim = names.find((n) => n !== held && tasks.get(n)!.k !== 1)!;
    const v = tasks.get(victim)!;
    expect((await agents[v.k - 1]!.cli('endpoint', 'detach', v.ep.id)).code).toBe(0);
    tasks.delete(victim);
    const rest = names.filter((n) => n !== victim);
    const b = await converged(c1, 'tcp', vip, 80, rest, 150);
    expect(b.replies[victim]).toBeUndefined();
    expect(b.failures).toEqual([]);
    hold.stdin.write('still-there\n');
    await waitFor(() => lines, { what: 'the held connection answering', until: (l) => l.includes(`${held}:still-there`), timeoutMs: 5_000 });
    hold.kill();
    await task(`${victim}r`, v.k);
  }, 90_000);

  it('rolling replacement of every task while a client loops: no connection refused', async () => {
    const vip = vipOf(web);
    const before = [...tasks.keys()].filter((n) => n.startsWith('t'));
    await converged(c1, 'tcp', vip, 80, before, 30);
    const looping = loop(c1, vip, 80, 15_000);
    for (const name of before) {
      const old = tasks.get(name)!;
      await task(`${name}n`, old.k);
      expect((await agents[old.k - 1]!.cli('endpoint', 'detach', old.ep.id)).code).toBe(0);
      tasks.delete(name);
    }
    const r = await looping;
    console.log(`rolling replacement: ${r.total} connections, failures ${JSON.stringify(r.failures)}`);
    expect(r.failures.filter((f) => f.error === 'ECONNREFUSED')).toEqual([]);
    // An attempt that reached a task just removed on another host is retried by TCP to a live one (its conntrack entry is dropped with the backend).
    expect(r.failures).toEqual([]);
  }, 90_000);
});

describe('restart and removal', () => {
  const hostTable = (k: number) => inNs(hostNs(k), 'nft', ['-j', 'list', 'table', 'inet', 'vxmesh_ingress']);
  const rules = (k: number) => (JSON.parse(hostTable(k).stdout || '{"nftables":[]}') as { nftables: { rule?: { chain: string; comment?: string } }[] }).nftables.flatMap((o) => (o.rule ? [`${o.rule.chain} ${o.rule.comment ?? ''}`] : [])).sort();

  it('a crashed and restarted agent reconciles the mesh from the store: the same rules once each, the port still answers', async () => {
    const before = rules(1);
    expect(before.filter((r) => r.startsWith('prerouting'))).toEqual(['prerouting vxmesh: ingress tcp/8080', 'prerouting vxmesh: ingress tcp/8082', 'prerouting vxmesh: ingress udp/8081']);
    await agents[0]!.kill9();
    await agents[0]!.start();
    const live = [...tasks.keys()].filter((n) => n.startsWith('t'));
    await converged(client, 'tcp', '198.51.100.1', 8080, live, 60);
    expect(rules(1)).toEqual(before);
    await converged(c1, 'tcp', vipOf(web), 80, live, 60);
  }, 60_000);

  it('service rm takes its published port off every host and the ingress leg off its task', async () => {
    const legs = async () => (await agents[0]!.json<{ network: string; netns: string }[]>('endpoint', 'ls')).filter((e) => e.network === 'ingress').map((e) => e.netns);
    const tmp = await agents[1]!.json<Svc>('service', 'create', 'tmp', '--network', 'web', '--publish', '8090:80');
    await task('x1', 1, 'tmp');
    await converged(client, 'tcp', '198.51.100.2', 8090, ['x1'], 10);
    expect(await legs()).toContain(tasks.get('x1')!.netns);
    const rm = await agents[1]!.cli('service', 'rm', tmp.id);
    expect(rm.code, rm.stderr).toBe(0);
    await waitFor(legs, { what: "x1's ingress leg gone", until: (l) => !l.includes(tasks.get('x1')!.netns), timeoutMs: 10_000 });
    for (const k of [1, 2, 3]) await waitFor(() => rules(k), { what: `8090 gone from host ${k}`, until: (r) => !r.some((x) => x.includes('8090')), timeoutMs: 10_000 });
    expect((await burst(client, 'tcp', '198.51.100.2', 8090, 3)).replies).toEqual({});
  }, 60_000);
});

describe('a killed host', () => {
  it('leaves every LB within the failure bound (VIP and mesh); HAProxy in front of the mesh drops it and requests keep succeeding', async () => {
    const vip = vipOf(web);
    const live = [...tasks.keys()].filter((n) => n.startsWith('t'));
    await converged(c1, 'tcp', vip, 80, live, 30);
    await haproxy(18080);
    const BOUND_MS = 5_000;
    const viaVip = loop(c1, vip, 80, 14_000);
    const viaHaproxy = loop(client, '127.0.0.1', 18080, 14_000, 'http');
    await new Promise((r) => setTimeout(r, 2_000));
    const deadIps = [...tasks.values()].filter((t) => t.k === 3).map((t) => ip4(t.ep.ipv4));
    const lbText = () => inNs(c1, 'nft', ['list', 'table', 'inet', 'vxmesh_lb']).stdout;
    expect(deadIps.length).toBeGreaterThan(0);
    for (const ip of deadIps) expect(lbText()).toContain(ip);
    const killedAt = Date.now();
    await agents[2]!.kill9();
    // The host is gone, not just its agent: its namespaces (sandboxes, task namespaces, the host itself) go too.
    const onHost3 = [...tasks.values()].filter((t) => t.k === 3).map((t) => t.netns.split('/').at(-1)!);
    const mine = h.namespaces().filter((n) => n.startsWith(agents[2]!.netnsPrefix) || onHost3.includes(n) || n === hosts[2]);
    mustSh('ip', ['-batch', '-'], mine.map((n) => `netns del ${n}`).join('\n') + '\n');
    // When the dead host's tasks left the workload's LB on host 1 (its VIP map, polled every 25 ms).
    await waitFor(lbText, { what: "the dead host's tasks out of host 1's VIP LB", until: (t) => deadIps.every((ip) => !new RegExp(`\\b${ip.replace(/\./g, '\\.')}\\b`).test(t)), timeoutMs: BOUND_MS, intervalMs: 25 });
    const leftAfter = Date.now() - killedAt;
    const [v, hp] = await Promise.all([viaVip, viaHaproxy]);
    console.log(`killed host's tasks (${deadIps.join(', ')}) out of host 1's VIP LB after ${leftAfter} ms`);
    const late = (l: Loop) => l.failures.filter((f) => l.t0 + f.t > killedAt + BOUND_MS);
    console.log(`killed host: VIP ${v.total} connections, ${v.failures.length} failed (${JSON.stringify(v.failures.map((f) => [l0(v, f, killedAt), f.error]))}); ` +
      `HAProxy ${hp.total} requests, ${hp.failures.length} failed (${JSON.stringify(hp.failures.map((f) => [l0(hp, f, killedAt), f.error]))})`);
    expect(late(v)).toEqual([]);
    expect(late(hp)).toEqual([]);
    expect(hp.total).toBeGreaterThan(100);
    const gone = [...tasks.entries()].filter(([, t]) => t.k === 3).map(([n]) => n);
    for (const n of gone) tasks.delete(n);
    const rest = [...tasks.keys()].filter((n) => n.startsWith('t'));
    const after = await burst(c1, 'tcp', vip, 80, 100);
    expect(after.failures).toEqual([]);
    expect(Object.keys(after.replies).sort()).toEqual(rest.sort());
    const mesh = await burst(client, 'tcp', '198.51.100.1', 8080, 60);
    expect(mesh.failures).toEqual([]);
    expect(Object.keys(mesh.replies).sort()).toEqual(rest.sort());
  }, 90_000);
});

/** A failure's time relative to the kill (ms; negative: before it). */
const l0 = (l: Loop, f: { t: number }, killedAt: number) => l.t0 + f.t - killedAt;
