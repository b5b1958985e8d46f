// The command table's shape and the argument parsing every command shares.
import { parseArgs } from 'node:util';
import type { AgentConfig } from '../agent/config.js';
import type { ApiClient } from '../api/client.js';
import { UsageError, type CliIo } from './io.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Shown in help after the flag, e.g. CIDR. */
  valueName?: string;
  description: string;
}

export interface CommandContext {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /** Socket chosen by --socket, VXMESH_SOCKET or the default. */
  socketPath: string;
  /** True when --socket was given before the command (the agent command honours it). */
  socketFromFlag: boolean;
  connect(): ApiClient;
  runAgent(config: AgentConfig): Promise<void>;
}

export interface ParsedCommandArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Command {
  /** Words after `vxmesh`, e.g. ['network', 'create']. */
  path: string[];
  summary: string;
  /** Positional part of the usage line, e.g. "NAME [NAME...]". */
  args: string;
  minPositionals: number;
  maxPositionals: number;
  options: Record<string, OptionSpec>;
  /** Extra help text after the options. */
  details?: string;
  /** Commands that parse their own flags (the agent) get the raw argv. */
  rawArgs?: boolean;
  run(ctx: CommandContext, args: ParsedCommandArgs, rawArgv: string[]): Promise<number>;
}

export const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print JSON instead of a table' };
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

export function usageLine(command: Command): string {
  return `vxmesh ${command.path.join(' ')}${Object.keys(command.options).length > 0 ? ' [options]' : ''}${command.args ? ` ${command.args}` : ''}`;
}

export function formatOptionHelp(options: Record<string, OptionSpec>): string {
  const entries = Object.entries({ ...options, help: HELP_OPTION }).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : '';
    const value = spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : '';
    const repeat = spec.multiple ? ' (repeatable)' : '';
    return [`  ${short}--${name}${value}`, `${spec.description}${repeat}`] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length)) + 2;
  return entries.map(([flag, text]) => `${flag.padEnd(width)}${text}`).join('\n');
}

export function commandHelp(command: Command): string {
  const parts = [`usage: ${usageLine(command)}`, '', command.summary];
  if (!command.rawArgs) parts.push('', 'options:', formatOptionHelp(command.options));
  if (command.details) parts.push('', command.details);
  return `${parts.join('\n')}\n`;
}

/** parseArgs' own messages mention internals; reword the common ones for users. */
export function toUsageError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return error;
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option '${quoted}'`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument '${quoted}'`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(error.message)) return new UsageError(`option '${quoted}' does not take a value`);
      return new UsageError(`option '${quoted.replace(/ <value>$/, '')}' needs a value`);
    default:
      return new UsageError(error.message);
  }
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedCommandArgs {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw toUsageError(error);
  }
  const { positionals } = parsed;
  if (positionals.length < command.minPositionals) {
    throw new UsageError(`missing ${command.args.split(' ')[positionals.length]?.replace(/[[\].]/g, '') ?? 'argument'}`);
  }
  if (positionals.length > command.maxPositionals) {
    throw new UsageError(`unexpected argument '${positionals[command.maxPositionals] ?? ''}'`);
  }
  return { values: parsed.values as ParsedCommandArgs['values'], positionals };
}

/** Runs `work` with a connected client and always closes it. */
export async function withClient<T>(ctx: CommandContext, work: (client: ApiClient) => Promise<T>): Promise<T> {
  const client = ctx.connect();
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

export function stringValue(args: ParsedCommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listValue(args: ParsedCommandArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function flagValue(args: ParsedCommandArgs, name: string): boolean {
  return args.values[name] === true;
}

/** NAME=VALUE pairs (labels, aux addresses) into a record; later keys win, like docker. */
export function parseKeyValues(flag: string, items: string[]): Record<string, string> | undefined {
  if (items.length === 0) return undefined;
  const result: Record<string, string> = {};
  for (const item of items) {
    const equals = item.indexOf('=');
    if (equals <= 0) throw new UsageError(`--${flag} expects KEY=VALUE, got '${item}'`);
    result[item.slice(0, equals)] = item.slice(equals + 1);
  }
  return result;
}

export function parseIntegerFlag(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return Number(value);
}
