// The `vxmesh` command line: global options, dispatch through the command table, exit codes.
//   0 ok · 1 the agent (or the work) failed · 2 bad command line
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, type AgentConfig } from '../config/agent-config.js';
import { connectApi, type ApiClient } from '../api/client.js';
import { VxError, type ErrorCode } from '../errors.js';
import { commandHelp, parseCommandArgs, usageLine, type Command, type CommandContext } from './command.js';
import { COMMANDS, GROUPS } from './commands/index.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, printJson, writeError, type CliIo } from './io.js';
import { cliVersion } from './version.js';

export interface CliDeps {
  /** Starts the agent; defaults to src/agent/main.ts's runAgent (loaded only for `vxmesh agent`). */
  runAgent?: (config: AgentConfig) => Promise<void>;
  /** Makes the API client; defaults to connectApi (tests check which socket is chosen without dialling it). */
  connect?: (socketPath: string) => ApiClient;
  /** Reads the agent's --config file; defaults to the real file system. */
  readFile?: (path: string) => string;
}

interface GlobalOptions {
  socket?: string;
  help: boolean;
  json: boolean;
  version: boolean;
  rest: string[];
}

const GLOBAL_HELP = [
  '  --socket PATH  agent API socket (env VXMESH_SOCKET, default /run/vxmesh/vxmesh.sock)',
  '  --json         print results as JSON, and errors as {"error":{"code":...,"message":...}} lines on stderr',
  '                 (also accepted after the command)',
  '  --version      print the version of vxmesh',
  '  -h, --help     show help',
].join('\n');

// Loaded only for `vxmesh agent`: the client commands never pay for the agent's modules.
async function loadRunAgent(): Promise<(config: AgentConfig) => Promise<void>> {
  const { runAgent } = await import('../agent/main.js');
  return runAgent;
}

/** Options before the command word. */
function parseGlobalOptions(argv: string[]): GlobalOptions {
  const result: GlobalOptions = { help: false, json: false, version: false, rest: [] };
  let index = 0;
  for (; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (!arg.startsWith('-')) break;
    if (arg === '-h' || arg === '--help') result.help = true;
    else if (arg === '--json') result.json = true;
    else if (arg === '--version') result.version = true;
    else if (arg === '--socket') {
      const value = argv[index + 1];
      if (value === undefined || value === '' || value.startsWith('-')) throw new UsageError("option '--socket' needs a value");
      result.socket = value;
      index += 1;
    } else if (arg.startsWith('--socket=')) {
      result.socket = arg.slice('--socket='.length);
      if (result.socket === '') throw new UsageError("option '--socket' needs a value");
    } else throw new UsageError(`unknown option '${arg}'`);
  }
  result.rest = argv.slice(index);
  return result;
}

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length)) + 2;
  const lines = COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(width)}${c.summary}`);
  return `usage: vxmesh [--socket PATH] [--json] COMMAND [options]\n\ncommands:\n${lines.join('\n')}\n\nglobal options:\n${GLOBAL_HELP}\n\nRun 'vxmesh COMMAND --help' for a command's options.\n`;
}

function groupHelp(group: string): string {
  const words = group.split(' ');
  const members = COMMANDS.filter((c) => words.every((word, i) => c.path[i] === word));
  const width = Math.max(...members.map((c) => c.path.join(' ').length)) + 2;
  const lines = members.map((c) => `  vxmesh ${c.path.join(' ').padEnd(width)}${c.summary}`);
  return `usage: vxmesh ${group} COMMAND\n\n${GROUPS[group] ?? ''}\n\ncommands:\n${lines.join('\n')}\n`;
}

/** The command whose path is the longest prefix of argv. */
function findCommand(argv: string[]): Command | undefined {
  let best: Command | undefined;
  for (const command of COMMANDS) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && (!best || command.path.length > best.path.length)) best = command;
  }
  return best;
}

/** The longest group path (e.g. "gossip key") that argv starts with. */
function findGroup(argv: string[]): string | undefined {
  let best: string | undefined;
  for (const group of Object.keys(GROUPS)) {
    const matches = group.split(' ').every((word, i) => argv[i] === word);
    if (matches && (best === undefined || group.length > best.length)) best = group;
  }
  return best;
}

function optionTokens(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

function wantsHelp(argv: string[]): boolean {
  return optionTokens(argv).some((arg) => arg === '--help' || arg === '-h');
}

function errorCode(error: unknown): ErrorCode {
  return error instanceof VxError ? error.code : 'INTERNAL';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo, deps: CliDeps = {}): Promise<number> {
  // Decided before anything can fail, so even a bad command line is reported in the form asked for.
  let json = optionTokens(argv).includes('--json');
  const usageFailure = (message: string, hint: string): number => {
    writeError(io, json, 'INVALID_ARGUMENT', message, hint);
    return EXIT_USAGE;
  };
  let globals: GlobalOptions;
  try {
    globals = parseGlobalOptions(argv);
  } catch (error) {
    return usageFailure(errorMessage(error), "Run 'vxmesh --help' for usage.");
  }
  const [word] = globals.rest;
  // Like docker: --version answers whatever follows it.
  if (globals.version && !globals.help) return printVersion(io, json);
  if (word === undefined) {
    if (globals.help) {
      io.stdout.write(topHelp());
      return EXIT_OK;
    }
    return usageFailure('missing command', "Run 'vxmesh --help' for usage.");
  }

  const command = findCommand(globals.rest);
  if (!command) {
    const group = findGroup(globals.rest);
    if (group !== undefined) {
      const subword = globals.rest.slice(group.split(' ').length).find((arg) => arg !== '--json');
      if (subword === undefined || subword === '--help' || subword === '-h' || globals.help) {
        if (subword === undefined && !globals.help) return usageFailure(`missing ${group} command`, groupHelp(group).trimEnd());
        io.stdout.write(groupHelp(group));
        return EXIT_OK;
      }
      return usageFailure(`unknown ${group} command '${subword}'`, groupHelp(group).trimEnd());
    }
    return usageFailure(`unknown command '${word}'`, "Run 'vxmesh --help' for usage.");
  }

  const commandArgv = globals.rest.slice(command.path.length);
  if (globals.help || wantsHelp(commandArgv)) {
    io.stdout.write(commandHelp(command));
    return EXIT_OK;
  }
  // The agent takes its own flags; a --json among them only chooses the error form.
  const ownArgv = command.rawArgs ? commandArgv.filter((arg) => arg !== '--json') : commandArgv;

  const envSocket = env.VXMESH_SOCKET;
  const socketPath = globals.socket ?? (envSocket !== undefined && envSocket !== '' ? envSocket : DEFAULT_CONFIG.socket);
  const ctx: CommandContext = {
    io,
    env,
    json,
    socketPath,
    socketFromFlag: globals.socket !== undefined,
    connect: () => (deps.connect ?? connectApi)(socketPath),
    runAgent: async (config) => (deps.runAgent ?? (await loadRunAgent()))(config),
    ...(deps.readFile ? { readFile: deps.readFile } : {}),
    warn: (message) => {
      if (json) io.stderr.write(`${JSON.stringify({ warning: { message } })}\n`);
      else io.stderr.write(`warning: ${message}\n`);
    },
    reportError: (error) => writeError(io, json, errorCode(error), errorMessage(error)),
  };
  try {
    const parsed = command.rawArgs ? { values: {}, positionals: [] } : parseCommandArgs(command, ownArgv);
    json = json || parsed.values.json === true;
    ctx.json = json;
    return await command.run(ctx, parsed, ownArgv);
  } catch (error) {
    if (error instanceof UsageError) {
      return usageFailure(error.message, `usage: ${usageLine(command)}\nRun 'vxmesh ${command.path.join(' ')} --help' for options.`);
    }
    writeError(io, json, errorCode(error), errorMessage(error));
    return EXIT_FAILURE;
  }
}

function printVersion(io: CliIo, json: boolean): number {
  if (json) printJson(io, { version: cliVersion() });
  else io.stdout.write(`vxmesh ${cliVersion()}\n`);
  return EXIT_OK;
}

/** Process entry: real argv, env and streams; sets the exit code. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr });
}

function isEntryModule(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// `node dist/cli/main.js ...` runs the CLI; bin/vxmesh and tests import it and call main()/runCli().
if (isEntryModule()) await main();
