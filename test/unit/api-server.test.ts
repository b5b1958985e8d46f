import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VxError } from '../../src/errors.js';
import { connectApi, toVxError, type ApiClient } from '../../src/api/client.js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { createFakeAgent, defaultFakeNodes, type FakeAgent } from './api-fake-agent.js';

const logger = pino({ level: 'silent' });

async function expectVxError(promise: Promise<unknown>, code: string, message: RegExp | string): Promise<VxError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VxError);
  const vxError = error as VxError;
  expect(vxError.code).toBe(code);
  if (typeof message === 'string') expect(vxError.message).toBe(message);
  else expect(vxError.message).toMatch(message);
  return vxError;
}

describe('gRPC API over a unix socket', () => {
  let dir: string;
  let socketPath: string;
  let agent: FakeAgent;
  let server: ApiServer;
  let client: ApiClient;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vxmesh-api-'));
    socketPath = join(dir, 'run', 'vxmesh.sock');
    agent = createFakeAgent();
    server = await startApiServer(agent, socketPath, logger);
    client = connectApi(socketPath);
  });

  afterEach(async () => {
    client.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the socket 0600 inside a new 0700 directory', async () => {
    const socketStats = await stat(socketPath);
    expect(socketStats.isSocket()).toBe(true);
    expect(socketStats.mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'run'))).mode & 0o777).toBe(0o700);
  });

  it('round-trips Status', async () => {
    await expect(client.status()).resolves.toEqual({
      version: '9.9.9-fake',
      advertiseAddr: '198.51.100.7',
      dataDir: '/tmp/fake-data',
      networks: 0,
      endpoints: 0,
      services: 0,
      features: { vxlan: true, nftables: true, ipvs: false },
    });
  });

  it('round-trips the store health when the agent reports it', async () => {
    agent.store = { ok: false, error: 'ENOSPC: no space left on device' };
    await expect(client.status()).resolves.toMatchObject({ store: { ok: false, error: 'ENOSPC: no space left on device' } });
    agent.store = { ok: true };
    const healthy = await client.status();
    expect((healthy as { store?: unknown }).store).toStrictEqual({ ok: true });
  });

  it('passes every CreateNetwork field through and returns the network as the agent made it', async () => {
    const request = {
      name: 'web',
      subnet: '10.5.0.0/16',
      gateway: '10.5.0.254',
      ipRange: '10.5.1.0/24',
      auxAddresses: { router: '10.5.0.2' },
      ipv6: true,
      subnetV6: 'fd00:5::/64',
      gatewayV6: 'fd00:5::1',
      ipRangeV6: 'fd00:5::/80',
      mtu: 1400,
      internal: true,
      labels: { team: 'blue', empty: '' },
      ipv4PoolId: 'pool-a',
      ipv6PoolId: 'pool-b',
    };
    const created = await client.createNetwork(request);
    expect(agent.calls.at(-1)).toEqual({ method: 'createNetwork', args: [request] });
    expect(created).toEqual(await agent.inspectNetwork('web'));
    expect(created.ipv6).toEqual({ subnet: 'fd00:5::/64', gateway: 'fd00:5::1', auxAddresses: {} });
  });

  it('keeps unset optional fields absent on both sides', async () => {
    const created = await client.createNetwork({ name: 'plain' });
    expect(agent.calls.at(-1)?.args[0]).toStrictEqual({ name: 'plain' });
    expect('ipv6' in created).toBe(false);
    expect('ipRange' in created.ipv4).toBe(false);
    expect(created.internal).toBe(false);
    expect(created.labels).toEqual({});
  });

  it('lists, inspects (by name and id prefix) and removes networks', async () => {
    const a = await client.createNetwork({ name: 'a' });
    await client.createNetwork({ name: 'b', ipv6: true });
    const listed = await client.listNetworks();
    expect(listed.map((n) => n.name)).toEqual(['a', 'b']);
    expect(listed).toEqual(await agent.listNetworks());
    await expect(client.inspectNetwork(a.id.slice(0, 4))).resolves.toEqual(a);
    await client.removeNetwork('a');
    expect((await client.listNetworks()).map((n) => n.name)).toEqual(['b']);
  });

  it('maps agent errors to the same VxError code and message', async () => {
    await client.createNetwork({ name: 'dup' });
    await expectVxError(client.createNetwork({ name: 'dup' }), 'ALREADY_EXISTS', 'network dup already exists');
    await expectVxError(client.inspectNetwork('nope'), 'NOT_FOUND', 'network nope not found');
    await client.attach({ network: 'dup', netns: '/run/netns/c1' });
    await expectVxError(client.removeNetwork('dup'), 'FAILED_PRECONDITION', 'network dup has 1 active endpoints');
    await client.requestPool({ v6: false });
    await expectVxError(client.requestAddress('pool-1', '10.9.0.99'), 'RESOURCE_EXHAUSTED', 'pool pool-1 is full');
    agent.failNext = new VxError('INTERNAL', 'store is corrupt');
    await expectVxError(client.listNetworks(), 'INTERNAL', 'store is corrupt');
  });

  it('answers INTERNAL with the message for errors that are not VxError', async () => {
    agent.failNext = new TypeError('cannot read properties of undefined');
    await expectVxError(client.status(), 'INTERNAL', 'cannot read properties of undefined');
  });

  it('attaches, lists and detaches endpoints', async () => {
    await client.createNetwork({ name: 'web' });
    await client.createNetwork({ name: 'db' });
    const request = {
      network: 'web',
      netns: '/run/netns/c1',
      name: 'api',
      aliases: ['api.local', 'v1'],
      ip: '10.0.1.10',
      ipv6: 'fd00::10',
      mac: '02:42:0a:00:01:0a',
      labels: { docker: 'x' },
      leaveInHost: false,
      preallocated: true,
    };
    const endpoint = await client.attach(request);
    expect(agent.calls.at(-1)).toEqual({ method: 'attach', args: [request] });
    expect(endpoint.ipv4).toBe('10.0.1.10/24');
    expect(endpoint.ipv6).toBe('fd00::10/64');
    const other = await client.attach({ network: 'db', netns: '/proc/1/ns/net' });
    expect('ipv6' in other).toBe(false);
    expect('gatewayIpv6' in other).toBe(false);
    expect(other.aliases).toEqual([]);
    expect(await client.listEndpoints()).toEqual([endpoint, other]);
    expect(await client.listEndpoints('db')).toEqual([other]);
    expect(agent.calls.at(-1)).toEqual({ method: 'listEndpoints', args: ['db'] });
    await client.listEndpoints();
    expect(agent.calls.at(-1)).toEqual({ method: 'listEndpoints', args: [undefined] });
    await client.detach(endpoint.id);
    expect(await client.listEndpoints()).toEqual([other]);
    await expectVxError(client.detach(endpoint.id), 'NOT_FOUND', `endpoint ${endpoint.id} not found`);
  });

  it('round-trips the IPAM calls', async () => {
    await expect(client.requestPool({ v6: false, pool: '10.20.0.0/16', subPool: '10.20.1.0/24', owner: 'docker' }))
      .resolves.toEqual({ poolId: 'pool-1', pool: '10.20.0.0/16' });
    expect(agent.calls.at(-1)?.args[0]).toStrictEqual({ v6: false, pool: '10.20.0.0/16', subPool: '10.20.1.0/24', owner: 'docker' });
    await expect(client.requestAddress('pool-1')).resolves.toBe('10.9.0.2/24');
    expect(agent.calls.at(-1)?.args).toEqual(['pool-1', undefined, undefined]);
    await expect(client.requestAddress('pool-1', '10.20.0.1', 'gateway')).resolves.toBe('10.20.0.1/24');
    expect(agent.calls.at(-1)?.args).toEqual(['pool-1', '10.20.0.1', 'gateway']);
    await client.releaseAddress('pool-1', '10.20.0.1');
    expect(agent.calls.at(-1)).toEqual({ method: 'releaseAddress', args: ['pool-1', '10.20.0.1'] });
    await client.releasePool('pool-1');
    await expectVxError(client.releasePool('pool-1'), 'NOT_FOUND', 'pool pool-1 not found');
  });

  it('round-trips ListNodes, self and IPv6 addresses included', async () => {
    const nodes = await client.listNodes();
    expect(nodes).toStrictEqual(defaultFakeNodes());
    agent.nodes = [];
    await expect(client.listNodes()).resolves.toEqual([]);
  });

  it('round-trips every GossipKey op and the agent keyring errors', async () => {
    const first = randomBytes(32).toString('base64');
    const second = randomBytes(16).toString('base64');
    await expect(client.gossipKey('list')).resolves.toStrictEqual({ keys: [], primary: '', nodes: 1, failed: [] });
    expect(agent.calls.at(-1)).toEqual({ method: 'gossipKey', args: ['list', undefined] });

    await client.gossipKey('install', first);
    expect(agent.calls.at(-1)).toEqual({ method: 'gossipKey', args: ['install', first] });
    agent.keyFailures = [{ node: 'node-b', error: 'timed out' }];
    await expect(client.gossipKey('install', second)).resolves.toStrictEqual({
      keys: [first, second],
      primary: first,
      nodes: 2,
      failed: [{ node: 'node-b', error: 'timed out' }],
    });
    agent.keyFailures = [];
    await expect(client.gossipKey('use', second)).resolves.toMatchObject({ keys: [second, first], primary: second });
    await expectVxError(client.gossipKey('remove', second), 'FAILED_PRECONDITION', 'cannot remove the primary key: use another key first');
    await expect(client.gossipKey('remove', first)).resolves.toMatchObject({ keys: [second], primary: second, failed: [] });
    await expectVxError(client.gossipKey('use', first), 'NOT_FOUND', 'the key is not installed: install it first');
  });

  describe('edge validation', () => {
    const cases: Array<[string, (c: ApiClient) => Promise<unknown>, RegExp]> = [
      ['missing network name', (c) => c.createNetwork({ name: '' }), /^name is required$/],
      ['bad network name', (c) => c.createNetwork({ name: 'has space' }), /^invalid name "has space": use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit$/],
      ['overlong name', (c) => c.createNetwork({ name: 'n'.repeat(64) }), /^invalid name "n{64}": use 1 to 63/],
      ['name starting with a dash', (c) => c.createNetwork({ name: '-web' }), /^invalid name "-web"/],
      ['huge name', (c) => c.createNetwork({ name: 'n'.repeat(300) }), /^name is too long \(300 characters, at most 256\)$/],
      ['empty subnet (not "carve one")', (c) => c.createNetwork({ name: 'x', subnet: '' }), /^subnet must not be empty: leave it out to let the agent choose$/],
      ['subnet with host bits', (c) => c.createNetwork({ name: 'x', subnet: '10.1.0.5/24' }), /^subnet 10.1.0.5\/24 has host bits set; did you mean 10.1.0.0\/24\?$/],
      ['ip range without subnet', (c) => c.createNetwork({ name: 'x', ipRange: '10.1.0.0/25' }), /^ip-range needs subnet$/],
      ['bad v6 gateway', (c) => c.createNetwork({ name: 'x', ipv6: true, subnetV6: 'fd00::/64', gatewayV6: '10.0.0.1' }), /^gateway-v6 "10.0.0.1" is not an IPv6 address$/],
      ['too many labels', (c) => c.createNetwork({ name: 'x', labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }), /^label: 65 labels, at most 64$/],
      ['long label value', (c) => c.createNetwork({ name: 'x', labels: { k: 'v'.repeat(1025) } }), /^label k: the value is 1025 characters, at most 1024$/],
      ['subnet not a CIDR', (c) => c.createNetwork({ name: 'x', subnet: '10.0.0/24' }), /^subnet "10.0.0\/24" is not an IPv4 CIDR \(e.g. 10.1.0.0\/24\): "10.0.0" is not a valid IP address/],
      ['v6 subnet as v4', (c) => c.createNetwork({ name: 'x', subnet: 'fd00::/64' }), /is not an IPv4 CIDR/],
      ['gateway not an IP', (c) => c.createNetwork({ name: 'x', subnet: '10.1.0.0/24', gateway: 'x' }), /^gateway: "x" is not a valid IP address/],
      ['gateway without subnet', (c) => c.createNetwork({ name: 'x', gateway: '10.1.0.1' }), /gateway needs subnet/],
      ['v6 subnet without ipv6', (c) => c.createNetwork({ name: 'x', subnetV6: 'fd00::/64' }), /^subnet-v6 needs ipv6$/],
      ['mtu out of range', (c) => c.createNetwork({ name: 'x', mtu: 20 }), /^mtu must be an integer from 1280 to 9000, got 20$/],
      ['bad aux address', (c) => c.createNetwork({ name: 'x', auxAddresses: { r: 'nope' } }), /^aux-address r: "nope" is not a valid IP address/],
      ['attach without netns', (c) => c.attach({ network: 'web' }), /netns is required/],
      ['relative netns', (c) => c.attach({ network: 'web', netns: 'c1' }), /^netns "c1" is not an absolute path/],
      ['attach without network', (c) => c.attach({ network: '', netns: '/run/netns/c1' }), /^network is required$/],
      ['bad alias', (c) => c.attach({ network: 'web', netns: '/x', aliases: ['ok', 'b@d'] }), /^invalid alias "b@d"/],
      ['bad ip', (c) => c.attach({ network: 'web', netns: '/x', ip: '10.0.0.300' }), /^ip: "10.0.0.300" is not a valid IP address: 300 is larger than 255$/],
      ['v6 address as ip', (c) => c.attach({ network: 'web', netns: '/x', ip: 'fd00::1' }), /^ip "fd00::1" is not an IPv4 address$/],
      ['multicast mac', (c) => c.attach({ network: 'web', netns: '/x', mac: '01:00:5e:00:00:01' }), /^mac 01:00:5e:00:00:01 is a multicast address/],
      ['preallocated without ip', (c) => c.attach({ network: 'web', netns: '/x', preallocated: true }), /^preallocated needs ip$/],
      ['bad mac', (c) => c.attach({ network: 'web', netns: '/x', mac: '02:42' }), /mac "02:42" is not a MAC address/],
      ['control chars', (c) => c.attach({ network: 'web', netns: '/x\n' }), /netns must not contain control characters/],
      ['empty endpoint id', (c) => c.detach(''), /^endpoint-id is required$/],
      ['empty inspect ref', (c) => c.inspectNetwork(''), /^name-or-id is required$/],
      ['bad purpose', (c) => c.requestAddress('p', undefined, 'router' as 'gateway'), /purpose "router" must be "gateway" or "endpoint"/],
      ['pool family mismatch', (c) => c.requestPool({ v6: true, pool: '10.0.0.0/8' }), /pool "10.0.0.0\/8" is not an IPv6 CIDR/],
      ['release without address', (c) => c.releaseAddress('p', ''), /^address is required$/],
      ['unknown key op', (c) => c.gossipKey('rotate' as 'list'), /^op "rotate" must be one of list, install, use, remove$/],
      ['empty key op', (c) => c.gossipKey('' as 'list'), /^op is required$/],
      ['install without key', (c) => c.gossipKey('install'), /^key is required for op install \(base64 of 16, 24 or 32 bytes\)$/],
      ['use with empty key', (c) => c.gossipKey('use', ''), /^key must not be empty/],
      ['remove without key', (c) => c.gossipKey('remove'), /^key is required for op remove/],
      ['list with a key', (c) => c.gossipKey('list', Buffer.alloc(32, 1).toString('base64')), /^key must not be given for op list$/],
      ['key not base64', (c) => c.gossipKey('install', 'not base64 at all!'), /^key is not valid base64/],
      ['key unpadded', (c) => c.gossipKey('install', Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')), /^key is not valid base64/],
      ['key url-safe alphabet', (c) => c.gossipKey('install', Buffer.alloc(16, 0xfb).toString('base64url') + '=='), /^key is not valid base64/],
      ['key of 10 bytes', (c) => c.gossipKey('install', Buffer.alloc(10).toString('base64')), /^key decodes to 10 bytes; a gossip key must be 16, 24 or 32 bytes/],
      ['key of 33 bytes', (c) => c.gossipKey('use', Buffer.alloc(33).toString('base64')), /^key decodes to 33 bytes/],
      ['overlong key', (c) => c.gossipKey('install', 'A'.repeat(400)), /^key is too long \(400 characters, at most 256\)$/],
    ];
    it.each(cases)('rejects %s with INVALID_ARGUMENT before reaching the agent', async (_label, send, message) => {
      await expectVxError(send(client), 'INVALID_ARGUMENT', message);
      expect(agent.calls).toEqual([]);
    });

    it('never repeats the rejected key in the error message', async () => {
      const key = Buffer.alloc(20, 0x5a).toString('base64');
      const error = await expectVxError(client.gossipKey('install', key), 'INVALID_ARGUMENT', /decodes to 20 bytes/);
      expect(error.message).not.toContain(key);
    });

    it('accepts keys of 16, 24 and 32 bytes', async () => {
      for (const size of [16, 24, 32]) {
        const key = randomBytes(size).toString('base64');
        await expect(client.gossipKey('install', key)).resolves.toMatchObject({ failed: [] });
        expect(agent.calls.at(-1)?.args).toEqual(['install', key]);
      }
      expect(agent.keyring).toHaveLength(3);
    });

    it('accepts docker-mode attach without netns', async () => {
      await client.createNetwork({ name: 'web' });
      await expect(client.attach({ network: 'web', leaveInHost: true })).resolves.toMatchObject({ network: 'web' });
    });
  });
});

describe('socket lifecycle', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vxmesh-api-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tells the user how to reach the agent when the socket is missing', async () => {
    const socketPath = join(dir, 'absent.sock');
    const client = connectApi(socketPath);
    try {
      await expectVxError(
        client.status(),
        'FAILED_PRECONDITION',
        `cannot reach the vxmesh agent at ${socketPath}: is \`vxmesh agent\` running? (set --socket or VXMESH_SOCKET)`,
      );
    } finally {
      client.close();
    }
  });

  it('replaces a stale socket, removes its socket on close, and refuses a live one', async () => {
    const socketPath = join(dir, 'vxmesh.sock');
    // A stale socket: its listener was killed before it could unlink it, as after a crash.
    const script = `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script], { timeout: 10_000 });
    expect((await stat(socketPath)).isSocket()).toBe(true);

    const server = await startApiServer(createFakeAgent(), socketPath, logger);
    const client = connectApi(socketPath);
    try {
      await expect(client.status()).resolves.toMatchObject({ version: '9.9.9-fake' });
      await expectVxError(
        startApiServer(createFakeAgent(), socketPath, logger),
        'FAILED_PRECONDITION',
        `another process is already serving ${socketPath}: is a vxmesh agent running?`,
      );
    } finally {
      client.close();
      await server.close();
    }
    await expect(stat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('says so when the socket is root-only (EACCES), and maps unknown statuses to INTERNAL', () => {
    const denied = toVxError(
      { code: GrpcStatus.UNAVAILABLE, details: 'No connection established. Last error: Error: connect EACCES /run/vx.sock' },
      '/run/vx.sock',
    );
    expect(denied.message).toBe('cannot reach the vxmesh agent at /run/vx.sock: permission denied (the socket is root-only: run as root)');
    const unknown = toVxError({ code: GrpcStatus.UNIMPLEMENTED, details: 'method not found' }, '/run/vx.sock');
    expect([unknown.code, unknown.message]).toEqual(['INTERNAL', 'method not found']);
  });

  it('refuses to replace a path that is not a socket', async () => {
    const socketPath = join(dir, 'file');
    await writeFile(socketPath, 'keep me');
    await expectVxError(startApiServer(createFakeAgent(), socketPath, logger), 'FAILED_PRECONDITION', /is not a socket/);
    expect((await stat(socketPath)).isFile()).toBe(true);
  });
});
