// One row per AgentConfig field: its flag, its VXMESH_* variable (the flag's name), its config-file key
// (the flag's name), the checks its values get (src/model/validate.ts) and its help line.
import { VxError } from '../errors.js';
import type { AgentConfig } from './agent-config.js';
import { NETNS_PREFIX_PATTERN, NODE_NAME_MAX, PORT_MAX, PORT_MIN, UNDERLAY_MTU_MAX, UNDERLAY_MTU_MIN } from '../model/limits.js';
import { parseUpstream } from '../dns/forward/upstreams.js';
import { cidrProblem, ipProblem, joinAddressProblem, quote, type Problem } from '../model/validate.js';
import { parseEtcdStoreUrl } from '../store/store-url.js';

export type OptionKind = 'string' | 'integer' | 'list' | 'boolean' | 'choice';

export interface AgentOption {
  field: keyof AgentConfig;
  /** Flag without dashes; also the config-file key and, upper-cased, the variable (VXMESH_DATA_DIR). */
  flag: string;
  kind: OptionKind;
  valueName: string;
  description: string;
  /** Integers: inclusive range, in the unit the user writes. */
  range?: readonly [number, number];
  /** Integers: the config holds value * scale (seconds given, milliseconds kept). */
  scale?: number;
  /** Choices: the accepted values. */
  choices?: readonly string[];
  /** Strings and list items: why `value` is bad (the message starts with `what`), or undefined. */
  check?: (what: string, value: string) => Problem;
}

function upstreamProblem(what: string, value: string): Problem {
  try {
    parseUpstream(value, what);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** `--store` must parse as etcd://HOST[:PORT][,...]; the parser's message already names the flag's form. */
function storeUrlProblem(what: string, value: string): Problem {
  try {
    parseEtcdStoreUrl(value);
    return undefined;
  } catch (e) {
    return `${what}: ${(e as Error).message.replace(/^--store /, '')}`;
  }
}

const nonEmpty = (what: string, value: string): Problem => (value === '' ? `${what} must not be empty` : undefined);

export const AGENT_OPTIONS: readonly AgentOption[] = [
  { field: 'dataDir', flag: 'data-dir', kind: 'string', valueName: 'PATH', description: 'state directory', check: nonEmpty },
  { field: 'socket', flag: 'socket', kind: 'string', valueName: 'PATH', description: 'API unix socket', check: nonEmpty },
  {
    field: 'advertiseAddr', flag: 'advertise-addr', kind: 'string', valueName: 'IP',
    description: "underlay address peers reach this host on (default: the default route's interface address)",
    check: (what, v) => ipProblem(what, v),
  },
  {
    field: 'netnsPrefix', flag: 'netns-prefix', kind: 'string', valueName: 'PREFIX',
    description: 'prefix of every namespace and link vxmesh creates',
    check: (what, v) => (NETNS_PREFIX_PATTERN.test(v) ? undefined : `${what} ${quote(v)} must be 1 to 6 characters of a-z and 0-9`),
  },
  { field: 'logLevel', flag: 'log-level', kind: 'choice', valueName: 'LEVEL', description: 'log threshold', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] },
  { field: 'logFormat', flag: 'log-format', kind: 'choice', valueName: 'FORMAT', description: 'json lines, or pretty for people', choices: ['json', 'pretty'] },
  { field: 'defaultAddrPool', flag: 'default-addr-pool', kind: 'list', valueName: 'CIDR[,CIDR]', description: 'IPv4 pools networks are carved from', check: (what, v) => cidrProblem(what, v, 4) },
  { field: 'defaultAddrPoolSize', flag: 'default-addr-pool-size', kind: 'integer', valueName: 'BITS', description: 'prefix length of carved IPv4 subnets', range: [1, 32] },
  { field: 'defaultAddrPoolV6', flag: 'default-addr-pool-v6', kind: 'list', valueName: 'CIDR[,CIDR]', description: 'IPv6 pools networks are carved from', check: (what, v) => cidrProblem(what, v, 6) },
  { field: 'defaultAddrPoolSizeV6', flag: 'default-addr-pool-size-v6', kind: 'integer', valueName: 'BITS', description: 'prefix length of carved IPv6 subnets', range: [1, 128] },
  { field: 'gwBridgePool', flag: 'gwbridge-subnet', kind: 'string', valueName: 'CIDR', description: 'subnet of the gateway bridge (north-south)', check: (what, v) => cidrProblem(what, v, 4) },
  { field: 'dataPathPort', flag: 'data-path-port', kind: 'integer', valueName: 'PORT', description: 'VXLAN UDP port', range: [PORT_MIN, PORT_MAX] },
  {
    field: 'underlayMtu', flag: 'underlay-mtu', kind: 'integer', valueName: 'N',
    description: 'underlay MTU; overlays get this - 50 (default: MTU of the advertise interface)', range: [UNDERLAY_MTU_MIN, UNDERLAY_MTU_MAX],
  },
  { field: 'join', flag: 'join', kind: 'list', valueName: 'IP[:PORT][,...]', description: 'gossip peers to join (needs a shared --store)', check: joinAddressProblem },
  { field: 'gossipPort', flag: 'gossip-port', kind: 'integer', valueName: 'PORT', description: 'gossip TCP+UDP port', range: [PORT_MIN, PORT_MAX] },
  { field: 'gossipKeyFile', flag: 'gossip-key-file', kind: 'string', valueName: 'PATH', description: 'gossip encryption keyring file (read, never written)', check: nonEmpty },
  {
    field: 'gossipProfile', flag: 'gossip-profile', kind: 'choice', valueName: 'PROFILE',
    description: 'gossip timing; fast (probe 200 ms, gossip 50 ms) is for tests on one machine', choices: ['default', 'fast'],
  },
  {
    field: 'nodeName', flag: 'node-name', kind: 'string', valueName: 'NAME', description: 'gossip node name (default: derived from the hostname)',
    check: (what, v) => (v.length >= 1 && v.length <= NODE_NAME_MAX && !/[\u0000-\u001f\u007f]/.test(v) ? undefined : `${what} must be 1 to ${NODE_NAME_MAX} printable characters`),
  },
  {
    field: 'pluginName', flag: 'plugin-name', kind: 'string', valueName: 'NAME', description: 'docker plugin name (socket <plugin-dir>/<name>.sock)',
    check: (what, v) => (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(v) ? undefined : `${what} ${quote(v)} must be 1 to 63 letters, digits, '_', '.', '-'`),
  },
  { field: 'plugin', flag: 'plugin', kind: 'boolean', valueName: '', description: 'serve the docker plugin (--no-plugin turns it off)' },
  {
    field: 'dockerHost', flag: 'docker-host', kind: 'string', valueName: 'unix://PATH', description: "dockerd's API socket, where the plugin learns a new network's name",
    check: (what, v) => (/^unix:\/\/\/./.test(v) ? undefined : `${what} ${quote(v)} must be unix:///path/to/docker.sock`),
  },
  { field: 'pluginDir', flag: 'plugin-dir', kind: 'string', valueName: 'PATH', description: 'docker plugin socket directory', check: nonEmpty },
  { field: 'resyncIntervalMs', flag: 'resync-interval', kind: 'integer', valueName: 'SECONDS', description: 'how often kernel state is compared with the store and repaired', range: [1, 86_400], scale: 1000 },
  {
    field: 'metricsAddr', flag: 'metrics-addr', kind: 'string', valueName: 'HOST:PORT',
    description: 'serve Prometheus metrics at http://HOST:PORT/metrics (default: off)',
    check: (what, v) => (/^(?:\[[^\]]+\]|[^:]+):\d{1,5}$/.test(v) && joinAddressProblem(what, v) === undefined ? undefined : `${what} ${quote(v)} is not HOST:PORT (e.g. 198.51.100.1:9469 or [fd00::1]:9469)`),
  },
  {
    field: 'dns', flag: 'dns', kind: 'list', valueName: 'IP[:PORT][,...]',
    description: "upstream DNS servers for names vxmesh does not own (default: the host's /etc/resolv.conf nameservers)", check: upstreamProblem,
  },
  { field: 'embeddedDns', flag: 'embedded-dns', kind: 'boolean', valueName: '', description: 'serve DNS at 127.0.0.11 in attached workload namespaces (--no-embedded-dns turns it off)' },
  {
    field: 'store', flag: 'store', kind: 'string', valueName: 'URL',
    description: 'shared cluster state: etcd://HOST:2379[,HOST:2379...] (default: the embedded store in the data dir, one host)',
    check: (what, v) => storeUrlProblem(what, v),
  },
  {
    field: 'storePrefix', flag: 'store-prefix', kind: 'string', valueName: 'PREFIX', description: 'etcd key prefix of everything vxmesh keeps',
    check: (what, v) => (v !== '' && !/[\u0000-\u001f\u007f]/.test(v) ? undefined : `${what} must be printable and not empty, e.g. /vxmesh/`),
  },
  { field: 'storeCa', flag: 'store-ca', kind: 'string', valueName: 'PATH', description: 'CA certificate of etcd (PEM; turns TLS on)', check: nonEmpty },
  { field: 'storeCert', flag: 'store-cert', kind: 'string', valueName: 'PATH', description: 'client certificate for etcd (PEM, with --store-key)', check: nonEmpty },
  { field: 'storeKey', flag: 'store-key', kind: 'string', valueName: 'PATH', description: 'client key for etcd (PEM, with --store-cert)', check: nonEmpty },
  {
    field: 'lb', flag: 'lb', kind: 'choice', valueName: 'KIND',
    description: 'service load balancer: auto (ipvs where the kernel has ip_vs, else nftables), ipvs or nftables', choices: ['auto', 'ipvs', 'nftables'],
  },
  {
    field: 'ingressSubnet', flag: 'ingress-subnet', kind: 'string', valueName: 'CIDR',
    description: 'subnet of the ingress network made when a service first publishes a port', check: (what, v) => cidrProblem(what, v, 4),
  },
  {
    field: 'rps', flag: 'rps', kind: 'boolean', valueName: '',
    description: "spread what workloads send into the overlay over every CPU (RPS on the sandboxes' veth ends, with a symmetric flow hash from a tc program on the workloads' eth0; --no-rps turns both off)",
  },
  { field: 'salvage', flag: 'salvage', kind: 'boolean', valueName: '', description: 'start from every store record that verifies, moving a damaged file aside (see the README)' },
];

/** The variable of a flag: VXMESH_ + its name in upper case, e.g. gwbridge-subnet -> VXMESH_GWBRIDGE_SUBNET. */
export function envName(flag: string): string {
  return `VXMESH_${flag.replace(/-/g, '_').toUpperCase()}`;
}

/** Variables from before they were named after their flags: still read, with a warning. */
export const LEGACY_ENV_NAMES: Readonly<Record<string, string>> = {
  VXMESH_GW_BRIDGE_POOL: 'gwbridge-subnet',
};

/** Raised for a bad flag, variable or file value; the message names the source (`--x`, VXMESH_X, the file and key). */
export class ConfigError extends VxError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'ConfigError';
  }
}

type Value = AgentConfig[keyof AgentConfig];

function fail(message: string): never {
  throw new ConfigError(message);
}

function checked(spec: AgentOption, what: string, value: string): string {
  const problem = spec.check?.(what, value);
  return problem === undefined ? value : fail(problem);
}

function choice(spec: AgentOption, what: string, value: string): string {
  const choices = spec.choices ?? [];
  return choices.includes(value) ? value : fail(`${what} ${quote(value)} is not one of ${choices.join(', ')}`);
}

function integer(spec: AgentOption, what: string, value: number | string): number {
  const [min, max] = spec.range ?? [0, Number.MAX_SAFE_INTEGER];
  const number = typeof value === 'number' ? value : /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < min || number > max) {
    fail(`${what} must be an integer from ${min} to ${max}, got ${typeof value === 'string' ? quote(value) : String(value)}`);
  }
  return number * (spec.scale ?? 1);
}

function parseBoolean(what: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  return fail(`${what} ${quote(value)} is not a boolean (true/false)`);
}

/** A value given as text: a flag (repeatable ones as several) or a variable. `what` is `--flag` or VXMESH_FLAG. */
export function fromText(spec: AgentOption, what: string, raw: string | string[]): Value {
  const last = Array.isArray(raw) ? (raw.at(-1) ?? '') : raw;
  switch (spec.kind) {
    case 'boolean':
      return parseBoolean(what, last);
    case 'list': {
      const items = (Array.isArray(raw) ? raw : [raw]).flatMap((item) => item.split(',')).map((item) => item.trim());
      return items.filter((item) => item !== '').map((item) => checked(spec, what, item));
    }
    case 'integer':
      return integer(spec, what, last);
    case 'choice':
      return choice(spec, what, last);
    case 'string':
      return checked(spec, what, last);
  }
}

/** A value from the JSON config file: the JSON type must match (no "7946" for a port). */
export function fromJson(spec: AgentOption, what: string, value: unknown): Value {
  const wrongType = (expected: string): never => fail(`${what} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  switch (spec.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? value : wrongType('true or false');
    case 'list':
      if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) return wrongType(`a list of strings, e.g. ["${spec.valueName.split(/[[,]/)[0] ?? ''}"]`);
      return (value as string[]).map((item) => checked(spec, what, item));
    case 'integer':
      return typeof value === 'number' ? integer(spec, what, value) : wrongType('a number');
    case 'choice':
      return typeof value === 'string' ? choice(spec, what, value) : wrongType(`one of ${(spec.choices ?? []).map((c) => `"${c}"`).join(', ')}`);
    case 'string':
      return typeof value === 'string' ? checked(spec, what, value) : wrongType('a string');
  }
}

/** A config value as the user writes it (seconds, not milliseconds), for help and round trips. */
export function displayValue(spec: AgentOption, value: Value | undefined): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'number') return String(value / (spec.scale ?? 1));
  return String(value);
}
