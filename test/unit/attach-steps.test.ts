import { describe, expect, it } from 'vitest';
import type { NsActual } from '../../src/kernel/index.js';
import { checkUnique, endpointRecord, gatewayRecord, needsGateway, nextIfName, stateAfterMove, type AttachTarget, type ValidAttach } from '../../src/overlay/attach-steps.js';
import type { EndpointRecord, GatewayRecord, NetworkRecord } from '../../src/overlay/model.js';
import type { OverlayRecords } from '../../src/overlay/records.js';
import { hasOwnDefaultRoute } from '../../src/overlay/self-protection.js';

// A records view over plain arrays (the real one is fed by the store's caches).
function recordsOf(nets: NetworkRecord[], eps: EndpointRecord[], gws: GatewayRecord[]): OverlayRecords {
  const set = <T extends { id: string }>(xs: T[]) => ({ get: (id: string) => xs.find((x) => x.id === id), has: (id: string) => xs.some((x) => x.id === id), values: () => xs });
  return {
    networks: set(nets),
    endpoints: set(eps),
    gateways: set(gws),
    endpointsOf: (id: string) => eps.filter((e) => e.networkId === id),
    endpointsIn: (ns: string) => eps.filter((e) => !e.leaveInHost && e.netns === ns),
    gatewayIn: (ns: string) => gws.find((g) => g.netns === ns),
    local: { node: 'host-a', shared: false, netnsPrefix: 'vx' },
    node: 'host-a',
  } as unknown as OverlayRecords;
}

const net: NetworkRecord = {
  id: 'n'.repeat(64), name: 'web', vni: 4096, mtu: 1450, internal: false, labels: {}, ownsPools: true, sandbox: 'vx-n-nnnnnnnnnnnn', createdAt: '',
  v4: { poolId: 'local/10.0.0.0/24', subnet: '10.0.0.0/24', gateway: '10.0.0.1', prefix: 24 },
};
const req = (over: Partial<ValidAttach> = {}): ValidAttach => ({ network: 'web', netns: '/run/netns/c1', leaveInHost: false, aliases: [], labels: {}, preallocated: false, ...over });
const nsWith = (names: string[], routes: NsActual['routes'] = []): NsActual => ({
  links: new Map(names.map((n) => [n, { name: n, kind: 'other' as const, mtu: 1500, mac: '', up: true }])), addrs: [], routes, neigh: [], fdb: [],
});

describe('attach steps', () => {
  it('never takes an interface name the namespace already has, nor one vxmesh uses there', () => {
    const existing: EndpointRecord = { ...endpointRecord(recordsOf([net], [], []), { req: req(), net, ownDefaultRoute: false }, '10.0.0.2', undefined), state: 'ready' };
    const records = recordsOf([net], [existing], []);
    expect(existing.ifName).toBe('eth0');
    expect(nextIfName(records, '/run/netns/c1')).toBe('eth1');
    expect(nextIfName(records, '/run/netns/c1', ['eth1', 'eth2'])).toBe('eth3');
    const t: AttachTarget = { req: req({ netns: '/run/netns/c2' }), net, before: nsWith(['lo', 'eth0']), ownDefaultRoute: false };
    const ep = endpointRecord(records, t, '10.0.0.3', undefined);
    expect(ep.ifName).toBe('eth1');
    expect(gatewayRecord(records, t, ep, '172.18.0.2').ifName).toBe('eth2');
  });

  it('a namespace with its own default route gets a leg without one', () => {
    const own = nsWith(['lo', 'up0'], [{ dst: 'default', via: '203.0.113.1', dev: 'up0', family: 4 }]);
    expect(hasOwnDefaultRoute(own)).toBe(true);
    expect(hasOwnDefaultRoute(nsWith(['lo']))).toBe(false);
    const records = recordsOf([net], [], []);
    const t: AttachTarget = { req: req(), net, before: own, ownDefaultRoute: true };
    const ep = endpointRecord(records, t, '10.0.0.2', undefined);
    expect(gatewayRecord(records, t, ep, '172.18.0.2').defaultRoute).toBe(false);
    expect(gatewayRecord(records, { ...t, ownDefaultRoute: false }, ep, '172.18.0.2').defaultRoute).toBeUndefined();
  });

  it('plans against what was read plus the veth ends moved in', () => {
    const records = recordsOf([net], [], []);
    const t: AttachTarget = { req: req(), net, before: nsWith(['lo', 'eth0']), ownDefaultRoute: false };
    const ep = endpointRecord(records, t, '10.0.0.2', undefined);
    const gw = gatewayRecord(records, t, ep, '172.18.0.2');
    const after = stateAfterMove(t.before!, ep, gw);
    expect([...after.links.keys()].sort()).toEqual(['eth0', 'lo', `vh${gw.id}`, `vt${ep.id.slice(0, 12)}`].sort());
    expect([...t.before!.links.keys()]).toEqual(['lo', 'eth0']); // the read itself is not changed
  });

  it('refuses a second endpoint of one namespace, name or MAC on a network; legs only for the first non-internal one', () => {
    const first: EndpointRecord = { ...endpointRecord(recordsOf([net], [], []), { req: req({ name: 'api', mac: '02:42:0a:00:00:09' }), net, ownDefaultRoute: false }, '10.0.0.9', undefined), state: 'ready' };
    const gw: GatewayRecord = { id: 'g'.repeat(12), netns: '/run/netns/c1', ifName: 'eth1', ip: '172.18.0.2', mac: '', state: 'ready' };
    const records = recordsOf([net], [first], [gw]);
    const t = (over: Partial<ValidAttach>): AttachTarget => ({ req: req(over), net, ownDefaultRoute: false });
    expect(() => checkUnique(records, t({}))).toThrow(/already attached/);
    expect(() => checkUnique(records, t({ netns: '/run/netns/c2', name: 'api' }))).toThrow(/already has an endpoint named "api"/);
    expect(() => checkUnique(records, t({ netns: '/run/netns/c2', mac: '02:42:0a:00:00:09' }))).toThrow(/MAC address/);
    expect(() => checkUnique(records, t({ netns: '/run/netns/c2' }))).not.toThrow();
    expect(needsGateway(records, t({}))).toBe(false);
    expect(needsGateway(records, t({ netns: '/run/netns/c2' }))).toBe(true);
    expect(needsGateway(recordsOf([{ ...net, internal: true }], [], []), { req: req(), net: { ...net, internal: true }, ownDefaultRoute: false })).toBe(false);
  });
});
