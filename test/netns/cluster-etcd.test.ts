// Cluster state in etcd (issue 9, section 1): three netns hosts on an underlay switch, each with an agent
// on `--store etcd://...` (a real etcd in a fourth namespace on the underlay). One network per name
// across hosts, a network created on one host listed on every host, 300 concurrent attaches from three
// hosts to one /22 without a duplicate address, `network rm` refused while any host has endpoints,
// lazy sandboxes, etcd killed and restarted under running agents, and bad input at start.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi, type ApiClient } from '../../src/api/client.js';
import type { EndpointInfo, NetworkInfo } from '../../src/model/api.js';
import { EtcdServer } from '../support/etcd-server.js';
import { waitFor } from '../support/wait.js';
import { CLI, Harness, canPing, inNs, linkNames, sh, type AgentProcess } from '../helpers/netns.js';

const HOSTS = 3;
const PER_HOST = 100;

let h: Harness;
let etcd: EtcdServer;
let etcdNs: string;
const agents: AgentProcess[] = [];
const apis: ApiClient[] = [];
const node = (i: number) => `node${i + 1}`;

/** Starts `vxmesh agent ARGS` in `host` and returns how it ended (it is expected to refuse to start). */
function agentExit(host: string, args: string[], timeoutMs = 20_000): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const dir = `${h.tmp}/bad-${randomBytes(3).toString('hex')}`;
    const p = spawn('nsenter', [`--net=/run/netns/${host}`, process.execPath, CLI, 'agent', '--data-dir', dir, '--socket', `${dir}/api.sock`,
      '--netns-prefix', `${h.prefix}x`, '--no-plugin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`agent did not exit within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - t0 });
    });
  });
}

/** Sandbox namespaces agent `i` made (prefix `<harness prefix><i+1>-n-`). */
const sandboxesOf = (i: number) => h.namespaces().filter((n) => n.startsWith(`${h.prefix}${i + 1}-n-`));

beforeAll(async () => {
  h = new Harness();
  const hosts = Array.from({ length: HOSTS }, (_, i) => h.host(i + 1));
  etcdNs = h.host(9);
  etcd = await EtcdServer.start({ netns: etcdNs, host: '198.51.100.9' });
  const storeArgs = ['--store', etcd.storeUrl, '--store-prefix', `/vxt-${h.prefix}/`];
  for (const [i, host] of hosts.entries()) agents.push(h.agent(host, [...storeArgs, '--node-name', node(i), '--log-level', 'info']));
  await Promise.all(agents.map((a) => a.start()));
  for (const a of agents) apis.push(connectApi(a.socket, { timeoutMs: 60_000 }));
}, 60_000);

afterAll(async () => {
  for (const api of apis) api.close();
  await h?.cleanup();
  await etcd?.stop();
}, 60_000);

describe('cluster state in etcd (3 netns hosts, one etcd)', () => {
  it('refuses bad input at start: an unparseable --store, --join without a shared store, an unreachable etcd', async () => {
    const host = etcdNs; // a host without an agent (its gossip port is free)
    const bad = await agentExit(host, ['--store', 'http://198.51.100.9:2379']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--store');
    expect(bad.out).toContain('etcd://HOST[:PORT]');

    const join = await agentExit(host, ['--join', '198.51.100.2']);
    expect(join.code).toBe(2);
    expect(join.out).toContain('--join needs a shared store: pass --store etcd://');

    // Another host under a node name already in use would take that host's records for its own.
    const twin = await agentExit(host, ['--store', etcd.storeUrl, '--store-prefix', `/vxt-${h.prefix}/`, '--node-name', node(0)]);
    expect(twin.code).toBe(1);
    expect(twin.out).toContain(`node name \\"${node(0)}\\" is already used in this store by the host at 198.51.100.1`); // JSON log line

    const noCa = await agentExit(host, ['--store', etcd.storeUrl, '--store-ca', `${h.tmp}/absent-ca.pem`]);
    expect(noCa.code).toBe(1);
    expect(noCa.out).toContain(`--store-ca ${h.tmp}/absent-ca.pem: cannot read it (ENOENT)`);

    // Nothing answers at .77: the start fails within seconds, in one line that names the endpoint.
    const down = await agentExit(host, ['--store', 'etcd://198.51.100.77:2379']);
    expect(down.code).toBe(1);
    expect(down.ms).toBeLessThan(10_000);
    const fatal = down.out.split('\n').filter((l) => l.includes('failed to start'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain('http://198.51.100.77:2379');
    expect(h.namespaces().filter((n) => n.startsWith(`${h.prefix}x`))).toEqual([]);
  });

  it('lists a network created on one host on every host at once; hosts without endpoints carry no sandbox', async () => {
    const made = await apis[0]!.createNetwork({ name: 'shared', subnet: '10.40.0.0/24' });
    for (const api of apis.slice(1)) {
      const seen = await waitFor(async () => (await api.listNetworks()).find((n) => n.name === 'shared'), { what: 'network listed on another host', timeoutMs: 5_000 });
      expect(seen?.id).toBe(made.id);
      expect(seen?.ipv4.subnet).toBe('10.40.0.0/24');
    }
    expect([0, 1, 2].map(sandboxesOf)).toEqual([[], [], []]);
  });

  it('makes one network of one name created on three hosts at once; different options get a clear error', async () => {
    const made = await Promise.all(apis.map((api) => api.createNetwork({ name: 'race', subnet: '10.41.0.0/24' })));
    expect(new Set(made.map((n) => n.id)).size).toBe(1);
    const lists = await Promise.all(apis.map(async (api) => (await api.listNetworks()).filter((n) => n.name === 'race')));
    for (const l of lists) expect(l.map((n) => n.id)).toEqual([made[0]!.id]);

    const r = await agents[1]!.cli('network', 'create', 'race', '--subnet', '10.42.0.0/24');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('network "race" already exists with subnet 10.41.0.0/24 (this request: 10.42.0.0/24)');
    // The same race without a subnet: each create would carve its own; still one network.
    const carved = await Promise.all(apis.map((api) => api.createNetwork({ name: 'race2' })));
    expect(new Set(carved.map((n) => n.id)).size).toBe(1);
  });

  it('3 hosts attach 100 endpoints each at once to one /22: 300 distinct addresses, local endpoints ping each other', async () => {
    await apis[0]!.createNetwork({ name: 'big', subnet: '10.44.0.0/22' });
    await waitFor(async () => Promise.all(apis.map((a) => a.inspectNetwork('big'))), { what: 'big on every host', timeoutMs: 5_000 });
    const workloads = apis.map((_, i) => h.workloads(Array.from({ length: PER_HOST }, (_, j) => `${i + 1}x${j}`)));
    const t0 = Date.now();
    const attached = await Promise.all(apis.map((api, i) => Promise.all(workloads[i]!.map((netns) => api.attach({ network: 'big', netns })))));
    const tookMs = Date.now() - t0;
    const all = attached.flat();
    expect(all).toHaveLength(HOSTS * PER_HOST);
    expect(new Set(all.map((e) => e.ipv4)).size).toBe(HOSTS * PER_HOST);
    console.log(`300 concurrent attaches from 3 hosts over etcd: ${tookMs} ms`);

    const listed = await waitFor(async () => apis[2]!.listEndpoints('big'), { what: '300 endpoints listed', until: (l: EndpointInfo[]) => l.length === HOSTS * PER_HOST, timeoutMs: 10_000 });
    expect(new Set(listed.map((e) => e.ipv4)).size).toBe(HOSTS * PER_HOST);
    const info = await waitFor(async () => apis[1]!.inspectNetwork('big'), { what: 'hosts of big', until: (n: NetworkInfo) => n.hosts?.length === HOSTS, timeoutMs: 5_000 });
    expect(info.hosts).toEqual([node(0), node(1), node(2)]);
    expect(info.endpointCount).toBe(HOSTS * PER_HOST);

    // Each host's endpoints reach each other (one shell per host pings the other 99 from the first).
    for (const [i, eps] of attached.entries()) {
      const from = workloads[i]![0]!;
      const targets = eps.slice(1).map((e) => e.ipv4.split('/')[0]);
      const r = inNs(from, 'sh', ['-c', `for ip in ${targets.join(' ')}; do ping -c1 -W1 -q $ip >/dev/null || echo "unreachable $ip"; done`]);
      expect(r.stdout.trim(), `pings from ${from}`).toBe('');
    }
  }, 150_000);

  it("a restarted agent's start-up repair, GC and resync touch only its own host's records", async () => {
    const before = (await apis[0]!.listEndpoints('big')).map((e) => e.id).sort();
    apis[2]!.close();
    await agents[2]!.kill9();
    await agents[2]!.start();
    apis[2] = connectApi(agents[2]!.socket, { timeoutMs: 60_000 });
    expect(agents[2]!.log).not.toContain('namespace is gone');
    const after = (await apis[2]!.listEndpoints('big')).map((e) => e.id).sort();
    expect(after).toEqual(before);
    expect((await apis[0]!.inspectNetwork('big')).hosts).toEqual([node(0), node(1), node(2)]);
  }, 60_000);

  it('refuses network rm while any host has endpoints (naming the hosts); a sandbox lives only while its host has endpoints', async () => {
    const rm = await agents[0]!.cli('network', 'rm', 'big');
    expect(rm.code).not.toBe(0);
    expect(rm.stderr).toContain(`endpoint(s) on host(s) ${node(0)}, ${node(1)}, ${node(2)}`);

    const net = await apis[0]!.createNetwork({ name: 'solo', subnet: '10.45.0.0/24' });
    const [w] = h.workloads(['solo1']);
    await waitFor(async () => apis[1]!.inspectNetwork('solo'), { what: 'solo on host 2', timeoutMs: 5_000 });
    const before = [sandboxesOf(0).length, sandboxesOf(2).length];
    const ep = await apis[1]!.attach({ network: 'solo', netns: w! });
    expect(sandboxesOf(1)).toContain(`${h.prefix}2-n-${net.id.slice(0, 12)}`);
    expect([sandboxesOf(0).length, sandboxesOf(2).length]).toEqual(before); // nothing on hosts without endpoints
    const refused = await agents[2]!.cli('network', 'rm', 'solo');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`1 endpoint(s) on host(s) ${node(1)}`);
    // Another host's endpoint is detached where it lives.
    const elsewhere = await agents[0]!.cli('endpoint', 'detach', ep.id);
    expect(elsewhere.stderr).toContain(`lives on host ${node(1)}`);

    await apis[1]!.detach(ep.id);
    expect(sandboxesOf(1)).not.toContain(`${h.prefix}2-n-${net.id.slice(0, 12)}`);
    await waitFor(async () => (await apis[2]!.inspectNetwork('solo')).endpointCount, { what: 'detach seen on host 3', until: (n) => n === 0, timeoutMs: 5_000 });
    await apis[2]!.removeNetwork('solo');
    for (const api of apis) {
      await waitFor(async () => (await api.listNetworks()).some((n) => n.name === 'solo'), { what: 'solo gone everywhere', until: (x) => !x, timeoutMs: 5_000 });
    }
  });

  it('network rm racing attaches on another host never leaves endpoints on a removed network', async () => {
    const net = await apis[0]!.createNetwork({ name: 'rmrace', subnet: '10.46.0.0/24' });
    await waitFor(async () => apis[1]!.inspectNetwork('rmrace'), { what: 'rmrace on host 2', timeoutMs: 5_000 });
    const ws = h.workloads(Array.from({ length: 8 }, (_, j) => `rr${j}`));
    const [rm, ...attaches] = await Promise.allSettled([apis[0]!.removeNetwork('rmrace'), ...ws.map((netns) => apis[1]!.attach({ network: 'rmrace', netns }))]);
    const made = attaches.filter((a) => a.status === 'fulfilled').length;
    const left = (await apis[2]!.listEndpoints()).filter((e) => e.networkId === net.id);
    if (rm!.status === 'fulfilled') {
      expect(made).toBe(0);
      expect(left).toEqual([]);
      for (const w of ws) expect(linkNames(w)).toEqual(['lo']); // refused attaches made nothing
    } else {
      expect(String(rm!.reason)).toContain('endpoint(s) on host(s) node2');
      await waitFor(async () => (await apis[2]!.listEndpoints()).filter((e) => e.networkId === net.id).length, { what: 'attaches listed', until: (n) => n === made, timeoutMs: 5_000 });
    }
    console.log(`rm racing 8 attaches: rm ${rm!.status}, ${made} attach(es) made`);
  });

  it('etcd killed: attach fails fast naming the endpoint and leaves nothing, forwarding goes on; etcd back: attach works without a restart', async () => {
    const [w] = h.workloads(['down1']);
    const big = await apis[0]!.listEndpoints('big');
    const local = big.filter((e) => e.netns.includes(`${h.prefix}w1x`));
    const hostLinksBefore = linkNames(`/run/netns/${agents[0]!.host}`).sort();
    const sandboxesBefore = sandboxesOf(0);
    // Nothing of the refused attach in the sandboxes either (no veth left on a bridge).
    const vethsIn = () => sandboxesOf(0).map((s) => `${s}: ${linkNames(`/run/netns/${s}`).sort().join(' ')}`);
    const vethsBefore = vethsIn();
    await etcd.kill();

    const t0 = Date.now();
    const r = await agents[0]!.cli('endpoint', 'attach', '--netns', w!, '--network', 'big');
    const ms = Date.now() - t0;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`etcd at ${etcd.endpoint} is unreachable`);
    expect(r.stderr).toContain('nothing was kept');
    expect(ms).toBeLessThan(8_000);
    expect(linkNames(w!)).toEqual(['lo']);
    expect(linkNames(`/run/netns/${agents[0]!.host}`).sort()).toEqual(hostLinksBefore);
    expect(sandboxesOf(0)).toEqual(sandboxesBefore);
    expect(vethsIn()).toEqual(vethsBefore);
    // The data plane does not need the store.
    expect(canPing(local[0]!.netns, local[1]!.ipv4.split('/')[0]!)).toBe(true);
    const status = await agents[0]!.json<{ store?: { ok: boolean; error?: string } }>('status');
    expect(status.store?.ok).toBe(false);

    await etcd.run();
    const ep = await waitFor(async () => apis[0]!.attach({ network: 'big', netns: w! }), { what: 'attach after etcd is back', timeoutMs: 20_000, intervalMs: 250 });
    expect(big.map((e) => e.ipv4)).not.toContain(ep.ipv4);
    await waitFor(async () => (await apis[2]!.listEndpoints('big')).some((e) => e.id === ep.id), { what: 'new endpoint seen on host 3 (watch resumed)', timeoutMs: 15_000 });
    expect(canPing(w!, local[0]!.ipv4.split('/')[0]!)).toBe(true);
    expect(sh('kill', ['-0', String(agents[0]!.pid)]).code).toBe(0); // same agent process
  }, 60_000);
});
