import { run } from '../kernel/exec.js';

interface RouteJson {
  dst: string;
  dev?: string;
  prefsrc?: string;
}
interface AddrJson {
  ifname: string;
  mtu: number;
  addr_info?: { family: string; local: string; scope?: string }[];
}

/**
 * Facts about the host's underlay, read once at start (through src/kernel's runner):
 * the address of the default route's interface (else the first global IPv4) and its MTU.
 */
export async function readUnderlay(advertise?: string): Promise<{ advertiseAddr?: string; mtu: number }> {
  const addrs = JSON.parse(await run('ip', ['-j', 'addr', 'show'])) as AddrJson[];
  const global4 = (a: AddrJson) => (a.addr_info ?? []).filter((i) => i.family === 'inet' && i.scope === 'global');
  if (advertise) {
    const owner = addrs.find((a) => (a.addr_info ?? []).some((i) => i.local === advertise));
    return { advertiseAddr: advertise, mtu: owner?.mtu ?? 1500 };
  }
  const routes = JSON.parse(await run('ip', ['-j', 'route', 'show', 'default'])) as RouteJson[];
  const dev = routes.find((r) => r.dev)?.dev;
  const viaDefault = addrs.find((a) => a.ifname === dev && global4(a).length);
  const chosen = viaDefault ?? addrs.find((a) => a.ifname !== 'lo' && global4(a).length);
  if (!chosen) return { mtu: 1500 };
  return { advertiseAddr: global4(chosen)[0]!.local, mtu: chosen.mtu };
}
