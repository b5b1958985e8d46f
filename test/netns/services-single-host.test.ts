// Services on one host with the embedded store (no etcd, no peers): the VIP, a published port reached
// from a client namespace on the underlay, from the host's own address and from its loopback
// (route_localnet + masquerade), and `service rm` of the last published service taking the host
// table, the task's ingress leg and the ingress sandbox away.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT, inNs, type AgentProcess } from '../helpers/netns.js';
import { waitFor } from '../support/wait.js';
import { tcpBurst } from '../helpers/mesh-client.js';

interface Svc { id: string; vips: { network: string; ipv4?: string }[] }

const h = new Harness();
const procs: ChildProcess[] = [];
let agent: AgentProcess;
let host = '';
let client = '';
let c1 = '';
let task = '';

const reaches = (nsPath: string, target: string, port: number) =>
  waitFor(() => tcpBurst(nsPath, target, port, 20), { what: `${target}:${port} from ${nsPath}`, until: (b) => b.replies.t1 === 20, timeoutMs: 15_000, intervalMs: 200 });

beforeAll(async () => {
  host = `/run/netns/${h.host(1)}`;
  client = `/run/netns/${h.host(60)}`;
  agent = h.agent(host.split('/').at(-1)!, ['--advertise-addr', '198.51.100.1']);
  await agent.start();
  await agent.json('network', 'create', '--subnet', '10.82.0.0/24', 'web');
  task = h.workload('t1');
  const srv = spawn('nsenter', [`--net=${task}`, process.execPath, join(ROOT, 'test/netns/mesh-server.mjs'), 't1', '80', '7000'], { stdio: ['ignore', 'pipe', 'ignore'] });
  procs.push(srv);
  await new Promise((r) => srv.stdout.once('data', r));
  c1 = h.workload('c1');
  await agent.json('endpoint', 'attach', '--netns', c1, '--network', 'web');
}, 60_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await h.cleanup();
});

describe('services on one host (embedded store)', () => {
  it('VIP and published port: from a workload, from a client on the underlay, from the host address and its loopback', async () => {
    const svc = await agent.json<Svc>('service', 'create', 'web', '--network', 'web', '--publish', '8080:80');
    await agent.json('endpoint', 'attach', '--netns', task, '--network', 'web', '--service', 'web');
    const vip = svc.vips.find((v) => v.network === 'web')!.ipv4!.split('/')[0]!;
    await reaches(c1, vip, 80);
    await reaches(client, '198.51.100.1', 8080);
    await reaches(host, '198.51.100.1', 8080);
    await reaches(host, '127.0.0.1', 8080);
    expect((await agent.json<{ name: string }[]>('network', 'ls')).map((n) => n.name).sort()).toEqual(['ingress', 'web']);
    // --lb auto on this kernel (no ip_vs): nftables, and status says so.
    expect((await agent.cli('status')).stdout).toMatch(/load balancer:?\s+nftables/);
  }, 60_000);

  it('service rm of the last published service: host table, ingress leg and ingress sandbox gone; the port answers no more', async () => {
    const sbox = `${agent.netnsPrefix}ingress-sbox`;
    expect(h.namespaces()).toContain(sbox);
    const rm = await agent.cli('service', 'rm', 'web');
    expect(rm.code, rm.stderr).toBe(0);
    await waitFor(() => h.namespaces(), { what: 'the ingress sandbox removed', until: (n) => !n.includes(sbox), timeoutMs: 10_000 });
    expect(inNs(host, 'nft', ['list', 'table', 'inet', 'vxmesh_ingress']).code).not.toBe(0);
    const eps = await agent.json<{ network: string; netns: string }[]>('endpoint', 'ls');
    expect(eps.filter((e) => e.network === 'ingress')).toEqual([]);
    expect((await tcpBurst(client, '198.51.100.1', 8080, 3)).replies).toEqual({});
    // The VIP's table went from the client workload too.
    expect(inNs(c1, 'nft', ['list', 'table', 'inet', 'vxmesh_lb']).code).not.toBe(0);
  }, 60_000);

  it.skipIf(existsSync('/proc/net/ip_vs'))('--lb ipvs on a kernel without ip_vs: the agent refuses to start, naming the flag and the way out', async () => {
    const other = h.agent(h.host(2), ['--advertise-addr', '198.51.100.2', '--lb', 'ipvs']);
    await expect(other.start()).rejects.toThrow(/--lb ipvs: this kernel has no ip_vs .*--lb nftables or --lb auto/);
  }, 30_000);
});
