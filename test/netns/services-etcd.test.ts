// Services in a shared etcd: two netns hosts, one real etcd. A service made on one host is the same
// record (same VIP) on the other; concurrent creates of one name or one published port on both hosts
// make exactly one; a task attached on one host is listed on the other; network rm on either host is
// refused while the service uses the network.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../support/etcd-server.js';
import { waitFor } from '../support/wait.js';
import { Harness, type AgentProcess } from '../helpers/netns.js';

interface Svc { id: string; name: string; vips: { network: string; ipv4?: string }[]; ports: { publishedPort: number }[]; tasks: { endpointId: string; node: string }[] }

let h: Harness;
let etcd: EtcdServer;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  h = new Harness();
  const hosts = [h.host(1), h.host(2)];
  etcd = await EtcdServer.start({ netns: h.host(9), host: '198.51.100.9' });
  const storeArgs = ['--store', etcd.storeUrl, '--store-prefix', `/vxs-${h.prefix}/`];
  for (const [i, host] of hosts.entries()) agents.push(h.agent(host, [...storeArgs, '--node-name', `node${i + 1}`, '--log-level', 'info']));
  await Promise.all(agents.map((a) => a.start()));
}, 60_000);

afterAll(async () => {
  await h?.cleanup();
  await etcd?.stop();
}, 60_000);

describe('services in a shared etcd (2 netns hosts)', () => {
  it('one record per service for the cluster: same VIP everywhere, one winner per name and per port, tasks seen from every host', async () => {
    const [a1, a2] = agents as [AgentProcess, AgentProcess];
    expect((await a1.cli('network', 'create', 'web', '--subnet', '10.78.1.0/24')).code).toBe(0);
    await waitFor(async () => (await a2.cli('network', 'inspect', 'web')).code === 0, { what: 'web on host 2', timeoutMs: 10_000 });

    const made = await a2.json<Svc>('service', 'create', 'api', '--network', 'web', '--publish', 'mode=host,8080:80');
    expect(made.vips[0]!.ipv4).toMatch(/^10\.78\.1\.\d+\/24$/);
    const seen = await waitFor(async () => (await a1.json<Svc[]>('service', 'ls')).find((s) => s.name === 'api'), { what: 'api on host 1', timeoutMs: 10_000 });
    expect(seen!.id).toBe(made.id);
    expect(seen!.vips).toEqual(made.vips);

    // The same name, and the same port, from both hosts at once: one wins each race.
    const sameName = await Promise.all([a1, a2].map((a) => a.cli('service', 'create', 'race', '--network', 'web', '--json')));
    expect(sameName.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(sameName.find((r) => r.code === 1)!.stderr).toContain('service \\"race\\" already exists');
    const samePort = await Promise.all([a1, a2].map((a, i) => a.cli('service', 'create', `port${i}`, '--network', 'web', '--publish', 'mode=host,9090:80', '--json')));
    expect(samePort.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(samePort.find((r) => r.code === 1)!.stderr).toMatch(/published port 9090\/tcp is already used by service \\"port[01]\\"/);
    // Different services from both hosts at once never share a VIP.
    const many = await Promise.all([a1, a2].flatMap((a, i) => [0, 1, 2].map((k) => a.json<Svc>('service', 'create', `m${i}${k}`, '--network', 'web'))));
    const vips = [made, ...many].map((s) => s.vips[0]!.ipv4);
    expect(new Set(vips).size).toBe(vips.length);

    // A task attached on host 1 to the service made on host 2 is listed on host 2.
    const [w] = h.workloads(['t1']) as [string];
    const ep = await a1.json<{ id: string }>('endpoint', 'attach', '--network', 'web', '--netns', w, '--service', 'api');
    const withTask = await waitFor(async () => {
      const [s] = await a2.json<Svc[]>('service', 'inspect', 'api');
      return s!.tasks.length ? s : undefined;
    }, { what: 'the task on host 2', timeoutMs: 10_000 });
    expect(withTask!.tasks).toEqual([expect.objectContaining({ endpointId: ep.id, node: 'node1' })]);

    await a1.json('endpoint', 'detach', ep.id);
    const rm = await a1.cli('network', 'rm', 'web');
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('network web is used by service');
    const names = (await a1.json<Svc[]>('service', 'ls')).map((s) => s.name);
    await a2.json('service', 'rm', ...names);
    await waitFor(async () => (await a1.json<Svc[]>('service', 'ls')).length === 0, { what: 'no services on host 1', timeoutMs: 10_000 });
    expect((await a1.cli('network', 'rm', 'web')).code).toBe(0);
  }, 180_000);
});
