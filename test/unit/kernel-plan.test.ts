import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP_STATE_BATCH, parseFdb, parseIpState } from '../../src/kernel/read.js';
import { planNs } from '../../src/kernel/plan.js';
import type { ActualLink, LinkSpec, NsActual, NsDesired } from '../../src/kernel/state.js';
import { SELF_NS, namedNs } from '../../src/kernel/ns.js';

function link(name: string, extra: Partial<ActualLink> = {}): ActualLink {
  return { name, kind: 'other', mtu: 1500, mac: '', up: true, ...extra };
}

function actualOf(links: ActualLink[], rest: Partial<Omit<NsActual, 'links'>> = {}): NsActual {
  return { links: new Map(links.map((l) => [l.name, l])), addrs: [], routes: [], fdb: [], neigh: [], ...rest };
}

function desiredOf(links: LinkSpec[], owns: (n: string) => boolean, rest: Partial<Omit<NsDesired, 'links' | 'owns'>> = {}): NsDesired {
  return { links, addrs: [], routes: [], fdb: [], neigh: [], owns, ...rest };
}

const ownsVx = (n: string) => n.startsWith('vx-');

/** Index of the first line equal to `line`, failing the test when it is absent. */
function at(lines: string[], line: string): number {
  const i = lines.indexOf(line);
  expect(lines, `missing line: ${line}`).toContain(line);
  return i;
}

/** Plans once, then plans against the state the first plan promised: that must be a no-op. */
function expectConverges(desired: NsDesired, actual: NsActual) {
  const plan = planNs(desired, actual);
  const again = planNs(desired, plan.next);
  expect({ ip: again.ipLines, bridge: again.bridgeLines }).toEqual({ ip: [], bridge: [] });
  expect(again.missing).toEqual(plan.missing);
  return plan;
}

describe('planNs: links', () => {
  it('creates missing links bridges first, enslaves, addresses, and only then sets them up', () => {
    const desired = desiredOf(
      [
        // The port comes first on purpose: the planner must still create the bridge before it.
        { name: 'vx-p0', kind: 'veth', master: 'vx-br', up: true, peer: { name: 'vx-p0x' } },
        { name: 'vx-br', kind: 'bridge', mtu: 1450, up: true },
      ],
      ownsVx,
      { addrs: [{ dev: 'vx-br', cidr: '10.1.0.1/24' }] },
    );
    const plan = expectConverges(desired, actualOf([link('lo', { up: true })]));
    const ip = plan.ipLines;
    const addBr = at(ip, 'link add vx-br type bridge');
    // A bridge's MTU is pinned with `link set` (given at creation, the first port would reset it).
    const brMtu = at(ip, 'link set dev vx-br mtu 1450');
    const addPort = at(ip, 'link add vx-p0 type veth peer name vx-p0x');
    const master = at(ip, 'link set dev vx-p0 master vx-br');
    const addr = at(ip, 'addr add 10.1.0.1/24 dev vx-br');
    const brUp = at(ip, 'link set dev vx-br up');
    const portUp = at(ip, 'link set dev vx-p0 up');
    expect(addBr).toBeLessThan(brMtu);
    expect(brMtu).toBeLessThan(master);
    expect(addBr).toBeLessThan(addPort);
    expect(addPort).toBeLessThan(master);
    expect(master).toBeLessThan(portUp);
    expect(master).toBeLessThan(brUp);
    expect(addr).toBeLessThan(brUp);
    expect(ip).toHaveLength(7); // nothing else
    expect(plan.bridgeLines).toEqual([]);
    expect(plan.missing).toEqual([]);
    expect(plan.arrived.sort()).toEqual(['vx-br', 'vx-p0']);
    expect(plan.next.links.get('vx-p0')).toMatchObject({ master: 'vx-br', up: true });
  });

  it('fixes mtu, mac, master and up/down of existing links in place', () => {
    const actual = actualOf([
      link('vx-br', { kind: 'bridge', up: true }),
      link('vx-a', { kind: 'veth', mtu: 1500, mac: '02:00:00:00:00:01', up: true }),
    ]);
    const desired = desiredOf(
      [
        { name: 'vx-br', kind: 'bridge', up: false },
        { name: 'vx-a', kind: 'veth', mtu: 1400, mac: '02:00:00:00:00:AA', master: 'vx-br', up: true },
      ],
      ownsVx,
    );
    const plan = expectConverges(desired, actual);
    expect(plan.ipLines).toEqual([
      'link set dev vx-a mtu 1400 address 02:00:00:00:00:AA master vx-br',
      'link set dev vx-br down',
    ]);
    expect(plan.arrived).toEqual([]); // the same devices: what was written on them (RPS, tc) stays
  });

  it('adopts a link that arrived under a temporary name by renaming it (down first)', () => {
    const actual = actualOf([link('lo'), link('tmp-c3f1', { kind: 'veth', up: true })]);
    const desired = desiredOf(
      [{ name: 'eth0', kind: 'veth', up: true, adoptFrom: 'tmp-c3f1' }],
      (n) => n === 'eth0' || n.startsWith('tmp-'), // the temp name is owned, yet must not be deleted
      { addrs: [{ dev: 'eth0', cidr: '10.1.0.7/24' }], routes: [{ dst: 'default', via: '10.1.0.1', dev: 'eth0', family: 4 }] },
    );
    const plan = expectConverges(desired, actual);
    expect(plan.ipLines).toEqual([
      'link set dev tmp-c3f1 down',
      'link set dev tmp-c3f1 name eth0',
      'addr add 10.1.0.7/24 dev eth0',
      'link set dev eth0 up',
      'route replace default via 10.1.0.1 dev eth0',
    ]);
    expect(plan.missing).toEqual([]);
    expect(plan.arrived).toEqual(['eth0']);
    expect(plan.clsact).toEqual([]);
    expect([...plan.next.links.keys()].sort()).toEqual(['eth0', 'lo']);
    // With clsact, the qdisc goes on the device under its temporary name, before the batch sets it up.
    const withQdisc = planNs({ ...desired, links: [{ ...desired.links[0]!, clsact: true }] }, actual);
    expect(withQdisc.clsact).toEqual(['tmp-c3f1']);
    expect(withQdisc.ipLines).toEqual(plan.ipLines);
    // An interface already in place is left alone: adding a qdisc to an up device drops its packets.
    expect(planNs({ ...desired, links: [{ ...desired.links[0]!, clsact: true }] }, withQdisc.next).clsact).toEqual([]);
  });

  it('reports a link it cannot create here as missing and plans nothing on it', () => {
    const desired = desiredOf(
      [{ name: 'eth0', kind: 'veth', up: true, adoptFrom: 'tmp-gone' }],
      (n) => n === 'eth0',
      {
        addrs: [{ dev: 'eth0', cidr: '10.1.0.7/24' }],
        routes: [{ dst: 'default', via: '10.1.0.1', dev: 'eth0', family: 4 }],
        neigh: [{ dev: 'eth0', ip: '10.1.0.9', mac: '02:00:00:00:00:09' }],
      },
    );
    const plan = planNs(desired, actualOf([link('lo')]));
    expect(plan.missing).toEqual(['eth0']);
    expect(plan.arrived).toEqual([]);
    expect(plan.ipLines).toEqual([]);
    expect(plan.bridgeLines).toEqual([]);
  });

  it('deletes owned links nobody wants and never touches links outside `owns`', () => {
    const actual = actualOf(
      [
        link('lo'),
        link('eth0', { kind: 'veth' }), // the host's, not ours
        link('docker0', { kind: 'bridge' }),
        link('vx-old', { kind: 'bridge' }),
        link('vx-keep', { kind: 'bridge' }),
      ],
      {
        addrs: [
          { dev: 'eth0', cidr: '198.51.100.5/24' },
          { dev: 'docker0', cidr: '172.17.0.1/16' },
          { dev: 'vx-old', cidr: '10.9.0.1/24' },
          { dev: 'vx-keep', cidr: '10.8.0.1/24' },
        ],
        routes: [
          { dst: 'default', via: '198.51.100.1', dev: 'eth0', family: 4 },
          { dst: '10.99.0.0/16', via: '10.9.0.254', dev: 'vx-old', family: 4 },
        ],
        neigh: [{ dev: 'eth0', ip: '198.51.100.1', mac: '02:00:00:00:00:01' }],
      },
    );
    const desired = desiredOf([{ name: 'vx-keep', kind: 'bridge', up: true }], ownsVx, {
      addrs: [{ dev: 'vx-keep', cidr: '10.8.0.1/24' }],
    });
    const plan = expectConverges(desired, actual);
    // Deleting the link takes its addresses and routes with it: no separate lines for them.
    expect(plan.ipLines).toEqual(['link del dev vx-old']);
    expect([...plan.next.links.keys()].sort()).toEqual(['docker0', 'eth0', 'lo', 'vx-keep']);
    expect(plan.next.addrs).toContainEqual({ dev: 'eth0', cidr: '198.51.100.5/24' });
    expect(plan.next.routes).toEqual([{ dst: 'default', via: '198.51.100.1', dev: 'eth0', family: 4 }]);
    expect(plan.next.routes.some((r) => r.dev === 'vx-old')).toBe(false);
  });
});

describe('planNs: typed link creation', () => {
  const here = namedNs('sbx-1');

  it('renders each kind from its typed spec (veth peers into another namespace, the agent\'s included)', () => {
    const desired = desiredOf(
      [
        { name: 'vx-br', kind: 'bridge', mtu: 1450, up: true },
        { name: 'vx-d', kind: 'dummy', mtu: 1400, up: false },
        { name: 'vx-v', kind: 'vxlan', vni: 4097, dstPort: 4789, local: '198.51.100.7', up: true },
        { name: 'vx-l', kind: 'vxlan', vni: 4098, dstPort: 4790, learning: true, up: true },
        { name: 'vx-p1', kind: 'veth', mtu: 1450, master: 'vx-br', up: true, peer: { name: 'vt1', ns: namedNs('wl-1'), mtu: 1450 } },
        { name: 'vx-p2', kind: 'veth', up: true, peer: { name: 'vd2', ns: SELF_NS } },
        { name: 'vx-p3', kind: 'veth', up: true, peer: { name: 'vx-p3b' } },
      ],
      ownsVx,
    );
    const plan = expectConverges(desired, actualOf([link('lo')]));
    const adds = plan.ipLines.filter((l) => l.startsWith('link add'));
    expect(adds).toEqual([
      'link add vx-br type bridge',
      'link add vx-d mtu 1400 type dummy',
      'link add vx-v type vxlan id 4097 dstport 4789 local 198.51.100.7 nolearning',
      'link add vx-l type vxlan id 4098 dstport 4790',
      'link add vx-p1 mtu 1450 type veth peer name vt1 mtu 1450 netns wl-1',
      `link add vx-p2 type veth peer name vd2 netns /proc/${process.pid}/ns/net`,
      'link add vx-p3 type veth peer name vx-p3b',
    ]);
    expect(plan.pre).toEqual([]);
  });

  it('a vxlan with createIn is made in that namespace, moved here and renamed, in one plan', () => {
    const vx: LinkSpec = {
      name: 'vxlan0',
      kind: 'vxlan',
      vni: 4100,
      dstPort: 4789,
      local: '198.51.100.7',
      mtu: 1450,
      master: 'br0',
      up: true,
      createIn: { ns: SELF_NS, tempName: 'vxt4100' },
    };
    const desired = desiredOf([{ name: 'br0', kind: 'bridge', up: true }, vx], (n) => n !== 'lo');
    const plan = planNs(desired, actualOf([link('lo'), link('br0', { kind: 'bridge' })]), here);
    expect(plan.pre).toEqual([
      { ns: SELF_NS, ipLines: ['link add vxt4100 type vxlan id 4100 dstport 4789 local 198.51.100.7 nolearning', 'link set dev vxt4100 netns sbx-1'] },
    ]);
    expect(plan.ipLines).toEqual([
      'link set dev vxt4100 down',
      'link set dev vxt4100 name vxlan0',
      'link set dev vxlan0 mtu 1450 master br0',
      'link set dev vxlan0 up',
    ]);
    expect(plan.missing).toEqual([]);
    const again = planNs(desired, plan.next, here);
    expect({ pre: again.pre, ip: again.ipLines }).toEqual({ pre: [], ip: [] });
    // Arrived but not yet renamed (a crash in between): only the rename is left.
    const half = planNs(desired, actualOf([link('lo'), link('br0', { kind: 'bridge' }), link('vxt4100', { kind: 'vxlan' })]), here);
    expect(half.pre).toEqual([]);
    expect(half.ipLines.slice(0, 2)).toEqual(['link set dev vxt4100 down', 'link set dev vxt4100 name vxlan0']);
    expect(() => planNs(desired, actualOf([link('lo')]))).toThrow(/namespace being planned/);
  });

  it('a vxlan made with another VNI or port is made again', () => {
    const spec: LinkSpec = { name: 'vx-v', kind: 'vxlan', vni: 4200, dstPort: 4789, up: true };
    const old = actualOf([link('vx-v', { kind: 'vxlan', vxlan: { vni: 4199, dstPort: 4789 } })]);
    const plan = expectConverges(desiredOf([spec], ownsVx), old);
    expect(plan.ipLines.slice(0, 2)).toEqual(['link del dev vx-v', 'link add vx-v type vxlan id 4200 dstport 4789 nolearning']);
    expect(plan.arrived).toEqual(['vx-v']);
    const same = actualOf([link('vx-v', { kind: 'vxlan', up: true, vxlan: { vni: 4200, dstPort: 4789 } })]);
    expect(planNs(desiredOf([spec], ownsVx), same).ipLines).toEqual([]);
  });

  it('refuses names the kernel would refuse, naming them', () => {
    const bad = desiredOf([{ name: 'vx-much-too-long0', kind: 'bridge', up: true }], ownsVx);
    expect(() => planNs(bad, actualOf([]))).toThrow(/"vx-much-too-long0" is not valid/);
    const badVni = desiredOf([{ name: 'vx-v', kind: 'vxlan', vni: 0, dstPort: 4789, up: true }], ownsVx);
    expect(() => planNs(badVni, actualOf([]))).toThrow(/VNI 0/);
  });
});

describe('planNs: addresses, routes, neighbours, fdb', () => {
  const base = () =>
    actualOf(
      [
        link('lo'),
        link('eth0', { kind: 'veth' }),
        link('vx-br', { kind: 'bridge' }),
        link('vx-vx', { kind: 'vxlan', master: 'vx-br' }),
      ],
      {
        addrs: [
          { dev: 'eth0', cidr: '198.51.100.5/24' },
          { dev: 'vx-br', cidr: '10.1.0.1/24' },
          { dev: 'vx-br', cidr: '10.1.0.99/24' }, // stale
        ],
        routes: [
          { dst: 'default', via: '198.51.100.1', dev: 'eth0', family: 4 },
          { dst: '10.50.0.0/16', dev: 'eth0', family: 4 },
          { dst: '10.2.0.0/16', via: '10.1.0.254', dev: 'vx-br', family: 4 }, // stale
        ],
        neigh: [
          { dev: 'eth0', ip: '198.51.100.1', mac: '02:00:00:00:00:01' },
          { dev: 'vx-br', ip: '10.1.0.50', mac: '02:00:00:00:00:50' }, // stale
        ],
        fdb: [
          { dev: 'vx-vx', mac: '02:00:00:00:00:50', dst: '203.0.113.50' }, // stale
          { dev: 'vx-vx', mac: '02:00:00:00:00:51', dst: '203.0.113.51' },
        ],
      },
    );
  const links: LinkSpec[] = [
    { name: 'vx-br', kind: 'bridge', up: true },
    { name: 'vx-vx', kind: 'vxlan', master: 'vx-br', up: true, vni: 42, dstPort: 4789 },
  ];

  it('adds and removes entries on managed links only', () => {
    const desired = desiredOf(links, ownsVx, {
      addrs: [
        { dev: 'vx-br', cidr: '10.1.0.1/24' },
        { dev: 'vx-br', cidr: '10.1.0.2/24' },
      ],
      routes: [{ dst: '10.3.0.0/16', via: '10.1.0.253', dev: 'vx-br', family: 4 }],
      neigh: [{ dev: 'vx-br', ip: '10.1.0.60', mac: '02:00:00:00:00:60' }],
      fdb: [
        { dev: 'vx-vx', mac: '02:00:00:00:00:51', dst: '203.0.113.51' },
        { dev: 'vx-vx', mac: '02:00:00:00:00:60', dst: '203.0.113.60' },
      ],
    });
    const plan = expectConverges(desired, base());
    expect(plan.ipLines.sort()).toEqual(
      [
        'addr del 10.1.0.99/24 dev vx-br',
        'addr add 10.1.0.2/24 dev vx-br',
        'route del 10.2.0.0/16 via 10.1.0.254 dev vx-br',
        'route replace 10.3.0.0/16 via 10.1.0.253 dev vx-br',
        'neigh del 10.1.0.50 dev vx-br',
        'neigh replace 10.1.0.60 lladdr 02:00:00:00:00:60 dev vx-br nud permanent',
      ].sort(),
    );
    expect(plan.bridgeLines.sort()).toEqual(
      [
        'fdb del 02:00:00:00:00:50 dev vx-vx dst 203.0.113.50 self',
        'fdb append 02:00:00:00:00:60 dev vx-vx dst 203.0.113.60 self permanent',
      ].sort(),
    );
    expect(plan.ipLines.concat(plan.bridgeLines).some((l) => l.includes('eth0'))).toBe(false);
  });

  it('IPv6 addresses get nodad and IPv6 routes are batch-safe (no -6 option, default as ::/0)', () => {
    const desired = desiredOf(links, ownsVx, {
      addrs: [
        { dev: 'vx-br', cidr: '10.1.0.1/24' },
        { dev: 'vx-br', cidr: 'fd00:1::1/64' },
      ],
      routes: [
        { dst: 'default', via: '10.1.0.254', dev: 'vx-br', family: 4 },
        { dst: 'default', via: 'fd00:1::fe', dev: 'vx-br', family: 6 },
        { dst: 'fd00:2::/64', via: 'fd00:1::fd', dev: 'vx-br', family: 6 },
      ],
      fdb: base().fdb,
    });
    const plan = expectConverges(desired, base());
    expect(plan.ipLines).toContain('addr add fd00:1::1/64 dev vx-br nodad');
    expect(plan.ipLines.filter((l) => l.startsWith('addr add'))).toEqual(['addr add fd00:1::1/64 dev vx-br nodad']);
    expect(plan.ipLines).toContain('route replace default via 10.1.0.254 dev vx-br');
    expect(plan.ipLines).toContain('route replace ::/0 via fd00:1::fe dev vx-br');
    expect(plan.ipLines).toContain('route replace fd00:2::/64 via fd00:1::fd dev vx-br');
    // `ip -batch` rejects options on a line ("Object "-6" is unknown").
    expect(plan.ipLines.some((l) => l.startsWith('-'))).toBe(false);

    // Removing the IPv6 default leaves the IPv4 one alone, and vice versa.
    const drop6 = planNs({ ...desired, routes: desired.routes.filter((r) => !(r.family === 6 && r.dst === 'default')) }, plan.next);
    expect(drop6.ipLines).toEqual(['route del ::/0 via fd00:1::fe dev vx-br']);
  });

  it('compares MACs and IPv6 addresses case-insensitively (the kernel prints lower case)', () => {
    const actual = actualOf([link('vx-br', { kind: 'bridge' }), link('vx-vx', { kind: 'vxlan', master: 'vx-br' })], {
      addrs: [{ dev: 'vx-br', cidr: 'fd00:a::1/64' }],
      routes: [{ dst: 'fd00:b::/64', via: 'fd00:a::fe', dev: 'vx-br', family: 6 }],
      neigh: [{ dev: 'vx-br', ip: 'fd00:a::5', mac: '0a:00:00:00:00:05' }],
      fdb: [{ dev: 'vx-vx', mac: '0a:00:00:00:00:05', dst: '203.0.113.5' }],
    });
    const desired = desiredOf(links, ownsVx, {
      addrs: [{ dev: 'vx-br', cidr: 'FD00:A::1/64' }],
      routes: [{ dst: 'FD00:B::/64', via: 'FD00:A::FE', dev: 'vx-br', family: 6 }],
      neigh: [{ dev: 'vx-br', ip: 'FD00:A::5', mac: '0A:00:00:00:00:05' }],
      fdb: [{ dev: 'vx-vx', mac: '0A:00:00:00:00:05', dst: '203.0.113.5' }],
    });
    const plan = planNs(desired, actual);
    expect(plan.ipLines).toEqual([]);
    expect(plan.bridgeLines).toEqual([]);
  });

  it('sets bridge port isolation with the bridge tool', () => {
    const actual = actualOf([link('vx-br', { kind: 'bridge' }), link('vx-p1', { kind: 'veth', master: 'vx-br', isolated: false })]);
    const desired = desiredOf(
      [
        { name: 'vx-br', kind: 'bridge', up: true },
        { name: 'vx-p1', kind: 'veth', master: 'vx-br', up: true, isolated: true },
      ],
      ownsVx,
    );
    const plan = expectConverges(desired, actual);
    expect(plan.ipLines).toEqual([]);
    expect(plan.bridgeLines).toEqual(['link set dev vx-p1 isolated on']);
  });

  it('a converged namespace plans zero lines', () => {
    const desired = desiredOf(links, ownsVx, {
      addrs: [
        { dev: 'vx-br', cidr: '10.1.0.1/24' },
        { dev: 'vx-br', cidr: '10.1.0.99/24' },
      ],
      routes: [{ dst: '10.2.0.0/16', via: '10.1.0.254', dev: 'vx-br', family: 4 }],
      neigh: [{ dev: 'vx-br', ip: '10.1.0.50', mac: '02:00:00:00:00:50' }],
      fdb: base().fdb,
    });
    const plan = planNs(desired, base());
    expect(plan).toMatchObject({ ipLines: [], bridgeLines: [], missing: [] });
  });
});

describe('planNs properties', () => {
  // Names: vx-* are owned, h* are the host's (never desired, never owned).
  const ownedNames = ['vx-br0', 'vx-br1', 'vx-a', 'vx-b', 'vx-c'];
  const hostNames = ['h0', 'h1'];
  const allNames = [...ownedNames, ...hostNames];
  const mac = fc.constantFrom('02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:0A');
  const v4 = fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.1.1');
  const cidr = fc.constantFrom('10.0.0.1/24', '10.0.0.2/24', 'fd00::1/64', 'FD00::2/64');

  const actualArb = fc
    .record({
      links: fc.uniqueArray(
        fc.record({
          name: fc.constantFrom(...allNames),
          kind: fc.constantFrom('bridge' as const, 'veth' as const, 'vxlan' as const, 'other' as const),
          mtu: fc.constantFrom(1400, 1450, 1500),
          mac,
          up: fc.boolean(),
          master: fc.option(fc.constantFrom('vx-br0', 'vx-br1'), { nil: undefined }),
        }),
        { selector: (l) => l.name, maxLength: 7 },
      ),
      addrs: fc.array(fc.record({ dev: fc.constantFrom(...allNames), cidr }), { maxLength: 6 }),
      routes: fc.array(fc.record({ dev: fc.constantFrom(...allNames), dst: fc.constantFrom('default', '10.9.0.0/16'), via: fc.option(v4, { nil: undefined }), family: fc.constant(4 as const) }), { maxLength: 4 }),
      neigh: fc.array(fc.record({ dev: fc.constantFrom(...allNames), ip: v4, mac }), { maxLength: 4 }),
      fdb: fc.array(fc.record({ dev: fc.constantFrom(...allNames), mac, dst: fc.constantFrom('203.0.113.1', '203.0.113.2') }), { maxLength: 4 }),
    })
    .map((a): NsActual => {
      const links = new Map(a.links.map((l) => [l.name, l as ActualLink]));
      // The kernel only reports entries on links that exist, lower-case, and each once.
      const dedupe = <T,>(xs: T[], key: (x: T) => string) => [...new Map(xs.map((x) => [key(x), x])).values()];
      const on = <T extends { dev: string }>(xs: T[]) => xs.filter((x) => links.has(x.dev));
      return {
        links,
        addrs: dedupe(on(a.addrs), (x) => `${x.dev} ${x.cidr.toLowerCase()}`).map((x) => ({ ...x, cidr: x.cidr.toLowerCase() })),
        routes: dedupe(on(a.routes), (x) => `${x.dev} ${x.dst}`),
        neigh: dedupe(on(a.neigh), (x) => `${x.dev} ${x.ip}`).map((x) => ({ ...x, mac: x.mac.toLowerCase() })),
        fdb: dedupe(on(a.fdb), (x) => `${x.dev} ${x.mac.toLowerCase()} ${x.dst}`).map((x) => ({ ...x, mac: x.mac.toLowerCase() })),
      };
    });

  const desiredArb = fc
    .uniqueArray(
      fc.record({
        name: fc.constantFrom(...ownedNames),
        up: fc.boolean(),
        mtu: fc.option(fc.constantFrom(1400, 1500), { nil: undefined }),
        mac: fc.option(mac, { nil: undefined }),
        createIt: fc.boolean(),
      }),
      { selector: (l) => l.name, maxLength: 5 },
    )
    .chain((specs) => {
      const links: LinkSpec[] = specs.map((s) => {
        const bridge = s.name.startsWith('vx-br');
        // Bridges and dummies can be created here; a veth without its peer cannot (reported missing).
        return {
          name: s.name,
          kind: bridge ? 'bridge' : s.createIt ? 'dummy' : 'veth',
          up: s.up,
          mtu: s.mtu,
          mac: s.mac,
          master: !bridge && specs.some((o) => o.name === 'vx-br0') ? 'vx-br0' : undefined,
        };
      });
      const names = links.map((l) => l.name);
      const dev = names.length ? fc.constantFrom(...names) : fc.constant('vx-none');
      return fc.record({
        links: fc.constant(links),
        addrs: fc.uniqueArray(fc.record({ dev, cidr }), { selector: (a) => `${a.dev} ${a.cidr.toLowerCase()}`, maxLength: 4 }),
        routes: fc.uniqueArray(fc.record({ dev, dst: fc.constantFrom('default', '10.9.0.0/16'), via: fc.option(v4, { nil: undefined }), family: fc.constant(4 as const) }), { selector: (r) => `${r.dev} ${r.dst}`, maxLength: 3 }),
        neigh: fc.uniqueArray(fc.record({ dev, ip: v4, mac }), { selector: (n) => `${n.dev} ${n.ip}`, maxLength: 3 }),
        fdb: fc.uniqueArray(fc.record({ dev, mac, dst: fc.constantFrom('203.0.113.1', '203.0.113.2') }), { selector: (f) => `${f.dev} ${f.mac.toLowerCase()} ${f.dst}`, maxLength: 3 }),
      });
    })
    .map((d): NsDesired => ({ ...d, owns: ownsVx }));

  it('planning against the promised next state is a no-op, and host links are never named', () => {
    fc.assert(
      fc.property(desiredArb, actualArb, (desired, actual) => {
        const plan = planNs(desired, actual);
        const again = planNs(desired, plan.next);
        expect(again.ipLines).toEqual([]);
        expect(again.bridgeLines).toEqual([]);
        for (const line of [...plan.ipLines, ...plan.bridgeLines]) {
          for (const h of hostNames) expect(line.split(' ')).not.toContain(h);
        }
        // Every desired link either exists afterwards or is reported missing.
        for (const l of desired.links) expect(plan.next.links.has(l.name) || plan.missing.includes(l.name)).toBe(true);
        // Owned links not desired are gone; host links are all still there.
        for (const name of plan.next.links.keys()) {
          if (ownsVx(name)) expect(desired.links.some((l) => l.name === name)).toBe(true);
        }
        for (const name of actual.links.keys()) if (!ownsVx(name)) expect(plan.next.links.has(name)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a vxlan made elsewhere converges in one plan from any state of its two names, touching no host link', () => {
    const vx: LinkSpec = { name: 'vx-a', kind: 'vxlan', vni: 4100, dstPort: 4789, master: 'vx-br0', up: true, mtu: 1450, createIn: { ns: SELF_NS, tempName: 'vx-t' } };
    const linkArb = (name: string) =>
      fc.option(fc.record({ name: fc.constant(name), kind: fc.constantFrom('vxlan' as const, 'veth' as const), mtu: fc.constant(1500), mac: fc.constant(''), up: fc.boolean(), vxlan: fc.option(fc.record({ vni: fc.constantFrom(4100, 4101), dstPort: fc.constant(4789) }), { nil: undefined }) }), { nil: undefined });
    fc.assert(
      fc.property(linkArb('vx-a'), linkArb('vx-t'), fc.boolean(), (a, t, withBridge) => {
        const present = [a, t, ...(withBridge ? [{ name: 'vx-br0', kind: 'bridge' as const, mtu: 1500, mac: '', up: true }] : []), { name: 'h0', kind: 'other' as const, mtu: 1500, mac: '', up: true }].filter((x) => x !== undefined) as ActualLink[];
        const desired = desiredOf([{ name: 'vx-br0', kind: 'bridge', up: true }, vx], ownsVx);
        const plan = planNs(desired, actualOf(present), namedNs('sbx'));
        if (plan.conflicts.length) return; // both names held: reported, nothing planned for it
        expect(plan.missing).toEqual([]);
        const again = planNs(desired, plan.next, namedNs('sbx'));
        expect({ pre: again.pre, ip: again.ipLines }).toEqual({ pre: [], ip: [] });
        expect(plan.next.links.get('vx-a')).toMatchObject({ kind: 'vxlan', master: 'vx-br0', up: true });
        expect(plan.next.links.has('vx-t')).toBe(false);
        for (const line of [...plan.ipLines, ...plan.pre.flatMap((p) => p.ipLines)]) expect(line.split(' ')).not.toContain('h0');
      }),
      { numRuns: 200 },
    );
  });
});

// parseIpState / parseFdb on output captured from this machine's `ip`/`bridge`, in a throwaway netns.
const isRoot = process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0;

describe.skipIf(!isRoot)('parseIpState / parseFdb on real ip -j -d -batch output', () => {
  const ns = `vxt-parse-${randomBytes(4).toString('hex')}`;
  let ipOut = '';
  let fdbOut = '';

  const sh = (args: string[], input?: string) => {
    const r = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(() => {
    sh(['ip', 'netns', 'add', ns]);
    sh(
      ['ip', '-n', ns, '-batch', '-'],
      [
        'link set lo up',
        'link add br0 type bridge',
        'link set dev br0 mtu 1450',
        'link add p0 type veth peer name p1',
        'link set dev p0 master br0',
        'link add vx0 type vxlan id 42 dstport 4789 local 198.51.100.1 nolearning',
        'link set dev vx0 master br0',
        'link set dev br0 up',
        'link set dev p0 up',
        'link set dev vx0 up',
        'addr add 10.9.0.1/24 dev br0',
        'addr add fd00:9::1/64 dev br0 nodad',
        'route replace 10.10.0.0/16 via 10.9.0.2 dev br0',
        'route replace ::/0 via fd00:9::3 dev br0',
        'route replace fd00:10::/64 via fd00:9::2 dev br0',
        'neigh replace 10.9.0.5 lladdr 02:00:00:00:00:05 dev br0 nud permanent',
        'neigh replace fd00:9::5 lladdr 02:00:00:00:00:06 dev br0 nud permanent',
      ].join('\n') + '\n',
    );
    sh(
      ['bridge', '-n', ns, '-batch', '-'],
      'fdb append 02:00:00:00:00:07 dev vx0 dst 203.0.113.7 self permanent\nlink set dev p0 isolated on\n',
    );
    ipOut = sh(['ip', '-n', ns, '-j', '-d', '-batch', '-'], IP_STATE_BATCH);
    fdbOut = sh(['bridge', '-n', ns, '-j', 'fdb', 'show']);
  });

  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('reads links with kind, mtu, master, up and isolation', () => {
    const s = parseIpState(ipOut);
    expect([...s.links.keys()].sort()).toEqual(['br0', 'lo', 'p0', 'p1', 'vx0']);
    expect(s.links.get('br0')).toMatchObject({ kind: 'bridge', mtu: 1450, up: true });
    expect(s.links.get('br0')!.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(s.links.get('p0')).toMatchObject({ kind: 'veth', master: 'br0', up: true, isolated: true });
    expect(s.links.get('p1')).toMatchObject({ kind: 'veth', up: false });
    expect(s.links.get('p1')!.master).toBeUndefined();
    expect(s.links.get('vx0')).toMatchObject({ kind: 'vxlan', master: 'br0', up: true, isolated: false });
    expect(s.links.get('lo')).toMatchObject({ kind: 'other', up: true });
  });

  it('reads global addresses only, routes we added (both families), permanent neighbours', () => {
    const s = parseIpState(ipOut);
    expect(s.addrs).toEqual([
      { dev: 'br0', cidr: '10.9.0.1/24' },
      { dev: 'br0', cidr: 'fd00:9::1/64' },
    ]); // no 127.0.0.1, ::1 or fe80::
    expect(s.routes).toEqual([
      { dst: '10.10.0.0/16', via: '10.9.0.2', dev: 'br0', family: 4 },
      { dst: 'fd00:10::/64', via: 'fd00:9::2', dev: 'br0', family: 6 },
      { dst: 'default', via: 'fd00:9::3', dev: 'br0', family: 6 },
    ]);
    expect(s.neigh).toEqual([
      { ip: '10.9.0.5', mac: '02:00:00:00:00:05', dev: 'br0' },
      { ip: 'fd00:9::5', mac: '02:00:00:00:00:06', dev: 'br0' },
    ]);
  });

  it('reads remote vxlan FDB entries only (not the bridge/multicast self entries)', () => {
    expect(parseFdb(fdbOut)).toEqual([{ mac: '02:00:00:00:00:07', dev: 'vx0', dst: '203.0.113.7' }]);
    expect(parseFdb('')).toEqual([]);
  });

  it('what was read plans zero lines against the same desired state', () => {
    const actual = { ...parseIpState(ipOut), fdb: parseFdb(fdbOut) };
    const desired = desiredOf(
      [
        { name: 'br0', kind: 'bridge', mtu: 1450, up: true },
        { name: 'p0', kind: 'veth', master: 'br0', up: true, isolated: true },
        { name: 'vx0', kind: 'vxlan', vni: 42, dstPort: 4789, local: '198.51.100.1', master: 'br0', up: true },
      ],
      (n) => n !== 'lo' && n !== 'p1',
      {
        addrs: [
          { dev: 'br0', cidr: '10.9.0.1/24' },
          { dev: 'br0', cidr: 'fd00:9::1/64' },
        ],
        routes: [
          { dst: '10.10.0.0/16', via: '10.9.0.2', dev: 'br0', family: 4 },
          { dst: 'default', via: 'fd00:9::3', dev: 'br0', family: 6 },
          { dst: 'fd00:10::/64', via: 'fd00:9::2', dev: 'br0', family: 6 },
        ],
        neigh: [
          { ip: '10.9.0.5', mac: '02:00:00:00:00:05', dev: 'br0' },
          { ip: 'fd00:9::5', mac: '02:00:00:00:00:06', dev: 'br0' },
        ],
        fdb: [{ mac: '02:00:00:00:00:07', dev: 'vx0', dst: '203.0.113.7' }],
      },
    );
    expect(planNs(desired, actual)).toMatchObject({ ipLines: [], bridgeLines: [], missing: [] });
  });
});

describe('parseIpState input checks', () => {
  it('accepts the four-section form (no IPv6 route section) and rejects truncated output', () => {
    const four = [
      '[{"ifname":"lo","flags":["LOOPBACK","UP"],"mtu":65536,"address":"00:00:00:00:00:00"}]',
      '[{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]}]',
      '[{"type":"unicast","dst":"10.10.0.0/16","gateway":"10.9.0.2","dev":"lo","protocol":"boot"}]',
      '[]',
    ].join('\n');
    const s = parseIpState(four);
    expect(s.routes).toEqual([{ dst: '10.10.0.0/16', via: '10.9.0.2', dev: 'lo', family: 4 }]);
    expect(s.addrs).toEqual([]);
    expect(() => parseIpState('[]\n[]\n')).toThrow(/sections/);
  });
});
