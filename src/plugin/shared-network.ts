// One docker network name = one vxmesh network cluster-wide. With a shared store, `docker network
// create NAME` on a second host finds the vxmesh network the first host made: its IPAM calls adopt
// that network's pool and gateway (instead of failing with an overlap), its CreateNetwork maps the
// new docker network id onto it, and its DeleteNetwork drops only this host's use of it.
import { VxError } from '../errors.js';
import type { CreateNetworkRequest, NetworkInfo } from '../model/api.js';
import { createOptionsMismatch } from '../overlay/network-match.js';
import { LABEL_IPAM, LABEL_NETWORK_ID, type PluginContext } from './context.js';
import { waitForDockerNetworkName } from './docker-api.js';

/** src/ipam names a pool "<address space>/<subnet>"; docker pools live in the default ("local") space. */
export function poolIdOfSubnet(subnet: string): string {
  return `local/${subnet}`;
}

function subnetOfPoolId(poolId: string): string | undefined {
  const slash = poolId.indexOf('/');
  return slash > 0 ? poolId.slice(slash + 1) : undefined;
}

/** The docker-made (vxmesh IPAM) network whose IPv4 or IPv6 subnet is exactly `subnet`. */
export async function dockerNetworkWithSubnet(ctx: PluginContext, subnet: string): Promise<NetworkInfo | undefined> {
  const networks = await ctx.api.listNetworks();
  return networks.find((n) => n.labels[LABEL_IPAM] === 'vxmesh' && (n.ipv4.subnet === subnet || n.ipv6?.subnet === subnet));
}

/**
 * Whether this host's dockerd already has a docker network on `network` (made it, or joined it):
 * then a second docker network with its subnet is an overlap here, not another host's create.
 */
export async function usedByThisDockerd(ctx: PluginContext, network: NetworkInfo): Promise<boolean> {
  if ([...ctx.adopted.values()].includes(network.id)) return true;
  const owner = network.labels[LABEL_NETWORK_ID];
  return owner !== undefined && (await waitForDockerNetworkName(ctx.dockerSocket, owner, 0)) !== undefined;
}

/** The network using pool `poolId` (then the pool and its gateway are that network's, not this dockerd's). */
export async function networkUsingPool(ctx: PluginContext, poolId: string): Promise<NetworkInfo | undefined> {
  const subnet = subnetOfPoolId(poolId);
  return subnet === undefined ? undefined : dockerNetworkWithSubnet(ctx, subnet);
}

/**
 * The network using pool `poolId` while some host still has endpoints on it. dockerd releases a
 * network's gateway and pool (then calls DeleteNetwork) once this host's containers are gone: any
 * endpoints left are other hosts', whose dockerds still use the pool, gateway and network.
 */
export async function networkStillInUse(ctx: PluginContext, poolId: string): Promise<NetworkInfo | undefined> {
  const network = await networkUsingPool(ctx, poolId);
  return network !== undefined && (network.hosts ?? []).length > 0 ? network : undefined;
}

/**
 * `name` already exists in the cluster: hand it back for docker network `dockerId` when it is a
 * docker network made with the same options (another host's `docker network create` of that name),
 * else a clear error saying what differs.
 */
export function adoptExisting(
  ctx: PluginContext,
  dockerId: string,
  request: Omit<CreateNetworkRequest, 'name'>,
  existing: NetworkInfo,
  optionFlag: string,
): NetworkInfo {
  const owner = existing.labels[LABEL_NETWORK_ID];
  if (owner === dockerId) return existing;
  const wantIpam = request.labels?.[LABEL_IPAM];
  if (existing.labels[LABEL_IPAM] === undefined || existing.labels[LABEL_IPAM] !== wantIpam) {
    const how = existing.labels[LABEL_IPAM] === undefined ? 'not by docker' : `with --ipam-driver ${existing.labels[LABEL_IPAM] === 'vxmesh' ? 'vxmesh' : 'default'}`;
    throw new VxError(
      'ALREADY_EXISTS',
      `vxmesh network "${existing.name}" already exists: it was made ${how}; remove it (vxmesh network rm ${existing.name}) ` +
        `or give this docker network another vxmesh name with -o ${optionFlag}=OTHER`,
    );
  }
  // Labels (the docker network id) differ per dockerd by nature; every other option must match.
  const { labels: _labels, ipv4PoolId: _p4, ipv6PoolId: _p6, ...options } = request;
  const mismatch = createOptionsMismatch({ ...options, name: existing.name }, existing);
  if (mismatch !== undefined) {
    throw new VxError(
      'ALREADY_EXISTS',
      `vxmesh network "${existing.name}" already exists in the cluster with ${mismatch}: ` +
        `create docker network "${existing.name}" with the same options on every host, or use another name`,
    );
  }
  ctx.adopted.set(dockerId, existing.id);
  ctx.logger.info({ network: existing.name, id: existing.id, dockerNetwork: dockerId }, 'docker network joined an existing vxmesh network');
  return existing;
}
