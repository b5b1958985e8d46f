// The docker plugin's HTTP surface against an in-memory agent: the exact bodies a real dockerd 20.10
// sent (test/docker/fixtures/requests.jsonl) replayed end to end, plus validation, 404s and errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VxError } from '../../src/errors.js';
import { LABEL_ENDPOINT_ID, LABEL_NETWORK_ID, startPluginServer, type PluginServer } from '../../src/plugin/index.js';
import { FakePoolAgent } from '../support/fake-pool-agent.js';

const logger = pino({ level: 'silent' });
const NET_ID = 'a'.repeat(64);
const EP_ID = 'b'.repeat(64);

interface Reply {
  status: number;
  json: Record<string, unknown>;
  contentType: string | undefined;
}

function call(socketPath: string, method: string, body?: unknown, opts: { raw?: string; httpMethod?: string } = {}): Promise<Reply> {
  const text = opts.raw ?? (body === undefined ? '' : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, agent: false, path: `/${method}`, method: opts.httpMethod ?? 'POST', headers: { Accept: 'application/vnd.docker.plugins.v1.2+json' } },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) as Record<string, unknown>, contentType: res.headers['content-type'] });
          } catch (err) {
            reject(new Error(`non-JSON reply to ${method}: ${data}`, { cause: err }));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

let dir: string;
let socketPath: string;
let agent: FakePoolAgent;
let plugin: PluginServer | undefined;

async function start(extra: { dockerHost?: string; nameWaitMs?: number } = {}): Promise<void> {
  plugin = await startPluginServer(agent, { socketPath, logger, dockerHost: extra.dockerHost ?? 'tcp://unused', ...(extra.nameWaitMs !== undefined ? { nameWaitMs: extra.nameWaitMs } : {}) });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vxplugin-'));
  socketPath = join(dir, 'plugins', 'vxtest.sock');
  agent = new FakePoolAgent();
});

afterEach(async () => {
  await plugin?.close();
  plugin = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function createNetworkBody(extra: { generic?: Record<string, unknown>; internal?: boolean; ipv6?: boolean; space?: string; pool?: string; gateway?: string; v6?: unknown[] } = {}) {
  return {
    NetworkID: NET_ID,
    Options: {
      'com.docker.network.enable_ipv6': extra.ipv6 ?? false,
      'com.docker.network.generic': extra.generic ?? {},
      ...(extra.internal ? { 'com.docker.network.internal': true } : {}),
    },
    IPv4Data: [{ AddressSpace: extra.space ?? 'LocalDefault', Pool: extra.pool ?? '10.20.0.0/24', Gateway: extra.gateway ?? '10.20.0.1/24' }],
    IPv6Data: extra.v6 ?? [],
  };
}

describe('plugin handshake', () => {
  it('activates as a network and IPAM driver and states its capabilities', async () => {
    await start();
    const activate = await call(socketPath, 'Plugin.Activate');
    expect(activate.status).toBe(200);
    expect(activate.json).toEqual({ Implements: ['NetworkDriver', 'IpamDriver'] });
    expect(activate.contentType).toBe('application/vnd.docker.plugins.v1.2+json');
    expect((await call(socketPath, 'NetworkDriver.GetCapabilities')).json).toEqual({ Scope: 'local', ConnectivityScope: 'global' });
    expect((await call(socketPath, 'IpamDriver.GetCapabilities')).json).toEqual({ RequiresMACAddress: false, RequiresRequestReplay: false });
    const spaces = (await call(socketPath, 'IpamDriver.GetDefaultAddressSpaces')).json;
    expect(spaces.LocalDefaultAddressSpace).toBe('vxmesh');
    expect(typeof spaces.GlobalDefaultAddressSpace).toBe('string');
  });

  it('answers unknown methods with 404 and other HTTP methods with 405, both as {"Err"}', async () => {
    await start();
    const unknown = await call(socketPath, 'NetworkDriver.Frobnicate', {});
    expect(unknown.status).toBe(404);
    expect(unknown.json.Err).toMatch(/unknown method "NetworkDriver.Frobnicate"/);
    expect((await call(socketPath, 'constructor', {})).status).toBe(404); // no prototype lookups
    const get = await call(socketPath, 'Plugin.Activate', undefined, { httpMethod: 'GET' });
    expect(get.status).toBe(405);
    expect(get.json.Err).toMatch(/POST/);
  });

  it('replaces a stale socket file but refuses to take over a live one', async () => {
    mkdirSync(join(dir, 'plugins'), { recursive: true });
    const live: Server = createServer();
    await new Promise<void>((r) => live.listen(socketPath, r));
    await expect(start()).rejects.toThrow(/another process already serves the docker plugin socket/);
    await new Promise<void>((r) => live.close(() => r()));
    // a stale socket: its process was killed and could not remove the file
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(statSync(socketPath).isSocket()).toBe(true);
    await start();
    expect((await call(socketPath, 'Plugin.Activate')).status).toBe(200);
    await plugin!.close();
    expect(existsSync(socketPath)).toBe(false); // close() removes the socket
    plugin = undefined;
  });
});

describe('replaying a real dockerd 20.10 session', () => {
  it('answers every recorded call in order and leaves the agent empty', async () => {
    await start();
    const lines = readFileSync(new URL('../docker/fixtures/requests.jsonl', import.meta.url), 'utf8').trim().split('\n');
    const poolIds = new Map<string, string>(); // the probe's PoolID -> ours
    const addresses = new Map<string, string>(); // the probe's address -> ours (ours honour --ip-range; the probe's did not)
    const methods = new Set<string>();
    for (const line of lines) {
      const rec = JSON.parse(line) as { path: string; body: Record<string, unknown> | null; res: Record<string, unknown> };
      methods.add(rec.path);
      // The recording came from a probe plugin: map its address space and pool ids onto ours,
      // ask for the subnet the probe chose (so later addresses match), and drop the made-up
      // `-o foo=bar` options it was given (vxmesh rejects them; tested below).
      if (rec.path === 'IpamDriver.RequestPool' && rec.body) {
        if (rec.body.Pool === '') rec.body.Pool = rec.res.Pool;
        rec.body.Options = {};
      }
      const text = JSON.stringify(rec.body)
        .replaceAll('"probelocal"', '"vxmesh"')
        .replace(/"PoolID":"([^"]+)"/g, (_m, id: string) => `"PoolID":"${poolIds.get(id) ?? id}"`)
        .replace(/"com\.docker\.network\.generic":\{[^}]*\}/g, '"com.docker.network.generic":{}')
        .replace(/"(\d+\.\d+\.\d+\.\d+)(\/\d+)?"/g, (_m, ip: string, len: string | undefined) => `"${addresses.get(ip) ?? ip}${len ?? ''}"`);
      const reply = await call(socketPath, rec.path, undefined, { raw: rec.body === null ? '' : text });
      expect(reply.status, `${rec.path} ${text} -> ${JSON.stringify(reply.json)}`).toBe(200);
      if (rec.path === 'IpamDriver.RequestPool') {
        poolIds.set(String(rec.res.PoolID), String(reply.json.PoolID));
        expect(reply.json.Pool).toBe(rec.body?.Pool);
      }
      if (rec.path === 'IpamDriver.RequestAddress') {
        expect(String(reply.json.Address)).toMatch(/\/\d+$/); // CIDR form, as dockerd requires
        const ours = String(reply.json.Address).split('/')[0]!;
        if (rec.body?.Address) expect(ours).toBe(rec.body.Address);
        else addresses.set(String(rec.res.Address).split('/')[0]!, ours);
      }
      if (rec.path === 'NetworkDriver.Join') {
        const body = rec.body!;
        const ep = [...agent.endpoints.values()].find((e) => e.labels[LABEL_ENDPOINT_ID] === body.EndpointID)!;
        expect(reply.json.InterfaceName).toEqual({ SrcName: ep.ifName, DstPrefix: 'eth' });
        const net = [...agent.networks.values()].find((n) => n.labels[LABEL_NETWORK_ID] === body.NetworkID)!;
        expect(reply.json.Gateway).toBe(net.internal ? undefined : net.ipv4.gateway);
      }
      if (rec.path === 'NetworkDriver.CreateEndpoint') {
        const iface = (rec.body!.Interface ?? {}) as Record<string, string>;
        const given = (reply.json.Interface ?? {}) as Record<string, string>;
        // never echo back what dockerd supplied: libnetwork treats that as an error
        if (iface.Address) expect(given.Address).toBeUndefined();
        if (iface.MacAddress) expect(given.MacAddress).toBeUndefined();
        else expect(given.MacAddress).toMatch(/^02:/);
      }
    }
    expect(methods.size).toBeGreaterThanOrEqual(17);
    expect(agent.networks.size).toBe(0);
    expect(agent.endpoints.size).toBe(0);
    expect(agent.pools.size).toBe(0);
  });
});

describe('NetworkDriver mapping', () => {
  it('maps a docker network onto a labelled vxmesh network and its endpoints onto host-side veths', async () => {
    await start();
    expect((await call(socketPath, 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { 'vxmesh.network': 'web', 'com.docker.network.driver.mtu': '1400' }, internal: true }))).status).toBe(200);
    const net = [...agent.networks.values()][0]!;
    expect(net).toMatchObject({ name: 'web', mtu: 1400, internal: true, labels: { [LABEL_NETWORK_ID]: NET_ID, 'docker.ipam': 'docker' } });
    expect(net.ipv4).toMatchObject({ subnet: '10.20.0.0/24', gateway: '10.20.0.1' });
    const created = await call(socketPath, 'NetworkDriver.CreateEndpoint', { NetworkID: NET_ID, EndpointID: EP_ID, Interface: { Address: '10.20.0.7/24', AddressIPv6: '', MacAddress: '' }, Options: {} });
    expect(created.status).toBe(200);
    const ep = [...agent.endpoints.values()][0]!;
    expect(ep.ipv4).toBe('10.20.0.7/24');
    expect(created.json).toEqual({ Interface: { MacAddress: ep.mac } });
    const joined = await call(socketPath, 'NetworkDriver.Join', { NetworkID: NET_ID, EndpointID: EP_ID, SandboxKey: '/var/run/docker/netns/x', Options: {} });
    // internal network: no default route through vxmesh
    expect(joined.json).toEqual({ InterfaceName: { SrcName: ep.ifName, DstPrefix: 'eth' }, StaticRoutes: [] });
    expect((await call(socketPath, 'NetworkDriver.EndpointOperInfo', { NetworkID: NET_ID, EndpointID: EP_ID })).json.Value).toMatchObject({ 'vxmesh.endpoint': ep.id });
    expect((await call(socketPath, 'NetworkDriver.DeleteEndpoint', { NetworkID: NET_ID, EndpointID: EP_ID })).status).toBe(200);
    expect(agent.endpoints.size).toBe(0);
    // deleting twice is fine (dockerd retries after failures)
    expect((await call(socketPath, 'NetworkDriver.DeleteEndpoint', { NetworkID: NET_ID, EndpointID: EP_ID })).status).toBe(200);
    expect((await call(socketPath, 'NetworkDriver.DeleteNetwork', { NetworkID: NET_ID })).status).toBe(200);
    expect(agent.networks.size).toBe(0);
  });

  it('keeps no state of its own: a restarted plugin finds networks and endpoints by their labels', async () => {
    await start();
    await call(socketPath, 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { 'vxmesh.network': 'persist' } }));
    await call(socketPath, 'NetworkDriver.CreateEndpoint', { NetworkID: NET_ID, EndpointID: EP_ID, Interface: { Address: '10.20.0.9/24' } });
    await plugin!.close();
    await start();
    const joined = await call(socketPath, 'NetworkDriver.Join', { NetworkID: NET_ID, EndpointID: EP_ID, SandboxKey: '/x' });
    expect(joined.status).toBe(200);
    expect(joined.json.Gateway).toBe('10.20.0.1');
    // a replayed CreateNetwork for an existing docker network changes nothing
    expect((await call(socketPath, 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { 'vxmesh.network': 'persist' } }))).status).toBe(200);
    expect(agent.networks.size).toBe(1);
  });

  it('names the vxmesh network after the docker network once dockerd shows it', async () => {
    const known = new Map<string, string>();
    const dockerSock = join(dir, 'docker.sock');
    const fakeDockerd = createServer((req, res) => {
      const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      const name = known.get(id);
      res.writeHead(name ? 200 : 404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(name ? { Name: name, Id: id } : { message: `network ${id} not found` }));
    });
    await new Promise<void>((r) => fakeDockerd.listen(dockerSock, r));
    try {
      await start({ dockerHost: `unix://${dockerSock}`, nameWaitMs: 5000 });
      // dockerd records the network only after CreateNetwork returned
      expect((await call(socketPath, 'NetworkDriver.CreateNetwork', createNetworkBody())).status).toBe(200);
      expect(agent.networks.size).toBe(0);
      known.set(NET_ID, 'frontend');
      const created = await call(socketPath, 'NetworkDriver.CreateEndpoint', { NetworkID: NET_ID, EndpointID: EP_ID, Interface: { Address: '10.20.0.3/24' } });
      expect(created.status).toBe(200);
      expect([...agent.networks.values()].map((n) => n.name)).toEqual(['frontend']);

      // a second docker network whose name is taken by a plain vxmesh network: the error says what to do
      await agent.createNetwork({ name: 'taken', subnet: '10.99.0.0/24' });
      const other = 'c'.repeat(64);
      await call(socketPath, 'NetworkDriver.CreateNetwork', { ...createNetworkBody({ pool: '10.21.0.0/24', gateway: '10.21.0.1/24' }), NetworkID: other });
      known.set(other, 'taken');
      const failed = await call(socketPath, 'NetworkDriver.CreateEndpoint', { NetworkID: other, EndpointID: EP_ID, Interface: { Address: '10.21.0.3/24' } });
      expect(failed.status).toBe(409);
      expect(failed.json.Err).toMatch(/vxmesh network "taken" already exists: .*-o vxmesh.network=OTHER/);
      expect((await call(socketPath, 'NetworkDriver.DeleteNetwork', { NetworkID: other })).status).toBe(200);
    } finally {
      await plugin?.close();
      plugin = undefined;
      await new Promise<void>((r) => fakeDockerd.close(() => r()));
    }
  });

  it('refuses an overlapping subnet from docker\'s IPAM at once, before the name is known', async () => {
    const dockerSock = join(dir, 'docker.sock');
    const fakeDockerd = createServer((_req, res) => {
      res.writeHead(404);
      res.end('{}');
    });
    await new Promise<void>((r) => fakeDockerd.listen(dockerSock, r));
    try {
      await start({ dockerHost: `unix://${dockerSock}`, nameWaitMs: 5000 });
      await agent.createNetwork({ name: 'existing', subnet: '10.20.0.0/16' });
      const reply = await call(socketPath, 'NetworkDriver.CreateNetwork', createNetworkBody());
      expect(reply.status).toBe(409);
      expect(reply.json.Err).toMatch(/overlaps 10\.20\.0\.0\/16/);
      expect([...agent.pools.keys()]).toEqual(['local/10.20.0.0/16']); // the check reserved nothing
    } finally {
      await plugin?.close();
      plugin = undefined;
      await new Promise<void>((r) => fakeDockerd.close(() => r()));
    }
  });

  it('falls back to docker-<id> when dockerd never shows the name', async () => {
    const dockerSock = join(dir, 'docker.sock');
    const fakeDockerd = createServer((_req, res) => {
      res.writeHead(404);
      res.end('{}');
    });
    await new Promise<void>((r) => fakeDockerd.listen(dockerSock, r));
    try {
      await start({ dockerHost: `unix://${dockerSock}`, nameWaitMs: 150 });
      await call(socketPath, 'NetworkDriver.CreateNetwork', createNetworkBody());
      const joined = await call(socketPath, 'NetworkDriver.CreateEndpoint', { NetworkID: NET_ID, EndpointID: EP_ID, Interface: { Address: '10.20.0.3/24' } });
      expect(joined.status).toBe(200);
      expect([...agent.networks.values()].map((n) => n.name)).toEqual([`docker-${NET_ID.slice(0, 12)}`]);
    } finally {
      await plugin?.close();
      plugin = undefined;
      await new Promise<void>((r) => fakeDockerd.close(() => r()));
    }
  });
});

describe('bad input', () => {
  beforeEach(start);

  const cases: Array<[string, string, unknown, RegExp]> = [
    ['empty body', 'NetworkDriver.CreateNetwork', undefined, /must be a JSON object, got null/],
    ['array body', 'NetworkDriver.Join', [], /must be a JSON object, got an array/],
    ['missing NetworkID', 'NetworkDriver.CreateNetwork', { Options: {} }, /field NetworkID must be a non-empty string/],
    ['bad id', 'NetworkDriver.DeleteNetwork', { NetworkID: '../../etc' }, /is not a docker id/],
    ['Options not an object', 'NetworkDriver.CreateNetwork', { NetworkID: NET_ID, Options: 'x' }, /field Options must be an object/],
    ['two IPv4 subnets', 'NetworkDriver.CreateNetwork', { ...createNetworkBody(), IPv4Data: [{ Pool: '10.1.0.0/24' }, { Pool: '10.2.0.0/24' }] }, /one IPv4 subnet/],
    ['unknown -o option', 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { foo: 'bar' } }), /unknown network option -o foo.*vxmesh\.network=NAME/],
    ['bad mtu', 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { 'com.docker.network.driver.mtu': 'big' } }), /not a number of bytes/],
    ['mtu below IPv6 minimum', 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { 'com.docker.network.driver.mtu': '1000' } }), /^vxmesh: -o com.docker.network.driver.mtu must be an integer from 1280 to 9000, got "1000"$/],
    ['bad network name', 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { 'vxmesh.network': 'b@d' } }), /^vxmesh: invalid -o vxmesh.network "b@d": use 1 to 63 letters/],
    ['ipv6 without pool', 'NetworkDriver.CreateNetwork', createNetworkBody({ ipv6: true }), /--ipv6 needs an IPv6 pool/],
    ['bool as string', 'NetworkDriver.CreateNetwork', { ...createNetworkBody(), Options: { 'com.docker.network.internal': 'yes' } }, /must be true or false/],
    ['Join without SandboxKey', 'NetworkDriver.Join', { NetworkID: NET_ID, EndpointID: EP_ID }, /field SandboxKey must be a non-empty string/],
    ['unknown --ipam-opt', 'IpamDriver.RequestPool', { AddressSpace: 'vxmesh', Pool: '', SubPool: '', Options: { color: 'red' }, V6: false }, /unknown option --ipam-opt color/],
    ['foreign address space', 'IpamDriver.RequestPool', { AddressSpace: 'LocalDefault', Pool: '', V6: false }, /unknown address space "LocalDefault"/],
    ['V6 not bool', 'IpamDriver.RequestPool', { AddressSpace: 'vxmesh', V6: 'no' }, /V6 must be true or false/],
    ['no PoolID', 'IpamDriver.RequestAddress', { Address: '' }, /field PoolID must be a non-empty string/],
    ['no Address to release', 'IpamDriver.ReleaseAddress', { PoolID: 'local/10.0.0.0/24' }, /field Address/],
    ['invalid JSON', 'IpamDriver.ReleasePool', '{"PoolID":', /not valid JSON/],
  ];
  for (const [what, method, body, message] of cases) {
    it(`rejects ${what} with 400 {"Err"}`, async () => {
      const reply = typeof body === 'string' ? await call(socketPath, method, undefined, { raw: body }) : await call(socketPath, method, body);
      expect(reply.status).toBe(400);
      expect(reply.json.Err).toMatch(message);
      expect(Object.keys(reply.json)).toEqual(['Err']);
    });
  }

  it('rejects nothing half-way: a refused CreateNetwork leaves the agent untouched', async () => {
    await call(socketPath, 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { foo: 'bar' } }));
    expect(agent.calls.filter((c) => c === 'createNetwork')).toEqual([]);
  });

  it('passes agent errors through with their message and a matching status', async () => {
    const pool = await call(socketPath, 'IpamDriver.RequestPool', { AddressSpace: 'vxmesh', Pool: '10.30.0.0/16', SubPool: '10.30.5.0/30', Options: {}, V6: false });
    expect(pool.status).toBe(200);
    const poolId = String(pool.json.PoolID);
    const overlap = await call(socketPath, 'IpamDriver.RequestPool', { AddressSpace: 'vxmesh', Pool: '10.30.4.0/24', V6: false });
    expect(overlap.status).toBe(409);
    expect(overlap.json.Err).toMatch(/overlaps 10\.30\.0\.0\/16/);
    // --ip-range 10.30.5.0/30 has two usable addresses after the range's first
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await call(socketPath, 'IpamDriver.RequestAddress', { PoolID: poolId, Address: '', Options: null }));
    expect(got.slice(0, 2).map((r) => r.json.Address)).toEqual(['10.30.5.1/16', '10.30.5.2/16']);
    expect(got[2]!.status).toBe(409);
    expect(got[2]!.json.Err).toMatch(/no free address left/);
    agent.failNext.listNetworks = new VxError('INTERNAL', 'store is read-only');
    const internal = await call(socketPath, 'NetworkDriver.CreateEndpoint', { NetworkID: NET_ID, EndpointID: EP_ID, Interface: {} });
    expect(internal.status).toBe(500);
    expect(internal.json.Err).toBe('store is read-only');
    agent.failNext.listNetworks = new TypeError('boom');
    const unexpected = await call(socketPath, 'NetworkDriver.DeleteEndpoint', { NetworkID: NET_ID, EndpointID: EP_ID });
    expect(unexpected.status).toBe(500);
    expect(unexpected.json.Err).toMatch(/DeleteEndpoint failed: boom; see the vxmesh agent log/);
  });

  it('says what to do when dockerd names a network vxmesh does not know', async () => {
    const reply = await call(socketPath, 'NetworkDriver.Join', { NetworkID: NET_ID, EndpointID: EP_ID, SandboxKey: '/x' });
    expect(reply.status).toBe(400);
    expect(reply.json.Err).toMatch(/vxmesh has no network for docker network aaaaaaaaaaaa.*docker network create/);
  });
});
