// Pure IPAM: address/CIDR math, pool creation and serial allocation for IPv4 and IPv6.
// No I/O: callers persist PoolState (plain JSON) through the store with compare-and-swap.

export {
  type Cidr,
  type Family,
  type ParseCidrOptions,
  parseIp,
  formatIp,
  parseCidr,
  formatCidr,
  cidrContains,
  cidrOverlaps,
  cidrSize,
  cidrLast,
} from '../util/ip-addr.js';
export {
  type PoolRequest,
  type DefaultPools,
  type PoolState,
  type PoolInfo,
  DEFAULT_POOLS,
  DEFAULT_ADDRESS_SPACE,
  createPool,
  poolInfo,
} from './pool.js';
export { type AllocateRequest, GATEWAY_PURPOSE, allocate, release, isAllocated, allocatedAddresses } from './allocator.js';
