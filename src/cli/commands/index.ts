// The command table. New groups (node ls, gossip key ..., service ...) add a file here and a line below.
import type { Command } from '../command.js';
import { agentCommands } from './agent.js';
import { endpointCommands } from './endpoint.js';
import { networkCommands } from './network.js';
import { statusCommands } from './status.js';

export const COMMANDS: readonly Command[] = [...agentCommands, ...networkCommands, ...endpointCommands, ...statusCommands];

/** Group words (e.g. "network") with a one-line description for the top-level help. */
export const GROUPS: Readonly<Record<string, string>> = {
  network: 'manage overlay networks',
  endpoint: 'attach network namespaces to networks',
};
