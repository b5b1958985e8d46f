// vxmesh network create | ls | inspect | rm
import type { CreateNetworkRequest, NetworkInfo } from '../../model/api.js';
import { MTU_MAX, MTU_MIN } from '../../model/limits.js';
import { createNetworkProblem, nameProblem, refProblem } from '../../model/validate.js';
import {
  QUIET_OPTION,
  flagLabel,
  flagValue,
  listValue,
  parseIntegerFlag,
  parseKeyValues,
  stringValue,
  usageCheck,
  withClient,
  type Command,
} from '../command.js';
import { EXIT_OK, printJson } from '../io.js';
import { renderTable, shortId } from '../table.js';
import { eachTarget } from './each-target.js';

/** A network given by name, id or id prefix; one starting with '-' was meant as a name. */
export function checkNetworkRef(target: string): void {
  usageCheck(target.startsWith('-') ? nameProblem('network name', target) : refProblem('network', target));
}

const create: Command = {
  path: ['network', 'create'],
  summary: 'Create an overlay network. Prints its id.',
  args: 'NAME',
  minPositionals: 1,
  maxPositionals: 1,
  options: {
    subnet: { type: 'string', valueName: 'CIDR', description: 'IPv4 subnet (default: carved from the default pool)' },
    gateway: { type: 'string', valueName: 'IP', description: 'IPv4 gateway (default: first address of the subnet)' },
    'ip-range': { type: 'string', valueName: 'CIDR', description: 'allocate endpoint addresses from this range only' },
    'aux-address': { type: 'string', multiple: true, valueName: 'NAME=IP', description: 'reserve an address' },
    ipv6: { type: 'boolean', description: 'enable IPv6' },
    'subnet-v6': { type: 'string', valueName: 'CIDR', description: 'IPv6 subnet (needs --ipv6)' },
    'gateway-v6': { type: 'string', valueName: 'IP', description: 'IPv6 gateway (needs --ipv6)' },
    'ip-range-v6': { type: 'string', valueName: 'CIDR', description: 'IPv6 allocation range (needs --ipv6)' },
    mtu: { type: 'string', valueName: 'N', description: `MTU of the overlay, ${MTU_MIN} to ${MTU_MAX} (default: underlay MTU - 50)` },
    internal: { type: 'boolean', description: 'no outside access (no gateway bridge)' },
    label: { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'set a label' },
  },
  async run(ctx, args) {
    const fields: Partial<CreateNetworkRequest> = {
      subnet: stringValue(args, 'subnet'),
      gateway: stringValue(args, 'gateway'),
      ipRange: stringValue(args, 'ip-range'),
      auxAddresses: parseKeyValues('aux-address', listValue(args, 'aux-address')),
      ipv6: flagValue(args, 'ipv6') || undefined,
      subnetV6: stringValue(args, 'subnet-v6'),
      gatewayV6: stringValue(args, 'gateway-v6'),
      ipRangeV6: stringValue(args, 'ip-range-v6'),
      mtu: parseIntegerFlag('mtu', stringValue(args, 'mtu'), MTU_MIN, MTU_MAX),
      internal: flagValue(args, 'internal') || undefined,
      labels: parseKeyValues('label', listValue(args, 'label')),
    };
    const request: CreateNetworkRequest = { name: args.positionals[0] ?? '' };
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) (request as unknown as Record<string, unknown>)[key] = value;
    }
    // The agent checks the same rules; checking here first names the flags and never dials a socket for a typo.
    usageCheck(createNetworkProblem(request, flagLabel({ name: 'network name' })));
    const network = await withClient(ctx, (client) => client.createNetwork(request));
    if (ctx.json) printJson(ctx.io, network);
    else ctx.io.stdout.write(`${network.id}\n`);
    return EXIT_OK;
  },
};

function networkRow(network: NetworkInfo): string[] {
  return [
    shortId(network.id),
    network.name,
    String(network.vni),
    network.ipv4.subnet,
    network.ipv4.gateway,
    network.ipv6?.subnet ?? '-',
    String(network.mtu),
    String(network.endpointCount),
    network.internal ? 'yes' : 'no',
    network.hosts?.length ? network.hosts.join(',') : '-',
  ];
}

const list: Command = {
  path: ['network', 'ls'],
  summary: 'List networks.',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: { quiet: { ...QUIET_OPTION, description: 'print network ids only (as the table shows them)' } },
  async run(ctx, args) {
    const networks = await withClient(ctx, (client) => client.listNetworks());
    if (ctx.json) printJson(ctx.io, networks);
    else if (flagValue(args, 'quiet')) ctx.io.stdout.write(networks.map((n) => `${shortId(n.id)}\n`).join(''));
    else {
      const headers = ['NETWORK ID', 'NAME', 'VNI', 'SUBNET', 'GATEWAY', 'IPV6 SUBNET', 'MTU', 'ENDPOINTS', 'INTERNAL', 'HOSTS'];
      ctx.io.stdout.write(renderTable(headers, networks.map(networkRow)));
    }
    return EXIT_OK;
  },
};

const inspect: Command = {
  path: ['network', 'inspect'],
  summary: 'Show networks in detail, as a JSON array (like docker inspect).',
  args: 'NAME [NAME...]',
  minPositionals: 1,
  maxPositionals: Infinity,
  options: {},
  details: 'NAME is a name, an id or a unique id prefix. The output is always JSON.',
  async run(ctx, args) {
    args.positionals.forEach(checkNetworkRef);
    return withClient(ctx, async (client) => {
      const found: NetworkInfo[] = [];
      const status = await eachTarget(ctx, args.positionals, async (nameOrId) => {
        found.push(await client.inspectNetwork(nameOrId));
      });
      if (found.length > 0 || status === EXIT_OK) printJson(ctx.io, found);
      return status;
    });
  },
};

const remove: Command = {
  path: ['network', 'rm'],
  summary: 'Remove networks. Prints each name removed (a JSON array of them with --json).',
  args: 'NAME [NAME...]',
  minPositionals: 1,
  maxPositionals: Infinity,
  options: {},
  details: 'NAME is a name, an id or a unique id prefix.',
  async run(ctx, args) {
    args.positionals.forEach(checkNetworkRef);
    const removed: string[] = [];
    const status = await withClient(ctx, (client) =>
      eachTarget(ctx, args.positionals, async (nameOrId) => {
        await client.removeNetwork(nameOrId);
        removed.push(nameOrId);
        if (!ctx.json) ctx.io.stdout.write(`${nameOrId}\n`);
      }),
    );
    // Under --json stdout holds what was done; when everything failed, only the errors speak.
    if (ctx.json && (removed.length > 0 || status === EXIT_OK)) printJson(ctx.io, removed);
    return status;
  },
};

export const networkCommands: Command[] = [create, list, inspect, remove];
