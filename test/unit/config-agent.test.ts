// The agent's config file (--config FILE): every option round-trips, precedence is flags > VXMESH_*
// variables > file > defaults, and a bad file is refused naming the file and the key.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type AgentConfig } from '../../src/config/agent-config.js';
import { AGENT_OPTIONS, envName } from '../../src/config/agent-options.js';
import { parseAgentCommandLine, parseAgentFlags } from '../../src/cli/agent-flags.js';
import { UsageError } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/main.js';

/** A value for every option, none of them the default, as the file writes it (JSON types). */
const EVERY_OPTION: Record<string, unknown> = {
  'data-dir': '/srv/vx',
  socket: '/tmp/vx-config-test.sock',
  'advertise-addr': '198.51.100.4',
  'netns-prefix': 'ab12',
  'log-level': 'debug',
  'log-format': 'pretty',
  'default-addr-pool': ['10.10.0.0/16', '10.20.0.0/16'],
  'default-addr-pool-size': 26,
  'default-addr-pool-v6': ['fd00:1::/48'],
  'default-addr-pool-size-v6': 80,
  'gwbridge-subnet': '172.30.0.0/16',
  'data-path-port': 4790,
  'underlay-mtu': 9000,
  join: ['198.51.100.2', '198.51.100.3:8000', '[fd00::3]:7946'],
  'gossip-port': 7947,
  'gossip-key-file': '/etc/vx/keys',
  'gossip-profile': 'fast',
  'node-name': 'node-a',
  'plugin-name': 'vxtest',
  plugin: false,
  'plugin-dir': '/tmp/plugins',
  'docker-host': 'unix:///tmp/docker.sock',
  'resync-interval': 5,
  'metrics-addr': '198.51.100.4:9469',
  salvage: true,
  rps: false,
  dns: ['203.0.113.53', '[2001:db8::53]:5353'],
  'embedded-dns': false,
  store: 'etcd://198.51.100.7:2379,198.51.100.8',
  'store-prefix': '/vxtest/',
  'store-ca': '/etc/vx/ca.pem',
  'store-cert': '/etc/vx/cert.pem',
  'store-key': '/etc/vx/key.pem',
  lb: 'nftables',
  'ingress-subnet': '10.254.0.0/16',
};

/** The same options as flags. */
function asFlags(options: Record<string, unknown>): string[] {
  return Object.entries(options).flatMap(([flag, value]) => {
    if (typeof value === 'boolean') return [value ? `--${flag}` : `--no-${flag}`];
    if (Array.isArray(value)) return value.flatMap((item) => [`--${flag}`, String(item)]);
    return [`--${flag}`, String(value)];
  });
}

function files(contents: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = contents[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
    return text;
  };
}

function refusal(argv: string[], contents: Record<string, string>, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseAgentFlags(argv, env, files(contents));
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('agent config file', () => {
  it('covers every option, and every option differs from its default', () => {
    expect(Object.keys(EVERY_OPTION).sort()).toEqual(AGENT_OPTIONS.map((spec) => spec.flag).sort());
    const fromFlags = parseAgentFlags(asFlags(EVERY_OPTION), {});
    for (const spec of AGENT_OPTIONS) expect(fromFlags[spec.field]).not.toEqual(DEFAULT_CONFIG[spec.field]);
  });

  it('round-trips: a file with every option gives the same AgentConfig as the equivalent flags', () => {
    const fromFile = parseAgentFlags(['--config', '/etc/vxmesh/agent.json'], {}, files({ '/etc/vxmesh/agent.json': JSON.stringify(EVERY_OPTION) }));
    const fromFlags = parseAgentFlags(asFlags(EVERY_OPTION), {});
    expect(fromFile).toStrictEqual(fromFlags);
    expect(fromFile).toMatchObject({ resyncIntervalMs: 5000, gwBridgePool: '172.30.0.0/16', plugin: false, salvage: true });
  });

  it('reads the file named by VXMESH_CONFIG, and --config wins over it', () => {
    const read = files({ '/a.json': '{"gossip-port": 8001}', '/b.json': '{"gossip-port": 8002}' });
    expect(parseAgentFlags([], { VXMESH_CONFIG: '/a.json' }, read).gossipPort).toBe(8001);
    expect(parseAgentFlags(['--config', '/b.json'], { VXMESH_CONFIG: '/a.json' }, read).gossipPort).toBe(8002);
    expect(parseAgentCommandLine(['--config=/b.json'], {}, read).configFile).toBe('/b.json');
  });

  it('applies flags over variables over the file over the defaults', () => {
    const read = files({ '/c.json': JSON.stringify({ 'gossip-port': 8001, 'data-path-port': 4801, 'log-level': 'warn', join: ['198.51.100.9'], store: 'etcd://198.51.100.7' }) });
    const config = parseAgentFlags(
      ['--config', '/c.json', '--gossip-port', '9001'],
      { VXMESH_GOSSIP_PORT: '8501', VXMESH_DATA_PATH_PORT: '4802' },
      read,
    );
    expect(config.gossipPort).toBe(9001); // flag over variable and file
    expect(config.dataPathPort).toBe(4802); // variable over file
    expect(config.logLevel).toBe('warn'); // file over default
    expect(config.join).toEqual(['198.51.100.9']);
    expect(config.dataDir).toBe(DEFAULT_CONFIG.dataDir); // default
  });

  it('refuses a --dns that is not IP[:PORT], naming the flag, the variable or the file key', () => {
    expect(refusal(['--dns', 'dns.example'], {})).toMatch(/^--dns: "dns.example" is not an upstream DNS server/);
    expect(refusal([], {}, { VXMESH_DNS: '203.0.113.53,203.0.113.54:99999' })).toMatch(/^VXMESH_DNS: "203.0.113.54:99999" is not an upstream/);
    expect(refusal(['--config', '/c.json'], { '/c.json': '{"dns": ["x"]}' })).toMatch(/^config file \/c.json: "dns": "x" is not an upstream/);
    expect(parseAgentFlags(['--dns', '203.0.113.53,203.0.113.54:5353', '--no-embedded-dns'], {})).toMatchObject({ dns: ['203.0.113.53', '203.0.113.54:5353'], embeddedDns: false });
  });

  it('treats an empty object as all defaults', () => {
    expect(parseAgentFlags(['--config', '/e.json'], {}, files({ '/e.json': '{}' }))).toStrictEqual(DEFAULT_CONFIG);
  });

  it.each<[string, string, string]>([
    ['unknown key', '{"datadir": "/x"}', 'config file /f.json: unknown key "datadir": did you mean "data-dir"?'],
    ['field name as key', '{"gwBridgePool": "172.30.0.0/16"}', 'config file /f.json: unknown key "gwBridgePool": did you mean "gwbridge-subnet"?'],
    ['unrelated key', '{"colour": "blue"}', 'config file /f.json: unknown key "colour": keys are the agent flag names without dashes, e.g. "data-dir" (vxmesh agent --help)'],
    ['nested config', '{"config": "/other.json"}', 'config file /f.json: unknown key "config"'],
    ['port as a string', '{"gossip-port": "7946"}', 'config file /f.json: "gossip-port" must be a number, got "7946"'],
    ['port out of range', '{"gossip-port": 70000}', 'config file /f.json: "gossip-port" must be an integer from 1 to 65535, got 70000'],
    ['fractional interval', '{"resync-interval": 1.5}', 'config file /f.json: "resync-interval" must be an integer from 1 to 86400, got 1.5'],
    ['join as a string', '{"join": "198.51.100.2"}', 'config file /f.json: "join" must be a list of strings'],
    ['bad join entry', '{"join": ["198.51.100.2", "nope"]}', 'config file /f.json: "join" "nope" is not IP[:PORT]'],
    ['boolean as a string', '{"plugin": "false"}', 'config file /f.json: "plugin" must be true or false, got "false"'],
    ['bad choice', '{"log-format": "xml"}', 'config file /f.json: "log-format" "xml" is not one of json, pretty'],
    ['null value', '{"data-dir": null}', 'config file /f.json: "data-dir" must be a string, got null'],
    ['bad CIDR', '{"gwbridge-subnet": "172.30.0.1/16"}', 'config file /f.json: "gwbridge-subnet" 172.30.0.1/16 has host bits set'],
    ['not an object', '["data-dir"]', 'config file /f.json must hold a JSON object'],
    ['not JSON', '{"data-dir": "/x",}', 'config file /f.json is not valid JSON'],
  ])('refuses a file with %s, naming the file and the key', (_case, text, message) => {
    expect(refusal(['--config', '/f.json'], { '/f.json': text })).toContain(message);
  });

  it('refuses a missing file and an empty --config', () => {
    expect(refusal(['--config', '/missing.json'], {})).toBe('cannot read config file /missing.json: ENOENT');
    expect(refusal(['--config', ''], {})).toBe('--config must not be empty');
  });

  it('names every file key the same as its flag and its variable', () => {
    for (const spec of AGENT_OPTIONS) expect(envName(spec.flag)).toBe(`VXMESH_${spec.flag.replace(/-/g, '_').toUpperCase()}`);
  });

  describe('through `vxmesh agent`, with a real file', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vxmesh-config-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    async function agent(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string; configs: AgentConfig[] }> {
      const configs: AgentConfig[] = [];
      let stderr = '';
      const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) } };
      const code = await runCli(['agent', ...argv], env, io, { runAgent: async (config) => void configs.push(config) });
      return { code, stderr, configs };
    }

    it('starts the agent with the file applied', async () => {
      const file = join(dir, 'agent.json');
      await writeFile(file, JSON.stringify(EVERY_OPTION));
      const result = await agent(['--config', file]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.configs[0]).toStrictEqual(parseAgentFlags(asFlags(EVERY_OPTION), {}));
    });

    it('exits 2 without starting for a bad file, as text and as JSON', async () => {
      const file = join(dir, 'bad.json');
      await writeFile(file, '{"gossip_port": 7946}');
      const text = await agent(['--config', file]);
      expect(text.code).toBe(2);
      expect(text.configs).toEqual([]);
      expect(text.stderr.split('\n')[0]).toBe(`error: config file ${file}: unknown key "gossip_port": did you mean "gossip-port"?`);
      const json = await agent(['--config', file, '--json']);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stderr)).toEqual({
        error: { code: 'INVALID_ARGUMENT', message: `config file ${file}: unknown key "gossip_port": did you mean "gossip-port"?` },
      });
    });

    it('--print-config turns flags into a file that starts the same agent, and does not start one', async () => {
      let stdout = '';
      const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } };
      const started: AgentConfig[] = [];
      const code = await runCli(['agent', ...asFlags(EVERY_OPTION), '--print-config'], {}, io, { runAgent: async (c) => void started.push(c) });
      expect(code).toBe(0);
      expect(started).toEqual([]);
      expect(JSON.parse(stdout)).toEqual(EVERY_OPTION);
      const file = join(dir, 'printed.json');
      await writeFile(file, stdout);
      const result = await agent(['--config', file]);
      expect(result.configs[0]).toStrictEqual(parseAgentFlags(asFlags(EVERY_OPTION), {}));
      // Defaults are left out: an agent without options prints an empty file.
      let empty = '';
      await runCli(['agent', '--print-config'], {}, { stdout: { write: (t: string) => (empty += t) }, stderr: { write: () => true } });
      expect(JSON.parse(empty)).toEqual({});
    });

    it('warns about a deprecated variable and still starts', async () => {
      const result = await agent([], { VXMESH_GW_BRIDGE_POOL: '172.30.0.0/16' });
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('warning: VXMESH_GW_BRIDGE_POOL is deprecated: use VXMESH_GWBRIDGE_SUBNET\n');
      expect(result.configs[0]?.gwBridgePool).toBe('172.30.0.0/16');
    });
  });
});

describe('store options', () => {
  it.each([
    [['--join', '198.51.100.2'], '--join needs a shared store: pass --store etcd://HOST:2379'],
    [['--store', 'http://198.51.100.9:2379'], '--store: "http://198.51.100.9:2379": not an etcd:// URL; expected etcd://HOST[:PORT]'],
    [['--store', 'etcd://198.51.100.9:99999'], 'port 99999'],
    [['--store-ca', '/ca.pem'], '--store-ca given without --store'],
    [['--store', 'etcd://h1', '--store-ca', '/ca.pem', '--store-cert', '/c.pem'], '--store-cert and --store-key go together'],
    [['--store', 'etcd://h1', '--store-cert', '/c.pem', '--store-key', '/k.pem'], '--store-cert needs --store-ca'],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => parseAgentFlags(argv, {})).toThrow(message);
  });

  it('takes --store from VXMESH_STORE and the config file too; --join with it is fine', () => {
    expect(parseAgentFlags(['--join', '198.51.100.2'], { VXMESH_STORE: 'etcd://198.51.100.9:2379,198.51.100.10' }).store).toBe('etcd://198.51.100.9:2379,198.51.100.10');
    const read = files({ '/s.json': JSON.stringify({ store: 'etcd://198.51.100.9', 'store-prefix': '/x/' }) });
    expect(parseAgentFlags(['--config', '/s.json'], {}, read)).toMatchObject({ store: 'etcd://198.51.100.9', storePrefix: '/x/' });
  });
});
