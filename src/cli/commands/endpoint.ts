// vxmesh endpoint attach | detach | ls
import type { AttachRequest, EndpointInfo } from '../../model/api.js';
import { JSON_OPTION, flagValue, listValue, parseKeyValues, stringValue, withClient, type Command } from '../command.js';
import { EXIT_OK, UsageError, printJson } from '../io.js';
import { renderTable, shortId } from '../table.js';
import { eachTarget } from './each-target.js';

function requiredFlag(value: string | undefined, flag: string, example: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required (e.g. --${flag} ${example})`);
  return value;
}

const attach: Command = {
  path: ['endpoint', 'attach'],
  summary: 'Attach a network namespace to a network. Prints the endpoint id and its addresses.',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: {
    network: { type: 'string', valueName: 'NAME', description: 'network to attach to (required)' },
    netns: { type: 'string', valueName: 'PATH', description: 'workload netns, e.g. /run/netns/c1 or /proc/PID/ns/net (required)' },
    name: { type: 'string', valueName: 'NAME', description: 'endpoint name, resolvable by DNS on the network' },
    alias: { type: 'string', multiple: true, valueName: 'NAME', description: 'extra DNS name' },
    ip: { type: 'string', valueName: 'IP', description: 'IPv4 address (default: next free)' },
    ipv6: { type: 'string', valueName: 'IP', description: 'IPv6 address (IPv6 networks)' },
    mac: { type: 'string', valueName: 'MAC', description: 'MAC address (default: derived from the IP)' },
    label: { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'set a label' },
    json: JSON_OPTION,
  },
  async run(ctx, args) {
    const request: AttachRequest = {
      network: requiredFlag(stringValue(args, 'network'), 'network', 'web'),
      netns: requiredFlag(stringValue(args, 'netns'), 'netns', '/run/netns/c1'),
    };
    const name = stringValue(args, 'name');
    const aliases = listValue(args, 'alias');
    const ip = stringValue(args, 'ip');
    const ipv6 = stringValue(args, 'ipv6');
    const mac = stringValue(args, 'mac');
    const labels = parseKeyValues('label', listValue(args, 'label'));
    if (name !== undefined) request.name = name;
    if (aliases.length > 0) request.aliases = aliases;
    if (ip !== undefined) request.ip = ip;
    if (ipv6 !== undefined) request.ipv6 = ipv6;
    if (mac !== undefined) request.mac = mac;
    if (labels !== undefined) request.labels = labels;
    const endpoint = await withClient(ctx, (client) => client.attach(request));
    if (flagValue(args, 'json')) printJson(ctx.io, endpoint);
    else ctx.io.stdout.write(`${[endpoint.id, endpoint.ipv4, ...(endpoint.ipv6 ? [endpoint.ipv6] : [])].join(' ')}\n`);
    return EXIT_OK;
  },
};

const detach: Command = {
  path: ['endpoint', 'detach'],
  summary: 'Detach endpoints (removes their interface). Prints each id detached.',
  args: 'ID [ID...]',
  minPositionals: 1,
  maxPositionals: Infinity,
  options: {},
  async run(ctx, args) {
    return withClient(ctx, (client) =>
      eachTarget(ctx, args.positionals, async (id) => {
        await client.detach(id);
        ctx.io.stdout.write(`${id}\n`);
      }),
    );
  },
};

function endpointRow(endpoint: EndpointInfo): string[] {
  return [
    shortId(endpoint.id),
    endpoint.name,
    endpoint.network,
    endpoint.ipv4,
    endpoint.ipv6 ?? '-',
    endpoint.mac,
    endpoint.netns || '-',
    endpoint.aliases.join(',') || '-',
  ];
}

const list: Command = {
  path: ['endpoint', 'ls'],
  summary: 'List endpoints on this host.',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: {
    network: { type: 'string', valueName: 'NAME', description: 'only endpoints of this network' },
    json: JSON_OPTION,
  },
  async run(ctx, args) {
    const network = stringValue(args, 'network');
    const endpoints = await withClient(ctx, (client) => client.listEndpoints(network));
    if (flagValue(args, 'json')) printJson(ctx.io, endpoints);
    else {
      const headers = ['ENDPOINT ID', 'NAME', 'NETWORK', 'IPV4', 'IPV6', 'MAC', 'NETNS', 'ALIASES'];
      ctx.io.stdout.write(renderTable(headers, endpoints.map(endpointRow)));
    }
    return EXIT_OK;
  },
};

export const endpointCommands: Command[] = [attach, detach, list];
