// `vxmesh agent` flags: split argv with node's parseArgs, then build the config with src/config
// (flags > VXMESH_* variables > --config file > defaults). Bad values become UsageError (exit 2).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG, type AgentConfig } from '../config/agent-config.js';
import { CONFIG_ENV, CONFIG_FLAG, loadAgentConfig, type LoadedAgentConfig } from '../config/agent-load.js';
import { AGENT_OPTIONS, ConfigError, displayValue, envName as flagEnvName } from '../config/agent-options.js';
import { toUsageError } from './command.js';
import { UsageError } from './io.js';

export { AGENT_OPTIONS as AGENT_FLAGS };

/** The variable read for a config field: named after its flag (gwBridgePool -> VXMESH_GWBRIDGE_SUBNET). */
export function envName(field: keyof AgentConfig): string {
  const spec = AGENT_OPTIONS.find((option) => option.field === field);
  if (!spec) throw new Error(`no agent option for config field ${field}`);
  return flagEnvName(spec.flag);
}

const readText = (path: string): string => readFileSync(path, 'utf8');

function splitArgv(argv: string[]): Record<string, string | string[] | boolean | undefined> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    [CONFIG_FLAG]: { type: 'string' },
    [PRINT_CONFIG_FLAG]: { type: 'boolean' },
  };
  for (const spec of AGENT_OPTIONS) {
    if (spec.kind === 'boolean') {
      options[spec.flag] = { type: 'boolean' };
      options[`no-${spec.flag}`] = { type: 'boolean' };
    } else {
      options[spec.flag] = { type: 'string', ...(spec.kind === 'list' ? { multiple: true } : {}) };
    }
  }
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw toUsageError(error);
  }
  const flags: Record<string, string | string[] | boolean | undefined> = {};
  for (const [name, value] of Object.entries(values)) flags[name] = value as string | string[] | boolean;
  for (const spec of AGENT_OPTIONS.filter((option) => option.kind === 'boolean')) {
    const on = values[spec.flag] === true;
    const off = values[`no-${spec.flag}`] === true;
    if (on && off) throw new UsageError(`use either --${spec.flag} or --no-${spec.flag}, not both`);
    delete flags[`no-${spec.flag}`];
    flags[spec.flag] = on || off ? on : undefined;
  }
  return flags;
}

/** Prints the effective config as a --config file instead of starting the agent. */
export const PRINT_CONFIG_FLAG = 'print-config';

export interface AgentCommandLine extends LoadedAgentConfig {
  printConfig: boolean;
}

/** The agent's config and warnings (deprecated variables) from its argv, the environment and --config. */
export function parseAgentCommandLine(
  argv: string[],
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = readText,
): AgentCommandLine {
  const flags = splitArgv(argv);
  try {
    return { ...loadAgentConfig({ flags, env, readFile }), printConfig: flags[PRINT_CONFIG_FLAG] === true };
  } catch (error) {
    throw error instanceof ConfigError ? new UsageError(error.message) : error;
  }
}

export function parseAgentFlags(argv: string[], env: NodeJS.ProcessEnv, readFile?: (path: string) => string): AgentConfig {
  return parseAgentCommandLine(argv, env, readFile).config;
}

export function agentFlagsHelp(): string {
  const rows: Array<readonly [string, string]> = AGENT_OPTIONS.map((spec) => {
    const value = spec.choices ? spec.choices.join('|') : spec.valueName;
    const flag = spec.kind === 'boolean' ? `  --[no-]${spec.flag}` : `  --${spec.flag} ${value}`;
    const shown = displayValue(spec, DEFAULT_CONFIG[spec.field]);
    const suffix = shown === '' ? '' : `, default ${shown}`;
    return [flag, `${spec.description} (env ${flagEnvName(spec.flag)}${suffix})`] as const;
  });
  rows.push([`  --${CONFIG_FLAG} FILE`, `JSON file of these options, keys without dashes: {"data-dir": "/srv/vx", "store": "etcd://198.51.100.9:2379"} (env ${CONFIG_ENV})`]);
  rows.push([`  --${PRINT_CONFIG_FLAG}`, 'print the options given (flags, variables, file) as such a file, without starting the agent']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, text]) => `${flag.padEnd(width)}${text}`).join('\n');
}
