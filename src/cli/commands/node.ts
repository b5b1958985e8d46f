// vxmesh node ls
import { isIPv6 } from 'node:net';
import type { GossipNode } from '../../model/api.js';
import { QUIET_OPTION, withClient, type Command } from '../command.js';
import { EXIT_OK } from '../io.js';
import { printList } from './list-output.js';

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
    printList(ctx, args, nodes, {
      headers: ['NAME', 'ADDRESS', 'STATE', 'SELF'],
      row: nodeRow,
      key: (node) => node.name,
      // Sorted by name so repeated runs compare line by line, whatever order the agent keeps.
      sort: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    });
    return EXIT_OK;
  },
};

export const nodeCommands: Command[] = [list];
