// Docker libnetwork remote NetworkDriver + IpamDriver, served on /run/docker/plugins/<name>.sock.
// A thin adapter onto AgentApi: it translates dockerd's calls and keeps no state of its own; the
// docker id <-> vxmesh object mapping lives in labels on the agent's networks and endpoints.
import { rmSync } from 'node:fs';
import type { AgentApi } from '../model/api.js';
import type { PluginContext, PluginLogger } from './context.js';
import { dockerSocketPath } from './docker-api.js';
import { ipamDriverHandlers } from './ipam-driver.js';
import { networkDriverHandlers, type Handler } from './network-driver.js';
import { listenOnSocket } from './server.js';

export { LABEL_ENDPOINT_ID, LABEL_IPAM, LABEL_NETWORK_ID, LOCAL_ADDRESS_SPACE, GLOBAL_ADDRESS_SPACE } from './context.js';
export { OPT_NETWORK_NAME, OPT_MTU, fallbackNetworkName } from './network-driver.js';

export interface PluginServerOptions {
  /** e.g. /run/docker/plugins/vxmesh.sock (dockerd finds plugins only there, by file name). */
  socketPath: string;
  logger: PluginLogger;
  /** Unused: all durable state is the agent's. Accepted so callers can pass the data dir. */
  stateDir?: string;
  /** dockerd's API, to learn a new network's name (from the agent's --docker-host); default unix:///var/run/docker.sock. */
  dockerHost?: string;
  /** How long to wait for dockerd to show a new network's name (default 10 s). */
  nameWaitMs?: number;
}

export interface PluginServer {
  close(): Promise<void>;
}

export function pluginHandlers(ctx: PluginContext): Record<string, Handler> {
  return {
    'Plugin.Activate': async () => ({ Implements: ['NetworkDriver', 'IpamDriver'] }),
    ...networkDriverHandlers(ctx),
    ...ipamDriverHandlers(ctx),
  };
}

export async function startPluginServer(api: AgentApi, opts: PluginServerOptions): Promise<PluginServer> {
  const ctx: PluginContext = {
    api,
    logger: opts.logger,
    dockerSocket: dockerSocketPath(opts.dockerHost),
    nameWaitMs: opts.nameWaitMs ?? 10_000,
    poolIds: new Map(),
    pendingNetworks: new Map(),
    adopted: new Map(),
  };
  const server = await listenOnSocket(pluginHandlers(ctx), opts.logger, opts.socketPath);
  opts.logger.info({ socket: opts.socketPath }, 'docker plugin listening');
  let closed: Promise<void> | undefined;
  return {
    close() {
      closed ??= (async () => {
        await Promise.allSettled([...ctx.pendingNetworks.values()]);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        rmSync(opts.socketPath, { force: true });
      })();
      return closed;
    },
  };
}
