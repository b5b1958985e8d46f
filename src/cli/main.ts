// The `vxmesh` command line: global options, dispatch through the command table, exit codes.
//   0 ok · 1 the agent (or the work) failed · 2 bad command line
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, type AgentConfig } from '../agent/config.js';
import { connectApi } from '../api/client.js';
import { commandHelp, parseCommandArgs, usageLine, type Command, type CommandContext } from './command.js';
import { COMMANDS, GROUPS } from './commands/index.js';
import { EXIT_FAILURE, EXIT_USAGE, UsageError, type CliIo } from './io.js';

export interface CliDeps {
  /** Starts the agent; defaults to src/agent/main.ts's runAgent (loaded only for `vxmesh agent`). */
  runAgent?: (config: AgentConfig) => Promise<void>;
}

interface GlobalOptions {
  socket?: string;
  help: boolean;
  rest: string[];
}

const GLOBAL_HELP = '  --socket PATH  agent API socket (env VXMESH_SOCKET, default /run/vxmesh/vxmesh.sock)\n  -h, --help     show help';

// Loaded only for `vxmesh agent`: the client commands never pay for the agent's modules.
async function loadRunAgent(): Promise<(config: AgentConfig) => Promise<void>> {
  const { runAgent } = await import('../agent/main.js');
  return runAgent;
}

/** Options before the command word. */
function parseGlobalOptions(argv: string[]): GlobalOptions {
  const result: GlobalOptions = { help: false, rest: [] };
  let index = 0;
  for (; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (!arg.startsWith('-')) break;
    if (arg === '-h' || arg === '--help') result.help = true;
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
  return `usage: vxmesh [--socket PATH] COMMAND [options]\n\ncommands:\n${lines.join('\n')}\n\nglobal options:\n${GLOBAL_HELP}\n\nRun 'vxmesh COMMAND --help' for a command's options.\n`;
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

function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

function usageFailure(io: CliIo, message: string, hint: string): number {
  io.stderr.write(`error: ${message}\n${hint}\n`);
  return EXIT_USAGE;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo, deps: CliDeps = {}): Promise<number> {
  let globals: GlobalOptions;
  try {
    globals = parseGlobalOptions(argv);
  } catch (error) {
    return usageFailure(io, (error as Error).message, "Run 'vxmesh --help' for usage.");
  }
  const [word] = globals.rest;
  if (word === undefined) {
    if (globals.help) {
      io.stdout.write(topHelp());
      return 0;
    }
    return usageFailure(io, 'missing command', "Run 'vxmesh --help' for usage.");
  }

  const command = findCommand(globals.rest);
  if (!command) {
    const group = findGroup(globals.rest);
    if (group !== undefined) {
      const subword = globals.rest[group.split(' ').length];
      if (subword === undefined || subword === '--help' || subword === '-h' || globals.help) {
        if (subword === undefined && !globals.help) return usageFailure(io, `missing ${group} command`, groupHelp(group).trimEnd());
        io.stdout.write(groupHelp(group));
        return 0;
      }
      return usageFailure(io, `unknown ${group} command '${subword}'`, groupHelp(group).trimEnd());
    }
    return usageFailure(io, `unknown command '${word}'`, "Run 'vxmesh --help' for usage.");
  }

  const commandArgv = globals.rest.slice(command.path.length);
  if (globals.help || wantsHelp(commandArgv)) {
    io.stdout.write(commandHelp(command));
    return 0;
  }

  const envSocket = env.VXMESH_SOCKET;
  const socketPath = globals.socket ?? (envSocket !== undefined && envSocket !== '' ? envSocket : DEFAULT_CONFIG.socket);
  const ctx: CommandContext = {
    io,
    env,
    socketPath,
    socketFromFlag: globals.socket !== undefined,
    connect: () => connectApi(socketPath),
    runAgent: async (config) => (deps.runAgent ?? (await loadRunAgent()))(config),
  };
  try {
    const parsed = command.rawArgs ? { values: {}, positionals: [] } : parseCommandArgs(command, commandArgv);
    return await command.run(ctx, parsed, commandArgv);
  } catch (error) {
    if (error instanceof UsageError) {
      return usageFailure(io, error.message, `usage: ${usageLine(command)}\nRun 'vxmesh ${command.path.join(' ')} --help' for options.`);
    }
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }
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
