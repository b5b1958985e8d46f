// The command table. New groups (service ...) add a file here and a line below.
import type { Command } from '../command.js';
import { agentCommands } from './agent.js';
import { doctorCommands } from './doctor.js';
import { endpointCommands } from './endpoint.js';
import { endpointTraceCommands } from './endpoint-trace.js';
import { gossipCommands } from './gossip.js';
import { networkCommands } from './network.js';
import { nodeCommands } from './node.js';
import { serviceCommands } from './service.js';
import { statusCommands } from './status.js';

export const COMMANDS: readonly Command[] = [
  ...agentCommands,
  ...networkCommands,
  ...endpointCommands,
  ...serviceCommands,
  ...endpointTraceCommands,
  ...nodeCommands,
  ...gossipCommands,
  ...statusCommands,
  ...doctorCommands,
];

/** Group paths (e.g. "network", "gossip key") with a one-line description for their help. */
export const GROUPS: Readonly<Record<string, string>> = {
  network: 'manage overlay networks',
  endpoint: 'attach network namespaces to networks',
  service: 'manage services (VIPs, published ports)',
  node: 'inspect the gossip cluster',
  gossip: 'manage gossip encryption keys',
  'gossip key': "rotate the cluster's gossip encryption keyring",
};
