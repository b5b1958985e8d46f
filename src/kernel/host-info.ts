import { run } from './exec.js';

// Read-only facts about the agent's own namespace, for start-up decisions in src/agent.

export interface HostAddr {
  ifname: string;
  mtu: number;
  addr_info?: { family: string; local: string; scope?: string }[];
}

export interface HostRoute {
  dst: string;
  dev?: string;
}

/** Links with their addresses and MTU (`ip -j addr show`). */
export async function readHostAddrs(): Promise<HostAddr[]> {
  return JSON.parse(await run('ip', ['-j', 'addr', 'show'])) as HostAddr[];
}

/** IPv4 routes of the main table (`ip -j -4 route show`), the default route included. */
export async function readHostRoutes4(): Promise<HostRoute[]> {
  return JSON.parse(await run('ip', ['-j', '-4', 'route', 'show'])) as HostRoute[];
}
