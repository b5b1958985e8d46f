// Service names from the embedded resolver in a real agent: services made with `vxmesh service create`,
// tasks attached with `--service`, dig inside workloads, and dnsmasq (in a namespace of the test's own,
// passed with --dns) as the only upstream, logging every query it sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addrOf as ip, dig, startVethUpstream, type DnsUpstream } from '../helpers/dns.js';
import { Harness, type AgentProcess } from '../helpers/netns.js';
import { waitFor } from '../support/wait.js';

interface Ep { id: string; ipv4: string; ipv6?: string }
interface Svc { id: string; vips: { network: string; ipv4?: string; ipv6?: string }[] }

const h = new Harness();
let agent: AgentProcess;
let upstream: DnsUpstream | undefined;
let client: string;
let clientB: string;
let svc: Svc;
const tasks: Ep[] = [];
const rrTasks: Ep[] = [];

const sorted = (xs: string[]) => [...xs].sort();

beforeAll(async () => {
  const host = h.host(1);
  upstream = await startVethUpstream(h, host);

  agent = h.agent(host, ['--dns', '203.0.113.53']);
  await agent.start();
  expect((await agent.cli('network', 'create', 'dual', '--subnet', '10.42.1.0/24', '--ipv6', '--subnet-v6', 'fd42:1::/64')).code).toBe(0);
  expect((await agent.cli('network', 'create', 'v4only', '--subnet', '10.42.2.0/24')).code).toBe(0);
  svc = await agent.json<Svc>('service', 'create', 'api', '--network', 'dual', '--publish', 'mode=host,8080:80');
  await agent.json('service', 'create', 'rr', '--network', 'v4only', '--endpoint-mode', 'dnsrr');
  await agent.json('service', 'create', 'idle', '--network', 'v4only', '--endpoint-mode', 'dnsrr');
  const [t1, t2, r1, r2, c, cb] = h.workloads(['t1', 't2', 'r1', 'r2', 'c', 'cb']) as [string, string, string, string, string, string];
  [client, clientB] = [c, cb];
  for (const [i, ns] of [t1, t2].entries()) tasks.push(await agent.json<Ep>('endpoint', 'attach', '--network', 'dual', '--netns', ns, '--name', `api.${i + 1}`, '--service', 'api'));
  for (const [i, ns] of [r1, r2].entries()) rrTasks.push(await agent.json<Ep>('endpoint', 'attach', '--network', 'v4only', '--netns', ns, '--name', `rr.${i + 1}`, '--service', 'rr'));
  await agent.json('endpoint', 'attach', '--network', 'dual', '--netns', client, '--name', 'client');
  await agent.json('endpoint', 'attach', '--network', 'v4only', '--netns', clientB, '--name', 'client-b');
}, 90_000);

afterAll(async () => {
  upstream?.proc.kill('SIGKILL');
  await h.cleanup();
});

describe('service names from the embedded resolver', () => {
  it('answers the VIP (A and AAAA on a dual-stack network), tasks.NAME, PTR of the VIP and of a task, SRV', async () => {
    const vip = svc.vips.find((v) => v.network === 'dual')!;
    await waitFor(() => dig(client, 'api'), { what: 'api answered', until: (d) => d.answers.length > 0, timeoutMs: 5_000 });
    expect((await dig(client, 'API')).answers).toEqual([`A ${ip(vip.ipv4)}`]);
    expect((await dig(client, 'api', 'AAAA')).answers).toEqual([`AAAA ${ip(vip.ipv6)}`]);
    expect(sorted((await dig(client, 'tasks.api')).answers)).toEqual(sorted(tasks.map((t) => `A ${ip(t.ipv4)}`)));
    expect(sorted((await dig(client, '+tcp', 'tasks.api', 'AAAA')).answers)).toEqual(sorted(tasks.map((t) => `AAAA ${ip(t.ipv6)}`)));
    expect((await dig(client, '-x', ip(vip.ipv4))).answers).toEqual(['PTR api.']);
    expect((await dig(client, '-x', ip(vip.ipv6))).answers).toEqual(['PTR api.']);
    expect((await dig(client, '-x', ip(tasks[0]!.ipv4))).answers).toEqual(['PTR api.1.']);
    for (const port of ['8080', '80']) {
      const srv = await dig(client, `_${port}._tcp.api`, 'SRV');
      expect(srv.answers).toEqual(['SRV 0 0 80 api.']);
      expect(sorted(srv.additional)).toEqual(sorted([`A ${ip(vip.ipv4)}`, `AAAA ${ip(vip.ipv6)}`]));
    }
  });

  it('answers a dnsrr name with its tasks; NODATA for AAAA of a v4-only name and for a service with no task, never asking the upstream', async () => {
    expect(sorted((await dig(clientB, 'rr')).answers)).toEqual(sorted(rrTasks.map((t) => `A ${ip(t.ipv4)}`)));
    for (const [name, type] of [['rr', 'AAAA'], ['tasks.rr', 'AAAA'], ['idle', 'A'], ['tasks.idle', 'A']] as const) {
      const r = await dig(clientB, name, type);
      expect([r.status, r.answers, r.authority[0]?.split(' ')[0]], `${name} ${type}`).toEqual(['NOERROR', [], 'SOA']);
    }
    expect((await dig(clientB, 'nope.tasks.rr')).status).toBe('NXDOMAIN');
    expect((await dig(clientB, 'www.example.test')).status).toBe('NXDOMAIN'); // forwarded: the upstream says NXDOMAIN to all
    await waitFor(() => upstream!.log().includes('www.example.test'), { what: 'the upstream to log the forwarded query' });
    // dnsmasq logs in order: had an owned name been forwarded before www.example.test, it would be in the log.
    for (const name of ['rr', 'idle', 'api', 'in-addr.arpa', 'ip6.arpa']) expect(upstream!.log().includes(` ${name}`), name).toBe(false);
  });

  it('answers NXDOMAIN for a service on a network the asker is not on', async () => {
    expect((await dig(clientB, 'api')).status).toBe('NXDOMAIN');
    expect((await dig(clientB, 'tasks.api')).status).toBe('NXDOMAIN');
    expect((await dig(client, 'rr')).status).toBe('NXDOMAIN');
  });

  it('follows tasks and services at once: a detached task leaves tasks.NAME, a removed service leaves every name', async () => {
    expect((await agent.cli('endpoint', 'detach', tasks[1]!.id)).code).toBe(0);
    await waitFor(() => dig(client, 'tasks.api'), { what: 'the detached task gone', until: (d) => d.answers.length === 1, timeoutMs: 2_000, intervalMs: 20 });
    expect((await dig(client, 'tasks.api')).answers).toEqual([`A ${ip(tasks[0]!.ipv4)}`]);
    expect((await agent.cli('service', 'rm', 'idle')).code).toBe(0);
    await waitFor(() => dig(clientB, 'idle'), { what: 'the removed service gone', until: (d) => d.status === 'NXDOMAIN', timeoutMs: 2_000, intervalMs: 20 });
  });
});
