// The command table's shape and the argument parsing every command shares.
import { parseArgs } from 'node:util';
import type { AgentConfig } from '../agent/config.js';
import type { ApiClient } from '../api/client.js';
import { integerTextProblem, fieldFlagName, type FieldLabel, type Problem } from '../model/validate.js';
import { UsageError, type CliIo } from './io.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Shown in help after the flag, e.g. CIDR. */
  valueName?: string;
  /** The command cannot run without it (an empty value then gets no "leave it out" hint). */
  required?: boolean;
  description: string;
}

export interface CommandContext {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /** --json before or after the command: results and errors as JSON. */
  json: boolean;
  /** Socket chosen by --socket, VXMESH_SOCKET or the default. */
  socketPath: string;
  /** True when --socket was given before the command (the agent command honours it). */
  socketFromFlag: boolean;
  connect(): ApiClient;
  runAgent(config: AgentConfig): Promise<void>;
  /** Reads a file the user named (the agent's --config); tests inject one. */
  readFile?: (path: string) => string;
  /** A warning that does not stop the command, on stderr. */
  warn(message: string): void;
  /** One failed target of a multi-target command, in the chosen error form (the command goes on). */
  reportError(error: unknown): void;
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

/** Sets the fields that were given (the request types leave absent ones out). */
export function given<T extends object>(target: T, fields: Partial<T>): T {
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  return target;
}

export const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print results and errors as JSON' };
export const QUIET_OPTION: OptionSpec = { type: 'boolean', short: 'q', description: 'print only what the first column shows, one per line' };
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

export function usageLine(command: Command): string {
  // Every command takes at least --json and --help.
  return `vxmesh ${command.path.join(' ')} [options]${command.args && command.args !== '[options]' ? ` ${command.args}` : ''}`;
}

export function formatOptionHelp(options: Record<string, OptionSpec>): string {
  const entries = Object.entries({ ...options, json: options.json ?? JSON_OPTION, help: HELP_OPTION }).map(([name, spec]) => {
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

/** Every command takes --json (an error then comes as JSON too), whether or not it prints a table. */
export function commandOptions(command: Command): Record<string, OptionSpec> {
  return { json: JSON_OPTION, ...command.options };
}

/** A token that is one known option or a cluster of known short flags (-q, -qh). */
function isKnownOption(token: string, options: Record<string, OptionSpec>): boolean {
  if (token.startsWith('--')) return true; // long options: unknown ones are reported as such
  const shorts = new Set(Object.values(options).map((spec) => spec.short).filter((s): s is string => s !== undefined));
  shorts.add('h');
  return [...token.slice(1)].every((letter) => shorts.has(letter));
}

// Marks a token that parseArgs must take as a value or positional, not as an option (argv never holds NUL).
const LITERAL = '\u0000';

/**
 * parseArgs reads "-web" as the short flags -w -e -b. A dash token that is not a known option is a value
 * instead: after a string option it is that option's value (`--name -web`), elsewhere a positional
 * (`network create -web`), so the user hears "invalid name" rather than "unknown option '-w'".
 */
function protectDashValues(argv: string[], options: Record<string, OptionSpec>, takesPositionals: boolean): string[] {
  const result: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index] ?? '';
    if (token === '--') return result.concat(argv.slice(index));
    const previous = result.at(-1) ?? '';
    const previousTakesValue = previous.startsWith('--') && !previous.includes('=') && options[previous.slice(2)]?.type === 'string';
    const dashValue = token.startsWith('-') && token.length > 1 && !isKnownOption(token, options);
    if (dashValue && previousTakesValue) result[result.length - 1] = `${previous}=${token}`;
    else if (dashValue && takesPositionals && !token.startsWith('--')) result.push(`${LITERAL}${token}`);
    else result.push(token);
  }
  return result;
}

function restoreLiteral(value: string): string {
  return value.startsWith(LITERAL) ? value.slice(LITERAL.length) : value;
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedCommandArgs {
  const specs = commandOptions(command);
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  let parsed;
  try {
    const args = protectDashValues(argv, specs, command.maxPositionals > 0);
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw toUsageError(error);
  }
  const positionals = parsed.positionals.map(restoreLiteral);
  for (const [name, value] of Object.entries(parsed.values)) {
    // An empty value is a mistake (an unset shell variable), never "let the agent choose".
    if (value === '' || (Array.isArray(value) && value.includes(''))) {
      const hint = specs[name]?.required ? '' : ' (leave the flag out to use the default)';
      throw new UsageError(`--${name} must not be empty${hint}`);
    }
  }
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
  usageCheck(integerTextProblem(`--${flag}`, value, min, max));
  return Number(value);
}

/** A problem found by the shared validation module, as a usage error (exit 2). */
export function usageCheck(problem: Problem): void {
  if (problem !== undefined) throw new UsageError(problem);
}

/** How CLI messages name a request field: as its flag (`--subnet-v6`), positional names as `positional`. */
export function flagLabel(positional: Record<string, string> = {}): FieldLabel {
  return (field) => positional[field] ?? `--${fieldFlagName(field)}`;
}
