// Services operations on one host (embedded store): an IPv6 VIP on a dual-stack network spreads TCP
// connections over both tasks; `vxmesh doctor`'s services checks pass on the healthy host, name the
// load balancer table and the published-port table deleted by hand, and pass again once the periodic
// resync (--resync-interval 10) has made them again; `vxmesh status` counts the services.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT, inNs, type AgentProcess } from '../helpers/netns.js';
import { waitFor } from '../support/wait.js';
import { tcpBurst, type Burst } from '../helpers/mesh-client.js';

interface Svc { id: string; vips: { network: string; ipv4?: string; ipv6?: string }[] }
interface Finding { check: string; subject?: string; ok: boolean; detail: string; fix?: string }
interface Report { ok: boolean; checks: Finding[] }

const SERVICES_CHECKS = ['lb.kind', 'lb.vip', 'ingress.sandbox', 'ingress.ports', 'services.tasks'];
const h = new Harness();
const procs: ChildProcess[] = [];
let agent: AgentProcess;
let host = '';
let c1 = '';
let vip6 = '';
let vip4 = '';


/** Both tasks answer and nothing fails. */
const spread = (b: Burst, count: number) => (b.replies.t1 ?? 0) > 0 && (b.replies.t2 ?? 0) > 0 && (b.replies.t1 ?? 0) + (b.replies.t2 ?? 0) === count && b.failures.length === 0;

async function doctor(): Promise<{ code: number; findings: Finding[] }> {
  const r = await agent.cli('doctor', '--json');
  return { code: r.code, findings: (JSON.parse(r.stdout) as Report).checks.filter((c) => SERVICES_CHECKS.includes(c.check)) };
}

async function startTask(name: string): Promise<string> {
  const ns = h.workload(name);
  const srv = spawn('nsenter', [`--net=${ns}`, process.execPath, join(ROOT, 'test/netns/mesh-server.mjs'), name, '80', '7000'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, MESH_SERVER_TCP_HOST: '::' },
  });
  procs.push(srv);
  await new Promise((r) => srv.stdout.once('data', r));
  return ns;
}

beforeAll(async () => {
  host = `/run/netns/${h.host(1)}`;
  agent = h.agent(host.split('/').at(-1)!, ['--advertise-addr', '198.51.100.1', '--resync-interval', '10']);
  await agent.start();
  await agent.json('network', 'create', '--subnet', '10.83.0.0/24', '--ipv6', '--subnet-v6', 'fd83::/64', 'dual');
  const [t1, t2] = [await startTask('t1'), await startTask('t2')];
  c1 = h.workload('c1');
  await agent.json('endpoint', 'attach', '--netns', c1, '--network', 'dual');
  const svc = await agent.json<Svc>('service', 'create', 'api', '--network', 'dual', '--publish', '8083:80');
  for (const t of [t1, t2]) await agent.json('endpoint', 'attach', '--netns', t!, '--network', 'dual', '--service', 'api');
  const v = svc.vips.find((x) => x.network === 'dual')!;
  vip6 = v.ipv6!.split('/')[0]!;
  vip4 = v.ipv4!.split('/')[0]!;
}, 60_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await h.cleanup();
});

describe('services operations on one host', () => {
  it('an IPv6 VIP on a dual-stack network: TCP connections from a workload reach both tasks, none fails', async () => {
    expect(vip6).toMatch(/^fd83::/);
    const b = await waitFor(() => tcpBurst(c1, vip6, 80, 40), { what: `[${vip6}]:80 from c1 reaching both tasks`, until: (x) => spread(x, 40), timeoutMs: 20_000, intervalMs: 300 });
    expect(b.failures).toEqual([]);
    // The v4 VIP of the same service, in the same table, still answers.
    await waitFor(() => tcpBurst(c1, vip4, 80, 20), { what: `${vip4}:80 from c1`, until: (x) => spread(x, 20), timeoutMs: 10_000, intervalMs: 300 });
    expect(inNs(c1, 'nft', ['list', 'map', 'inet', 'vxmesh_lb', 'vips6']).stdout).toContain(vip6);
  }, 60_000);

  it('status counts the services; doctor passes the services checks on the healthy host', async () => {
    expect(await agent.json<{ services?: number }>('status')).toMatchObject({ services: 1 });
    expect((await agent.cli('status')).stdout).toMatch(/^services:\s+1$/m);
    const { findings } = await waitFor(() => doctor(), { what: 'the services checks OK', until: (d) => d.findings.every((f) => f.ok), timeoutMs: 15_000, intervalMs: 500 });
    const checks = new Set(findings.map((f) => f.check));
    expect([...checks].sort()).toEqual([...SERVICES_CHECKS].sort());
    expect(findings.find((f) => f.check === 'lb.vip' && f.subject === c1)?.detail).toMatch(/2 VIP frontend\(s\), 4 backend\(s\), as expected/);
    expect(findings.find((f) => f.check === 'ingress.ports')?.detail).toMatch(/DNATs the 1 port\(s\)/);
    expect(findings.find((f) => f.check === 'ingress.sandbox')?.detail).toMatch(/balances 1 published port\(s\) over 2 backend\(s\)/);
    expect(findings.find((f) => f.check === 'services.tasks')?.detail).toBe('1 service(s) with 2 live task(s) known to this host');
  }, 30_000);

  it('tables deleted by hand: doctor names lb.vip and ingress.ports with a fix; the periodic resync makes them again', async () => {
    // Deleted again on each try: a resync between the deletion and doctor would repair it first.
    const broken = await waitFor(
      async () => {
        inNs(c1, 'nft', ['delete', 'table', 'inet', 'vxmesh_lb']);
        inNs(host, 'nft', ['delete', 'table', 'inet', 'vxmesh_ingress']);
        return doctor();
      },
      { what: 'doctor failing lb.vip and ingress.ports', until: (d) => d.findings.filter((f) => !f.ok).length === 2, timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(broken.code).toBe(1);
    const failed = broken.findings.filter((f) => !f.ok);
    expect(failed).toEqual([
      expect.objectContaining({ check: 'lb.vip', subject: c1, detail: expect.stringContaining('nft table inet vxmesh_lb is missing (2 frontend(s) expected)'), fix: expect.stringContaining('resync') }),
      expect.objectContaining({ check: 'ingress.ports', detail: expect.stringContaining('inet vxmesh_ingress is missing: the 1 published port(s) do not answer'), fix: expect.stringContaining('resync') }),
    ]);
    // The next resync (10 s) repairs both; doctor passes and the VIP answers again.
    await waitFor(() => doctor(), { what: 'the services checks OK after a resync', until: (d) => d.findings.every((f) => f.ok), timeoutMs: 30_000, intervalMs: 1_000 });
    await waitFor(() => tcpBurst(c1, vip6, 80, 20), { what: `[${vip6}]:80 after the repair`, until: (x) => spread(x, 20), timeoutMs: 10_000, intervalMs: 300 });
    expect(inNs(host, 'nft', ['list', 'table', 'inet', 'vxmesh_ingress']).code).toBe(0);
  }, 60_000);
});
