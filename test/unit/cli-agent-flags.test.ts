import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/agent/config.js';
import { AGENT_FLAGS, agentFlagsHelp, envName, parseAgentCommandLine, parseAgentFlags } from '../../src/cli/agent-flags.js';
import { UsageError } from '../../src/cli/io.js';

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseAgentFlags', () => {
  it('returns the defaults with no flags and no environment', () => {
    expect(parseAgentFlags([], {})).toStrictEqual(DEFAULT_CONFIG);
  });

  it('does not share arrays with DEFAULT_CONFIG', () => {
    const config = parseAgentFlags([], {});
    config.join.push('198.51.100.9');
    expect(DEFAULT_CONFIG.join).toEqual([]);
  });

  it('has a flag and a VXMESH_ variable for every config field', () => {
    const fields = new Set(AGENT_FLAGS.map((f) => f.field));
    for (const field of Object.keys(DEFAULT_CONFIG)) expect(fields.has(field as keyof typeof DEFAULT_CONFIG)).toBe(true);
    for (const optional of ['advertiseAddr', 'underlayMtu', 'gossipKeyFile', 'nodeName'] as const) {
      expect(fields.has(optional)).toBe(true);
    }
    // Variables are named after their flags, not after internal field names.
    expect(envName('gwBridgePool')).toBe('VXMESH_GWBRIDGE_SUBNET');
    expect(envName('resyncIntervalMs')).toBe('VXMESH_RESYNC_INTERVAL');
    expect(envName('defaultAddrPoolSizeV6')).toBe('VXMESH_DEFAULT_ADDR_POOL_SIZE_V6');
    for (const spec of AGENT_FLAGS) expect(envName(spec.field)).toBe(`VXMESH_${spec.flag.toUpperCase().replace(/-/g, '_')}`);
  });

  it('reads every kind of value from the environment', () => {
    const config = parseAgentFlags([], {
      VXMESH_DATA_DIR: '/srv/vx',
      VXMESH_SOCKET: '/tmp/vx.sock',
      VXMESH_ADVERTISE_ADDR: '198.51.100.4',
      VXMESH_NETNS_PREFIX: 'ab12',
      VXMESH_LOG_LEVEL: 'debug',
      VXMESH_DEFAULT_ADDR_POOL: '10.10.0.0/16, 10.20.0.0/16',
      VXMESH_DEFAULT_ADDR_POOL_SIZE: '26',
      VXMESH_DEFAULT_ADDR_POOL_V6: 'fd00:1::/48',
      VXMESH_DEFAULT_ADDR_POOL_SIZE_V6: '80',
      VXMESH_GWBRIDGE_SUBNET: '172.30.0.0/16',
      VXMESH_DATA_PATH_PORT: '4790',
      VXMESH_UNDERLAY_MTU: '9000',
      VXMESH_JOIN: '198.51.100.2,198.51.100.3:8000,[fd00::3]:7946',
      VXMESH_STORE: 'etcd://198.51.100.7:2379',
      VXMESH_GOSSIP_PORT: '7947',
      VXMESH_GOSSIP_KEY_FILE: '/etc/vx/keys',
      VXMESH_NODE_NAME: 'node-a',
      VXMESH_PLUGIN_NAME: 'vxtest',
      VXMESH_PLUGIN: 'false',
      VXMESH_PLUGIN_DIR: '/tmp/plugins',
      VXMESH_DOCKER_HOST: 'unix:///tmp/docker.sock',
      VXMESH_SALVAGE: 'yes',
      VXMESH_LOG_FORMAT: 'pretty',
      VXMESH_RESYNC_INTERVAL: '5',
      VXMESH_GOSSIP_PROFILE: 'fast',
      VXMESH_DNS: '203.0.113.53, 203.0.113.54:5353',
      VXMESH_EMBEDDED_DNS: 'false',
      VXMESH_LB: 'ipvs',
      VXMESH_INGRESS_SUBNET: '10.254.0.0/16',
      VXMESH_RPS: 'false',
    });
    expect(config).toStrictEqual({
      dataDir: '/srv/vx',
      socket: '/tmp/vx.sock',
      advertiseAddr: '198.51.100.4',
      netnsPrefix: 'ab12',
      logLevel: 'debug',
      defaultAddrPool: ['10.10.0.0/16', '10.20.0.0/16'],
      defaultAddrPoolSize: 26,
      defaultAddrPoolV6: ['fd00:1::/48'],
      defaultAddrPoolSizeV6: 80,
      gwBridgePool: '172.30.0.0/16',
      dataPathPort: 4790,
      underlayMtu: 9000,
      join: ['198.51.100.2', '198.51.100.3:8000', '[fd00::3]:7946'],
      store: 'etcd://198.51.100.7:2379',
      storePrefix: '/vxmesh/',
      gossipPort: 7947,
      gossipKeyFile: '/etc/vx/keys',
      nodeName: 'node-a',
      pluginName: 'vxtest',
      plugin: false,
      pluginDir: '/tmp/plugins',
      dns: ['203.0.113.53', '203.0.113.54:5353'],
      embeddedDns: false,
      dockerHost: 'unix:///tmp/docker.sock',
      salvage: true,
      logFormat: 'pretty',
      resyncIntervalMs: 5000,
      gossipProfile: 'fast',
      lb: 'ipvs',
      ingressSubnet: '10.254.0.0/16',
      rps: false,
    });
  });

  it('lets flags override the environment', () => {
    const env = { VXMESH_GOSSIP_PORT: '8000', VXMESH_LOG_LEVEL: 'warn', VXMESH_PLUGIN: '0', VXMESH_JOIN: '198.51.100.2', VXMESH_STORE: 'etcd://198.51.100.7' };
    const config = parseAgentFlags(
      ['--gossip-port', '9000', '--log-level=trace', '--plugin', '--join', '203.0.113.5', '--join', '203.0.113.6,203.0.113.7:7000'],
      env,
    );
    expect(config.gossipPort).toBe(9000);
    expect(config.logLevel).toBe('trace');
    expect(config.plugin).toBe(true);
    expect(config.join).toEqual(['203.0.113.5', '203.0.113.6', '203.0.113.7:7000']);
    expect(parseAgentFlags(['--no-plugin'], {}).plugin).toBe(false);
  });

  it('treats an empty variable as unset', () => {
    expect(parseAgentFlags([], { VXMESH_GOSSIP_PORT: '' }).gossipPort).toBe(7946);
  });

  it.each([
    [['--gossip-port', '0'], '--gossip-port must be an integer from 1 to 65535, got "0"'],
    [['--data-path-port', '70000'], '--data-path-port must be an integer from 1 to 65535, got "70000"'],
    [['--default-addr-pool-size', '24x'], '--default-addr-pool-size must be an integer from 1 to 32, got "24x"'],
    [['--default-addr-pool', '10.0.0.0'], '--default-addr-pool "10.0.0.0" is not an IPv4 CIDR (e.g. 10.1.0.0/24): it has no /prefix length'],
    [['--default-addr-pool', '10.0.0.1/8'], '--default-addr-pool 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?'],
    [['--default-addr-pool-v6', '10.0.0.0/8'], '--default-addr-pool-v6 "10.0.0.0/8" is not an IPv6 CIDR'],
    [['--gwbridge-subnet', '172.18.0.0/33'], '--gwbridge-subnet "172.18.0.0/33" is not an IPv4 CIDR (e.g. 10.1.0.0/24): the prefix length must be a number from 0 to 32'],
    [['--log-level', 'loud'], '--log-level "loud" is not one of trace, debug, info, warn, error, fatal'],
    [['--log-format', 'xml'], '--log-format "xml" is not one of json, pretty'],
    [['--gossip-profile', 'slow'], '--gossip-profile "slow" is not one of default, fast'],
    [['--lb', 'haproxy'], '--lb "haproxy" is not one of auto, ipvs, nftables'],
    [['--ingress-subnet', '10.255.0.1/16'], '--ingress-subnet 10.255.0.1/16 has host bits set'],
    [['--resync-interval', '0'], '--resync-interval must be an integer from 1 to 86400, got "0"'],
    [['--resync-interval', '1.5'], '--resync-interval must be an integer from 1 to 86400, got "1.5"'],
    [['--salvage=yes'], "option '--salvage' does not take a value"],
    [['--netns-prefix', 'toolong7'], '--netns-prefix "toolong7" must be 1 to 6 characters of a-z and 0-9'],
    [['--netns-prefix', 'VX'], '--netns-prefix "VX" must be 1 to 6 characters of a-z and 0-9'],
    [['--advertise-addr', 'host.example'], '--advertise-addr: "host.example" is not a valid IP address'],
    [['--join', '198.51.100.2:99999'], '--join "198.51.100.2:99999" is not IP[:PORT]'],
    [['--underlay-mtu', '1000'], '--underlay-mtu must be an integer from 1330 to 65535, got "1000"'],
    [['--data-dir', ''], '--data-dir must not be empty'],
    [['--join', ''], '--join must not be empty'],
    [['--bogus'], "unknown option '--bogus'"],
    [['--data-dir'], "option '--data-dir' needs a value"],
    [['--plugin', '--no-plugin'], 'use either --plugin or --no-plugin, not both'],
    [['extra'], "unexpected argument 'extra'"],
  ])('rejects %j', (argv, message) => {
    expect(usageError(() => parseAgentFlags(argv, {}))).toContain(message);
  });

  it('names the variable when the environment is wrong', () => {
    expect(usageError(() => parseAgentFlags([], { VXMESH_DATA_PATH_PORT: 'vxlan' }))).toBe(
      'VXMESH_DATA_PATH_PORT must be an integer from 1 to 65535, got "vxlan"',
    );
    expect(usageError(() => parseAgentFlags([], { VXMESH_PLUGIN: 'maybe' }))).toBe('VXMESH_PLUGIN "maybe" is not a boolean (true/false)');
    expect(usageError(() => parseAgentFlags([], { VXMESH_LOG_FORMAT: 'xml' }))).toBe('VXMESH_LOG_FORMAT "xml" is not one of json, pretty');
  });

  it('rejects a bad variable even when a flag overrides it', () => {
    // A broken environment should be seen, not masked by the flag of the day.
    expect(() => parseAgentFlags(['--gossip-port', '7000'], { VXMESH_GOSSIP_PORT: 'bad' })).toThrow(UsageError);
  });

  it('reads the new options from flags, in the units the user writes', () => {
    const config = parseAgentFlags(['--salvage', '--log-format', 'pretty', '--resync-interval', '7', '--gossip-profile', 'fast'], {});
    expect(config).toMatchObject({ salvage: true, logFormat: 'pretty', resyncIntervalMs: 7000, gossipProfile: 'fast' });
    expect(parseAgentFlags(['--no-salvage'], { VXMESH_SALVAGE: 'true' }).salvage).toBe(false);
  });

  it('still reads VXMESH_GW_BRIDGE_POOL, with a deprecation warning, unless the new variable is set', () => {
    const legacy = parseAgentCommandLine([], { VXMESH_GW_BRIDGE_POOL: '172.30.0.0/16' });
    expect(legacy.config.gwBridgePool).toBe('172.30.0.0/16');
    expect(legacy.warnings).toEqual(['VXMESH_GW_BRIDGE_POOL is deprecated: use VXMESH_GWBRIDGE_SUBNET']);
    const both = parseAgentCommandLine([], { VXMESH_GW_BRIDGE_POOL: '172.30.0.0/16', VXMESH_GWBRIDGE_SUBNET: '172.31.0.0/16' });
    expect(both.config.gwBridgePool).toBe('172.31.0.0/16');
    expect(both.warnings[0]).toMatch(/VXMESH_GW_BRIDGE_POOL is deprecated and ignored because VXMESH_GWBRIDGE_SUBNET is set/);
    expect(parseAgentCommandLine([], {}).warnings).toEqual([]);
  });

  it('lists every option with its variable and default in the help', () => {
    const help = agentFlagsHelp();
    for (const spec of AGENT_FLAGS) expect(help).toContain(`env ${envName(spec.field)}`);
    expect(help).toContain('--resync-interval SECONDS');
    expect(help).toMatch(/--log-format json\|pretty +json lines, or pretty for people \(env VXMESH_LOG_FORMAT, default json\)/);
    expect(help).toMatch(/--\[no-\]salvage /);
    expect(help).toContain('--gossip-profile default|fast');
    expect(help).toContain('--config FILE');
    expect(help).toMatch(/resync.*default 30\)/);
  });
});
