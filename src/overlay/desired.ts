import { SELF_NS, nsFromPath, type NsRef } from '../kernel/ns.js';
import type { NftTable } from '../kernel/nft-model.js';
import type { LinkSpec, NsDesired } from '../kernel/state.js';
import type { EndpointRecord, GatewayRecord, NetworkRecord } from './model.js';
import type { PeerKernelEntries } from './peer-desired.js';
import {
  BRIDGE,
  GW_BRIDGE,
  NFT_TABLE,
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
  advertiseAddr?: string;
  dataPathPort: number;
  gwSubnet: { gateway: string; prefix: number };
}

export type SandboxEndpoint = EndpointRecord;
export type HostGateway = GatewayRecord;

const cidr = (ip: string, prefix: number) => `${ip}/${prefix}`;

/** 02:42 + the four bytes of an IPv4 address (docker's convention for derived MACs). */
export function macFromIpv4(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/** Where an endpoint's workload end is born: the workload's namespace, or (docker mode) the agent's. */
function workloadNsOf(ep: SandboxEndpoint): NsRef {
  return ep.leaveInHost ? SELF_NS : nsFromPath(ep.netns);
}

/**
 * Sandbox namespace of one network: lo, br0 (gateway addresses), vxlan0 and the endpoints' veths.
 * vxlan0 is created by the reconciler in the agent's namespace (its UDP socket must live on the
 * underlay) and moved in. `peers`: the remote endpoints' FDB and neighbour entries (undefined: leave
 * the kernel's as they are).
 */
export function sandboxDesired(net: NetworkRecord, endpoints: SandboxEndpoint[], host: HostContext, peers?: PeerKernelEntries): NsDesired {
  const vxlan: LinkSpec = {
    name: VXLAN,
    kind: 'vxlan',
    vni: net.vni,
    dstPort: host.dataPathPort,
    local: host.advertiseAddr,
    mtu: net.mtu,
    master: BRIDGE,
    up: true,
    // ARP and IPv6 ND for remote endpoints are answered from the peer table's neighbour entries.
    proxy: true,
    createIn: { ns: SELF_NS, tempName: vxlanTemp(net.vni) },
  };
  const links: LinkSpec[] = [
    { name: 'lo', kind: 'other', up: true },
    // A fixed bridge MAC: otherwise it follows the lowest port MAC and workloads' ARP entries for the gateway go stale.
    { name: BRIDGE, kind: 'bridge', mtu: net.mtu, mac: macFromIpv4(net.v4.gateway), up: true },
    vxlan,
  ];
  for (const ep of endpoints) {
    links.push({
      name: sandboxVeth(ep.id),
      kind: 'veth',
      mtu: net.mtu,
      master: BRIDGE,
      up: true,
      peer: { name: ep.leaveInHost ? dockerVeth(ep.id) : workloadTempVeth(ep.id), ns: workloadNsOf(ep), mtu: net.mtu },
    });
  }
  const addrs = [{ dev: BRIDGE, cidr: cidr(net.v4.gateway, net.v4.prefix) }];
  if (net.v6) addrs.push({ dev: BRIDGE, cidr: cidr(net.v6.gateway, net.v6.prefix) });
  // Without the peer table (not caught up yet after a start) the remote entries stay as they are.
  const preserve = peers ? {} : { preserve: { fdb: true, neigh: true } };
  return { links, addrs, routes: [], fdb: peers?.fdb ?? [], neigh: peers?.neigh ?? [], owns: (n) => n !== 'lo', ...preserve };
}

/**
 * A sandbox's sysctls: bridged overlay frames skip iptables/ip6tables/arptables (br_netfilter,
 * loaded by dockerd among others, defaults them on in every namespace). Nothing in a sandbox
 * filters routed-family traffic, so the hooks were pure per-packet cost (bench/RESULTS.md,
 * throughput). Keys absent without br_netfilter are skipped.
 */
export const SANDBOX_SYSCTLS: Readonly<Record<string, string>> = {
  'net.bridge.bridge-nf-call-iptables': '0',
  'net.bridge.bridge-nf-call-ip6tables': '0',
  'net.bridge.bridge-nf-call-arptables': '0',
};

/**
 * The sandbox links whose received packets RPS spreads over the host's CPUs (`--no-rps` turns it
 * off): the endpoints' veth ends, i.e. frames coming from workloads. Without it everything such a
 * frame meets after the workload's veth (bridge, VXLAN encap, the underlay, and on a one-machine
 * test also the peer's decap, bridge and TCP) runs on the sending CPU; RPS hands each flow, by its
 * hash, to one CPU's backlog, so the sender's copy and the forwarding pipeline over two CPUs.
 * vxlan0 is left out: RPS after decapsulation measured slower (bench/RESULTS.md, throughput).
 */
export function rpsLinks(desired: NsDesired): string[] {
  return desired.links.filter((l) => l.kind === 'veth').map((l) => l.name);
}

/**
 * The workload interfaces (one per overlay endpoint; not the gateway leg) whose egress drops the
 * socket's flow hash (kernel/rx-steering.ts FLOW_HASH_PROG), so RPS at the sandbox end hashes a
 * connection's two directions alike and runs both on one CPU. With the socket's random hash a
 * connection between two workloads on one host drew its data's and its ACKs' CPUs apart half the
 * time, serialising the path (bench/RESULTS.md, session 5). Part of RPS: `--no-rps` leaves it out.
 */
export function flowHashLinks(eps: WorkloadEndpoint[]): string[] {
  return eps.map(({ ep }) => ep.ifName);
}

/** The agent's own namespace: vxmesh_gwbridge and one isolated port per workload gateway leg. */
export function hostDesired(gateways: HostGateway[], host: HostContext): NsDesired {
  const links: LinkSpec[] = [{ name: GW_BRIDGE, kind: 'bridge', mac: macFromIpv4(host.gwSubnet.gateway), up: true }];
  for (const gw of gateways) {
    links.push({
      name: gatewayVeth(gw.id),
      kind: 'veth',
      master: GW_BRIDGE,
      up: true,
      peer: { name: gatewayTempVeth(gw.id), ns: nsFromPath(gw.netns) },
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

/**
 * A workload namespace: only the interfaces vxmesh put there (never anything else). `flowHash`: the
 * overlay interfaces get their clsact qdisc as they arrive, down (the flow-hash program goes on later).
 */
export function workloadDesired(eps: WorkloadEndpoint[], gw: GatewayRecord | undefined, host: HostContext, flowHash = false): NsDesired {
  const links: LinkSpec[] = [{ name: 'lo', kind: 'other', up: true }];
  const addrs: NsDesired['addrs'] = [];
  const routes: NsDesired['routes'] = [];
  for (const { ep, net } of eps) {
    links.push({ name: ep.ifName, kind: 'veth', mtu: net.mtu, mac: ep.mac, up: true, adoptFrom: workloadTempVeth(ep.id), clsact: flowHash });
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

// ---- host firewall (hooks and priorities: src/kernel/README.md)

/**
 * vxmesh's `inet vxmesh` table in the host namespace: gwbridge masquerade, and no path from a
 * gateway leg into an overlay subnet or to another workload's leg.
 */
export function hostFirewall(gwSubnet: string, overlaySubnets4: string[], vxlan?: VxlanGuard): NftTable {
  return {
    family: 'inet',
    name: NFT_TABLE,
    sets: [
      { name: 'overlay4', type: ['ipv4_addr'], flags: ['interval'], elements: overlaySubnets4.map((s) => ({ key: [s] })) },
      ...(vxlan ? vxlanMemberSets(vxlan) : []),
    ],
    chains: [
      ...(vxlan ? [vxlanInputChain(vxlan), ...vxlanNotrackChains(vxlan)] : []),
      {
        name: 'postrouting',
        base: { type: 'nat', hook: 'postrouting', priority: { name: 'srcnat' }, policy: 'accept' },
        rules: [{ match: `ip saddr ${gwSubnet} oifname != "${GW_BRIDGE}" masquerade`, comment: 'vxmesh: gwbridge egress' }],
      },
      {
        name: 'forward',
        base: { type: 'filter', hook: 'forward', priority: { name: 'filter' }, policy: 'accept' },
        rules: [
          { match: `iifname "${GW_BRIDGE}" ip daddr @overlay4 drop`, comment: 'vxmesh: no overlay access around the overlay' },
          { match: `iifname "${GW_BRIDGE}" oifname "${GW_BRIDGE}" drop`, comment: 'vxmesh: workloads do not meet on gwbridge' },
        ],
      },
    ],
  };
}

/** VXLAN only from cluster members (issue 9, section 3). */
export interface VxlanGuard {
  /** The data-path UDP port. */
  port: number;
  /** Members' advertise addresses; undefined while the membership is not known yet (the sets' elements are then left as they are). */
  members: string[] | undefined;
}

/** Comment of the rule that drops (and counts) VXLAN from non-members: `vxmesh status` reads its counter. */
export const VXLAN_DROP_COMMENT = 'vxmesh: vxlan from non-members';

function vxlanMemberSets(g: VxlanGuard): NftTable['sets'] {
  const of = (v6: boolean) => g.members?.filter((a) => a.includes(':') === v6).map((a) => ({ key: [a] }));
  return [
    { name: 'members4', type: ['ipv4_addr'], elements: of(false) },
    { name: 'members6', type: ['ipv6_addr'], elements: of(true) },
  ];
}

/** Input, before other filter chains: UDP to the data-path port from a member passes on, anything else is counted and dropped. */
function vxlanInputChain(g: VxlanGuard): NftTable['chains'][number] {
  return {
    name: 'input',
    base: { type: 'filter', hook: 'input', priority: { name: 'filter', offset: -10 }, policy: 'accept' },
    rules: [
      { match: `udp dport ${g.port} ip saddr @members4 accept`, comment: 'vxmesh: vxlan from members (v4)' },
      { match: `udp dport ${g.port} ip6 saddr @members6 accept`, comment: 'vxmesh: vxlan from members (v6)' },
      { match: `udp dport ${g.port} counter drop`, comment: VXLAN_DROP_COMMENT },
    ],
  };
}

/**
 * Encapsulated traffic skips conntrack in both directions (raw priority, before conntrack): the
 * outer UDP needs no state (no NAT, the member filter above is stateless), and tracking it costs a
 * lookup per packet on both hosts (bench/RESULTS.md, throughput). A host firewall that accepts only
 * `ct state established` must accept the data-path port explicitly (as Docker's docs already ask).
 */
function vxlanNotrackChains(g: VxlanGuard): NftTable['chains'] {
  const notrack = { match: `udp dport ${g.port} notrack`, comment: 'vxmesh: vxlan untracked' };
  return [
    { name: 'raw-prerouting', base: { type: 'filter', hook: 'prerouting', priority: { name: 'raw' }, policy: 'accept' }, rules: [notrack] },
    { name: 'raw-output', base: { type: 'filter', hook: 'output', priority: { name: 'raw' }, policy: 'accept' }, rules: [notrack] },
  ];
}

/**
 * `bridge vxmesh`: bridged traffic between two ports of vxmesh_gwbridge (workloads of different
 * networks meeting at L2 on their north-south legs) is dropped: one static rule instead of
 * per-port isolation flags.
 */
export function hostBridgeFirewall(): NftTable {
  return {
    family: 'bridge',
    name: NFT_TABLE,
    sets: [],
    chains: [
      {
        name: 'forward',
        base: { type: 'filter', hook: 'forward', priority: { name: 'filter' }, policy: 'accept' },
        rules: [{ match: 'iifname "vg*" oifname "vg*" drop', comment: 'vxmesh: workloads do not meet on gwbridge' }],
      },
    ],
  };
}
