// Services on one real agent in a netns host, driven through the built CLI: records, VIPs from the
// network's subnet (stable across a restart), published-port claims, tasks (attach --service), and
// bad input that is refused clearly and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, type AgentProcess, type CliResult } from '../helpers/netns.js';

interface Vip { network: string; networkId: string; ipv4?: string; ipv6?: string }
interface Port { protocol: string; targetPort: number; publishedPort: number; mode: string }
interface Task { endpointId: string; name: string; network: string; ipv4?: string; node: string }
interface Svc { id: string; name: string; endpointMode: string; affinity: string; networks: string[]; vips: Vip[]; ports: Port[]; labels: Record<string, string>; tasks: Task[]; version: number }
interface Ep { id: string; ipv4: string; service?: string }

const h = new Harness();
let agent: AgentProcess;

beforeAll(async () => {
  agent = h.agent(h.host(1));
  await agent.start();
  for (const [name, subnet] of [['web', '10.77.1.0/24'], ['db', '10.77.2.0/24'], ['tiny', '10.77.9.0/29']] as const) {
    expect((await agent.cli('network', 'create', name, '--subnet', subnet)).code).toBe(0);
  }
  const v6 = await agent.cli('network', 'create', 'dual', '--subnet', '10.77.3.0/24', '--ipv6', '--subnet-v6', 'fd77:3::/64');
  expect(v6.code, v6.stderr).toBe(0);
}, 60_000);
afterAll(async () => {
  await h.cleanup();
});

/** The JSON error document of a failed --json command. */
function jsonError(r: CliResult): { code: string; message: string } {
  return (JSON.parse(r.stderr.trim().split('\n')[0]!) as { error: { code: string; message: string } }).error;
}

const inSubnet = (cidr: string, prefix: string) => cidr.startsWith(prefix) && cidr.endsWith('/24');

describe('services', () => {
  it('creates, lists, inspects, updates and removes a service; its VIPs come from the subnets and survive a restart', async () => {
    const api = await agent.json<Svc>('service', 'create', 'api', '--network', 'web', '--network', 'dual', '--publish', 'mode=host,8080:80', '--label', 'team=a');
    expect(api.name).toBe('api');
    expect(api.endpointMode).toBe('vip');
    expect(api.networks).toEqual(['web', 'dual']);
    expect(api.vips.map((v) => v.network)).toEqual(['web', 'dual']);
    expect(inSubnet(api.vips[0]!.ipv4!, '10.77.1.')).toBe(true);
    expect(inSubnet(api.vips[1]!.ipv4!, '10.77.3.')).toBe(true);
    expect(api.vips[1]!.ipv6).toMatch(/^fd77:3::[0-9a-f]+\/64$/);
    expect(api.ports).toEqual([{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, mode: 'host' }]);
    expect(api.labels).toEqual({ team: 'a' });
    expect(api.version).toBe(1);

    const ls = await agent.json<Svc[]>('service', 'ls');
    expect(ls.map((s) => s.name)).toEqual(['api']);
    expect((await agent.cli('service', 'ls', '-q')).stdout.trim()).toBe(api.id.slice(0, 12));
    const table = await agent.cli('service', 'ls');
    expect(table.stdout).toMatch(/SERVICE ID\s+NAME\s+MODE\s+VIPS\s+PORTS/);
    expect(table.stdout).toContain('host:8080->80/tcp');
    const [byPrefix] = await agent.json<Svc[]>('service', 'inspect', api.id.slice(0, 10));
    expect(byPrefix).toEqual(api);

    // VIPs are records: the same after the agent restarts.
    await agent.stop();
    await agent.start();
    const [again] = await agent.json<Svc[]>('service', 'inspect', 'api');
    expect(again!.vips).toEqual(api.vips);

    const updated = await agent.json<Svc>('service', 'update', 'api', '--publish', 'mode=host,8081:80/udp', '--affinity', 'client-ip', '--label', 'team=b');
    expect(updated.version).toBe(2);
    expect(updated.affinity).toBe('client-ip');
    expect(updated.ports).toEqual([{ protocol: 'udp', targetPort: 80, publishedPort: 8081, mode: 'host' }]);
    expect(updated.labels).toEqual({ team: 'b' });
    expect(updated.vips).toEqual(api.vips);
    // The update released 8080/tcp: another service may take it now.
    const other = await agent.json<Svc>('service', 'create', 'other', '--network', 'db', '--publish', 'mode=host,8080:80');
    expect(other.ports[0]!.publishedPort).toBe(8080);
    const cleared = await agent.json<Svc>('service', 'update', 'other', '--no-publish');
    expect(cleared.ports).toEqual([]);

    expect(await agent.json<string[]>('service', 'rm', 'api', 'other')).toEqual(['api', 'other']);
    expect(await agent.json<Svc[]>('service', 'ls')).toEqual([]);
    // Its VIP went back to the pool: a new service on web gets the same address again only once the
    // pool wraps, but the name and the ports are free at once.
    const back = await agent.json<Svc>('service', 'create', 'api', '--network', 'web', '--publish', 'mode=host,8081:80/udp');
    expect(inSubnet(back.vips[0]!.ipv4!, '10.77.1.')).toBe(true);
    await agent.json('service', 'rm', 'api');
  }, 120_000);

  it('attach --service makes the endpoint a task the service lists; only on the service\'s networks', async () => {
    const svc = await agent.json<Svc>('service', 'create', 'tasks', '--network', 'web');
    const [w1, w2] = h.workloads(['t1', 't2']) as [string, string];
    const ep = await agent.json<Ep>('endpoint', 'attach', '--network', 'web', '--netns', w1, '--name', 'tasks.1', '--service', 'tasks');
    expect(ep.service).toBe('tasks');
    const [inspected] = await agent.json<Svc[]>('service', 'inspect', 'tasks');
    expect(inspected!.tasks).toEqual([{ endpointId: ep.id, name: 'tasks.1', network: 'web', ipv4: ep.ipv4.split('/')[0], node: expect.any(String) }]);
    expect((await agent.cli('service', 'ls')).stdout).toMatch(/tasks\s+vip\s+10\.77\.1\.\d+\/24\s+-\s+1\s+web/);

    const offNet = await agent.cli('endpoint', 'attach', '--network', 'db', '--netns', w2, '--service', 'tasks', '--json');
    expect(offNet.code).toBe(1);
    expect(jsonError(offNet)).toEqual({ code: 'INVALID_ARGUMENT', message: 'service "tasks" is not on network "db" (it is on web): attach to one of those, or create the service with --network db' });
    const ghost = await agent.cli('endpoint', 'attach', '--network', 'web', '--netns', w2, '--service', 'ghost', '--json');
    expect(jsonError(ghost).code).toBe('NOT_FOUND');
    expect(jsonError(ghost).message).toContain('service "ghost" not found');
    expect((await agent.json<Ep[]>('endpoint', 'ls')).map((e) => e.id)).toEqual([ep.id]);

    // rm with a live task is allowed: the task stays as a plain endpoint.
    await agent.json('service', 'rm', svc.id);
    const [plain] = await agent.json<Ep[]>('endpoint', 'ls');
    expect(plain!.id).toBe(ep.id);
    expect(plain!.service).toBe(svc.id); // the id is all that is left to name it
    await agent.json('endpoint', 'detach', ep.id);
  }, 60_000);

  it('refuses bad input with a clear error and changes nothing', async () => {
    await agent.json('service', 'create', 'holder', '--network', 'web', '--publish', 'mode=host,9000:80');
    // Fill tiny (/29: .2-.6 assignable besides the gateway .1) with VIPs.
    for (let i = 1; i <= 5; i++) await agent.json('service', 'create', `fill${i}`, '--network', 'tiny');
    const before = await agent.json<Svc[]>('service', 'ls');

    const rows: Array<{ argv: string[]; exit: number; code: string; message: RegExp }> = [
      { argv: ['service', 'create', 'x', '--network', 'web', '--publish', 'mode=host,9000:80'], exit: 1, code: 'ALREADY_EXISTS', message: /^published port 9000\/tcp is already used by service "holder": pick another port/ },
      { argv: ['service', 'create', 'x', '--network', 'web', '--publish', 'mode=host,65536:80'], exit: 2, code: 'INVALID_ARGUMENT', message: /^--publish "mode=host,65536:80": the published port must be a port from 1 to 65535, got "65536"/ },
      { argv: ['service', 'create', 'x', '--network', 'web', '--publish', 'mode=host,9001:0'], exit: 2, code: 'INVALID_ARGUMENT', message: /the target port must be a port from 1 to 65535, got "0"/ },
      { argv: ['service', 'create', 'x', '--network', 'nowhere'], exit: 1, code: 'NOT_FOUND', message: /^network "nowhere" not found/ },
      { argv: ['service', 'create', 'holder', '--network', 'db'], exit: 1, code: 'ALREADY_EXISTS', message: /^service "holder" already exists: pick another name/ },
      // web first, then the full tiny: the VIP web would have got is not kept either.
      { argv: ['service', 'create', 'x', '--network', 'web', '--network', 'tiny', '--publish', 'mode=host,9002:80'], exit: 1, code: 'RESOURCE_EXHAUSTED', message: /^no VIP for service "x" on network "tiny": .*exhausted.*nothing was made/ },
    ];
    for (const row of rows) {
      const r = await agent.cli(...row.argv, '--json');
      expect(r.code, row.argv.join(' ')).toBe(row.exit);
      const err = jsonError(r);
      expect(err.code, row.argv.join(' ')).toBe(row.code);
      expect(err.message, row.argv.join(' ')).toMatch(row.message);
    }
    expect(await agent.json<Svc[]>('service', 'ls')).toEqual(before);
    // Nothing of the refused creates was kept: the name x, port 9002 and web's next address are free.
    const holder = before.find((s) => s.name === 'holder')!;
    const x = await agent.json<Svc>('service', 'create', 'x', '--network', 'web', '--publish', 'mode=host,9002:80');
    const last = (cidr: string) => Number(cidr.split('/')[0]!.split('.')[3]);
    expect(last(x.vips[0]!.ipv4!)).toBe(last(holder.vips[0]!.ipv4!) + 1);

    // A network with a service on it stays.
    const rm = await agent.cli('network', 'rm', 'tiny', '--json');
    expect(rm.code).toBe(1);
    expect(jsonError(rm)).toEqual({ code: 'FAILED_PRECONDITION', message: 'network tiny is used by service fill1, fill2, fill3 and 2 more: remove the service first (vxmesh service rm fill1 fill2 fill3)' });
    expect((await agent.json<{ name: string }[]>('network', 'ls')).map((n) => n.name)).toContain('tiny');
    await agent.json('service', 'rm', 'fill1', 'fill2', 'fill3', 'fill4', 'fill5', 'holder', 'x');
    expect((await agent.cli('network', 'rm', 'tiny')).code).toBe(0);
  }, 120_000);
});
