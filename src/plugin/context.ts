// What the NetworkDriver and IpamDriver handlers share. Durable state lives in the agent only:
// the docker <-> vxmesh mapping is kept as labels on vxmesh networks and endpoints. The two maps
// here are short-lived correlations between calls dockerd makes back to back.
import type { Logger } from 'pino';
import type { AgentApi, EndpointInfo, NetworkInfo } from '../model/api.js';

export const LABEL_NETWORK_ID = 'docker.network.id';
export const LABEL_ENDPOINT_ID = 'docker.endpoint.id';
/** 'vxmesh' when the network's addresses come from the vxmesh IPAM driver, 'docker' otherwise. */
export const LABEL_IPAM = 'docker.ipam';

/** The address spaces vxmesh's IPAM driver announces to dockerd. */
export const LOCAL_ADDRESS_SPACE = 'vxmesh';
export const GLOBAL_ADDRESS_SPACE = 'vxmesh-global';

export type PluginLogger = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;

export interface PluginContext {
  readonly api: AgentApi;
  readonly logger: PluginLogger;
  /** dockerd's API socket, to learn a network's name; undefined when not known. */
  readonly dockerSocket: string | undefined;
  /** How long to wait for dockerd to show a new network's name. */
  readonly nameWaitMs: number;
  /** "v4|pool CIDR" -> PoolID from RequestPool, so CreateNetwork can adopt the pool. */
  readonly poolIds: Map<string, string>;
  /** docker network id -> vxmesh network creation still running (see network-driver.ts). */
  readonly pendingNetworks: Map<string, Promise<NetworkInfo>>;
}

export function poolKey(v6: boolean, pool: string): string {
  return `${v6 ? 'v6' : 'v4'}|${pool}`;
}

/** The vxmesh network made for docker network `dockerId`, waiting for one still being created. */
export async function findNetwork(ctx: PluginContext, dockerId: string): Promise<NetworkInfo | undefined> {
  const pending = ctx.pendingNetworks.get(dockerId);
  if (pending) return pending;
  const networks = await ctx.api.listNetworks();
  return networks.find((n) => n.labels[LABEL_NETWORK_ID] === dockerId);
}

/** Like findNetwork, but a network whose creation failed counts as absent (for deletes). */
export async function findNetworkIfCreated(ctx: PluginContext, dockerId: string): Promise<NetworkInfo | undefined> {
  const pending = ctx.pendingNetworks.get(dockerId);
  if (pending) return pending.catch(() => undefined);
  return findNetwork(ctx, dockerId);
}

export async function findEndpoint(ctx: PluginContext, network: NetworkInfo | undefined, dockerEndpointId: string): Promise<EndpointInfo | undefined> {
  const endpoints = await ctx.api.listEndpoints(network?.id);
  return endpoints.find((e) => e.labels[LABEL_ENDPOINT_ID] === dockerEndpointId);
}
