// NftLoadBalancer against the real kernel with real TCP/UDP: a client namespace, an "lb" namespace
// (an ingress sandbox) and 3 backend namespaces on a bridge that lives in a namespace of its own.
// Backends are servers made inside their namespaces by this process (native addon) and answer
// with their name; clients run inside the client namespace (nsenter node mesh-client.mjs).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Server } from 'node:net';
import type { Socket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namedNs, nsExists, NftTableReconciler } from '../../src/kernel/index.js';
import { tcpServerInNetns, udpSocketInNetns } from '../../src/kernel/native.js';
import { NftLoadBalancer } from '../../src/ingress/lb/nft-lb.js';
import type { LbFrontend } from '../../src/ingress/lb/types.js';
import { Harness, mustSh, sh } from '../helpers/netns.js';
import { waitFor } from '../support/wait.js';

const canRun = process.getuid?.() === 0 && sh('nft', ['--version']).code === 0;
const CLIENT = join(import.meta.dirname, 'mesh-client.mjs');
const PORT = 8080;
const V4 = (k: number) => `203.0.113.${k}`;
const V6 = (k: number) => `2001:db8:77::${k}`;
const BACKENDS4 = [V4(1), V4(2), V4(3)];
const BACKENDS6 = [V6(1), V6(2), V6(3)];
const VIP4 = V4(200);
const VIP6 = V6(200);
const LB_ADDR = V4(5);

interface Burst {
  replies: Record<string, number>;
  failures: string[];
}

describe.skipIf(!canRun)('NftLoadBalancer: real connections through VIPs and published ports', () => {
  const h = new Harness();
  const ns = (n: string) => `${h.prefix}${n}`;
  const servers: (Server | Socket)[] = [];
  /** Source addresses each backend saw, by backend name. */
  const seenFrom = new Map<string, Set<string>>();
  const lb = new NftLoadBalancer(new NftTableReconciler());
  const clientNs = namedNs(ns('c'));
  const lbNs = namedNs(ns('lb'));

  const run = (mode: string, ...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const p = spawn('nsenter', [`--net=/run/netns/${ns('c')}`, process.execPath, CLIENT, mode, ...args]);
      let out = '';
      let err = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.stderr.on('data', (b: Buffer) => (err += b.toString()));
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`mesh-client ${mode} failed (${code}): ${err}`))));
    });
  const burst = async (proto: 'tcp' | 'udp', host: string, port: number, count: number): Promise<Burst> =>
    JSON.parse(await run('burst', proto, host, String(port), String(count))) as Burst;

  beforeAll(async () => {
    const sw = ns('sw');
    const names = ['c', 'lb', 'b1', 'b2', 'b3'];
    const addr: Record<string, number> = { c: 10, lb: 5, b1: 1, b2: 2, b3: 3 };
    mustSh('ip', ['-batch', '-'], [sw, ...names.map(ns)].map((n) => `netns add ${n}`).join('\n') + '\n');
    mustSh('ip', ['-n', sw, '-batch', '-'], ['link set lo up', 'link add br0 type bridge', 'link set br0 up',
      ...names.flatMap((n) => [`link add p${n} type veth peer name eth0 netns ${ns(n)}`, `link set p${n} master br0`, `link set p${n} up`])].join('\n') + '\n');
    for (const n of names) {
      mustSh('ip', ['-n', ns(n), '-batch', '-'], ['link set lo up', `addr add ${V4(addr[n]!)}/24 dev eth0`, `addr add ${V6(addr[n]!)}/64 dev eth0 nodad`, 'link set eth0 up'].join('\n') + '\n');
    }
    mustSh('ip', ['netns', 'exec', ns('lb'), 'sysctl', '-q', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    for (const [i, b] of ['b1', 'b2', 'b3'].entries()) {
      const path = `/run/netns/${ns(b)}`;
      seenFrom.set(b, new Set());
      for (const [kind, ip] of [['tcp4', BACKENDS4[i]!], ['tcp6', BACKENDS6[i]!]] as const) {
        const s = await tcpServerInNetns(path, kind, ip, PORT);
        s.on('connection', (c) => {
          seenFrom.get(b)!.add(c.remoteAddress ?? '');
          c.on('error', () => undefined);
          c.write(`${b}\n`);
          c.on('data', (d) => c.write(`${b}:${d.toString()}`));
        });
        servers.push(s);
      }
      for (const [kind, ip] of [['udp4', BACKENDS4[i]!], ['udp6', BACKENDS6[i]!]] as const) {
        const u = await udpSocketInNetns(path, kind, ip, PORT);
        u.on('message', (_m, r) => u.send(`${b}\n`, r.port, r.address));
        servers.push(u);
      }
    }
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    await h.cleanup();
  });

  const vip = (backends: string[], extra: Partial<LbFrontend> = {}): LbFrontend => ({
    id: 'svc-web/net-a',
    match: { kind: 'vip', vip: VIP4 },
    backends,
    affinity: 'none',
    ...extra,
  });

  it('a VIP (IPv4 and IPv6) spreads 300 TCP connections and UDP flows over all 3 backends, none fails', async () => {
    const v6: LbFrontend = { id: 'svc-web/net-a/6', match: { kind: 'vip', vip: VIP6 }, backends: BACKENDS6, affinity: 'none' };
    await lb.sync(clientNs, [vip(BACKENDS4), v6]);
    const tcp = await burst('tcp', VIP4, PORT, 300);
    expect(tcp.failures).toEqual([]);
    expect(Object.keys(tcp.replies).sort()).toEqual(['b1', 'b2', 'b3']);
    for (const n of Object.values(tcp.replies)) expect(n).toBeGreaterThan(50);
    const udp = await burst('udp', VIP4, PORT, 60);
    expect(udp.failures).toEqual([]);
    expect(Object.keys(udp.replies).sort()).toEqual(['b1', 'b2', 'b3']);
    const tcp6 = await burst('tcp', VIP6, PORT, 150);
    expect(tcp6.failures).toEqual([]);
    expect(Object.keys(tcp6.replies).sort()).toEqual(['b1', 'b2', 'b3']);
  });

  it('quiesce: a removed backend gets no new connection at once, its established connection keeps working', async () => {
    await lb.sync(clientNs, [vip(BACKENDS4)]);
    // Hold connections until one reaches b2 (the backend about to leave).
    const held: ChildProcessWithoutNullStreams[] = [];
    let toB2: { p: ChildProcessWithoutNullStreams; out: () => string } | undefined;
    try {
      while (!toB2) {
        if (held.length > 30) throw new Error('30 connections and none reached b2');
        const p = spawn('nsenter', [`--net=/run/netns/${ns('c')}`, process.execPath, CLIENT, 'hold', VIP4, String(PORT)]);
        held.push(p);
        let out = '';
        p.stdout.on('data', (b: Buffer) => (out += b.toString()));
        await waitFor(() => out.includes('\n'), { what: 'held connection greeted', timeoutMs: 5000 });
        if (out.startsWith('b2\n')) toB2 = { p, out: () => out };
      }
      const r = await lb.syncWithResult(clientNs, [vip([V4(1), V4(3)])]);
      // b2 had some slot k: the last slot's backend moves there, the last slot goes, and the VIP
      // now jumps to the chain that picks among 2 (made now: no other frontend had 2 backends).
      expect(r.commands.length).toBeLessThanOrEqual(8);
      expect(r.commands).toContain(`add element inet vxmesh_lb vips4 { ${VIP4} : goto pick_vip4_rr_n2 }`);
      expect(r.commands).toContain('add rule inet vxmesh_lb pick_vip4_rr_n2 dnat ip to ip daddr . numgen random mod 2 map @vipbe4');
      const after = await burst('tcp', VIP4, PORT, 100);
      expect(after.failures).toEqual([]);
      expect(Object.keys(after.replies).sort()).toEqual(['b1', 'b3']);
      toB2.p.stdin.write('still-there\n');
      await waitFor(() => toB2!.out().includes('b2:still-there'), { what: 'the established connection to b2 answers', timeoutMs: 5000 });
      expect(toB2.out()).not.toContain('CLOSED');
    } finally {
      for (const p of held) p.kill();
    }
  });

  it('affinity client-ip keeps one client on one backend', async () => {
    await lb.sync(clientNs, [vip(BACKENDS4, { affinity: 'client-ip' })]);
    const r = await burst('tcp', VIP4, PORT, 60);
    expect(r.failures).toEqual([]);
    expect(Object.keys(r.replies)).toHaveLength(1);
  });

  it('no backends: new connections are refused at once (TCP reset, ICMP port unreachable), not left hanging', async () => {
    await lb.sync(clientNs, [vip([])]);
    const started = Date.now();
    const tcp = await burst('tcp', VIP4, PORT, 8);
    expect(tcp.failures).toEqual(new Array(8).fill('ECONNREFUSED'));
    const udp = await burst('udp', VIP4, PORT, 4);
    expect(udp.failures).toEqual(new Array(4).fill('ECONNREFUSED'));
    // (each failure above would read TIMEOUT after 3 s had the SYN or datagram been left hanging)
    expect(Date.now() - started).toBeLessThan(5500);
    await lb.sync(clientNs, [vip([V4(3)])]);
    expect((await burst('tcp', VIP4, PORT, 5)).replies).toEqual({ b3: 5 });
  });

  it('a published port on any local address, with snatTo: backends see the lb address, replies come back', async () => {
    const port = (extra: Partial<LbFrontend> = {}): LbFrontend => ({
      id: 'svc-web/tcp/30080',
      match: { kind: 'port', protocol: 'tcp', port: 30080, family: 4 },
      targetPort: PORT,
      backends: BACKENDS4,
      affinity: 'none',
      snatTo: LB_ADDR,
      ...extra,
    });
    for (const s of seenFrom.values()) s.clear();
    await lb.sync(lbNs, [port()]);
    const r = await burst('tcp', LB_ADDR, 30080, 90);
    expect(r.failures).toEqual([]);
    expect(Object.keys(r.replies).sort()).toEqual(['b1', 'b2', 'b3']);
    for (const s of seenFrom.values()) expect([...s]).toEqual([LB_ADDR]);
    // Without snatTo the backends answer the client directly (same subnet): the connections fail,
    // which is what proves the source NAT above did the work.
    await lb.sync(lbNs, [port({ snatTo: undefined })]);
    const direct = await burst('tcp', LB_ADDR, 30080, 3);
    expect(direct.failures).toHaveLength(3);
    // UDP published port with snat.
    await lb.sync(lbNs, [port(), port({ id: 'svc-web/udp/30080', match: { kind: 'port', protocol: 'udp', port: 30080, family: 4 } })]);
    const udp = await burst('udp', LB_ADDR, 30080, 45);
    expect(udp.failures).toEqual([]);
    expect(Object.keys(udp.replies).sort()).toEqual(['b1', 'b2', 'b3']);
  });

  it('IPv6 published port with snatTo; a VIP with a target port; a port without backends is refused although something listens there', async () => {
    const LB6 = V6(5);
    // A local listener on the published port: only the refusal rule keeps connections from reaching it.
    const local = await tcpServerInNetns(`/run/netns/${ns('lb')}`, 'tcp4', '0.0.0.0', 30081);
    local.on('connection', (c) => c.end('lb\n'));
    servers.push(local);
    const none = (protocol: 'tcp' | 'udp'): LbFrontend => ({ id: `none/${protocol}/30081`, match: { kind: 'port', protocol, port: 30081, family: 4 }, targetPort: PORT, backends: [], affinity: 'none' });
    expect((await burst('tcp', LB_ADDR, 30081, 2)).replies).toEqual({ lb: 2 }); // before: the listener answers
    await lb.sync(lbNs, [
      { id: 'web6/tcp/30080', match: { kind: 'port', protocol: 'tcp', port: 30080, family: 6 }, targetPort: PORT, backends: BACKENDS6, affinity: 'none', snatTo: LB6 },
      none('tcp'),
      none('udp'),
    ]);
    for (const s of seenFrom.values()) s.clear();
    const r6 = await burst('tcp', LB6, 30080, 60);
    expect(r6.failures).toEqual([]);
    expect(Object.keys(r6.replies).sort()).toEqual(['b1', 'b2', 'b3']);
    for (const s of seenFrom.values()) expect([...s]).toEqual([LB6]);
    expect((await burst('tcp', LB_ADDR, 30081, 4)).failures).toEqual(new Array(4).fill('ECONNREFUSED'));
    expect((await burst('udp', LB_ADDR, 30081, 2)).failures).toEqual(new Array(2).fill('ECONNREFUSED'));

    await lb.sync(clientNs, [vip(BACKENDS4, { id: 'svc-tp/net-a', match: { kind: 'vip', vip: V4(201) }, targetPort: PORT })]);
    const tp = await burst('tcp', V4(201), 9999, 60);
    expect(tp.failures).toEqual([]);
    expect(Object.keys(tp.replies).sort()).toEqual(['b1', 'b2', 'b3']);
  });

  it('one backend of one of 500 services: one small transaction of element changes that name only that service', async () => {
    const many = Array.from({ length: 500 }, (_, i): LbFrontend => ({
      id: `svc-${i}/net-a`,
      match: { kind: 'vip', vip: `10.96.${i >> 8}.${i & 255}` },
      // svc-0 has 2 backends, the others 3: both pick chains exist.
      backends: [`10.0.${i >> 8}.${i & 255}`, `10.1.${i >> 8}.${i & 255}`, `10.2.${i >> 8}.${i & 255}`].slice(i === 0 ? 1 : 0),
      affinity: 'none',
    }));
    const first = await lb.syncWithResult(lbNs, many);
    expect(first.summary.chainsCreated.filter((c) => c.startsWith('pick_')).sort()).toEqual(['pick_vip4_rr_n2', 'pick_vip4_rr_n3']);
    const changed = many.map((f, i) => (i === 123 ? { ...f, backends: f.backends.slice(1) } : f));
    const r = await lb.syncWithResult(lbNs, changed);
    expect(r.commands.sort()).toEqual(
      [
        'delete element inet vxmesh_lb vips4 { 10.96.0.123 }',
        'add element inet vxmesh_lb vips4 { 10.96.0.123 : goto pick_vip4_rr_n2 }',
        'delete element inet vxmesh_lb vipbe4 { 10.96.0.123 . 2, 10.96.0.123 . 0 }',
        'add element inet vxmesh_lb vipbe4 { 10.96.0.123 . 0 : 10.2.0.123 }',
      ].sort(),
    );
    const added = await lb.syncWithResult(lbNs, many);
    expect(added.commands).toHaveLength(3); // vips4 delete + add, one backend element
    expect((await lb.syncWithResult(lbNs, many)).commands).toEqual([]);
    // A new load balancer (agent restart) reads the kernel and keeps every backend in its slot
    // (svc-123's were re-slotted above): nothing to do, so client-ip affinity survives a restart.
    const restarted = new NftLoadBalancer();
    expect((await restarted.syncWithResult(lbNs, many)).commands).toEqual([]);
    expect((await restarted.syncWithResult(lbNs, many, { fresh: true })).commands).toEqual([]);
  });

  it('clear deletes the table; clearing a namespace that is gone is no error', async () => {
    await lb.clear(lbNs);
    expect(mustSh('ip', ['netns', 'exec', ns('lb'), 'nft', 'list', 'tables'])).not.toContain('vxmesh_lb');
    await lb.clear(lbNs);
    const gone = namedNs(`${h.prefix}gone`);
    expect(nsExists(gone)).toBe(false);
    await lb.clear(gone);
  });
});
