// libnetwork remote NetworkDriver: each method maps onto one AgentApi call.
import { VxError } from '../errors.js';
import type { CreateNetworkRequest, NetworkInfo } from '../model/api.js';
import { MTU_MAX, MTU_MIN } from '../model/limits.js';
import { integerTextProblem, nameProblem } from '../model/validate.js';
import {
  BadRequest,
  bodyObject,
  dockerId,
  isObject,
  optionalArray,
  optionalBool,
  optionalObject,
  optionalString,
  requiredString,
  stringMap,
  stripPrefixLength,
  type Json,
} from './body.js';
import {
  GLOBAL_ADDRESS_SPACE,
  LABEL_ENDPOINT_ID,
  LABEL_IPAM,
  LABEL_NETWORK_ID,
  LOCAL_ADDRESS_SPACE,
  findEndpoint,
  findNetwork,
  findNetworkIfCreated,
  poolKey,
  type PluginContext,
} from './context.js';
import { waitForDockerNetworkName } from './docker-api.js';
import { adoptExisting } from './shared-network.js';

export type Handler = (body: unknown) => Promise<unknown>;

/** `docker network create -o KEY=VALUE` options vxmesh understands. */
export const OPT_NETWORK_NAME = 'vxmesh.network';
export const OPT_MTU = 'com.docker.network.driver.mtu';
const KNOWN_GENERIC_OPTIONS = [OPT_NETWORK_NAME, OPT_MTU];

const OPT_GENERIC = 'com.docker.network.generic';
const OPT_IPV6 = 'com.docker.network.enable_ipv6';
const OPT_INTERNAL = 'com.docker.network.internal';

/** Name used when dockerd's name cannot be learned: recognisable and unique per docker network. */
export function fallbackNetworkName(dockerNetworkId: string): string {
  return `docker-${dockerNetworkId.slice(0, 12)}`;
}

interface IpData {
  addressSpace: string;
  pool: string;
  gateway?: string;
  auxAddresses: Record<string, string>;
}

function parseIpData(method: string, body: Json, key: 'IPv4Data' | 'IPv6Data'): IpData | undefined {
  const list = optionalArray(method, body, key);
  if (list.length > 1) {
    const flag = key === 'IPv4Data' ? '--subnet' : 'IPv6 --subnet';
    throw new BadRequest(`vxmesh networks have one ${key === 'IPv4Data' ? 'IPv4' : 'IPv6'} subnet: pass a single ${flag}`);
  }
  const first = list[0];
  if (first === undefined) return undefined;
  if (!isObject(first)) throw new BadRequest(`${method}: ${key}[0] must be an object`);
  const gateway = optionalString(method, first, 'Gateway');
  const aux = stringMap(method, first, 'AuxAddresses');
  return {
    addressSpace: optionalString(method, first, 'AddressSpace') ?? '',
    pool: requiredString(method, first, 'Pool'),
    ...(gateway !== undefined ? { gateway: stripPrefixLength(gateway) } : {}),
    auxAddresses: Object.fromEntries(Object.entries(aux).map(([k, v]) => [k, stripPrefixLength(v)])),
  };
}

function isVxmeshSpace(space: string): boolean {
  return space === LOCAL_ADDRESS_SPACE || space === GLOBAL_ADDRESS_SPACE;
}

/** PoolID of a pool vxmesh's IPAM driver granted to dockerd just before this CreateNetwork. */
function adoptedPoolId(ctx: PluginContext, data: IpData, v6: boolean): string {
  const known = ctx.poolIds.get(poolKey(v6, data.pool));
  if (known !== undefined) return known;
  // The grant was made by an agent process that has since restarted; src/ipam names pools
  // "<address space>/<subnet>" in the default ("local") space, which is where docker pools go.
  return `local/${data.pool}`;
}

interface ParsedCreate {
  dockerId: string;
  explicitName?: string;
  request: Omit<CreateNetworkRequest, 'name'>;
}

function parseCreateNetwork(ctx: PluginContext, raw: unknown): ParsedCreate {
  const m = 'CreateNetwork';
  const body = bodyObject(m, raw);
  const id = dockerId(m, body, 'NetworkID');
  const options = optionalObject(m, body, 'Options');
  const generic = optionalObject(m, options, OPT_GENERIC);
  const unknown = Object.keys(generic).filter((k) => !KNOWN_GENERIC_OPTIONS.includes(k));
  if (unknown.length > 0) {
    throw new BadRequest(
      `vxmesh: unknown network option ${unknown.map((k) => `-o ${k}`).join(', ')}; ` +
        `vxmesh understands -o ${OPT_NETWORK_NAME}=NAME (the vxmesh network to use) and -o ${OPT_MTU}=BYTES`,
    );
  }
  const nameOpt = generic[OPT_NETWORK_NAME];
  if (nameOpt !== undefined && (typeof nameOpt !== 'string' || nameOpt === '')) {
    throw new BadRequest(`vxmesh: -o ${OPT_NETWORK_NAME} needs a network name, e.g. -o ${OPT_NETWORK_NAME}=web`);
  }
  // The same limits as `vxmesh network create` (src/model/validate.ts), named as docker's -o options.
  const nameProblemText = typeof nameOpt === 'string' ? nameProblem(`-o ${OPT_NETWORK_NAME}`, nameOpt) : undefined;
  if (nameProblemText !== undefined) throw new BadRequest(`vxmesh: ${nameProblemText}`);
  const mtuOpt = generic[OPT_MTU];
  let mtu: number | undefined;
  if (mtuOpt !== undefined) {
    if (typeof mtuOpt !== 'string' || !/^\d+$/.test(mtuOpt)) {
      throw new BadRequest(`vxmesh: -o ${OPT_MTU}=${String(mtuOpt)} is not a number of bytes, e.g. -o ${OPT_MTU}=1400`);
    }
    const mtuProblemText = integerTextProblem(`-o ${OPT_MTU}`, mtuOpt, MTU_MIN, MTU_MAX);
    if (mtuProblemText !== undefined) throw new BadRequest(`vxmesh: ${mtuProblemText}`);
    mtu = Number(mtuOpt);
  }
  const ipv6 = optionalBool(m, options, OPT_IPV6);
  const internal = optionalBool(m, options, OPT_INTERNAL);
  const v4 = parseIpData(m, body, 'IPv4Data');
  const v6 = parseIpData(m, body, 'IPv6Data');
  if (ipv6 && v6 === undefined) {
    throw new BadRequest('vxmesh: --ipv6 needs an IPv6 pool: add --ipam-driver vxmesh (it carves one) or --subnet with an IPv6 CIDR');
  }
  if (!ipv6 && v6 !== undefined) {
    throw new BadRequest('vxmesh: an IPv6 subnet was given without --ipv6; add --ipv6 to use it');
  }
  const vxmeshIpam = v4 !== undefined ? isVxmeshSpace(v4.addressSpace) : v6 !== undefined && isVxmeshSpace(v6.addressSpace);
  const request: Omit<CreateNetworkRequest, 'name'> = {
    internal,
    ipv6,
    labels: { [LABEL_NETWORK_ID]: id, [LABEL_IPAM]: vxmeshIpam ? 'vxmesh' : 'docker' },
    ...(mtu !== undefined ? { mtu } : {}),
  };
  if (v4) {
    request.subnet = v4.pool;
    if (v4.gateway !== undefined) request.gateway = v4.gateway;
    if (Object.keys(v4.auxAddresses).length > 0) request.auxAddresses = v4.auxAddresses;
    if (vxmeshIpam) request.ipv4PoolId = adoptedPoolId(ctx, v4, false);
  }
  if (v6) {
    request.subnetV6 = v6.pool;
    if (v6.gateway !== undefined) request.gatewayV6 = v6.gateway;
    if (vxmeshIpam) request.ipv6PoolId = adoptedPoolId(ctx, v6, true);
  }
  return { dockerId: id, ...(typeof nameOpt === 'string' ? { explicitName: nameOpt } : {}), request };
}

async function createForDocker(ctx: PluginContext, parsed: ParsedCreate, name: string): Promise<NetworkInfo> {
  const existing = (await ctx.api.listNetworks()).find((n) => n.name === name);
  // One name is one network cluster-wide: another host's docker network of this name is joined.
  if (existing) return adoptExisting(ctx, parsed.dockerId, parsed.request, existing, OPT_NETWORK_NAME);
  try {
    const info = await ctx.api.createNetwork({ ...parsed.request, name });
    ctx.logger.info({ network: info.name, id: info.id, dockerNetwork: parsed.dockerId }, 'docker network mapped onto vxmesh network');
    return info;
  } catch (e) {
    // Another host created the name between our look and our create (its labels name its docker network).
    const raced = e instanceof VxError && e.code === 'ALREADY_EXISTS' ? (await ctx.api.listNetworks()).find((n) => n.name === name) : undefined;
    if (raced === undefined) throw e;
    return adoptExisting(ctx, parsed.dockerId, parsed.request, raced, OPT_NETWORK_NAME);
  }
}

/**
 * Fail fast, while dockerd can still show the error: a subnet from docker's own IPAM that
 * overlaps a vxmesh network is refused here, by reserving it and giving it back at once.
 * (With vxmesh's IPAM driver, RequestPool already did this.)
 */
async function checkSubnetsFree(ctx: PluginContext, request: Omit<CreateNetworkRequest, 'name'>): Promise<void> {
  const subnets: Array<[string | undefined, string | undefined, boolean]> = [
    [request.subnet, request.ipv4PoolId, false],
    [request.subnetV6, request.ipv6PoolId, true],
  ];
  for (const [subnet, adopted, v6] of subnets) {
    if (subnet === undefined || adopted !== undefined) continue;
    const grant = await ctx.api.requestPool({ pool: subnet, v6, owner: 'docker network being created' });
    await ctx.api.releasePool(grant.poolId);
  }
}

async function createNetwork(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const parsed = parseCreateNetwork(ctx, raw);
  // A retry of a call already done (or under way) changes nothing.
  if (ctx.pendingNetworks.has(parsed.dockerId) || (await findNetwork(ctx, parsed.dockerId))) return {};
  if (parsed.explicitName !== undefined) {
    await createForDocker(ctx, parsed, parsed.explicitName);
    return {};
  }
  if (ctx.dockerSocket === undefined) {
    await createForDocker(ctx, parsed, fallbackNetworkName(parsed.dockerId));
    return {};
  }
  await checkSubnetsFree(ctx, parsed.request);
  // dockerd records the network (and its name) only after this call returns: create the vxmesh
  // network as soon as dockerd shows the name. Calls about this network wait for it (findNetwork).
  const creation = (async () => {
    const dockerName = await waitForDockerNetworkName(ctx.dockerSocket, parsed.dockerId, ctx.nameWaitMs);
    if (dockerName === undefined) {
      ctx.logger.warn({ dockerNetwork: parsed.dockerId }, 'dockerd did not show the network name; using the docker id as its vxmesh name');
    }
    return createForDocker(ctx, parsed, dockerName ?? fallbackNetworkName(parsed.dockerId));
  })();
  ctx.pendingNetworks.set(parsed.dockerId, creation);
  creation.then(
    () => ctx.pendingNetworks.delete(parsed.dockerId),
    (err: unknown) => ctx.logger.error({ err, dockerNetwork: parsed.dockerId }, 'creating the vxmesh network for a docker network failed'),
  );
  return {};
}

async function requireNetwork(ctx: PluginContext, method: string, id: string): Promise<NetworkInfo> {
  const network = await findNetwork(ctx, id);
  if (!network) {
    throw new VxError(
      'NOT_FOUND',
      `vxmesh has no network for docker network ${id.slice(0, 12)} (${method}); ` +
        `check that the vxmesh agent runs with the same --data-dir, or recreate the docker network (docker network rm, docker network create)`,
    );
  }
  return network;
}

async function deleteNetwork(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const id = dockerId('DeleteNetwork', bodyObject('DeleteNetwork', raw), 'NetworkID');
  const network = await findNetworkIfCreated(ctx, id);
  ctx.pendingNetworks.delete(id);
  ctx.adopted.delete(id);
  // dockerd removed this host's endpoints first: endpoints left are other hosts' (their dockerds
  // still use the network), so only this host's use ends and the network stays for them.
  if (network && (network.hosts ?? []).length > 0) {
    ctx.logger.info({ network: network.name, dockerNetwork: id, hosts: network.hosts }, 'docker network removed here; the vxmesh network stays for the hosts still using it');
  } else if (network) {
    await ctx.api.removeNetwork(network.id);
    ctx.logger.info({ network: network.name, dockerNetwork: id }, 'vxmesh network of a docker network removed');
  }
  return {};
}

async function createEndpoint(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const m = 'CreateEndpoint';
  const body = bodyObject(m, raw);
  const networkId = dockerId(m, body, 'NetworkID');
  const endpointId = dockerId(m, body, 'EndpointID');
  const iface = optionalObject(m, body, 'Interface');
  const address = optionalString(m, iface, 'Address');
  const addressV6 = optionalString(m, iface, 'AddressIPv6');
  const mac = optionalString(m, iface, 'MacAddress');
  optionalObject(m, body, 'Options'); // exposed ports / port maps: vxmesh publishes through its own services
  const network = await requireNetwork(ctx, m, networkId);
  const existing = await findEndpoint(ctx, network, endpointId);
  const endpoint =
    existing ??
    (await ctx.api.attach({
      network: network.id,
      name: `docker-${endpointId.slice(0, 12)}`,
      leaveInHost: true,
      preallocated: network.labels[LABEL_IPAM] === 'vxmesh',
      labels: { [LABEL_ENDPOINT_ID]: endpointId, [LABEL_NETWORK_ID]: networkId },
      ...(address !== undefined ? { ip: stripPrefixLength(address) } : {}),
      ...(addressV6 !== undefined ? { ipv6: stripPrefixLength(addressV6) } : {}),
      ...(mac !== undefined ? { mac } : {}),
    }));
  // Return only what dockerd did not supply: libnetwork rejects a driver that changes given values.
  const reply: Record<string, string> = {};
  if (address === undefined) reply.Address = endpoint.ipv4;
  if (addressV6 === undefined && endpoint.ipv6 !== undefined) reply.AddressIPv6 = endpoint.ipv6;
  if (mac === undefined) reply.MacAddress = endpoint.mac;
  return { Interface: reply };
}

async function requireEndpoint(ctx: PluginContext, method: string, raw: unknown) {
  const body = bodyObject(method, raw);
  const networkId = dockerId(method, body, 'NetworkID');
  const endpointId = dockerId(method, body, 'EndpointID');
  const network = await requireNetwork(ctx, method, networkId);
  const endpoint = await findEndpoint(ctx, network, endpointId);
  if (!endpoint) {
    throw new VxError('NOT_FOUND', `vxmesh has no endpoint for docker endpoint ${endpointId.slice(0, 12)} (${method}); reconnect the container (docker network disconnect, docker network connect)`);
  }
  return { body, network, endpoint };
}

async function join(ctx: PluginContext, raw: unknown): Promise<unknown> {
  requiredString('Join', bodyObject('Join', raw), 'SandboxKey');
  const { network, endpoint } = await requireEndpoint(ctx, 'Join', raw);
  const reply: Record<string, unknown> = { InterfaceName: { SrcName: endpoint.ifName, DstPrefix: 'eth' }, StaticRoutes: [] };
  // An internal network gets no default route; otherwise vxmesh's gateway is the container's.
  if (!network.internal) {
    const gateway = endpoint.gatewayIpv4 ?? network.ipv4.gateway;
    if (gateway) reply.Gateway = stripPrefixLength(gateway);
    const gatewayV6 = endpoint.gatewayIpv6 ?? network.ipv6?.gateway;
    if (gatewayV6) reply.GatewayIPv6 = stripPrefixLength(gatewayV6);
  }
  return reply;
}

async function deleteEndpoint(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const m = 'DeleteEndpoint';
  const body = bodyObject(m, raw);
  const networkId = dockerId(m, body, 'NetworkID');
  const endpointId = dockerId(m, body, 'EndpointID');
  const network = await findNetworkIfCreated(ctx, networkId);
  // Idempotent: dockerd deletes again after a failed join or on restart cleanup.
  const endpoint = await findEndpoint(ctx, network, endpointId);
  if (endpoint) await ctx.api.detach(endpoint.id);
  return {};
}

async function endpointOperInfo(ctx: PluginContext, raw: unknown): Promise<unknown> {
  const { endpoint } = await requireEndpoint(ctx, 'EndpointOperInfo', raw);
  return { Value: { 'vxmesh.endpoint': endpoint.id, 'vxmesh.network': endpoint.network, ipv4: endpoint.ipv4, mac: endpoint.mac } };
}

/** Calls that need only a well-formed body naming a network and endpoint. */
function acknowledge(method: string, fields: string[]): Handler {
  return async (raw) => {
    const body = bodyObject(method, raw);
    for (const f of fields) dockerId(method, body, f);
    return {};
  };
}

export function networkDriverHandlers(ctx: PluginContext): Record<string, Handler> {
  return {
    'NetworkDriver.GetCapabilities': async () => ({ Scope: 'local', ConnectivityScope: 'global' }),
    'NetworkDriver.CreateNetwork': (b) => createNetwork(ctx, b),
    'NetworkDriver.DeleteNetwork': (b) => deleteNetwork(ctx, b),
    'NetworkDriver.CreateEndpoint': (b) => createEndpoint(ctx, b),
    'NetworkDriver.DeleteEndpoint': (b) => deleteEndpoint(ctx, b),
    'NetworkDriver.EndpointOperInfo': (b) => endpointOperInfo(ctx, b),
    'NetworkDriver.Join': (b) => join(ctx, b),
    // The veth stays as it is between Leave and DeleteEndpoint; DeleteEndpoint removes it.
    'NetworkDriver.Leave': acknowledge('Leave', ['NetworkID', 'EndpointID']),
    // Port publishing goes through vxmesh services, not docker -p.
    'NetworkDriver.ProgramExternalConnectivity': acknowledge('ProgramExternalConnectivity', ['NetworkID', 'EndpointID']),
    'NetworkDriver.RevokeExternalConnectivity': acknowledge('RevokeExternalConnectivity', ['NetworkID', 'EndpointID']),
    // Only sent to global-scope drivers or in swarm mode; vxmesh learns peers through its own gossip.
    'NetworkDriver.DiscoverNew': async () => ({}),
    'NetworkDriver.DiscoverDelete': async () => ({}),
    'NetworkDriver.AllocateNetwork': async () => ({ Options: {} }),
    'NetworkDriver.FreeNetwork': async () => ({}),
  };
}
