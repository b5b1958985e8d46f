// vxmesh node ls
import { isIPv6 } from 'node:net';
import type { GossipNode } from '../../model/api.js';
import { QUIET_OPTION, flagValue, withClient, type Command } from '../command.js';
import { EXIT_OK, printJson } from '../io.js';
import { renderTable } from '../table.js';

function hostPort(node: GossipNode): string {
  return isIPv6(node.addr) ? `[${node.addr}]:${node.port}` : `${node.addr}:${node.port}`;
}

function nodeRow(node: GossipNode): string[] {
  return [node.name, hostPort(node), node.state, node.self ? '*' : ''];
}

const list: Command = {
  path: ['node', 'ls'],
  summary: 'List the gossip cluster members as this agent sees them.',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: { quiet: { ...QUIET_OPTION, description: 'print node names only' } },
  details: 'SELF marks this agent\'s own node with "*".',
  async run(ctx, args) {
    const nodes = await withClient(ctx, (client) => client.listNodes());
    // Sorted by name so repeated runs compare line by line, whatever order the agent keeps.
    const sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (ctx.json) printJson(ctx.io, nodes);
    else if (flagValue(args, 'quiet')) ctx.io.stdout.write(sorted.map((node) => `${node.name}\n`).join(''));
    else {
      ctx.io.stdout.write(renderTable(['NAME', 'ADDRESS', 'STATE', 'SELF'], sorted.map(nodeRow)));
    }
    return EXIT_OK;
  },
};

export const nodeCommands: Command[] = [list];
