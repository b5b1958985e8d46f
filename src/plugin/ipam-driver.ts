// libnetwork remote IpamDriver: pools and addresses come from the agent's IPAM, so docker networks
// and vxmesh's own networks never overlap and --ip-range (SubPool) is enforced by the agent.
import type { Handler } from './network-driver.js';
import { BadRequest, bodyObject, optionalBool, optionalObject, optionalString, requiredString, stripPrefixLength } from './body.js';
import { GLOBAL_ADDRESS_SPACE, LOCAL_ADDRESS_SPACE, poolKey, type PluginContext } from './context.js';

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

async function releasePool(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const poolId = requiredString('ReleasePool', bodyObject('ReleasePool', raw), 'PoolID');
  await ctx.api.releasePool(poolId);
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
  const granted = await ctx.api.requestAddress(poolId, address === undefined ? undefined : stripPrefixLength(address), purpose);
  return { Address: granted, Data: {} };
}

async function releaseAddress(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const m = 'ReleaseAddress';
  const body = bodyObject(m, raw);
  await ctx.api.releaseAddress(requiredString(m, body, 'PoolID'), stripPrefixLength(requiredString(m, body, 'Address')));
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
