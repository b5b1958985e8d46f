// Multi-host, at default gossip timing: VXLAN only from members (crafted frames from a namespace on
// the underlay that is not a member never reach a workload, and are counted), and a killed host's
// FDB/neighbour entries leave every other host's sandbox within 3 s; a fresh host on the same
// address then joins and works. Real etcd, real agents in netns hosts, real kernel.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT, canPing, inNs, mustSh, type AgentProcess } from '../helpers/netns.js';
import { EtcdServer } from '../support/etcd-server.js';
import { waitFor } from '../support/wait.js';

interface Ep { id: string; ipv4: string; mac: string }
interface Net { id: string; vni: number }

const h = new Harness();
let etcd: EtcdServer | undefined;
const agents: AgentProcess[] = [];
const hosts: string[] = [];
const eps: Ep[] = [];
let net: Net;
let keyFile = '';

const ip4 = (ep: Ep) => ep.ipv4.split('/')[0]!;
const sandboxOf = (a: AgentProcess) => `/run/netns/${a.netnsPrefix}-n-${net.id.slice(0, 12)}`;
const workload = (k: number) => `/run/netns/${h.prefix}w${k}`;

function fdbDsts(a: AgentProcess): string[] {
  const r = inNs(sandboxOf(a), 'bridge', ['-j', 'fdb', 'show', 'dev', 'vxlan0']);
  return (JSON.parse(r.stdout || '[]') as { dst?: string }[]).flatMap((e) => (e.dst ? [e.dst] : []));
}
function neighIps(a: AgentProcess): string[] {
  const r = inNs(sandboxOf(a), 'ip', ['-j', 'neigh', 'show', 'dev', 'vxlan0', 'nud', 'permanent']);
  return (JSON.parse(r.stdout || '[]') as { dst: string }[]).map((n) => n.dst);
}

function startAgent(k: number): AgentProcess {
  const a = h.agent(hosts[k - 1]!, ['--advertise-addr', `198.51.100.${k}`, '--store', etcd!.storeUrl, '--gossip-key-file', keyFile, ...(k > 1 ? ['--join', '198.51.100.1'] : ['--join', '198.51.100.2'])]);
  agents[k - 1] = a;
  return a;
}

async function attach(k: number): Promise<Ep> {
  mustSh('ip', ['netns', 'add', `${h.prefix}w${k}`]);
  return agents[k - 1]!.json<Ep>('endpoint', 'attach', '--netns', workload(k), '--network', 'web');
}

beforeAll(async () => {
  for (const k of [1, 2, 3]) hosts.push(h.host(k));
  keyFile = join(h.tmp, 'gossip.key');
  writeFileSync(keyFile, randomBytes(16).toString('base64') + '\n', { mode: 0o600 });
  etcd = await EtcdServer.start({ netns: hosts[0], host: '198.51.100.1' });
  for (const k of [1, 2, 3]) startAgent(k);
  await Promise.all(agents.map((a) => a.start()));
  for (const a of agents) {
    await waitFor(() => a.json<{ gossip?: { alive: number } }>('status'), { what: `3 members seen by ${a.host}`, until: (s) => s.gossip?.alive === 3, timeoutMs: 20_000, intervalMs: 200 });
  }
  net = await agents[0]!.json<Net>('network', 'create', '--subnet', '10.73.0.0/24', 'web');
  for (const k of [1, 2, 3]) eps.push(await attach(k));
  for (const [i, a] of agents.entries()) {
    const others = [1, 2, 3].filter((k) => k !== i + 1).map((k) => `198.51.100.${k}`);
    await waitFor(() => fdbDsts(a).sort(), { what: `FDB of the other hosts in ${a.host}'s sandbox`, until: (d) => JSON.stringify(d) === JSON.stringify(others), timeoutMs: 10_000 });
  }
}, 120_000);

afterAll(async () => {
  await etcd?.stop();
  await h.cleanup();
});

describe('the overlay MTU', () => {
  it('is the underlay MTU - 50 by default, and a --mtu that does not fit the underlay is refused', async () => {
    const mtu = (path: string, dev: string) => (JSON.parse(inNs(path, 'ip', ['-j', 'link', 'show', dev]).stdout) as { mtu: number }[])[0]!.mtu;
    expect(mtu(`/run/netns/${hosts[1]}`, 'ul0')).toBe(1500);
    expect(mtu(sandboxOf(agents[1]!), 'vxlan0')).toBe(1450);
    expect(mtu(workload(2), 'eth0')).toBe(1450);
    const r = await agents[1]!.cli('network', 'create', '--mtu', '1451', 'toobig');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--mtu 1451 does not fit the underlay: its MTU is 1500 .* at most 1450/);
    expect((await agents[0]!.json<{ name: string }[]>('network', 'ls')).map((n) => n.name)).toEqual(['web']);
  });
});

describe('VXLAN only from cluster members', () => {
  it('crafted frames from a non-member never reach the workload and are counted; the same frames from an admitted address do arrive', async () => {
    const rogue = h.host(50); // on the underlay, 198.51.100.50, no agent: not a member
    const w1 = workload(1);
    // Count the crafted packets where the workload would see them.
    mustSh('nsenter', [`--net=${w1}`, 'nft', '-f', '-'], 'table inet probe {\n chain pre { type filter hook prerouting priority -300; udp dport 9999 counter; }\n}\n');
    const arrived = () => {
      const out = JSON.parse(inNs(w1, 'nft', ['-j', 'list', 'chain', 'inet', 'probe', 'pre']).stdout) as { nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[] };
      return out.nftables.flatMap((x) => x.rule?.expr ?? []).find((e) => e.counter)?.counter?.packets ?? -1;
    };
    const dropped = async () => (await agents[0]!.json<{ vxlanDropped?: number }>('status')).vxlanDropped ?? -1;
    const inject = (count: number) =>
      mustSh('nsenter', [`--net=/run/netns/${rogue}`, 'python3', join(ROOT, 'test/netns/vxlan-inject.py'), '198.51.100.50', '198.51.100.1', String(net.vni), eps[0]!.mac, ip4(eps[0]!), '9999', String(count)]);

    // The member set holds exactly the three advertise addresses.
    const set = inNs(`/run/netns/${hosts[0]}`, 'nft', ['-j', 'list', 'set', 'inet', 'vxmesh', 'members4']).stdout;
    expect([...set.matchAll(/198\.51\.100\.\d+/g)].map((m) => m[0]).sort()).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);

    const before = await dropped();
    expect(before).toBeGreaterThanOrEqual(0);
    inject(50);
    await waitFor(dropped, { what: 'the drop counter counting 50 frames', until: (n) => n >= before + 50, timeoutMs: 5_000 });
    expect(arrived()).toBe(0);
    const st = await agents[0]!.cli('status');
    expect(st.stdout).toMatch(/vxlan dropped \(non-members\):\s+[1-9]\d*/);

    // Positive control: admit the rogue by hand and the very same frames reach the workload.
    mustSh('nsenter', [`--net=/run/netns/${hosts[0]}`, 'nft', 'add', 'element', 'inet', 'vxmesh', 'members4', '{ 198.51.100.50 }']);
    inject(20);
    await waitFor(arrived, { what: 'admitted frames at the workload', until: (n) => n >= 20, timeoutMs: 5_000 });
    mustSh('nsenter', [`--net=/run/netns/${hosts[0]}`, 'nft', 'delete', 'element', 'inet', 'vxmesh', 'members4', '{ 198.51.100.50 }']);
    const seen = arrived();
    inject(20);
    await waitFor(dropped, { what: 'the drop counter again', until: (n) => n >= before + 70, timeoutMs: 5_000 });
    expect(arrived()).toBe(seen);
  }, 60_000);
});

describe('a restarted agent', () => {
  it('keeps its sandbox entries while it starts, then reconciles them from the table; traffic flows again', async () => {
    const a2 = agents[1]!;
    await a2.stop();
    // Stopped: the kernel objects stay (the peers were told it left, so they dropped its entries).
    expect(fdbDsts(a2).sort()).toEqual(['198.51.100.1', '198.51.100.3']);
    await a2.start();
    await waitFor(() => canPing(workload(1), ip4(eps[1]!)), { what: 'host 1 reaching host 2 again', timeoutMs: 10_000, intervalMs: 100 }).catch(async (e: unknown) => {
      const diag = {
        fdb1: fdbDsts(agents[0]!), fdb2: fdbDsts(a2), neigh1: neighIps(agents[0]!), neigh2: neighIps(a2),
        members1: inNs(`/run/netns/${hosts[0]}`, 'nft', ['list', 'set', 'inet', 'vxmesh', 'members4']).stdout.replace(/\s+/g, ' '),
        nodes1: await agents[0]!.json('node', 'ls'), nodes2: await a2.json('node', 'ls'),
      };
      console.error(JSON.stringify(diag, null, 1), a2.log.split('\n').filter((l) => /peer|gossip|warn|"level":[45]0/.test(l)).slice(-15).join('\n'));
      throw e;
    });
    await waitFor(() => canPing(workload(2), ip4(eps[2]!)), { what: 'host 2 reaching host 3 again', timeoutMs: 10_000, intervalMs: 100 });
    expect(fdbDsts(a2).sort()).toEqual(['198.51.100.1', '198.51.100.3']);
    expect(neighIps(a2).sort()).toEqual([ip4(eps[0]!), ip4(eps[2]!)].sort());
    for (const a of [agents[0]!, agents[2]!]) await waitFor(() => fdbDsts(a), { what: `host 2 back in ${a.host}'s sandbox`, until: (d) => d.includes('198.51.100.2') });
  }, 60_000);
});

describe('a killed host', () => {
  it("leaves every other host's sandbox within 3 s (FDB and neighbours); a fresh host on its address then works", async () => {
    const gone = ip4(eps[2]!);
    for (const a of agents.slice(0, 2)) {
      expect(fdbDsts(a)).toContain('198.51.100.3');
      expect(neighIps(a)).toContain(gone);
    }
    const t0 = Date.now();
    await agents[2]!.kill9();
    // Its namespaces go too (the host is gone, not just the agent).
    const mine = h.namespaces().filter((n) => n.startsWith(agents[2]!.netnsPrefix) || n === `${h.prefix}w3` || n === hosts[2]);
    mustSh('ip', ['-batch', '-'], mine.map((n) => `netns del ${n}`).join('\n') + '\n');
    const left: number[] = [];
    for (const a of agents.slice(0, 2)) {
      await waitFor(() => ({ fdb: fdbDsts(a), neigh: neighIps(a) }), {
        what: `host 3's entries gone from ${a.host}`,
        until: (s) => !s.fdb.includes('198.51.100.3') && !s.neigh.includes(gone),
        timeoutMs: 10_000,
        intervalMs: 25,
      });
      left.push(Date.now() - t0);
    }
    console.log(`killed host's entries gone after ${left.join(' / ')} ms`);
    expect(Math.max(...left)).toBeLessThan(3_000);
    // The survivors still reach each other.
    expect(canPing(workload(1), ip4(eps[1]!))).toBe(true);

    // A fresh host (new data dir, new node name) on the same address joins and works.
    hosts[2] = h.host(3);
    rmSync(agents[2]!.dataDir, { recursive: true, force: true });
    const fresh = startAgent(3);
    await fresh.start();
    eps[2] = await attach(3);
    await waitFor(() => canPing(workload(1), ip4(eps[2]!)), { what: 'host 1 reaching the fresh host 3', timeoutMs: 10_000, intervalMs: 100 });
    await waitFor(() => canPing(workload(3), ip4(eps[1]!)), { what: 'the fresh host 3 reaching host 2', timeoutMs: 10_000, intervalMs: 100 });
  }, 90_000);
});
