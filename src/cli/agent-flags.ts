// `vxmesh agent` configuration: every AgentConfig field from a flag, a VXMESH_* variable or its default.
// Flags override the environment, which overrides DEFAULT_CONFIG. Pure: no I/O, throws UsageError.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG, type AgentConfig, type LogLevel } from '../agent/config.js';
import { isCidr, isIpOfFamily } from '../api/addr.js';
import { toUsageError } from './command.js';
import { UsageError } from './io.js';

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

type Kind = 'string' | 'integer' | 'list' | 'boolean';

interface AgentFlag {
  field: keyof AgentConfig;
  flag: string;
  kind: Kind;
  valueName: string;
  description: string;
  /** Integers: inclusive range. */
  range?: readonly [number, number];
  /** Throws a message (without the source prefix) when a value is bad. */
  check?: (value: string) => string | undefined;
}

const checkCidrV4 = (value: string): string | undefined =>
  isCidr(value, 4) ? undefined : `'${value}' is not an IPv4 CIDR (e.g. 10.0.0.0/8)`;
const checkCidrV6 = (value: string): string | undefined =>
  isCidr(value, 6) ? undefined : `'${value}' is not an IPv6 CIDR (e.g. fd00::/32)`;
const checkNonEmpty = (value: string): string | undefined => (value === '' ? 'must not be empty' : undefined);

/** IP, IP:PORT, IPv6 or [IPv6]:PORT. */
function checkJoinAddress(value: string): string | undefined {
  const bad = `'${value}' is not IP[:PORT] (e.g. 198.51.100.2 or 198.51.100.2:7946 or [fd00::2]:7946)`;
  if (isIP(value) !== 0) return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!match) return bad;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  const hostOk = match[1] !== undefined ? isIpOfFamily(host, 6) : isIpOfFamily(host, 4);
  return hostOk && port >= 1 && port <= 65535 ? undefined : bad;
}

export const AGENT_FLAGS: readonly AgentFlag[] = [
  { field: 'dataDir', flag: 'data-dir', kind: 'string', valueName: 'PATH', description: 'state directory', check: checkNonEmpty },
  { field: 'socket', flag: 'socket', kind: 'string', valueName: 'PATH', description: 'API unix socket', check: checkNonEmpty },
  {
    field: 'advertiseAddr', flag: 'advertise-addr', kind: 'string', valueName: 'IP',
    description: "underlay address peers reach this host on (default: the default route's interface address)",
    check: (v) => (isIP(v) !== 0 ? undefined : `'${v}' is not an IP address`),
  },
  {
    field: 'netnsPrefix', flag: 'netns-prefix', kind: 'string', valueName: 'PREFIX',
    description: 'prefix of every namespace and link vxmesh creates',
    check: (v) => (/^[a-z0-9]{1,6}$/.test(v) ? undefined : `'${v}' must be 1 to 6 characters of a-z and 0-9`),
  },
  {
    field: 'logLevel', flag: 'log-level', kind: 'string', valueName: 'LEVEL', description: LOG_LEVELS.join('|'),
    check: (v) => ((LOG_LEVELS as readonly string[]).includes(v) ? undefined : `'${v}' is not one of ${LOG_LEVELS.join(', ')}`),
  },
  { field: 'defaultAddrPool', flag: 'default-addr-pool', kind: 'list', valueName: 'CIDR[,CIDR]', description: 'IPv4 pools networks are carved from', check: checkCidrV4 },
  { field: 'defaultAddrPoolSize', flag: 'default-addr-pool-size', kind: 'integer', valueName: 'BITS', description: 'prefix length of carved IPv4 subnets', range: [1, 32] },
  { field: 'defaultAddrPoolV6', flag: 'default-addr-pool-v6', kind: 'list', valueName: 'CIDR[,CIDR]', description: 'IPv6 pools networks are carved from', check: checkCidrV6 },
  { field: 'defaultAddrPoolSizeV6', flag: 'default-addr-pool-size-v6', kind: 'integer', valueName: 'BITS', description: 'prefix length of carved IPv6 subnets', range: [1, 128] },
  { field: 'gwBridgePool', flag: 'gwbridge-subnet', kind: 'string', valueName: 'CIDR', description: 'subnet of the gateway bridge (north-south)', check: checkCidrV4 },
  { field: 'dataPathPort', flag: 'data-path-port', kind: 'integer', valueName: 'PORT', description: 'VXLAN UDP port', range: [1, 65535] },
  { field: 'underlayMtu', flag: 'underlay-mtu', kind: 'integer', valueName: 'N', description: 'underlay MTU; overlays get this - 50 (default: MTU of the advertise interface)', range: [576, 65535] },
  { field: 'join', flag: 'join', kind: 'list', valueName: 'IP[:PORT][,...]', description: 'gossip peers to join', check: checkJoinAddress },
  { field: 'gossipPort', flag: 'gossip-port', kind: 'integer', valueName: 'PORT', description: 'gossip TCP+UDP port', range: [1, 65535] },
  { field: 'gossipKeyFile', flag: 'gossip-key-file', kind: 'string', valueName: 'PATH', description: 'gossip encryption keyring file', check: checkNonEmpty },
  { field: 'nodeName', flag: 'node-name', kind: 'string', valueName: 'NAME', description: 'gossip node name (default: derived from the hostname)', check: (v) => (v.length >= 1 && v.length <= 128 ? undefined : 'must be 1 to 128 characters') },
  { field: 'pluginName', flag: 'plugin-name', kind: 'string', valueName: 'NAME', description: 'docker plugin name (socket <plugin-dir>/<name>.sock)', check: (v) => (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(v) ? undefined : `'${v}' must be letters, digits, '_', '.', '-'`) },
  { field: 'plugin', flag: 'plugin', kind: 'boolean', valueName: '', description: 'serve the docker plugin (--no-plugin turns it off)' },
  { field: 'pluginDir', flag: 'plugin-dir', kind: 'string', valueName: 'PATH', description: 'docker plugin socket directory', check: checkNonEmpty },
];

/** VXMESH_ + the field name in UPPER_SNAKE_CASE, e.g. gwBridgePool -> VXMESH_GW_BRIDGE_POOL. */
export function envName(field: keyof AgentConfig): string {
  return `VXMESH_${field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

function parseBoolean(source: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new UsageError(`${source}: '${value}' is not a boolean (true/false)`);
}

function convert(spec: AgentFlag, source: string, raw: string | string[]): AgentConfig[keyof AgentConfig] {
  const fail = (message: string): never => {
    throw new UsageError(`${source}: ${message}`);
  };
  const checked = (value: string): string => {
    const problem = spec.check?.(value);
    return problem === undefined ? value : fail(problem);
  };
  switch (spec.kind) {
    case 'boolean':
      return parseBoolean(source, Array.isArray(raw) ? (raw.at(-1) ?? '') : raw);
    case 'list': {
      const items = (Array.isArray(raw) ? raw : [raw]).flatMap((item) => item.split(',')).map((item) => item.trim());
      return items.filter((item) => item !== '').map(checked);
    }
    case 'integer': {
      const text = Array.isArray(raw) ? (raw.at(-1) ?? '') : raw;
      const [min, max] = spec.range ?? [0, Number.MAX_SAFE_INTEGER];
      if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
        fail(`'${text}' must be an integer from ${min} to ${max}`);
      }
      return Number(text);
    }
    case 'string':
      return checked(Array.isArray(raw) ? (raw.at(-1) ?? '') : raw);
  }
}

export function parseAgentFlags(argv: string[], env: NodeJS.ProcessEnv): AgentConfig {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const spec of AGENT_FLAGS) {
    if (spec.kind === 'boolean') {
      options[spec.flag] = { type: 'boolean' };
      options[`no-${spec.flag}`] = { type: 'boolean' };
    } else {
      options[spec.flag] = { type: 'string', ...(spec.kind === 'list' ? { multiple: true } : {}) };
    }
  }
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw toUsageError(error);
  }

  const config: AgentConfig = structuredClone(DEFAULT_CONFIG);
  const target = config as unknown as Record<string, unknown>;
  for (const spec of AGENT_FLAGS) {
    const variable = envName(spec.field);
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv !== '') target[spec.field] = convert(spec, variable, fromEnv);

    if (spec.kind === 'boolean') {
      const on = values[spec.flag] === true;
      const off = values[`no-${spec.flag}`] === true;
      if (on && off) throw new UsageError(`use either --${spec.flag} or --no-${spec.flag}, not both`);
      if (on || off) target[spec.field] = on;
      continue;
    }
    const fromFlag = values[spec.flag];
    if (typeof fromFlag === 'string' || Array.isArray(fromFlag)) {
      target[spec.field] = convert(spec, `--${spec.flag}`, fromFlag as string | string[]);
    }
  }
  return config;
}

export function agentFlagsHelp(): string {
  const rows = AGENT_FLAGS.map((spec) => {
    const flag = spec.kind === 'boolean' ? `  --[no-]${spec.flag}` : `  --${spec.flag} ${spec.valueName}`;
    const fallback = DEFAULT_CONFIG[spec.field];
    const shown = Array.isArray(fallback) ? fallback.join(',') : fallback;
    const suffix = shown === undefined || shown === '' ? '' : `, default ${String(shown)}`;
    return [flag, `${spec.description} (env ${envName(spec.field)}${suffix})`] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, text]) => `${flag.padEnd(width)}${text}`).join('\n');
}
