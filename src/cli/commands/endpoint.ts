// vxmesh endpoint attach | detach | ls
import { resolve } from 'node:path';
import { VxError } from '../../errors.js';
import type { AttachRequest, EndpointInfo } from '../../model/api.js';
import { attachProblem } from '../../model/validate.js';
import {
  QUIET_OPTION, flagLabel, listValue, parseKeyValues, stringValue, usageCheck, withClient, type Command,
} from '../command.js';
import { EXIT_OK, UsageError, printJson } from '../io.js';
import { shortId } from '../table.js';
import { checkRef, removeEach } from './each-target.js';
import { printList } from './list-output.js';
import { checkNetworkRef } from './network.js';

function requiredFlag(value: string | undefined, flag: string, example: string): string {
  if (value === undefined) throw new UsageError(`--${flag} is required (e.g. --${flag} ${example})`);
  return value;
}

const attach: Command = {
  path: ['endpoint', 'attach'],
  summary: 'Attach a network namespace to a network. Prints the endpoint id and its addresses.',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: {
    network: { type: 'string', valueName: 'NAME', required: true, description: 'network to attach to (required)' },
    netns: { type: 'string', valueName: 'PATH', required: true, description: 'workload netns, e.g. /run/netns/c1 or /proc/PID/ns/net (required)' },
    name: { type: 'string', valueName: 'NAME', description: 'endpoint name, resolvable by DNS on the network' },
    alias: { type: 'string', multiple: true, valueName: 'NAME', description: 'extra DNS name' },
    ip: { type: 'string', valueName: 'IP', description: 'IPv4 address (default: next free)' },
    ipv6: { type: 'string', valueName: 'IP', description: 'IPv6 address (IPv6 networks)' },
    mac: { type: 'string', valueName: 'MAC', description: 'MAC address (default: derived from the IP)' },
    label: { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'set a label' },
    'resolv-conf': { type: 'string', valueName: 'PATH', description: "write the workload's resolv.conf here (nameserver 127.0.0.11, options ndots:0)" },
    service: { type: 'string', valueName: 'NAME', description: 'the endpoint is a task of this service (which must be on --network)' },
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
    const resolvConf = stringValue(args, 'resolv-conf');
    // The agent has its own working directory: a relative path means the caller's.
    if (resolvConf !== undefined) request.resolvConf = resolvConf === '' ? '' : resolve(resolvConf);
    const service = stringValue(args, 'service');
    if (service !== undefined) {
      checkRef('--service', service, '--service');
      request.service = service;
    }
    checkNetworkRef(request.network);
    usageCheck(attachProblem(request, flagLabel()));
    const endpoint = await withClient(ctx, (client) => client.attach(request));
    if (ctx.json) printJson(ctx.io, endpoint);
    else ctx.io.stdout.write(`${[endpoint.id, endpoint.ipv4, ...(endpoint.ipv6 ? [endpoint.ipv6] : [])].join(' ')}\n`);
    return EXIT_OK;
  },
};

function describe(endpoint: EndpointInfo): string {
  return `${shortId(endpoint.id)} (name ${endpoint.name}, network ${endpoint.network})`;
}

function ambiguous(target: string, matches: EndpointInfo[], how: string): VxError {
  return new VxError('INVALID_ARGUMENT', `endpoint ${target} is ambiguous: it is the ${how} of ${matches.map(describe).join(', ')}: give the id`);
}

/** Like docker: an exact id, else an endpoint name, else a unique id prefix. */
export function resolveEndpoint(target: string, endpoints: readonly EndpointInfo[]): EndpointInfo {
  const byId = endpoints.find((e) => e.id === target);
  if (byId) return byId;
  const byName = endpoints.filter((e) => e.name === target);
  if (byName.length > 1) throw ambiguous(target, byName, 'name');
  if (byName[0]) return byName[0];
  const byPrefix = endpoints.filter((e) => e.id.startsWith(target));
  if (byPrefix.length > 1) throw ambiguous(target, byPrefix, 'id prefix');
  if (byPrefix[0]) return byPrefix[0];
  throw new VxError('NOT_FOUND', `endpoint ${target} not found (vxmesh endpoint ls lists them)`);
}

const detach: Command = {
  path: ['endpoint', 'detach'],
  summary: 'Detach endpoints (removes their interface). Prints each one detached (a JSON array of ids with --json).',
  args: 'ENDPOINT [ENDPOINT...]',
  minPositionals: 1,
  maxPositionals: Infinity,
  options: {},
  details: 'ENDPOINT is an id, an endpoint name or a unique id prefix; a name used on several networks needs the id.',
  async run(ctx, args) {
    for (const target of args.positionals) checkRef('endpoint', target);
    return withClient(ctx, async (client) => {
      const endpoints = await client.listEndpoints();
      return removeEach(ctx, args.positionals, async (target) => {
        const endpoint = resolveEndpoint(target, endpoints);
        await client.detach(endpoint.id);
        return endpoint.id;
      });
    });
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
    quiet: { ...QUIET_OPTION, description: 'print endpoint ids only (as the table shows them)' },
  },
  async run(ctx, args) {
    const network = stringValue(args, 'network');
    if (network !== undefined) checkNetworkRef(network);
    const endpoints = await withClient(ctx, (client) => client.listEndpoints(network));
    const headers = ['ENDPOINT ID', 'NAME', 'NETWORK', 'IPV4', 'IPV6', 'MAC', 'NETNS', 'ALIASES'];
    printList(ctx, args, endpoints, { headers, row: endpointRow, key: (e) => shortId(e.id) });
    return EXIT_OK;
  },
};

export const endpointCommands: Command[] = [attach, detach, list];
