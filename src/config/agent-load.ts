// Builds the AgentConfig from its four sources, highest first: flags > VXMESH_* variables > the JSON
// --config file > DEFAULT_CONFIG. Every source is checked in full (a broken variable is reported even
// when a flag overrides it). Pure: the file is read through the injected readFile.
import { DEFAULT_CONFIG, type AgentConfig } from './agent-config.js';
import { AGENT_OPTIONS, ConfigError, LEGACY_ENV_NAMES, envName, fromJson, fromText, type AgentOption } from './agent-options.js';

/** Flag values by flag name (no dashes); booleans already resolved (--no-plugin is plugin: false). */
export type FlagValues = Readonly<Record<string, string | string[] | boolean | undefined>>;

export interface AgentConfigSources {
  flags: FlagValues;
  env: Readonly<Record<string, string | undefined>>;
  /** Reads the config file named by --config or VXMESH_CONFIG; throws on failure. */
  readFile: (path: string) => string;
}

export interface LoadedAgentConfig {
  config: AgentConfig;
  /** Things to tell the user that do not stop the start, e.g. a deprecated variable. */
  warnings: string[];
  /** The config file that was read, if any. */
  configFile?: string;
}

export const CONFIG_FLAG = 'config';
export const CONFIG_ENV = envName(CONFIG_FLAG);

type Target = Record<string, unknown>;

function readConfigFile(path: string, readFile: (path: string) => string): Record<string, unknown> {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read config file ${path}: ${code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object, e.g. {"data-dir": "/var/lib/vxmesh"}`);
  }
  return parsed as Record<string, unknown>;
}

function unknownKeyMessage(path: string, key: string): string {
  const squash = (s: string): string => s.replace(/[-_]/g, '').toLowerCase();
  const near = AGENT_OPTIONS.find((spec) => squash(spec.flag) === squash(key) || spec.field === key);
  const hint = near ? `did you mean "${near.flag}"?` : 'keys are the agent flag names without dashes, e.g. "data-dir" (vxmesh agent --help)';
  return `config file ${path}: unknown key "${key}": ${hint}`;
}

function applyFile(target: Target, path: string, file: Record<string, unknown>): void {
  const byFlag = new Map(AGENT_OPTIONS.map((spec) => [spec.flag, spec]));
  for (const [key, value] of Object.entries(file)) {
    const spec = byFlag.get(key);
    if (!spec) throw new ConfigError(unknownKeyMessage(path, key));
    target[spec.field] = fromJson(spec, `config file ${path}: "${key}"`, value);
  }
}

function applyEnv(target: Target, env: AgentConfigSources['env'], warnings: string[]): void {
  const byFlag = new Map(AGENT_OPTIONS.map((spec) => [spec.flag, spec]));
  for (const [legacy, flag] of Object.entries(LEGACY_ENV_NAMES)) {
    const value = env[legacy];
    const spec = byFlag.get(flag);
    if (value === undefined || value === '' || !spec) continue;
    const current = envName(flag);
    if (env[current] !== undefined && env[current] !== '') {
      warnings.push(`${legacy} is deprecated and ignored because ${current} is set: unset ${legacy}`);
    } else {
      warnings.push(`${legacy} is deprecated: use ${current}`);
      target[spec.field] = fromText(spec, legacy, value);
    }
  }
  for (const spec of AGENT_OPTIONS) {
    const variable = envName(spec.flag);
    const value = env[variable];
    // An empty variable is unset: `VXMESH_X= vxmesh agent` is how a shell clears one.
    if (value !== undefined && value !== '') target[spec.field] = fromText(spec, variable, value);
  }
}

function applyFlag(target: Target, spec: AgentOption, value: string | string[] | boolean): void {
  const what = `--${spec.flag}`;
  if (typeof value === 'boolean') {
    target[spec.field] = value;
    return;
  }
  if (value === '' || (Array.isArray(value) && value.includes(''))) {
    throw new ConfigError(`${what} must not be empty`);
  }
  target[spec.field] = fromText(spec, what, value);
}

/** The agent's configuration from flags, variables, the config file and the defaults (in that order). */
export function loadAgentConfig(sources: AgentConfigSources): LoadedAgentConfig {
  const config: AgentConfig = structuredClone(DEFAULT_CONFIG);
  const target = config as unknown as Target;
  const warnings: string[] = [];

  const fromFlag = sources.flags[CONFIG_FLAG];
  if (fromFlag === '') throw new ConfigError(`--${CONFIG_FLAG} must not be empty`);
  const fromEnv = sources.env[CONFIG_ENV];
  const configFile = typeof fromFlag === 'string' ? fromFlag : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  if (configFile !== undefined) applyFile(target, configFile, readConfigFile(configFile, sources.readFile));

  applyEnv(target, sources.env, warnings);
  for (const spec of AGENT_OPTIONS) {
    const value = sources.flags[spec.flag];
    if (value !== undefined) applyFlag(target, spec, value);
  }
  checkStoreOptions(config);
  return { config, warnings, ...(configFile === undefined ? {} : { configFile }) };
}

/**
 * Options that only make sense together. Several hosts must share one state: the embedded store is
 * this host's alone, so joining a cluster with it would make each host hand out the same addresses.
 */
function checkStoreOptions(config: AgentConfig): void {
  if (config.join.length && !config.store) {
    throw new ConfigError('--join needs a shared store: pass --store etcd://HOST:2379[,HOST:2379...] (the same on every host); the embedded store keeps state for one host only');
  }
  const tls = [['store-ca', config.storeCa], ['store-cert', config.storeCert], ['store-key', config.storeKey]] as const;
  const given = tls.filter(([, v]) => v !== undefined).map(([flag]) => `--${flag}`);
  if (given.length && !config.store) throw new ConfigError(`${given.join(', ')} given without --store: they configure TLS to etcd; pass --store etcd://HOST:2379 too`);
  if ((config.storeCert === undefined) !== (config.storeKey === undefined)) {
    throw new ConfigError('--store-cert and --store-key go together: give both (client certificate and its key) or neither');
  }
  if (config.storeCert !== undefined && config.storeCa === undefined) throw new ConfigError('--store-cert needs --store-ca: the CA that signed etcd\'s certificate');
}

/**
 * The config as a config file would say it (keys are flag names, values in the units flags take),
 * leaving out what equals the default: `vxmesh agent --print-config` turns a command line into a file.
 */
export function configFileOf(config: AgentConfig): Record<string, unknown> {
  const file: Record<string, unknown> = {};
  for (const spec of AGENT_OPTIONS) {
    const value = config[spec.field];
    if (value === undefined || JSON.stringify(value) === JSON.stringify(DEFAULT_CONFIG[spec.field])) continue;
    file[spec.flag] = typeof value === 'number' ? value / (spec.scale ?? 1) : value;
  }
  return file;
}
