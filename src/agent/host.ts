import { cidrOverlaps, parseCidr } from '../ipam/index.js';
import { readHostAddrs, readHostRoutes4, type HostAddr } from '../kernel/index.js';
import { GW_BRIDGE } from '../overlay/names.js';
import { VxError } from '../errors.js';

/**
 * Facts about the host's underlay, read once at start: the address of the default route's
 * interface (else the first global IPv4) and its MTU.
 */
export async function readUnderlay(advertise?: string): Promise<{ advertiseAddr?: string; mtu: number }> {
  const addrs = await readHostAddrs();
  const global4 = (a: HostAddr) => (a.addr_info ?? []).filter((i) => i.family === 'inet' && i.scope === 'global');
  if (advertise) {
    const owner = addrs.find((a) => (a.addr_info ?? []).some((i) => i.local === advertise));
    return { advertiseAddr: advertise, mtu: owner?.mtu ?? 1500 };
  }
  const dev = (await readHostRoutes4()).find((r) => r.dst === 'default' && r.dev)?.dev;
  const viaDefault = addrs.find((a) => a.ifname === dev && global4(a).length);
  const chosen = viaDefault ?? addrs.find((a) => a.ifname !== 'lo' && global4(a).length);
  if (!chosen) return { mtu: 1500 };
  return { advertiseAddr: global4(chosen)[0]!.local, mtu: chosen.mtu };
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
