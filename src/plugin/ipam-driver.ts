// libnetwork remote IpamDriver: pools and addresses come from the agent's IPAM, so docker networks
// and vxmesh's own networks never overlap and --ip-range (SubPool) is enforced by the agent.
import type { Handler } from './network-driver.js';
import type { NetworkInfo } from '../model/api.js';
import { BadRequest, bodyObject, optionalBool, optionalObject, optionalString, requiredString, stripPrefixLength } from './body.js';
import { GLOBAL_ADDRESS_SPACE, LOCAL_ADDRESS_SPACE, poolKey, type PluginContext } from './context.js';
import { dockerNetworkWithSubnet, networkStillInUse, networkUsingPool, poolIdOfSubnet, usedByThisDockerd } from './shared-network.js';

const GATEWAY_REQUEST = 'com.docker.network.gateway';

async function requestPool(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const m = 'RequestPool';
  const body = bodyObject(m, raw);
  const space = optionalString(m, body, 'AddressSpace');
  if (space !== undefined && space !== LOCAL_ADDRESS_SPACE && space !== GLOBAL_ADDRESS_SPACE) {
    throw new BadRequest(`vxmesh IPAM: unknown address space "${space}"; leave it out (vxmesh uses "${LOCAL_ADDRESS_SPACE}")`);
  }
  const options = optionalObject(m, body, 'Options');
  const unknown = Object.keys(options);
  if (unknown.length > 0) {
    throw new BadRequest(`vxmesh IPAM: unknown option ${unknown.map((k) => `--ipam-opt ${k}`).join(', ')}; vxmesh IPAM takes no options (use --subnet, --ip-range, --gateway, --aux-address)`);
  }
  const pool = optionalString(m, body, 'Pool');
  const subPool = optionalString(m, body, 'SubPool');
  const v6 = optionalBool(m, body, 'V6');
  // Another host's `docker network create` of this subnet made the cluster's network: its pool is
  // this docker network's too (CreateNetwork then checks that the name and options match).
  // (This dockerd's own network of that subnet is an overlap, reported by the agent below.)
  const shared = pool === undefined ? undefined : await dockerNetworkWithSubnet(ctx, pool);
  if (pool !== undefined && shared !== undefined && !(await usedByThisDockerd(ctx, shared))) {
    const poolId = poolIdOfSubnet(pool);
    ctx.poolIds.set(poolKey(v6, pool), poolId);
    return { PoolID: poolId, Pool: pool, Data: {} };
  }
  // All docker pools share the agent's default address space, so they are checked for overlap
  // against every vxmesh network, whichever way it was made.
  const grant = await ctx.api.requestPool({
    v6,
    owner: 'docker',
    ...(pool !== undefined ? { pool } : {}),
    ...(subPool !== undefined ? { subPool } : {}),
  });
  ctx.poolIds.set(poolKey(v6, grant.pool), grant.poolId);
  return { PoolID: grant.poolId, Pool: grant.pool, Data: {} };
}

/** "IP/prefix" of the gateway of `network`'s subnet behind `poolId`; a different --gateway is refused. */
function gatewayOf(network: NetworkInfo, poolId: string, asked: string | undefined): string {
  const sub = [network.ipv4, network.ipv6].find((s) => s !== undefined && poolId.endsWith(`/${s.subnet}`)) ?? network.ipv4;
  const gateway = stripPrefixLength(sub.gateway);
  if (asked !== undefined && stripPrefixLength(asked) !== gateway) {
    throw new BadRequest(`vxmesh network "${network.name}" already exists in the cluster with gateway ${gateway}: leave --gateway out or pass --gateway ${gateway}`);
  }
  return `${gateway}/${sub.subnet.split('/')[1] ?? ''}`;
}

async function releasePool(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const poolId = requiredString('ReleasePool', bodyObject('ReleasePool', raw), 'PoolID');
  // Still the pool of a network (used by another host's dockerd): only this dockerd's use ends.
  if (!(await networkStillInUse(ctx, poolId))) await ctx.api.releasePool(poolId);
  for (const [key, id] of ctx.poolIds) if (id === poolId) ctx.poolIds.delete(key);
  return {};
}

async function requestAddress(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const m = 'RequestAddress';
  const body = bodyObject(m, raw);
  const poolId = requiredString(m, body, 'PoolID');
  const address = optionalString(m, body, 'Address');
  const options = optionalObject(m, body, 'Options');
  const purpose = options.RequestAddressType === GATEWAY_REQUEST ? 'gateway' : 'endpoint';
  if (purpose === 'gateway') {
    // Every host's sandbox carries the network's one gateway address: a second dockerd gets it too.
    const shared = await networkUsingPool(ctx, poolId);
    if (shared !== undefined) {
      return { Address: gatewayOf(shared, poolId, address), Data: {} };
    }
  }
  const granted = await ctx.api.requestAddress(poolId, address === undefined ? undefined : stripPrefixLength(address), purpose);
  return { Address: granted, Data: {} };
}

async function releaseAddress(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const m = 'ReleaseAddress';
  const body = bodyObject(m, raw);
  const poolId = requiredString(m, body, 'PoolID');
  const address = stripPrefixLength(requiredString(m, body, 'Address'));
  // A network's gateway stays while the network does (another host may still use it).
  const shared = await networkStillInUse(ctx, poolId);
  if (shared !== undefined && [shared.ipv4.gateway, shared.ipv6?.gateway].some((g) => g !== undefined && stripPrefixLength(g) === address)) return {};
  await ctx.api.releaseAddress(poolId, address);
  return {};
}

export function ipamDriverHandlers(ctx: PluginContext): Record<string, Handler> {
  return {
    'IpamDriver.GetCapabilities': async () => ({ RequiresMACAddress: false, RequiresRequestReplay: false }),
    'IpamDriver.GetDefaultAddressSpaces': async () => ({
      LocalDefaultAddressSpace: LOCAL_ADDRESS_SPACE,
      GlobalDefaultAddressSpace: GLOBAL_ADDRESS_SPACE,
    }),
    'IpamDriver.RequestPool': (b) => requestPool(ctx, b),
    'IpamDriver.ReleasePool': (b) => releasePool(ctx, b),
    'IpamDriver.RequestAddress': (b) => requestAddress(ctx, b),
    'IpamDriver.ReleaseAddress': (b) => releaseAddress(ctx, b),
  };
}
