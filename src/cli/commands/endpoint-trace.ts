// vxmesh endpoint trace ENDPOINT --to IP|NAME[:PORT]: the path a packet from the endpoint would take,
// hop by hop, from the agent's state and the kernel's (nothing is sent). Exit 0 when every hop is fine.
import { refProblem } from '../../model/validate.js';
import { stringValue, usageCheck, withClient, type Command } from '../command.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, printJson } from '../io.js';

const trace: Command = {
  path: ['endpoint', 'trace'],
  summary: 'Explain the path a packet from an endpoint to an address or name would take (sends nothing).',
  args: 'ENDPOINT',
  minPositionals: 1,
  maxPositionals: 1,
  options: {
    to: { type: 'string', valueName: 'IP|NAME[:PORT]', required: true, description: 'destination: an address, or an endpoint name or alias in the same network (required)' },
  },
  details: 'ENDPOINT is an id, a unique id prefix or an endpoint name. Exits 0 when the packet would arrive (or leave the host), 1 when a hop would lose it.',
  async run(ctx, args) {
    const endpoint = args.positionals[0]!;
    usageCheck(refProblem('endpoint', endpoint));
    const to = stringValue(args, 'to');
    if (to === undefined) throw new UsageError('--to is required (e.g. --to 10.0.1.3 or --to api:80)');
    const info = await withClient(ctx, (client) => client.traceEndpoint({ endpoint, to }));
    if (ctx.json) printJson(ctx.io, info);
    else {
      const dest = `${info.to}${info.port === undefined ? '' : `:${info.port}`}${info.resolved ? ` (${info.resolved})` : ''}`;
      const lines = [`endpoint ${info.endpoint.slice(0, 12)} in network ${info.network} -> ${dest}`];
      info.hops.forEach((h, i) => lines.push(`  ${i + 1}. ${h.ok ? '' : 'STOP '}${h.at}: ${h.detail}`));
      lines.push(info.ok ? 'the packet would get there' : 'the packet would be lost at the last hop');
      ctx.io.stdout.write(lines.join('\n') + '\n');
    }
    return info.ok ? EXIT_OK : EXIT_FAILURE;
  },
};

export const endpointTraceCommands: Command[] = [trace];
