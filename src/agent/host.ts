import { cidrOverlaps, parseCidr } from '../ipam/index.js';
import { readHostAddrs, readHostRoutes4, type HostAddr } from '../kernel/index.js';
import { GW_BRIDGE } from '../overlay/names.js';
import { VxError } from '../errors.js';

/**
 * Facts about the host's underlay, read once at start: the advertise address (--advertise-addr, else
 * the global IPv4 of the default route's interface) and its interface's MTU. Without either there is
 * no address peers could reach, and the start fails rather than gossip on 0.0.0.0 / 127.0.0.1.
 */
export async function readUnderlay(advertise?: string): Promise<{ advertiseAddr: string; mtu: number }> {
  const addrs = await readHostAddrs();
  const global4 = (a: HostAddr) => (a.addr_info ?? []).filter((i) => i.family === 'inet' && i.scope === 'global');
  if (advertise) {
    const owner = addrs.find((a) => (a.addr_info ?? []).some((i) => i.local === advertise));
    if (!owner) {
      const have = addrs.flatMap((a) => global4(a).map((i) => i.local));
      throw new VxError('FAILED_PRECONDITION', `--advertise-addr ${advertise} is not an address of this host (it has ${have.join(', ') || 'no global IPv4 address'}): give one of its own addresses`);
    }
    return { advertiseAddr: advertise, mtu: owner.mtu };
  }
  const dev = (await readHostRoutes4()).find((r) => r.dst === 'default' && r.dev)?.dev;
  if (!dev) {
    throw new VxError('FAILED_PRECONDITION', 'no default route to take the advertise address from: start the agent with --advertise-addr set to the address other hosts reach this one at');
  }
  const viaDefault = addrs.find((a) => a.ifname === dev && global4(a).length);
  if (!viaDefault) {
    throw new VxError('FAILED_PRECONDITION', `the default route's interface ${dev} has no global IPv4 address: start the agent with --advertise-addr set to the address other hosts reach this one at`);
  }
  return { advertiseAddr: global4(viaDefault)[0]!.local, mtu: viaDefault.mtu };
}

/**
 * The gateway bridge's subnet must not overlap a route the host already has on another device
 * (docker_gwbridge and docker0 live in 172.17-172.31 too): workloads' egress would be misrouted.
 */
export async function checkGatewaySubnet(gwSubnet: string): Promise<void> {
  const want = parseCidr(gwSubnet, { strict: true });
  for (const r of await readHostRoutes4()) {
    if (r.dst === 'default' || !r.dev || r.dev === GW_BRIDGE) continue;
    const dst = parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
    if (cidrOverlaps(dst, want)) {
      throw new VxError(
        'FAILED_PRECONDITION',
        `gwbridge subnet ${gwSubnet} overlaps the host route ${r.dst} on ${r.dev}: start the agent with --gwbridge-subnet set to a free subnet (e.g. 172.30.0.0/16)`,
      );
    }
  }
}
