// The services RPCs over a real unix socket onto the fake agent: what crosses the wire (absent vs empty
// lists in an update), and the edge's refusals before the agent is called.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi, type ApiClient } from '../../src/api/client.js';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { createFakeAgent, type FakeAgent } from './api-fake-agent.js';

let dir: string;
let server: ApiServer;
let agent: FakeAgent;
let client: ApiClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxmesh-api-svc-'));
  agent = createFakeAgent();
  server = await startApiServer(agent, join(dir, 'api.sock'), pino({ level: 'silent' }));
  client = connectApi(join(dir, 'api.sock'));
  await agent.createNetwork({ name: 'web' });
});
afterAll(async () => {
  client.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const lastCall = (method: string) => agent.calls.filter((c) => c.method === method).at(-1)?.args[0];

describe('services over gRPC', () => {
  it('creates, updates (absent, empty and given lists told apart), inspects, lists and removes', async () => {
    const made = await client.createService({ name: 'api', networks: ['web'], publish: [{ targetPort: 80, publishedPort: 8080, mode: 'host', protocol: 'udp' }, { targetPort: 81 }], labels: { a: 'b' } });
    expect(lastCall('createService')).toEqual({ name: 'api', networks: ['web'], publish: [{ targetPort: 80, publishedPort: 8080, mode: 'host', protocol: 'udp' }, { targetPort: 81 }], labels: { a: 'b' } });
    expect(made.ports).toEqual([{ protocol: 'udp', targetPort: 80, publishedPort: 8080, mode: 'host' }, { protocol: 'tcp', targetPort: 81, publishedPort: 30001, mode: 'ingress' }]);
    expect(made.vips[0]).toEqual({ network: 'web', networkId: expect.any(String), ipv4: '10.0.1.250/24' });

    await client.updateService({ service: 'api', affinity: 'client-ip' });
    expect(lastCall('updateService')).toEqual({ service: 'api', affinity: 'client-ip' });
    const cleared = await client.updateService({ service: 'api', publish: [], labels: {} });
    expect(lastCall('updateService')).toEqual({ service: 'api', publish: [], labels: {} });
    expect(cleared.ports).toEqual([]);
    expect(cleared.labels).toEqual({});
    expect(cleared.version).toBe(3);

    expect(await client.inspectService('api')).toEqual(cleared);
    expect((await client.listServices()).map((s) => s.name)).toEqual(['api']);
    await client.removeService('api');
    expect(await client.listServices()).toEqual([]);
  });

  it('refuses bad requests at the edge without calling the agent', async () => {
    const calls = agent.calls.length;
    await expect(client.createService({ name: 'x', networks: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^network is required/) });
    await expect(client.createService({ name: 'x', networks: ['web'], publish: [{ targetPort: 0 }] })).rejects.toThrow('publish :0/tcp: the target port must be a port from 1 to 65535, got 0');
    await expect(client.createService({ name: 'x', networks: ['web'], publish: [{ targetPort: 70000 }] })).rejects.toThrow('publish :70000/tcp: the target port must be a port from 1 to 65535, got 70000');
    await expect(client.createService({ name: 'x', networks: ['web'], endpointMode: 'rr' as 'vip' })).rejects.toThrow('endpoint-mode must be vip or dnsrr, got "rr"');
    await expect(client.updateService({ service: '' })).rejects.toThrow('service is required');
    await expect(client.inspectService('')).rejects.toThrow('name-or-id is required');
    expect(agent.calls.length).toBe(calls);
  });
});
