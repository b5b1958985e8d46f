// Kernel object names. Every object vxmesh makes is recognisable by name so it can be
// garbage-collected after a crash. Interface names are at most 15 characters.

export const GW_BRIDGE = 'vxmesh_gwbridge';
export const BRIDGE = 'br0';
export const VXLAN = 'vxlan0';
/** vxmesh's nftables tables (`inet vxmesh`, `bridge vxmesh`) in every namespace it manages. */
export const NFT_TABLE = 'vxmesh';

export const sandboxPrefix = (netnsPrefix: string) => `${netnsPrefix}-n-`;
export const sandboxName = (netnsPrefix: string, networkId: string) =>
  `${sandboxPrefix(netnsPrefix)}${networkId.slice(0, 12)}`;

const short = (id: string) => id.slice(0, 12);
/** Sandbox end of an endpoint's veth (on br0). */
export const sandboxVeth = (endpointId: string) => `ve${short(endpointId)}`;
/** Workload end before it is renamed to ethN. */
export const workloadTempVeth = (endpointId: string) => `vt${short(endpointId)}`;
/** Docker mode: the end left in the agent's namespace for dockerd to move. */
export const dockerVeth = (endpointId: string) => `vd${short(endpointId)}`;
/** gwbridge end of a workload's north-south veth. */
export const gatewayVeth = (gwId: string) => `vg${gwId}`;
export const gatewayTempVeth = (gwId: string) => `vh${gwId}`;
/** A vxlan device while it is created in the host namespace, before it moves into its sandbox. */
export const vxlanTemp = (vni: number) => `vxt${vni}`;

export const isHostOwnedLink = (name: string) =>
  name === GW_BRIDGE || /^vg[0-9a-f]{12}$/.test(name) || /^vxt\d+$/.test(name);
