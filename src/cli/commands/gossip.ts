// vxmesh gossip keygen | key ls | key install | key use | key remove
import { randomBytes } from 'node:crypto';
import type { KeyOp, KeyOpResult } from '../../model/api.js';
import { gossipKeyProblem } from '../../model/validate.js';
import { QUIET_OPTION, flagValue, usageCheck, withClient, type Command, type CommandContext, type ParsedCommandArgs } from '../command.js';
import { EXIT_FAILURE, EXIT_OK, errorDocument, printJson } from '../io.js';
import { renderTable } from '../table.js';

/** AES-256, the strongest size memberlist accepts. */
const GENERATED_KEY_BYTES = 32;

const KEY_ARG_DETAILS =
  'KEY is standard base64 of 16, 24 or 32 bytes, e.g. from `vxmesh gossip keygen`.\n' +
  'It is applied on every alive member; nodes that fail are listed on stderr and the exit status is 1.';

const keygen: Command = {
  path: ['gossip', 'keygen'],
  summary: 'Print a new random gossip encryption key (base64 of 32 bytes). Needs no agent.',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: {},
  async run(ctx) {
    const key = randomBytes(GENERATED_KEY_BYTES).toString('base64');
    if (ctx.json) printJson(ctx.io, { key });
    else ctx.io.stdout.write(`${key}\n`);
    return EXIT_OK;
  },
};

function renderKeyring(result: KeyOpResult): string {
  if (result.keys.length === 0) return 'no gossip keys: gossip traffic is not encrypted\n';
  return renderTable(
    ['KEY', 'PRIMARY'],
    result.keys.map((key) => [key, key === result.primary ? '*' : '']),
  );
}

function reportKeyOp(ctx: CommandContext, args: ParsedCommandArgs, op: KeyOp, result: KeyOpResult): number {
  if (ctx.json) printJson(ctx.io, result);
  else if (op === 'list' && flagValue(args, 'quiet')) ctx.io.stdout.write(result.keys.map((key) => `${key}\n`).join(''));
  else {
    let text = renderKeyring(result);
    if (op !== 'list') {
      const applied = result.nodes - result.failed.length;
      text += result.failed.length === 0 ? `applied on ${applied} node(s)\n` : `applied on ${applied} of ${result.nodes} node(s)\n`;
    }
    ctx.io.stdout.write(text);
  }
  for (const failure of result.failed) {
    const message = `node ${failure.node}: ${failure.error}`;
    if (ctx.json) ctx.io.stderr.write(`${JSON.stringify(errorDocument('FAILED_PRECONDITION', message, { node: failure.node }))}\n`);
    else ctx.io.stderr.write(`error: ${message}\n`);
  }
  return result.failed.length === 0 ? EXIT_OK : EXIT_FAILURE;
}

function keyCommand(op: KeyOp, word: string, summary: string): Command {
  const takesKey = op !== 'list';
  return {
    path: ['gossip', 'key', word],
    summary,
    args: takesKey ? 'KEY' : '',
    minPositionals: takesKey ? 1 : 0,
    maxPositionals: takesKey ? 1 : 0,
    options: takesKey ? {} : { quiet: { ...QUIET_OPTION, description: 'print the keys only, primary first' } },
    ...(takesKey ? { details: KEY_ARG_DETAILS } : {}),
    async run(ctx, args) {
      const key = args.positionals[0];
      if (key !== undefined) {
        // Checked here too, so a mistyped key is a usage error (exit 2) before the agent is contacted.
        usageCheck(gossipKeyProblem(key));
      }
      const result = await withClient(ctx, (client) => client.gossipKey(op, key));
      return reportKeyOp(ctx, args, op, result);
    },
  };
}

export const gossipCommands: Command[] = [
  keygen,
  keyCommand('list', 'ls', "List this node's gossip keyring (primary marked)."),
  keyCommand('install', 'install', 'Add a key to the keyring of every node (accepted for decryption only).'),
  keyCommand('use', 'use', 'Make an installed key the primary (encrypting) key on every node.'),
  keyCommand('remove', 'remove', 'Remove a key that is no longer primary from every node.'),
];
