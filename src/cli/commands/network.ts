// vxmesh network create | ls | inspect | rm
import type { CreateNetworkRequest, NetworkInfo } from '../../model/api.js';
import {
  JSON_OPTION,
  flagValue,
  listValue,
  parseIntegerFlag,
  parseKeyValues,
  stringValue,
  withClient,
  type Command,
} from '../command.js';
import { EXIT_OK, UsageError, printJson } from '../io.js';
import { renderTable, shortId } from '../table.js';
import { eachTarget } from './each-target.js';

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
    mtu: { type: 'string', valueName: 'N', description: 'MTU of the overlay (default: underlay MTU - 50)' },
    internal: { type: 'boolean', description: 'no outside access (no gateway bridge)' },
    label: { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'set a label' },
    json: JSON_OPTION,
  },
  async run(ctx, args) {
    const ipv6 = flagValue(args, 'ipv6');
    for (const flag of ['subnet-v6', 'gateway-v6', 'ip-range-v6']) {
      if (!ipv6 && stringValue(args, flag) !== undefined) throw new UsageError(`--${flag} needs --ipv6`);
    }
    const fields: Partial<CreateNetworkRequest> = {
      subnet: stringValue(args, 'subnet'),
      gateway: stringValue(args, 'gateway'),
      ipRange: stringValue(args, 'ip-range'),
      auxAddresses: parseKeyValues('aux-address', listValue(args, 'aux-address')),
      ipv6: ipv6 || undefined,
      subnetV6: stringValue(args, 'subnet-v6'),
      gatewayV6: stringValue(args, 'gateway-v6'),
      ipRangeV6: stringValue(args, 'ip-range-v6'),
      mtu: parseIntegerFlag('mtu', stringValue(args, 'mtu'), 68, 65535),
      internal: flagValue(args, 'internal') || undefined,
      labels: parseKeyValues('label', listValue(args, 'label')),
    };
    const request: CreateNetworkRequest = { name: args.positionals[0] ?? '' };
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) (request as unknown as Record<string, unknown>)[key] = value;
    }
    const network = await withClient(ctx, (client) => client.createNetwork(request));
    if (flagValue(args, 'json')) printJson(ctx.io, network);
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
  ];
}

const list: Command = {
  path: ['network', 'ls'],
  summary: 'List networks.',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: {
    quiet: { type: 'boolean', short: 'q', description: 'print network ids only' },
    json: JSON_OPTION,
  },
  async run(ctx, args) {
    const networks = await withClient(ctx, (client) => client.listNetworks());
    if (flagValue(args, 'json')) printJson(ctx.io, networks);
    else if (flagValue(args, 'quiet')) ctx.io.stdout.write(networks.map((n) => `${n.id}\n`).join(''));
    else {
      const headers = ['NETWORK ID', 'NAME', 'VNI', 'SUBNET', 'GATEWAY', 'IPV6 SUBNET', 'MTU', 'ENDPOINTS', 'INTERNAL'];
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
  options: { json: { type: 'boolean', description: 'accepted for symmetry; output is always JSON' } },
  async run(ctx, args) {
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
  summary: 'Remove networks. Prints each name removed.',
  args: 'NAME [NAME...]',
  minPositionals: 1,
  maxPositionals: Infinity,
  options: {},
  async run(ctx, args) {
    return withClient(ctx, (client) =>
      eachTarget(ctx, args.positionals, async (nameOrId) => {
        await client.removeNetwork(nameOrId);
        ctx.io.stdout.write(`${nameOrId}\n`);
      }),
    );
  },
};

export const networkCommands: Command[] = [create, list, inspect, remove];
