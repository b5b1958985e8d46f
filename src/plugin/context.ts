// What the NetworkDriver and IpamDriver handlers share. Durable state lives in the agent only:
// the docker <-> vxmesh mapping is kept as labels on vxmesh networks and endpoints. The two maps
// here are short-lived correlations between calls dockerd makes back to back.
import type { Logger } from 'pino';
import type { AgentApi, EndpointInfo, NetworkInfo } from '../model/api.js';
import { waitForDockerNetworkName } from './docker-api.js';

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
  /** docker network id -> id of the vxmesh network another host made under that name (shared-network.ts). */
  readonly adopted: Map<string, string>;
}

export function poolKey(v6: boolean, pool: string): string {
  return `${v6 ? 'v6' : 'v4'}|${pool}`;
}

/** The vxmesh network made for docker network `dockerId`, waiting for one still being created. */
export async function findNetwork(ctx: PluginContext, dockerId: string): Promise<NetworkInfo | undefined> {
  const pending = ctx.pendingNetworks.get(dockerId);
  if (pending) return pending;
  const networks = await ctx.api.listNetworks();
  return networks.find((n) => n.labels[LABEL_NETWORK_ID] === dockerId) ?? adoptedNetwork(ctx, dockerId, networks);
}

/**
 * The vxmesh network another host made that docker network `dockerId` of this host uses: remembered
 * from CreateNetwork, or (after an agent restart) found by the docker network's name.
 */
export async function adoptedNetwork(ctx: PluginContext, dockerId: string, networks: NetworkInfo[]): Promise<NetworkInfo | undefined> {
  const known = ctx.adopted.get(dockerId);
  if (known !== undefined) return networks.find((n) => n.id === known);
  const name = await waitForDockerNetworkName(ctx.dockerSocket, dockerId, 0);
  const found = name === undefined ? undefined : networks.find((n) => n.name === name && n.labels[LABEL_IPAM] !== undefined);
  if (found) ctx.adopted.set(dockerId, found.id);
  return found;
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
