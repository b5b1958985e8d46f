import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentConfig } from '../../src/agent/config.js';
import { VxError } from '../../src/errors.js';
import { type NetworkInfo } from '../../src/model/api.js';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { connectApi } from '../../src/api/client.js';
import { runCli, type CliDeps } from '../../src/cli/main.js';
import { VERSION } from '../../src/model/version.js';
import { createFakeAgent, defaultFakeNodes, type FakeAgent } from './api-fake-agent.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('vxmesh CLI', () => {
  let dir: string;
  let socketPath: string;
  let agent: FakeAgent;
  let server: ApiServer;

  async function run(argv: string[], env: NodeJS.ProcessEnv = { VXMESH_SOCKET: socketPath }, deps?: CliDeps): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
    const code = await runCli(argv, env, io, deps);
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vxmesh-cli-'));
    socketPath = join(dir, 'vxmesh.sock');
    agent = createFakeAgent();
    server = await startApiServer(agent, socketPath, pino({ level: 'silent' }));
  });

  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    for (const endpoint of await agent.listEndpoints()) await agent.detach(endpoint.id);
    for (const network of await agent.listNetworks()) await agent.removeNetwork(network.id);
    agent.nodes = defaultFakeNodes();
    agent.keyring = [];
    agent.keyFailures = [];
    agent.calls.length = 0;
  });

  describe('help and usage errors', () => {
    it('prints the command list for --help', async () => {
      const result = await run(['--help']);
      expect(result.code).toBe(0);
      for (const command of [
        'agent', 'network create', 'network ls', 'endpoint attach', 'node ls', 'gossip keygen', 'gossip key install', 'status', 'version',
      ]) {
        expect(result.stdout).toContain(`  ${command} `);
      }
    });

    it('prints a command help with its options and exits 0', async () => {
      const result = await run(['network', 'create', '--help']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^usage: vxmesh network create \[options\] NAME/);
      expect(result.stdout).toContain('--aux-address NAME=IP');
      expect(result.stdout).toContain('(repeatable)');
      const agentHelp = await run(['agent', '--help']);
      expect(agentHelp.code).toBe(0);
      expect(agentHelp.stdout).toContain('--gossip-port PORT');
      expect(agentHelp.stdout).toContain('env VXMESH_GOSSIP_PORT, default 7946');
    });

    it.each([
      [[], 'missing command'],
      [['frob'], "unknown command 'frob'"],
      [['network'], 'missing network command'],
      [['network', 'frob'], "unknown network command 'frob'"],
      [['--bogus', 'status'], "unknown option '--bogus'"],
      [['--socket'], "option '--socket' needs a value"],
      [['network', 'create'], 'missing NAME'],
      [['network', 'create', 'a', 'b'], "unexpected argument 'b'"],
      [['network', 'create', 'web', '--bogus'], "unknown option '--bogus'"],
      [['network', 'create', 'web', '--subnet'], "option '--subnet' needs a value"],
      [['network', 'create', 'web', '--internal=yes'], "option '--internal' does not take a value"],
      [['network', 'create', 'web', '--mtu', 'big'], '--mtu must be an integer from 1280 to 9000, got "big"'],
      [['network', 'create', 'web', '--label', 'novalue'], "--label expects KEY=VALUE, got 'novalue'"],
      [['network', 'create', 'web', '--subnet-v6', 'fd00::/64'], '--subnet-v6 needs --ipv6'],
      [['network', 'inspect'], 'missing NAME'],
      [['network', 'rm'], 'missing NAME'],
      [['network', 'ls', 'extra'], "unexpected argument 'extra'"],
      [['endpoint', 'attach', '--netns', '/run/netns/c1'], '--network is required (e.g. --network web)'],
      [['endpoint', 'attach', '--network', 'web'], '--netns is required (e.g. --netns /run/netns/c1)'],
      [['endpoint', 'detach'], 'missing ENDPOINT'],
      [['status', '--socket', '/x'], "unknown option '--socket'"],
      [['agent', '--gossip-port', 'x'], '--gossip-port must be an integer from 1 to 65535, got "x"'],
      [['node'], 'missing node command'],
      [['node', 'ls', 'extra'], "unexpected argument 'extra'"],
      [['gossip'], 'missing gossip command'],
      [['gossip', 'frob'], "unknown gossip command 'frob'"],
      [['gossip', 'key'], 'missing gossip key command'],
      [['gossip', 'key', 'rotate'], "unknown gossip key command 'rotate'"],
      [['gossip', 'keygen', '32'], "unexpected argument '32'"],
      [['gossip', 'key', 'install'], 'missing KEY'],
      [['gossip', 'key', 'use'], 'missing KEY'],
      [['gossip', 'key', 'remove'], 'missing KEY'],
      [['gossip', 'key', 'ls', 'AAAA'], "unexpected argument 'AAAA'"],
      [['gossip', 'key', 'install', 'not*base64'], 'key is not valid base64 (standard alphabet, padded; e.g. the output of `vxmesh gossip keygen`)'],
      [['gossip', 'key', 'use', Buffer.alloc(8).toString('base64')], 'key decodes to 8 bytes; a gossip key must be 16, 24 or 32 bytes (AES-128, AES-192 or AES-256)'],
    ])('exits 2 for %j with a clear message', async (argv, message) => {
      const result = await run(argv);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.split('\n')[0]).toBe(`error: ${message}`);
      expect(agent.calls).toEqual([]);
    });
  });

  describe('network', () => {
    it('creates a network from every flag and prints its id', async () => {
      const result = await run([
        'network', 'create', 'web',
        '--subnet', '10.7.0.0/24', '--gateway', '10.7.0.254', '--ip-range', '10.7.0.128/25',
        '--aux-address', 'router=10.7.0.2', '--aux-address', 'dns=10.7.0.3',
        '--ipv6', '--subnet-v6', 'fd00:7::/64', '--gateway-v6', 'fd00:7::1', '--ip-range-v6', 'fd00:7::/80',
        '--mtu', '1400', '--internal', '--label', 'team=blue', '--label', 'tier=a=b',
      ]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const created = await agent.inspectNetwork('web');
      expect(result.stdout).toBe(`${created.id}\n`);
      expect(agent.calls.find((c) => c.method === 'createNetwork')?.args[0]).toStrictEqual({
        name: 'web',
        subnet: '10.7.0.0/24',
        gateway: '10.7.0.254',
        ipRange: '10.7.0.128/25',
        auxAddresses: { router: '10.7.0.2', dns: '10.7.0.3' },
        ipv6: true,
        subnetV6: 'fd00:7::/64',
        gatewayV6: 'fd00:7::1',
        ipRangeV6: 'fd00:7::/80',
        mtu: 1400,
        internal: true,
        labels: { team: 'blue', tier: 'a=b' },
      });
    });

    it('sends only the name when no flags are given, and prints JSON with --json', async () => {
      const result = await run(['network', 'create', 'plain', '--json']);
      expect(result.code).toBe(0);
      expect(agent.calls[0]?.args[0]).toStrictEqual({ name: 'plain' });
      expect(JSON.parse(result.stdout)).toEqual(await agent.inspectNetwork('plain'));
    });

    it('lists networks as a table, as JSON and as ids', async () => {
      const web = await agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24' });
      const db = await agent.createNetwork({ name: 'db', subnet: '10.2.0.0/24', ipv6: true, internal: true });
      const table = await run(['network', 'ls']);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]?.split(/\s{2,}/)).toEqual(['NETWORK ID', 'NAME', 'VNI', 'SUBNET', 'GATEWAY', 'IPV6 SUBNET', 'MTU', 'ENDPOINTS', 'INTERNAL']);
      expect(lines[1]?.split(/\s+/)).toEqual([web.id.slice(0, 12), 'web', String(web.vni), '10.1.0.0/24', '10.1.0.1', '-', '1450', '0', 'no']);
      expect(lines[2]?.split(/\s+/)).toEqual([db.id.slice(0, 12), 'db', String(db.vni), '10.2.0.0/24', '10.2.0.1', db.ipv6?.subnet, '1450', '0', 'yes']);
      // Columns line up: every row's NAME starts where the header's does.
      const nameColumn = lines[0]?.indexOf('NAME');
      expect(lines[1]?.indexOf('web')).toBe(nameColumn);
      expect(lines[2]?.indexOf('db')).toBe(nameColumn);

      const json = await run(['network', 'ls', '--json']);
      expect(JSON.parse(json.stdout)).toEqual([web, db]);
      const jsonFirst = await run(['--json', 'network', 'ls']);
      expect(jsonFirst.stdout).toBe(json.stdout);
      // -q prints the ids as the table shows them (like docker); they work wherever an id is taken.
      const quiet = await run(['network', 'ls', '-q']);
      expect(quiet.stdout).toBe(`${web.id.slice(0, 12)}\n${db.id.slice(0, 12)}\n`);
    });

    it('prints only headers when there are no networks', async () => {
      const result = await run(['network', 'ls']);
      expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
    });

    it('inspects networks as a JSON array and reports the ones it cannot find', async () => {
      const web = await agent.createNetwork({ name: 'web' });
      const db = await agent.createNetwork({ name: 'db' });
      const both = await run(['network', 'inspect', 'web', db.id.slice(0, 6)]);
      expect(both.code).toBe(0);
      expect(JSON.parse(both.stdout) as NetworkInfo[]).toEqual([web, db]);

      const partial = await run(['network', 'inspect', 'web', 'nope']);
      expect(partial.code).toBe(1);
      expect(JSON.parse(partial.stdout)).toEqual([web]);
      expect(partial.stderr).toBe('error: network nope not found\n');
    });

    it('removes networks, going on after a failure', async () => {
      await agent.createNetwork({ name: 'a' });
      await agent.createNetwork({ name: 'b' });
      const result = await run(['network', 'rm', 'a', 'missing', 'b']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('a\nb\n');
      expect(result.stderr).toBe('error: network missing not found\n');
      expect(await agent.listNetworks()).toEqual([]);
    });

    it('exits 1 with the agent message when the agent rejects the request', async () => {
      await agent.createNetwork({ name: 'web' });
      const duplicate = await run(['network', 'create', 'web']);
      expect(duplicate).toEqual({ code: 1, stdout: '', stderr: 'error: network web already exists\n' });
      agent.failNext = new VxError('RESOURCE_EXHAUSTED', 'the default address pools are exhausted');
      const exhausted = await run(['network', 'create', 'x']);
      expect(exhausted).toEqual({ code: 1, stdout: '', stderr: 'error: the default address pools are exhausted\n' });
    });
  });

  describe('endpoint', () => {
    it('attaches with every flag and prints the id and addresses', async () => {
      await agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24', ipv6: true });
      agent.calls.length = 0;
      const result = await run([
        'endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--name', 'api',
        '--alias', 'api.v1', '--alias', 'backend', '--ip', '10.1.0.50', '--ipv6', 'fd76::50',
        '--mac', '02:42:0a:01:00:32', '--label', 'owner=test',
      ]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const [endpoint] = await agent.listEndpoints();
      expect(result.stdout).toBe(`${endpoint?.id} 10.1.0.50/24 fd76::50/64\n`);
      expect(agent.calls[0]?.args[0]).toStrictEqual({
        network: 'web',
        netns: '/run/netns/c1',
        name: 'api',
        aliases: ['api.v1', 'backend'],
        ip: '10.1.0.50',
        ipv6: 'fd76::50',
        mac: '02:42:0a:01:00:32',
        labels: { owner: 'test' },
      });
    });

    it('lists endpoints (all or per network), as a table and as JSON, and detaches them', async () => {
      await agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24' });
      await agent.createNetwork({ name: 'db', subnet: '10.2.0.0/24' });
      const a = await agent.attach({ network: 'web', netns: '/run/netns/c1', name: 'a', aliases: ['x', 'y'] });
      const b = await agent.attach({ network: 'db', netns: '/run/netns/c2', name: 'b' });

      const table = await run(['endpoint', 'ls']);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]?.split(/\s{2,}/)).toEqual(['ENDPOINT ID', 'NAME', 'NETWORK', 'IPV4', 'IPV6', 'MAC', 'NETNS', 'ALIASES']);
      expect(lines[1]?.split(/\s+/)).toEqual([a.id.slice(0, 12), 'a', 'web', a.ipv4, '-', a.mac, '/run/netns/c1', 'x,y']);
      expect(lines[2]?.split(/\s+/)).toEqual([b.id.slice(0, 12), 'b', 'db', b.ipv4, '-', b.mac, '/run/netns/c2', '-']);

      const filtered = await run(['endpoint', 'ls', '--network', 'db', '--json']);
      expect(JSON.parse(filtered.stdout)).toEqual([b]);

      const detached = await run(['endpoint', 'detach', a.id, 'nope', b.id]);
      expect(detached.code).toBe(1);
      expect(detached.stdout).toBe(`${a.id}\n${b.id}\n`);
      expect(detached.stderr).toBe('error: endpoint nope not found (vxmesh endpoint ls lists them)\n');
      expect(await agent.listEndpoints()).toEqual([]);
    });

    it('detaches by name, by unique id prefix or by id, and lists ids with -q', async () => {
      await agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24' });
      const a = await agent.attach({ network: 'web', netns: '/run/netns/c1', name: 'alpha' });
      const b = await agent.attach({ network: 'web', netns: '/run/netns/c2', name: 'beta' });
      const c = await agent.attach({ network: 'web', netns: '/run/netns/c3', name: 'gamma' });
      const quiet = await run(['endpoint', 'ls', '-q']);
      expect(quiet).toEqual({ code: 0, stdout: [a, b, c].map((e) => `${e.id.slice(0, 12)}\n`).join(''), stderr: '' });

      const byName = await run(['endpoint', 'detach', 'alpha']);
      expect(byName).toEqual({ code: 0, stdout: 'alpha\n', stderr: '' });
      // The short id -q printed is accepted back.
      const byShortId = await run(['endpoint', 'detach', b.id.slice(0, 12)]);
      expect(byShortId.code).toBe(0);
      const byId = await run(['--json', 'endpoint', 'detach', c.id]);
      expect(JSON.parse(byId.stdout)).toEqual([c.id]);
      expect(agent.calls.filter((call) => call.method === 'detach').map((call) => call.args[0])).toEqual([a.id, b.id, c.id]);
      expect(await agent.listEndpoints()).toEqual([]);
    });

    it('refuses an id prefix shared by several endpoints, listing them', async () => {
      await agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24' });
      const a = await agent.attach({ network: 'web', netns: '/run/netns/c1', name: 'alpha' });
      const b = await agent.attach({ network: 'web', netns: '/run/netns/c2', name: 'beta' });
      let shared = 0;
      while (a.id[shared] === b.id[shared]) shared += 1;
      const prefix = a.id.slice(0, shared);
      expect(prefix.length).toBeGreaterThan(0);
      const result = await run(['endpoint', 'detach', prefix]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: endpoint ${prefix} is ambiguous: it is the id prefix of ${a.id.slice(0, 12)} (name alpha, network web), ${b.id.slice(0, 12)} (name beta, network web): give the id\n`,
      );
      expect(await agent.listEndpoints()).toHaveLength(2);
    });

    it('exits 1 when the network does not exist', async () => {
      const result = await run(['endpoint', 'attach', '--network', 'ghost', '--netns', '/run/netns/c1']);
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: network ghost not found\n' });
    });
  });

  describe('node', () => {
    it('lists members as a table sorted by name, self marked, IPv6 bracketed', async () => {
      const result = await run(['node', 'ls']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines[0]?.split(/\s+/)).toEqual(['NAME', 'ADDRESS', 'STATE', 'SELF']);
      expect(lines.slice(1).map((line) => line.split(/\s+/))).toEqual([
        ['node-a', '198.51.100.1:7946', 'alive', '*'],
        ['node-b', '[2001:db8::2]:7947', 'alive'],
        ['node-c', '203.0.113.3:7946', 'suspect'],
      ]);
      const selfColumn = lines[0]?.indexOf('SELF');
      expect(lines[1]?.indexOf('*')).toBe(selfColumn);
    });

    it('prints the member names with -q, sorted like the table', async () => {
      expect(await run(['node', 'ls', '-q'])).toEqual({ code: 0, stdout: 'node-a\nnode-b\nnode-c\n', stderr: '' });
    });

    it('prints the members as JSON with --json, and only headers without members', async () => {
      const json = await run(['node', 'ls', '--json']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(defaultFakeNodes());
      agent.nodes = [];
      const empty = await run(['node', 'ls']);
      expect(empty.stdout).toBe('NAME   ADDRESS   STATE   SELF\n');
    });

    it('shows help and fails with exit 1 when the agent is unreachable', async () => {
      const help = await run(['node', 'ls', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^usage: vxmesh node ls \[options\]\n/);
      expect(help.stdout).toContain('--json');
      const absent = await run(['node', 'ls'], { VXMESH_SOCKET: join(dir, 'absent.sock') });
      expect(absent.code).toBe(1);
      expect(absent.stderr).toMatch(/^error: cannot reach the vxmesh agent/);
    });
  });

  describe('gossip', () => {
    it('keygen prints a fresh base64 32-byte key each time, without an agent', async () => {
      const env = { VXMESH_SOCKET: join(dir, 'absent.sock') };
      const first = await run(['gossip', 'keygen'], env);
      const second = await run(['gossip', 'keygen'], env);
      for (const result of [first, second]) {
        expect(result).toMatchObject({ code: 0, stderr: '' });
        expect(result.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
        expect(Buffer.from(result.stdout.trim(), 'base64')).toHaveLength(32);
      }
      expect(first.stdout).not.toBe(second.stdout);
      expect(agent.calls).toEqual([]);
    });

    it('keygen output is accepted by key install', async () => {
      const key = (await run(['gossip', 'keygen'])).stdout.trim();
      const result = await run(['gossip', 'key', 'install', key]);
      expect(result.code).toBe(0);
      expect(agent.keyring).toEqual([key]);
    });

    it('rotates a key: install, use, remove the old one, with the keyring and node count each time', async () => {
      const oldKey = randomBytes(32).toString('base64');
      const newKey = randomBytes(32).toString('base64');
      agent.keyring = [oldKey];

      const installed = await run(['gossip', 'key', 'install', newKey]);
      expect(installed).toMatchObject({ code: 0, stderr: '' });
      expect(agent.calls.at(-1)).toEqual({ method: 'gossipKey', args: ['install', newKey] });
      expect(installed.stdout.trimEnd().split('\n').map((line) => line.split(/\s+/))).toEqual([
        ['KEY', 'PRIMARY'],
        [oldKey, '*'],
        [newKey],
        ['applied', 'on', '2', 'node(s)'],
      ]);

      const used = await run(['gossip', 'key', 'use', newKey]);
      expect(used.code).toBe(0);
      expect(used.stdout.trimEnd().split('\n').map((line) => line.split(/\s+/))).toEqual([
        ['KEY', 'PRIMARY'],
        [newKey, '*'],
        [oldKey],
        ['applied', 'on', '2', 'node(s)'],
      ]);

      const removed = await run(['gossip', 'key', 'remove', oldKey]);
      expect(removed.code).toBe(0);
      expect(removed.stdout).toContain(newKey);
      expect(removed.stdout).not.toContain(oldKey);
      expect(agent.keyring).toEqual([newKey]);
    });

    it('lists the keyring without a node count, and says when gossip is not encrypted', async () => {
      const empty = await run(['gossip', 'key', 'ls']);
      expect(empty).toEqual({ code: 0, stdout: 'no gossip keys: gossip traffic is not encrypted\n', stderr: '' });
      expect(agent.calls.at(-1)).toEqual({ method: 'gossipKey', args: ['list', undefined] });
      const [a, b] = [randomBytes(16).toString('base64'), randomBytes(24).toString('base64')];
      agent.keyring = [a, b];
      const listed = await run(['gossip', 'key', 'ls']);
      expect(listed.stdout.trimEnd().split('\n').map((line) => line.split(/\s+/))).toEqual([['KEY', 'PRIMARY'], [a, '*'], [b]]);
      expect(await run(['gossip', 'key', 'ls', '-q'])).toEqual({ code: 0, stdout: `${a}\n${b}\n`, stderr: '' });
      const json = await run(['gossip', 'key', 'ls', '--json']);
      expect(JSON.parse(json.stdout)).toEqual({ keys: [a, b], primary: a, nodes: 1, failed: [] });
    });

    it('lists failed nodes on stderr and exits 1, as text and as JSON', async () => {
      const key = randomBytes(32).toString('base64');
      agent.keyFailures = [
        { node: 'node-b', error: 'no ack within 5s' },
        { node: 'node-c', error: 'node is suspect' },
      ];
      const text = await run(['gossip', 'key', 'install', key]);
      expect(text.code).toBe(1);
      expect(text.stdout.trimEnd().split('\n').at(-1)).toBe('applied on 0 of 2 node(s)');
      expect(text.stderr).toBe('error: node node-b: no ack within 5s\nerror: node node-c: node is suspect\n');

      agent.keyFailures = [{ node: 'node-b', error: 'no ack within 5s' }];
      const json = await run(['gossip', 'key', 'install', key, '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual({ keys: [key], primary: key, nodes: 2, failed: [{ node: 'node-b', error: 'no ack within 5s' }] });
      expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'FAILED_PRECONDITION', message: 'node node-b: no ack within 5s', node: 'node-b' } });
    });

    it('exits 1 with the agent message when the agent refuses the operation', async () => {
      const key = randomBytes(32).toString('base64');
      agent.keyring = [key];
      const result = await run(['gossip', 'key', 'remove', key]);
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: cannot remove the primary key: use another key first\n' });
    });

    it('prints help for the groups and each key command', async () => {
      const group = await run(['gossip', '--help']);
      expect(group.code).toBe(0);
      for (const command of ['gossip keygen', 'gossip key ls', 'gossip key install', 'gossip key use', 'gossip key remove']) {
        expect(group.stdout).toContain(`vxmesh ${command} `);
      }
      const keyGroup = await run(['gossip', 'key', '-h']);
      expect(keyGroup.code).toBe(0);
      expect(keyGroup.stdout).toMatch(/^usage: vxmesh gossip key COMMAND\n/);
      expect(keyGroup.stdout).not.toContain('keygen');
      const install = await run(['gossip', 'key', 'install', '--help']);
      expect(install.code).toBe(0);
      expect(install.stdout).toMatch(/^usage: vxmesh gossip key install \[options\] KEY\n/);
      expect(install.stdout).toContain('16, 24 or 32 bytes');
      expect(agent.calls).toEqual([]);
    });
  });

  describe('status and version', () => {
    it('shows status as aligned fields and as JSON', async () => {
      await agent.createNetwork({ name: 'web' });
      const human = await run(['status']);
      expect(human.code).toBe(0);
      const fields = Object.fromEntries(human.stdout.trimEnd().split('\n').map((line) => line.split(/:\s+/, 2) as [string, string]));
      expect(fields).toEqual({
        version: '9.9.9-fake',
        socket: socketPath,
        'advertise address': '198.51.100.7',
        'data dir': '/tmp/fake-data',
        networks: '1',
        endpoints: '0',
        vxlan: 'yes',
        nftables: 'yes',
        ip_vs: 'no',
        gossip: 'not running',
      });
      const json = await run(['status', '--json']);
      expect(JSON.parse(json.stdout)).toEqual(await agent.status());
    });

    it('shows the store health when the agent reports it', async () => {
      agent.store = { ok: false, error: 'ENOSPC: no space left on device' };
      try {
        const failing = await run(['status']);
        expect(failing.stdout).toMatch(/^store: +failing: ENOSPC: no space left on device$/m);
        agent.store = { ok: true };
        expect((await run(['status'])).stdout).toMatch(/^store: +ok$/m);
        expect(JSON.parse((await run(['--json', 'status'])).stdout)).toMatchObject({ store: { ok: true } });
      } finally {
        delete agent.store;
      }
    });

    it('prints the same version for --version, version and the agent constant', async () => {
      const flag = await run(['--version'], {});
      expect(flag).toEqual({ code: 0, stdout: `vxmesh ${VERSION}\n`, stderr: '' });
      expect((await run(['version'], {})).stdout).toBe(flag.stdout);
      const packageVersion = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
      expect(VERSION).toBe(packageVersion);
      expect(JSON.parse((await run(['--json', '--version'], {})).stdout)).toEqual({ version: VERSION });
    });

    it('prints the CLI version without an agent', async () => {
      const result = await run(['version'], {});
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^vxmesh \d+\.\d+\.\d+\S*\n$/);
      const json = await run(['version', '--json'], {});
      expect(JSON.parse(json.stdout)).toEqual({ version: result.stdout.trim().slice('vxmesh '.length) });
    });
  });

  describe('agent errors and socket selection', () => {
    it('prints "error: <message>" and exits 1 for any agent failure', async () => {
      agent.failNext = new VxError('INTERNAL', 'store is read-only');
      expect(await run(['network', 'ls'])).toEqual({ code: 1, stdout: '', stderr: 'error: store is read-only\n' });
    });

    it('explains how to reach the agent when nothing listens on the socket', async () => {
      const absent = join(dir, 'absent.sock');
      const result = await run(['status'], { VXMESH_SOCKET: absent });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: cannot reach the vxmesh agent at ${absent}: is \`vxmesh agent\` running? (set --socket or VXMESH_SOCKET)\n`,
      );
    });

    it('says it once for several targets when the agent is unreachable', async () => {
      const absent = join(dir, 'absent.sock');
      const result = await run(['network', 'rm', 'a', 'b'], { VXMESH_SOCKET: absent });
      expect(result.code).toBe(1);
      expect(result.stderr.match(/cannot reach/g)).toHaveLength(1);
    });

    it('prefers --socket over VXMESH_SOCKET', async () => {
      const viaFlag = await run(['--socket', socketPath, 'status', '--json'], { VXMESH_SOCKET: join(dir, 'absent.sock') });
      expect(viaFlag.code).toBe(0);
      const viaEquals = await run([`--socket=${socketPath}`, 'status', '--json'], {});
      expect(viaEquals.code).toBe(0);
      const wrongFlag = await run(['--socket', join(dir, 'absent.sock'), 'status'], { VXMESH_SOCKET: socketPath });
      expect(wrongFlag.code).toBe(1);
    });

    it('uses /run/vxmesh/vxmesh.sock without flag or variable (checked without dialling it)', async () => {
      const dialled: string[] = [];
      const connect = (path: string) => {
        dialled.push(path);
        return connectApi(socketPath);
      };
      expect((await run(['status'], {}, { connect })).code).toBe(0);
      expect((await run(['status'], { VXMESH_SOCKET: '' }, { connect })).code).toBe(0);
      expect((await run(['status'], { VXMESH_SOCKET: '/tmp/env.sock' }, { connect })).code).toBe(0);
      expect((await run(['--socket', '/tmp/flag.sock', 'status'], { VXMESH_SOCKET: '/tmp/env.sock' }, { connect })).code).toBe(0);
      expect(dialled).toEqual(['/run/vxmesh/vxmesh.sock', '/run/vxmesh/vxmesh.sock', '/tmp/env.sock', '/tmp/flag.sock']);
    });
  });

  describe('agent command', () => {
    function captureAgent(): { deps: CliDeps; configs: AgentConfig[] } {
      const configs: AgentConfig[] = [];
      return { configs, deps: { runAgent: async (config) => void configs.push(config) } };
    }

    it('builds the config from flags and environment and runs the agent', async () => {
      const { deps, configs } = captureAgent();
      const result = await run(
        ['agent', '--data-dir', '/srv/vx', '--join', '198.51.100.2'],
        { VXMESH_LOG_LEVEL: 'debug', VXMESH_SOCKET: '/tmp/env.sock' },
        deps,
      );
      expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(configs).toHaveLength(1);
      expect(configs[0]).toMatchObject({ dataDir: '/srv/vx', join: ['198.51.100.2'], logLevel: 'debug', socket: '/tmp/env.sock' });
    });

    it('takes a global --socket as the agent socket unless the agent flag overrides it', async () => {
      const { deps, configs } = captureAgent();
      await run(['--socket', '/tmp/global.sock', 'agent'], {}, deps);
      await run(['--socket', '/tmp/global.sock', 'agent', '--socket', '/tmp/own.sock'], {}, deps);
      expect(configs.map((c) => c.socket)).toEqual(['/tmp/global.sock', '/tmp/own.sock']);
    });

    it('exits 1 with the message when the agent fails to start', async () => {
      const deps: CliDeps = {
        runAgent: async () => {
          throw new VxError('FAILED_PRECONDITION', 'vxlan is not supported by this kernel');
        },
      };
      expect(await run(['agent'], {}, deps)).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: vxlan is not supported by this kernel\n',
      });
    });
  });
});
