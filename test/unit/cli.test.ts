// The CLI's commands against the fake agent over a real unix socket (test/unit/cli-harness.ts).
// Bad input of every command is in cli-bad-input.test.ts; node and gossip in cli-gossip.test.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentConfig } from '../../src/agent/config.js';
import { VxError } from '../../src/errors.js';
import { type NetworkInfo } from '../../src/model/api.js';
import { connectApi } from '../../src/api/client.js';
import { type CliDeps } from '../../src/cli/main.js';
import { VERSION } from '../../src/model/version.js';
import { useCliHarness } from './cli-harness.js';

describe('vxmesh CLI', () => {
  const h = useCliHarness();
  const run = h.run;

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
      const created = await h.agent.inspectNetwork('web');
      expect(result.stdout).toBe(`${created.id}\n`);
      expect(h.agent.calls.find((c) => c.method === 'createNetwork')?.args[0]).toStrictEqual({
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
      expect(h.agent.calls[0]?.args[0]).toStrictEqual({ name: 'plain' });
      expect(JSON.parse(result.stdout)).toEqual(await h.agent.inspectNetwork('plain'));
    });

    it('lists networks as a table, as JSON and as ids', async () => {
      const web = await h.agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24' });
      const db = await h.agent.createNetwork({ name: 'db', subnet: '10.2.0.0/24', ipv6: true, internal: true });
      const table = await run(['network', 'ls']);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]?.split(/\s{2,}/)).toEqual(['NETWORK ID', 'NAME', 'VNI', 'SUBNET', 'GATEWAY', 'IPV6 SUBNET', 'MTU', 'ENDPOINTS', 'INTERNAL', 'HOSTS']);
      expect(lines[1]?.split(/\s+/)).toEqual([web.id.slice(0, 12), 'web', String(web.vni), '10.1.0.0/24', '10.1.0.1', '-', '1450', '0', 'no', '-']);
      expect(lines[2]?.split(/\s+/)).toEqual([db.id.slice(0, 12), 'db', String(db.vni), '10.2.0.0/24', '10.2.0.1', db.ipv6?.subnet, '1450', '0', 'yes', '-']);
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
      const web = await h.agent.createNetwork({ name: 'web' });
      const db = await h.agent.createNetwork({ name: 'db' });
      const both = await run(['network', 'inspect', 'web', db.id.slice(0, 6)]);
      expect(both.code).toBe(0);
      expect(JSON.parse(both.stdout) as NetworkInfo[]).toEqual([web, db]);

      const partial = await run(['network', 'inspect', 'web', 'nope']);
      expect(partial.code).toBe(1);
      expect(JSON.parse(partial.stdout)).toEqual([web]);
      expect(partial.stderr).toBe('error: network nope not found\n');
    });

    it('removes networks, going on after a failure', async () => {
      await h.agent.createNetwork({ name: 'a' });
      await h.agent.createNetwork({ name: 'b' });
      const result = await run(['network', 'rm', 'a', 'missing', 'b']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('a\nb\n');
      expect(result.stderr).toBe('error: network missing not found\n');
      expect(await h.agent.listNetworks()).toEqual([]);
    });

    it('exits 1 with the agent message when the agent rejects the request', async () => {
      await h.agent.createNetwork({ name: 'web' });
      const duplicate = await run(['network', 'create', 'web']);
      expect(duplicate).toEqual({ code: 1, stdout: '', stderr: 'error: network web already exists\n' });
      h.agent.failNext = new VxError('RESOURCE_EXHAUSTED', 'the default address pools are exhausted');
      const exhausted = await run(['network', 'create', 'x']);
      expect(exhausted).toEqual({ code: 1, stdout: '', stderr: 'error: the default address pools are exhausted\n' });
    });
  });

  describe('endpoint', () => {
    it('attaches with every flag and prints the id and addresses', async () => {
      await h.agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24', ipv6: true });
      h.agent.calls.length = 0;
      const result = await run([
        'endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--name', 'api',
        '--alias', 'api.v1', '--alias', 'backend', '--ip', '10.1.0.50', '--ipv6', 'fd76::50',
        '--mac', '02:42:0a:01:00:32', '--label', 'owner=test',
      ]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const [endpoint] = await h.agent.listEndpoints();
      expect(result.stdout).toBe(`${endpoint?.id} 10.1.0.50/24 fd76::50/64\n`);
      expect(h.agent.calls[0]?.args[0]).toStrictEqual({
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
      await h.agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24' });
      await h.agent.createNetwork({ name: 'db', subnet: '10.2.0.0/24' });
      const a = await h.agent.attach({ network: 'web', netns: '/run/netns/c1', name: 'a', aliases: ['x', 'y'] });
      const b = await h.agent.attach({ network: 'db', netns: '/run/netns/c2', name: 'b' });

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
      expect(await h.agent.listEndpoints()).toEqual([]);
    });

    it('detaches by name, by unique id prefix or by id, and lists ids with -q', async () => {
      await h.agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24' });
      const a = await h.agent.attach({ network: 'web', netns: '/run/netns/c1', name: 'alpha' });
      const b = await h.agent.attach({ network: 'web', netns: '/run/netns/c2', name: 'beta' });
      const c = await h.agent.attach({ network: 'web', netns: '/run/netns/c3', name: 'gamma' });
      const quiet = await run(['endpoint', 'ls', '-q']);
      expect(quiet).toEqual({ code: 0, stdout: [a, b, c].map((e) => `${e.id.slice(0, 12)}\n`).join(''), stderr: '' });

      const byName = await run(['endpoint', 'detach', 'alpha']);
      expect(byName).toEqual({ code: 0, stdout: 'alpha\n', stderr: '' });
      // The short id -q printed is accepted back.
      const byShortId = await run(['endpoint', 'detach', b.id.slice(0, 12)]);
      expect(byShortId.code).toBe(0);
      const byId = await run(['--json', 'endpoint', 'detach', c.id]);
      expect(JSON.parse(byId.stdout)).toEqual([c.id]);
      expect(h.agent.calls.filter((call) => call.method === 'detach').map((call) => call.args[0])).toEqual([a.id, b.id, c.id]);
      expect(await h.agent.listEndpoints()).toEqual([]);
    });

    it('refuses an id prefix shared by several endpoints, listing them', async () => {
      await h.agent.createNetwork({ name: 'web', subnet: '10.1.0.0/24' });
      const a = await h.agent.attach({ network: 'web', netns: '/run/netns/c1', name: 'alpha' });
      const b = await h.agent.attach({ network: 'web', netns: '/run/netns/c2', name: 'beta' });
      let shared = 0;
      while (a.id[shared] === b.id[shared]) shared += 1;
      const prefix = a.id.slice(0, shared);
      expect(prefix.length).toBeGreaterThan(0);
      const result = await run(['endpoint', 'detach', prefix]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: endpoint ${prefix} is ambiguous: it is the id prefix of ${a.id.slice(0, 12)} (name alpha, network web), ${b.id.slice(0, 12)} (name beta, network web): give the id\n`,
      );
      expect(await h.agent.listEndpoints()).toHaveLength(2);
    });

    it('exits 1 when the network does not exist', async () => {
      const result = await run(['endpoint', 'attach', '--network', 'ghost', '--netns', '/run/netns/c1']);
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: network ghost not found\n' });
    });
  });

  describe('status and version', () => {
    it('shows status as aligned fields and as JSON', async () => {
      await h.agent.createNetwork({ name: 'web' });
      const human = await run(['status']);
      expect(human.code).toBe(0);
      const fields = Object.fromEntries(human.stdout.trimEnd().split('\n').map((line) => line.split(/:\s+/, 2) as [string, string]));
      expect(fields).toEqual({
        version: '9.9.9-fake',
        socket: h.socketPath,
        'advertise address': '198.51.100.7',
        'data dir': '/tmp/fake-data',
        networks: '1',
        endpoints: '0',
        services: '0',
        vxlan: 'yes',
        nftables: 'yes',
        ip_vs: 'no',
        gossip: 'not running',
      });
      const json = await run(['status', '--json']);
      expect(JSON.parse(json.stdout)).toEqual(await h.agent.status());
    });

    it('shows the store health when the agent reports it', async () => {
      h.agent.store = { ok: false, error: 'ENOSPC: no space left on device' };
      try {
        const failing = await run(['status']);
        expect(failing.stdout).toMatch(/^store: +failing: ENOSPC: no space left on device$/m);
        h.agent.store = { ok: true };
        expect((await run(['status'])).stdout).toMatch(/^store: +ok$/m);
        expect(JSON.parse((await run(['--json', 'status'])).stdout)).toMatchObject({ store: { ok: true } });
      } finally {
        delete h.agent.store;
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
      h.agent.failNext = new VxError('INTERNAL', 'store is read-only');
      expect(await run(['network', 'ls'])).toEqual({ code: 1, stdout: '', stderr: 'error: store is read-only\n' });
    });

    it('explains how to reach the agent when nothing listens on the socket', async () => {
      const absent = join(h.dir, 'absent.sock');
      const result = await run(['status'], { VXMESH_SOCKET: absent });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: cannot reach the vxmesh agent at ${absent}: is \`vxmesh agent\` running? (set --socket or VXMESH_SOCKET)\n`,
      );
    });

    it('says it once for several targets when the agent is unreachable', async () => {
      const absent = join(h.dir, 'absent.sock');
      const result = await run(['network', 'rm', 'a', 'b'], { VXMESH_SOCKET: absent });
      expect(result.code).toBe(1);
      expect(result.stderr.match(/cannot reach/g)).toHaveLength(1);
    });

    it('prefers --socket over VXMESH_SOCKET', async () => {
      const viaFlag = await run(['--socket', h.socketPath, 'status', '--json'], { VXMESH_SOCKET: join(h.dir, 'absent.sock') });
      expect(viaFlag.code).toBe(0);
      const viaEquals = await run([`--socket=${h.socketPath}`, 'status', '--json'], {});
      expect(viaEquals.code).toBe(0);
      const wrongFlag = await run(['--socket', join(h.dir, 'absent.sock'), 'status'], { VXMESH_SOCKET: h.socketPath });
      expect(wrongFlag.code).toBe(1);
    });

    it('uses /run/vxmesh/vxmesh.sock without flag or variable (checked without dialling it)', async () => {
      const dialled: string[] = [];
      const connect = (path: string) => {
        dialled.push(path);
        return connectApi(h.socketPath);
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
        ['agent', '--data-dir', '/srv/vx', '--join', '198.51.100.2', '--store', 'etcd://198.51.100.7:2379'],
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
