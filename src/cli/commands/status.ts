// vxmesh status | version
import type { StatusInfo } from '../../model/api.js';
import { withClient, type Command } from '../command.js';
import { EXIT_OK, printJson } from '../io.js';
import { renderFields } from '../table.js';
import { cliVersion } from '../version.js';

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

/** The store's health, once the agent reports it (an agent that does not shows no line). */
type StoreHealth = NonNullable<StatusInfo['store']>;

function storeField(info: StatusInfo): [string, string][] {
  const store = (info as StatusInfo & { store?: StoreHealth }).store;
  if (store === undefined) return [];
  const owed = store.owedReady ? `; ${store.owedReady} attach(es) acknowledged here, their ready record not in the store yet (kept in the ack log, retried)` : '';
  return [['store', (store.ok ? 'ok' : `failing: ${store.error ?? 'unknown error'}`) + owed]];
}

const status: Command = {
  path: ['status'],
  summary: "Show the agent's version, addresses, counts and kernel features.",
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: {},
  async run(ctx) {
    const info = await withClient(ctx, (client) => client.status());
    if (ctx.json) {
      printJson(ctx.io, info);
      return EXIT_OK;
    }
    ctx.io.stdout.write(
      renderFields([
        ['version', info.version],
        ['socket', ctx.socketPath],
        ['advertise address', info.advertiseAddr || '-'],
        ['data dir', info.dataDir],
        ['networks', String(info.networks)],
        ['endpoints', String(info.endpoints)],
        ...(info.services !== undefined ? [['services', String(info.services)] as [string, string]] : []),
        ...storeField(info),
        ...(info.vxlanDropped !== undefined ? [['vxlan dropped (non-members)', String(info.vxlanDropped)] as [string, string]] : []),
        ['vxlan', yesNo(info.features.vxlan)],
        ['nftables', yesNo(info.features.nftables)],
        ['ip_vs', yesNo(info.features.ipvs)],
        ...(info.loadBalancer ? [['load balancer', info.loadBalancer] as [string, string]] : []),
        ...((info.gossip
          ? [
              ['gossip node', info.gossip.node],
              ['gossip address', `${info.gossip.addr}:${info.gossip.port}`],
              ['gossip members', `${info.gossip.alive} alive of ${info.gossip.members} known`],
              ['gossip encrypted', yesNo(info.gossip.encrypted)],
            ]
          : [['gossip', 'not running']]) as [string, string][]),
      ]),
    );
    return EXIT_OK;
  },
};

const version: Command = {
  path: ['version'],
  summary: 'Show the version of vxmesh (also vxmesh --version).',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: {},
  async run(ctx) {
    const value = cliVersion();
    if (ctx.json) printJson(ctx.io, { version: value });
    else ctx.io.stdout.write(`vxmesh ${value}\n`);
    return EXIT_OK;
  },
};

export const statusCommands: Command[] = [status, version];
