// vxmesh network create | ls | inspect | rm
import type { CreateNetworkRequest, NetworkInfo } from '../../model/api.js';
import { MTU_MAX, MTU_MIN } from '../../model/limits.js';
import { createNetworkProblem } from '../../model/validate.js';
import {
  QUIET_OPTION,
  flagLabel,
  flagValue,
  given,
  listValue,
  parseIntegerFlag,
  parseKeyValues,
  stringValue,
  usageCheck,
  withClient,
  type Command,
} from '../command.js';
import { EXIT_OK, printJson } from '../io.js';
import { shortId } from '../table.js';
import { checkRef, inspectEach, removeEach } from './each-target.js';
import { printList } from './list-output.js';

/** A network given by name, id or id prefix; one starting with '-' was meant as a name. */
export function checkNetworkRef(target: string): void {
  checkRef('network', target);
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
    const request = given<CreateNetworkRequest>({ name: args.positionals[0] ?? '' }, fields);
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
    const headers = ['NETWORK ID', 'NAME', 'VNI', 'SUBNET', 'GATEWAY', 'IPV6 SUBNET', 'MTU', 'ENDPOINTS', 'INTERNAL', 'HOSTS'];
    printList(ctx, args, networks, { headers, row: networkRow, key: (n) => shortId(n.id) });
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
    return withClient(ctx, (client) => inspectEach(ctx, args.positionals, (nameOrId) => client.inspectNetwork(nameOrId)));
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
    return withClient(ctx, (client) =>
      removeEach(ctx, args.positionals, async (nameOrId) => {
        await client.removeNetwork(nameOrId);
        return nameOrId;
      }),
    );
  },
};

export const networkCommands: Command[] = [create, list, inspect, remove];
