// Overlay desired state as typed kernel specs (src/overlay/desired.ts): no argv, namespaces as refs.
import { describe, expect, it } from 'vitest';
import { SELF_NS, namedNs } from '../../src/kernel/ns.js';
import { planNftTable } from '../../src/kernel/nft-plan.js';
import { planNs } from '../../src/kernel/plan.js';
import type { NsActual } from '../../src/kernel/state.js';
import { VXLAN_DROP_COMMENT, hostDesired, hostFirewall, sandboxDesired, type HostContext } from '../../src/overlay/desired.js';
import type { EndpointRecord, GatewayRecord, NetworkRecord } from '../../src/overlay/model.js';

const host: HostContext = { advertiseAddr: '198.51.100.4', dataPathPort: 4789, gwSubnet: { gateway: '172.18.0.1', prefix: 16 } };
const net: NetworkRecord = {
  id: 'a'.repeat(64),
  name: 'web',
  vni: 4097,
  mtu: 1450,
  internal: false,
  labels: {},
  v4: { poolId: 'p', subnet: '10.30.0.0/24', gateway: '10.30.0.1', prefix: 24 },
  ownsPools: true,
  sandbox: 'vx-n-aaaaaaaaaaaa',
  createdAt: '',
};
const ep = (id: string, extra: Partial<EndpointRecord> = {}): EndpointRecord => ({
  id: id.repeat(64),
  networkId: net.id,
  name: '',
  aliases: [],
  netns: '/run/netns/wl1',
  ifName: 'eth0',
  ipv4: '10.30.0.2',
  mac: '02:42:0a:1e:00:02',
  leaveInHost: false,
  preallocated: false,
  labels: {},
  state: 'ready',
  createdAt: '',
  ...extra,
});
const empty = (names: string[]): NsActual => ({
  links: new Map(names.map((n) => [n, { name: n, kind: 'other' as const, mtu: 1500, mac: '', up: true }])),
  addrs: [],
  routes: [],
  neigh: [],
  fdb: [],
});

describe('sandboxDesired', () => {
  it('gives the vxlan device as a spec made in the agent namespace and moved into the sandbox', () => {
    const d = sandboxDesired(net, [ep('b'), ep('c', { leaveInHost: true, netns: '' }), ep('d', { netns: '/proc/77/ns/net' })], host);
    expect(d.links.find((l) => l.name === 'vxlan0')).toEqual({
      name: 'vxlan0', kind: 'vxlan', vni: 4097, dstPort: 4789, local: '198.51.100.4', mtu: 1450, master: 'br0', up: true, proxy: true,
      createIn: { ns: SELF_NS, tempName: 'vxt4097' },
    });
    const plan = planNs(d, empty(['lo']), namedNs(net.sandbox));
    expect(plan.pre).toEqual([{ ns: SELF_NS, ipLines: ['link add vxt4097 type vxlan id 4097 dstport 4789 local 198.51.100.4 nolearning proxy', `link set dev vxt4097 netns ${net.sandbox}`] }]);
    expect(plan.ipLines.filter((l) => l.includes('type veth'))).toEqual([
      'link add vebbbbbbbbbbbb mtu 1450 type veth peer name vtbbbbbbbbbbbb mtu 1450 netns wl1',
      `link add vecccccccccccc mtu 1450 type veth peer name vdcccccccccccc mtu 1450 netns /proc/${process.pid}/ns/net`,
      'link add vedddddddddddd mtu 1450 type veth peer name vtdddddddddddd mtu 1450 netns /proc/77/ns/net',
    ]);
    expect(plan.missing).toEqual([]);
  });

});

describe('hostDesired and hostFirewall', () => {
  it('makes gateway legs with their peer in the workload namespace', () => {
    const gw: GatewayRecord = { id: '0123456789ab', netns: '/run/netns/wl1', ifName: 'eth1', ip: '172.18.0.5', mac: '02:42:ac:12:00:05', state: 'ready' };
    const plan = planNs(hostDesired([gw], host), empty(['lo', 'eth0']), SELF_NS);
    expect(plan.ipLines).toContain('link add vg0123456789ab type veth peer name vh0123456789ab netns wl1');
    expect(plan.ipLines.some((l) => l.includes('eth0'))).toBe(false);
  });

  it('is the table the agent used to write as text, and a new network is one element', () => {
    const first = planNftTable(hostFirewall('172.18.0.0/16', ['10.30.0.0/24']), undefined, () => undefined);
    expect(first.commands).toEqual([
      'add table inet vxmesh',
      'add chain inet vxmesh postrouting { type nat hook postrouting priority srcnat; policy accept; }',
      'add chain inet vxmesh forward { type filter hook forward priority filter; policy accept; }',
      'add set inet vxmesh overlay4 { type ipv4_addr; flags interval; }',
      'add element inet vxmesh overlay4 { 10.30.0.0/24 }',
      'add rule inet vxmesh postrouting ip saddr 172.18.0.0/16 oifname != "vxmesh_gwbridge" masquerade comment "vxmesh: gwbridge egress"',
      'add rule inet vxmesh forward iifname "vxmesh_gwbridge" ip daddr @overlay4 drop comment "vxmesh: no overlay access around the overlay"',
      'add rule inet vxmesh forward iifname "vxmesh_gwbridge" oifname "vxmesh_gwbridge" drop comment "vxmesh: workloads do not meet on gwbridge"',
    ]);
    const next = planNftTable(hostFirewall('172.18.0.0/16', ['10.30.0.0/24', '10.31.0.0/24']), first.next, () => undefined);
    expect(next.commands).toEqual(['add element inet vxmesh overlay4 { 10.31.0.0/24 }']);
  });

  it('admits VXLAN from members only: a member joining or failing is one element, the rest is counted and dropped', () => {
    const guard = (members: string[] | undefined) => hostFirewall('172.18.0.0/16', [], { port: 4789, members });
    const first = planNftTable(guard(['198.51.100.1', '198.51.100.2']), undefined, () => undefined);
    expect(first.commands).toContain('add chain inet vxmesh input { type filter hook input priority filter - 10; policy accept; }');
    expect(first.commands).toContain('add element inet vxmesh members4 { 198.51.100.1, 198.51.100.2 }');
    expect(first.commands).toContain('add rule inet vxmesh input udp dport 4789 ip saddr @members4 accept comment "vxmesh: vxlan from members (v4)"');
    expect(first.commands).toContain(`add rule inet vxmesh input udp dport 4789 counter drop comment "${VXLAN_DROP_COMMENT}"`);
    // the encapsulated traffic is not tracked (both directions, before conntrack)
    expect(first.commands).toContain('add chain inet vxmesh raw-prerouting { type filter hook prerouting priority raw; policy accept; }');
    expect(first.commands).toContain('add rule inet vxmesh raw-prerouting udp dport 4789 notrack comment "vxmesh: vxlan untracked"');
    expect(first.commands).toContain('add rule inet vxmesh raw-output udp dport 4789 notrack comment "vxmesh: vxlan untracked"');
    const joined = planNftTable(guard(['198.51.100.1', '198.51.100.2', '198.51.100.3']), first.next, () => undefined);
    expect(joined.commands).toEqual(['add element inet vxmesh members4 { 198.51.100.3 }']);
    const failed = planNftTable(guard(['198.51.100.1', '198.51.100.3']), joined.next, () => undefined);
    expect(failed.commands).toEqual(['delete element inet vxmesh members4 { 198.51.100.2 }']);
    // membership not known yet (a restarting agent): the kernel's elements stay as they are
    expect(planNftTable(guard(undefined), failed.next, () => undefined).commands).toEqual([]);
  });
});

describe('sandboxDesired with the peer table', () => {
  const peers = { fdb: [{ mac: '02:42:0a:1e:00:09', dev: 'vxlan0', dst: '198.51.100.2' }], neigh: [{ ip: '10.30.0.9', mac: '02:42:0a:1e:00:09', dev: 'vxlan0' }] };
  const actual = () => {
    const a = empty(['lo', 'br0', 'vxlan0']);
    a.links.get('vxlan0')!.kind = 'vxlan';
    a.links.get('vxlan0')!.vxlan = { vni: 4097, dstPort: 4789, local: '198.51.100.4', proxy: true };
    a.fdb = [{ mac: '02:42:0a:1e:00:07', dev: 'vxlan0', dst: '198.51.100.3' }];
    a.neigh = [{ ip: '10.30.0.7', mac: '02:42:0a:1e:00:07', dev: 'vxlan0' }];
    return a;
  };

  it('programs remote entries and removes the ones that left, in one ip and one bridge batch', () => {
    const plan = planNs(sandboxDesired(net, [], host, peers), actual(), namedNs(net.sandbox));
    expect(plan.bridgeLines).toEqual([
      'fdb del 02:42:0a:1e:00:07 dev vxlan0 dst 198.51.100.3 self',
      'fdb append 02:42:0a:1e:00:09 dev vxlan0 dst 198.51.100.2 self permanent',
    ]);
    expect(plan.ipLines.filter((l) => l.startsWith('neigh'))).toEqual([
      'neigh del 10.30.0.7 dev vxlan0',
      'neigh replace 10.30.0.9 lladdr 02:42:0a:1e:00:09 dev vxlan0 nud permanent',
    ]);
  });

  it('leaves the entries alone while the peer table is not known (after a restart, before gossip caught up)', () => {
    const plan = planNs(sandboxDesired(net, [], host), actual(), namedNs(net.sandbox));
    expect(plan.bridgeLines).toEqual([]);
    expect(plan.ipLines.filter((l) => l.startsWith('neigh'))).toEqual([]);
  });

  it('makes a vxlan device without proxy again, and reprograms its entries', () => {
    const a = actual();
    a.links.get('vxlan0')!.vxlan!.proxy = false;
    const plan = planNs(sandboxDesired(net, [], host, peers), a, namedNs(net.sandbox));
    expect(plan.ipLines).toContain('link del dev vxlan0');
    expect(plan.bridgeLines).toEqual(['fdb append 02:42:0a:1e:00:09 dev vxlan0 dst 198.51.100.2 self permanent']);
  });
});
