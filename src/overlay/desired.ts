import type { LinkSpec, NsDesired } from '../kernel/state.js';
import type { EndpointRecord, GatewayRecord, NetworkRecord } from './model.js';
import {
  BRIDGE,
  GW_BRIDGE,
  VXLAN,
  dockerVeth,
  gatewayTempVeth,
  gatewayVeth,
  isHostOwnedLink,
  sandboxVeth,
  vxlanTemp,
  workloadTempVeth,
} from './names.js';

export interface HostContext {
  /** `ip link ... netns` target naming the agent's own namespace. */
  selfNsTarget: string;
  advertiseAddr?: string;
  dataPathPort: number;
  gwSubnet: { gateway: string; prefix: number };
}

const cidr = (ip: string, prefix: number) => `${ip}/${prefix}`;

/** 02:42 + the four bytes of an IPv4 address (docker's convention for derived MACs). */
export function macFromIpv4(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/** Sandbox namespace of one network: lo, br0 (gateway addresses), vxlan0 and the endpoints' veths. */
export function sandboxDesired(net: NetworkRecord, endpoints: (EndpointRecord & { netnsTarget: string })[]): NsDesired {
  const links: LinkSpec[] = [
    { name: 'lo', kind: 'other', up: true },
    // A fixed bridge MAC: otherwise it follows the lowest port MAC and workloads' ARP entries for the gateway go stale.
    { name: BRIDGE, kind: 'bridge', mtu: net.mtu, mac: macFromIpv4(net.v4.gateway), up: true, create: ['type', 'bridge'] },
    { name: VXLAN, kind: 'vxlan', mtu: net.mtu, master: BRIDGE, up: true, adoptFrom: vxlanTemp(net.vni) },
  ];
  for (const ep of endpoints) {
    const peerName = ep.leaveInHost ? dockerVeth(ep.id) : workloadTempVeth(ep.id);
    links.push({
      name: sandboxVeth(ep.id),
      kind: 'veth',
      mtu: net.mtu,
      master: BRIDGE,
      up: true,
      create: ['type', 'veth', 'peer', 'name', peerName, 'mtu', String(net.mtu), 'netns', ep.netnsTarget],
    });
  }
  const addrs = [{ dev: BRIDGE, cidr: cidr(net.v4.gateway, net.v4.prefix) }];
  if (net.v6) addrs.push({ dev: BRIDGE, cidr: cidr(net.v6.gateway, net.v6.prefix) });
  return { links, addrs, routes: [], fdb: [], neigh: [], owns: (n) => n !== 'lo' };
}

/** Lines (run in the host namespace) that create a network's vxlan device and move it into the sandbox. */
export function vxlanCreateLines(net: NetworkRecord, host: HostContext): string[] {
  const tmp = vxlanTemp(net.vni);
  const local = host.advertiseAddr ? ` local ${host.advertiseAddr}` : '';
  return [
    `link add ${tmp} type vxlan id ${net.vni} dstport ${host.dataPathPort}${local} nolearning`,
    `link set dev ${tmp} netns ${net.sandbox}`,
  ];
}

/** The agent's own namespace: vxmesh_gwbridge and one isolated port per workload gateway leg. */
export function hostDesired(gateways: (GatewayRecord & { netnsTarget: string })[], host: HostContext): NsDesired {
  const links: LinkSpec[] = [
    { name: GW_BRIDGE, kind: 'bridge', mac: macFromIpv4(host.gwSubnet.gateway), up: true, create: ['type', 'bridge'] },
  ];
  for (const gw of gateways) {
    links.push({
      name: gatewayVeth(gw.id),
      kind: 'veth',
      master: GW_BRIDGE,
      up: true,
      create: ['type', 'veth', 'peer', 'name', gatewayTempVeth(gw.id), 'netns', gw.netnsTarget],
    });
  }
  return {
    links,
    addrs: [{ dev: GW_BRIDGE, cidr: cidr(host.gwSubnet.gateway, host.gwSubnet.prefix) }],
    routes: [],
    fdb: [],
    neigh: [],
    owns: isHostOwnedLink,
  };
}

export interface WorkloadEndpoint {
  ep: EndpointRecord;
  net: NetworkRecord;
}

/** A workload namespace: only the interfaces vxmesh put there (never anything else). */
export function workloadDesired(eps: WorkloadEndpoint[], gw: GatewayRecord | undefined, host: HostContext): NsDesired {
  const links: LinkSpec[] = [{ name: 'lo', kind: 'other', up: true }];
  const addrs: NsDesired['addrs'] = [];
  const routes: NsDesired['routes'] = [];
  for (const { ep, net } of eps) {
    links.push({ name: ep.ifName, kind: 'veth', mtu: net.mtu, mac: ep.mac, up: true, adoptFrom: workloadTempVeth(ep.id) });
    addrs.push({ dev: ep.ifName, cidr: cidr(ep.ipv4, net.v4.prefix) });
    if (ep.ipv6 && net.v6) addrs.push({ dev: ep.ifName, cidr: cidr(ep.ipv6, net.v6.prefix) });
  }
  if (gw) {
    links.push({ name: gw.ifName, kind: 'veth', mac: gw.mac, up: true, adoptFrom: gatewayTempVeth(gw.id) });
    addrs.push({ dev: gw.ifName, cidr: cidr(gw.ip, host.gwSubnet.prefix) });
    if (gw.defaultRoute !== false) routes.push({ dst: 'default', via: host.gwSubnet.gateway, dev: gw.ifName, family: 4 });
  }
  const mine = new Set(links.map((l) => l.name).filter((n) => n !== 'lo'));
  return { links, addrs, routes, fdb: [], neigh: [], owns: (n) => mine.has(n) };
}

/**
 * Bridged traffic between two ports of vxmesh_gwbridge (workloads of different networks meeting
 * at L2 on their north-south legs) is dropped: one static rule instead of per-port isolation flags.
 */
export function hostBridgeNftBody(): string {
  return `  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "vg*" oifname "vg*" drop comment "vxmesh: workloads do not meet on gwbridge"
  }`;
}

/** vxmesh's nftables table in the host namespace: gwbridge masquerade and isolation. */
export function hostNftBody(gwSubnet: string, overlaySubnets4: string[]): string {
  const set = overlaySubnets4.length ? `\n    elements = { ${overlaySubnets4.join(', ')} }` : '';
  return `  set overlay4 {
    type ipv4_addr
    flags interval${set}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${gwSubnet} oifname != "${GW_BRIDGE}" masquerade comment "vxmesh: gwbridge egress"
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${GW_BRIDGE}" ip daddr @overlay4 drop comment "vxmesh: no overlay access around the overlay"
    iifname "${GW_BRIDGE}" oifname "${GW_BRIDGE}" drop comment "vxmesh: workloads do not meet on gwbridge"
  }`;
}
