// vxmesh service create | ls | inspect | update | rm
import type { CreateServiceRequest, PublishSpec, ServiceInfo, UpdateServiceRequest } from '../../model/api.js';
import { parsePublishSpec } from '../../ingress/publish-spec.js';
import { createServiceProblem, updateServiceProblem } from '../../ingress/service-validate.js';
import { nameProblem } from '../../model/validate.js';
import {
  QUIET_OPTION, flagLabel, flagValue, given, listValue, parseKeyValues, stringValue, usageCheck, withClient, type Command, type OptionSpec,
} from '../command.js';
import { EXIT_OK, UsageError, printJson } from '../io.js';
import { shortId } from '../table.js';
import { checkRef, inspectEach, removeEach } from './each-target.js';
import { printList } from './list-output.js';

/** A service given by name, id or id prefix; one starting with '-' was meant as a name. */
function checkServiceRef(target: string): void {
  checkRef('service', target);
}

/** Every --publish value, parsed (the first bad one is a usage error naming the flag). */
export function parsePublishFlags(values: string[]): PublishSpec[] {
  return values.map((text) => {
    const spec = parsePublishSpec(text);
    if ('problem' in spec) throw new UsageError(spec.problem);
    return spec;
  });
}

const PUBLISH_OPTION: OptionSpec = {
  type: 'string',
  multiple: true,
  valueName: 'SPEC',
  description: 'publish a port: [mode=ingress|host,]PUBLISHED:TARGET[/tcp|/udp] (PUBLISHED empty: one of 30000-32767 is picked)',
};
const AFFINITY_OPTION: OptionSpec = { type: 'string', valueName: 'none|client-ip', description: 'client-ip: one client keeps reaching one task' };
const LABEL_OPTION: OptionSpec = { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'set a label' };

function printService(ctx: Parameters<Command['run']>[0], service: ServiceInfo): void {
  if (ctx.json) printJson(ctx.io, service);
  else ctx.io.stdout.write(`${service.id}\n`);
}

const create: Command = {
  path: ['service', 'create'],
  summary: 'Create a service: a VIP on each of its networks and its published ports. Prints its id.',
  args: 'NAME',
  minPositionals: 1,
  maxPositionals: 1,
  options: {
    network: { type: 'string', multiple: true, valueName: 'NAME', required: true, description: 'network its tasks attach to (required)' },
    publish: PUBLISH_OPTION,
    'endpoint-mode': { type: 'string', valueName: 'vip|dnsrr', description: 'vip (default): one virtual IP per network; dnsrr: DNS answers the task IPs' },
    affinity: AFFINITY_OPTION,
    label: LABEL_OPTION,
  },
  details: 'Tasks are endpoints attached with `vxmesh endpoint attach --service NAME`.',
  async run(ctx, args) {
    const networks = listValue(args, 'network');
    if (networks.length === 0) throw new UsageError('--network is required (e.g. --network web)');
    networks.forEach((n) => usageCheck(n.startsWith('-') ? nameProblem('--network', n) : undefined));
    const publish = parsePublishFlags(listValue(args, 'publish'));
    const request = given<CreateServiceRequest>({ name: args.positionals[0] ?? '', networks }, {
      publish: publish.length ? publish : undefined,
      endpointMode: stringValue(args, 'endpoint-mode') as CreateServiceRequest['endpointMode'],
      affinity: stringValue(args, 'affinity') as CreateServiceRequest['affinity'],
      labels: parseKeyValues('label', listValue(args, 'label')),
    });
    usageCheck(createServiceProblem(request, flagLabel({ name: 'service name' })));
    printService(ctx, await withClient(ctx, (client) => client.createService(request)));
    return EXIT_OK;
  },
};

const portText = (p: ServiceInfo['ports'][number]) => `${p.mode === 'host' ? 'host:' : '*:'}${p.publishedPort}->${p.targetPort}/${p.protocol}`;

function serviceRow(s: ServiceInfo): string[] {
  return [
    shortId(s.id),
    s.name,
    s.endpointMode,
    s.vips.map((v) => v.ipv4 ?? v.ipv6 ?? '').filter(Boolean).join(',') || '-',
    s.ports.map(portText).join(',') || '-',
    String(s.tasks.length),
    s.networks.join(','),
  ];
}

const list: Command = {
  path: ['service', 'ls'],
  summary: 'List services.',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: { quiet: { ...QUIET_OPTION, description: 'print service ids only (as the table shows them)' } },
  async run(ctx, args) {
    const services = await withClient(ctx, (client) => client.listServices());
    const headers = ['SERVICE ID', 'NAME', 'MODE', 'VIPS', 'PORTS', 'TASKS', 'NETWORKS'];
    printList(ctx, args, services, { headers, row: serviceRow, key: (s) => shortId(s.id) });
    return EXIT_OK;
  },
};

const inspect: Command = {
  path: ['service', 'inspect'],
  summary: 'Show services in detail (VIPs, ports, tasks), as a JSON array.',
  args: 'NAME [NAME...]',
  minPositionals: 1,
  maxPositionals: Infinity,
  options: {},
  details: 'NAME is a name, an id or a unique id prefix. The output is always JSON.',
  async run(ctx, args) {
    args.positionals.forEach(checkServiceRef);
    return withClient(ctx, (client) => inspectEach(ctx, args.positionals, (nameOrId) => client.inspectService(nameOrId)));
  },
};

const update: Command = {
  path: ['service', 'update'],
  summary: 'Change a service: its published ports (replaced as a whole), affinity or labels. Prints its id.',
  args: 'NAME',
  minPositionals: 1,
  maxPositionals: 1,
  options: {
    publish: { ...PUBLISH_OPTION, description: 'the ports to publish, replacing the current ones: [mode=ingress|host,]PUBLISHED:TARGET[/tcp|/udp]' },
    'no-publish': { type: 'boolean', description: 'publish no ports any more' },
    affinity: AFFINITY_OPTION,
    label: { ...LABEL_OPTION, description: 'the labels, replacing the current ones' },
  },
  async run(ctx, args) {
    const service = args.positionals[0] ?? '';
    checkServiceRef(service);
    const publishText = listValue(args, 'publish');
    const clear = flagValue(args, 'no-publish');
    if (clear && publishText.length) throw new UsageError('--no-publish and --publish exclude each other: give one');
    const request = given<UpdateServiceRequest>({ service }, {
      publish: clear ? [] : publishText.length ? parsePublishFlags(publishText) : undefined,
      affinity: stringValue(args, 'affinity') as UpdateServiceRequest['affinity'],
      labels: parseKeyValues('label', listValue(args, 'label')),
    });
    if (Object.keys(request).length === 1) throw new UsageError('nothing to change: give --publish, --no-publish, --affinity or --label');
    usageCheck(updateServiceProblem(request, flagLabel({ service: 'service' })));
    printService(ctx, await withClient(ctx, (client) => client.updateService(request)));
    return EXIT_OK;
  },
};

const remove: Command = {
  path: ['service', 'rm'],
  summary: 'Remove services (their VIPs and published ports go; tasks stay as plain endpoints). Prints each name removed.',
  args: 'NAME [NAME...]',
  minPositionals: 1,
  maxPositionals: Infinity,
  options: {},
  details: 'NAME is a name, an id or a unique id prefix.',
  async run(ctx, args) {
    args.positionals.forEach(checkServiceRef);
    return withClient(ctx, (client) =>
      removeEach(ctx, args.positionals, async (nameOrId) => {
        await client.removeService(nameOrId);
        return nameOrId;
      }),
    );
  },
};

export const serviceCommands: Command[] = [create, list, inspect, update, remove];
