// `vxmesh service ...` and `endpoint attach --service` against the fake agent: what the flags become on
// the wire, and what is printed (id, table, JSON). Bad input is in cli-bad-input.test.ts.
import { describe, expect, it } from 'vitest';
import { useCliHarness } from './cli-harness.js';

describe('vxmesh service', () => {
  const h = useCliHarness();
  const run = h.run;
  const sent = (method: string) => h.agent.calls.filter((c) => c.method === method).at(-1)?.args[0];

  it('creates from every flag and prints the id', async () => {
    await h.agent.createNetwork({ name: 'web' });
    await h.agent.createNetwork({ name: 'db' });
    const r = await run(['service', 'create', 'api', '--network', 'web', '--network', 'db', '--publish', '8080:80', '--publish', 'mode=host,9000:90/udp', '--publish', ':81',
      '--endpoint-mode', 'vip', '--affinity', 'client-ip', '--label', 'team=a']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`${(await h.agent.inspectService('api')).id}\n`);
    expect(sent('createService')).toStrictEqual({
      name: 'api', networks: ['web', 'db'],
      publish: [{ publishedPort: 8080, targetPort: 80 }, { publishedPort: 9000, targetPort: 90, protocol: 'udp', mode: 'host' }, { targetPort: 81 }],
      endpointMode: 'vip', affinity: 'client-ip', labels: { team: 'a' },
    });
  });

  it('lists as a table, as ids and as JSON; inspects as a JSON array', async () => {
    await h.agent.createNetwork({ name: 'web' });
    const made = await h.agent.createService({ name: 'api', networks: ['web'], publish: [{ targetPort: 80, publishedPort: 8080 }, { targetPort: 53, publishedPort: 53, protocol: 'udp', mode: 'host' }] });
    const table = await run(['service', 'ls']);
    expect(table.stdout.split('\n')[0]).toMatch(/^SERVICE ID\s+NAME\s+MODE\s+VIPS\s+PORTS\s+TASKS\s+NETWORKS$/);
    expect(table.stdout.split('\n')[1]).toMatch(new RegExp(`^${made.id.slice(0, 12)}\\s+api\\s+vip\\s+10\\.0\\.1\\.250/24\\s+\\*:8080->80/tcp,host:53->53/udp\\s+0\\s+web$`));
    expect((await run(['service', 'ls', '-q'])).stdout).toBe(`${made.id.slice(0, 12)}\n`);
    expect(JSON.parse((await run(['service', 'ls', '--json'])).stdout)).toEqual([made]);
    expect(JSON.parse((await run(['service', 'inspect', 'api'])).stdout)).toEqual([made]);
  });

  it('updates: --publish replaces, --no-publish clears, absent flags are not sent', async () => {
    await h.agent.createNetwork({ name: 'web' });
    await h.agent.createService({ name: 'api', networks: ['web'], publish: [{ targetPort: 80, publishedPort: 8080 }] });
    const r = await run(['service', 'update', 'api', '--publish', '8081:80', '--json']);
    expect(r.code).toBe(0);
    expect(sent('updateService')).toStrictEqual({ service: 'api', publish: [{ publishedPort: 8081, targetPort: 80 }] });
    expect(JSON.parse(r.stdout).ports).toEqual([{ protocol: 'tcp', targetPort: 80, publishedPort: 8081, mode: 'ingress' }]);
    expect((await run(['service', 'update', 'api', '--no-publish'])).code).toBe(0);
    expect(sent('updateService')).toStrictEqual({ service: 'api', publish: [] });
    expect((await run(['service', 'update', 'api', '--affinity', 'client-ip'])).code).toBe(0);
    expect(sent('updateService')).toStrictEqual({ service: 'api', affinity: 'client-ip' });
  });

  it('removes several and reports each; attach --service sends the service', async () => {
    await h.agent.createNetwork({ name: 'web' });
    await h.agent.createService({ name: 'a', networks: ['web'] });
    await h.agent.createService({ name: 'b', networks: ['web'] });
    const r = await run(['service', 'rm', 'a', 'nope', 'b', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual(['a', 'b']);
    expect(JSON.parse(r.stderr.trim())).toEqual({ error: { code: 'NOT_FOUND', message: 'service "nope" not found' } });
    await run(['endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--service', 'a']);
    expect(sent('attach')).toStrictEqual({ network: 'web', netns: '/run/netns/c1', service: 'a' });
  });
});
