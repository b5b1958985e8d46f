// One host, for real: an agent inside a netns "host", workloads in their own namespaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, canPing, inNs, linkNames, type AgentProcess } from '../helpers/netns.js';

interface Net { id: string; name: string; sandbox: string; mtu: number; ipv4: { subnet: string; gateway: string } }
interface Ep { id: string; ipv4: string; netns: string; network: string; mac: string }

const h = new Harness();
let host: string;
let agent: AgentProcess;

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host);
  await agent.start();
});
afterAll(async () => {
  await h.cleanup();
});

const ip = (cidr: string) => cidr.split('/')[0]!;

async function snapshot() {
  return {
    networks: await agent.json<Net[]>('network', 'ls'),
    endpoints: await agent.json<Ep[]>('endpoint', 'ls'),
    namespaces: h.namespaces().sort(),
    hostLinks: linkNames(`/run/netns/${host}`).sort(),
  };
}

describe('single-host overlay', () => {
  it('connects workloads on one network, isolates other networks, gives internal networks no way out', async () => {
    const [a, b, c, d] = h.workloads(['a', 'b', 'c', 'd']) as [string, string, string, string];
    expect((await agent.cli('network', 'create', 'front', '--subnet', '10.31.1.0/24')).code).toBe(0);
    expect((await agent.cli('network', 'create', 'back', '--subnet', '10.31.2.0/24')).code).toBe(0);
    expect((await agent.cli('network', 'create', 'priv', '--subnet', '10.31.3.0/24', '--internal')).code).toBe(0);

    const epA = await agent.json<Ep>('endpoint', 'attach', '--network', 'front', '--netns', a);
    const epB = await agent.json<Ep>('endpoint', 'attach', '--network', 'front', '--netns', b);
    const epC = await agent.json<Ep>('endpoint', 'attach', '--network', 'back', '--netns', c);
    const epD = await agent.json<Ep>('endpoint', 'attach', '--network', 'priv', '--netns', d);
    expect(ip(epA.ipv4)).toBe('10.31.1.2');
    expect(ip(epB.ipv4)).toBe('10.31.1.3');

    expect(canPing(a, ip(epB.ipv4), 2)).toBe(true);
    expect(canPing(b, ip(epA.ipv4), 1)).toBe(true);
    // another network cannot reach them, in either direction
    expect(canPing(c, ip(epA.ipv4))).toBe(false);
    expect(canPing(a, ip(epC.ipv4))).toBe(false);
    // nor can it reach them around the overlay, over the gateway bridge (L3 or L2)
    const eth1A = (JSON.parse(inNs(a, 'ip', ['-j', '-4', 'addr', 'show', 'eth1']).stdout) as { addr_info: { local: string }[] }[])[0]!.addr_info[0]!.local;
    expect(canPing(c, eth1A)).toBe(false);
    // north-south: the host's underlay address answers through eth1 (masquerade)
    expect(canPing(a, '198.51.100.1')).toBe(true);

    // eth0 MTU = underlay 1500 - 50; eth1 carries the default route
    const links = JSON.parse(inNs(a, 'ip', ['-j', 'link', 'show', 'eth0']).stdout) as { mtu: number; address: string }[];
    expect(links[0]!.mtu).toBe(1450);
    expect(links[0]!.address).toBe(epA.mac);
    const routes = JSON.parse(inNs(a, 'ip', ['-j', 'route', 'show', 'default']).stdout) as { dev: string; gateway: string }[];
    expect(routes).toEqual([expect.objectContaining({ dev: 'eth1', gateway: '172.18.0.1' })]);

    // internal: no eth1, no default route, no way to the host's address
    expect(linkNames(d)).not.toContain('eth1');
    expect(JSON.parse(inNs(d, 'ip', ['-j', 'route', 'show', 'default']).stdout)).toEqual([]);
    expect(canPing(d, '198.51.100.1')).toBe(false);
    expect(canPing(d, '10.31.3.1')).toBe(true); // its own gateway on the sandbox bridge

    for (const ep of [epA, epB, epC, epD]) expect((await agent.cli('endpoint', 'detach', ep.id)).code).toBe(0);
    for (const n of ['front', 'back', 'priv']) expect((await agent.cli('network', 'rm', n)).code).toBe(0);
  });

  it('detach and network rm leave no kernel object behind', async () => {
    const before = await snapshot();
    const nftBefore = inNs(`/run/netns/${host}`, 'nft', ['list', 'set', 'inet', 'vxmesh', 'overlay4']).stdout;
    const [w1, w2] = h.workloads(['r1', 'r2']) as [string, string];
    await agent.json('network', 'create', 'tmpnet', '--subnet', '10.32.0.0/24');
    const [net] = await agent.json<Net[]>('network', 'inspect', 'tmpnet');
    if (!net) throw new Error('inspect returned nothing');
    const e1 = await agent.json<Ep>('endpoint', 'attach', '--network', 'tmpnet', '--netns', w1);
    const e2 = await agent.json<Ep>('endpoint', 'attach', '--network', 'tmpnet', '--netns', w2);
    expect(h.namespaces()).toContain(net.sandbox);
    expect(inNs(`/run/netns/${host}`, 'nft', ['list', 'set', 'inet', 'vxmesh', 'overlay4']).stdout).toContain('10.32.0.0/24');
    const refused = await agent.cli('network', 'rm', 'tmpnet');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/2 attached endpoint\(s\).*detach them first/);

    expect((await agent.cli('endpoint', 'detach', e1.id)).code).toBe(0);
    expect(linkNames(w1)).toEqual(['lo']);
    expect(linkNames(`/run/netns/${net.sandbox}`).filter((l) => l.startsWith('ve'))).toHaveLength(1);
    expect((await agent.cli('endpoint', 'detach', e2.id)).code).toBe(0);
    expect(linkNames(w2)).toEqual(['lo']);
    expect((await agent.cli('network', 'rm', 'tmpnet')).code).toBe(0);

    const after = await snapshot();
    expect(after.networks).toEqual(before.networks);
    expect(after.endpoints).toEqual(before.endpoints);
    expect(after.namespaces.filter((n) => !n.includes('wr'))).toEqual(before.namespaces);
    expect(after.hostLinks).toEqual(before.hostLinks); // gateway legs (vg*) gone too
    expect(inNs(`/run/netns/${host}`, 'nft', ['list', 'set', 'inet', 'vxmesh', 'overlay4']).stdout).toBe(nftBefore);
  });

  it('answers bad input with a clear error and changes nothing', async () => {
    await agent.json('network', 'create', 'base', '--subnet', '10.33.0.0/24');
    const [w, w2] = h.workloads(['bad1', 'bad2']) as [string, string];
    const taken = await agent.json<Ep>('endpoint', 'attach', '--network', 'base', '--netns', w);
    const before = await snapshot();
    const cases: [string[], RegExp][] = [
      [['network', 'create', 'x1', '--subnet', '10.33.0.0/33'], /not an IPv4 CIDR|invalid/i],
      [['network', 'create', 'x2', '--subnet', 'banana'], /not an IPv4 CIDR|invalid/i],
      [['network', 'create', 'x3', '--subnet', '10.33.0.5/24'], /host bits|10\.33\.0\.0\/24/i],
      [['network', 'create', 'x4', '--subnet', '10.33.0.0/16'], /overlaps/i],
      [['network', 'create', 'x5', '--subnet', '10.34.0.0/31'], /too small|small/i],
      [['network', 'create', 'x6', '--subnet', '10.34.0.0/24', '--gateway', '10.35.0.1'], /gateway|outside|not in/i],
      [['network', 'create', 'base', '--subnet', '10.36.0.0/24'], /already exists/i],
      [['endpoint', 'attach', '--network', 'nosuch', '--netns', w2], /network "nosuch" not found/],
      [['endpoint', 'attach', '--network', 'base', '--netns', '/run/netns/does-not-exist-here'], /does not exist/],
      [['endpoint', 'attach', '--network', 'base', '--netns', w2, '--ip', ip(taken.ipv4)], /already in use|in use/i],
      [['endpoint', 'attach', '--network', 'base', '--netns', w2, '--ip', '10.99.0.5'], /not in|outside|subnet/i],
      [['endpoint', 'attach', '--network', 'base', '--netns', w2, '--mac', 'zz:zz'], /MAC/i],
      [['endpoint', 'detach', 'ffffffffffff'], /not found/],
      [['network', 'rm', 'nosuch'], /not found/],
    ];
    for (const [args, msg] of cases) {
      const r = await agent.cli(...args);
      expect(r.code, `vxmesh ${args.join(' ')} should fail`).not.toBe(0);
      expect(r.stderr, `vxmesh ${args.join(' ')}`).toMatch(msg);
    }
    expect(await snapshot()).toEqual(before);
    expect(linkNames(w2)).toEqual(['lo']);
    await agent.cli('endpoint', 'detach', taken.id);
    await agent.cli('network', 'rm', 'base');
  });

  it('supports ip-range, aux addresses, fixed IP and MAC, and IPv6', async () => {
    const [w1, w2, w3] = h.workloads(['v1', 'v2', 'v3']) as [string, string, string];
    await agent.json('network', 'create', 'ranged', '--subnet', '10.37.0.0/24', '--gateway', '10.37.0.254',
      '--ip-range', '10.37.0.128/25', '--aux-address', 'printer=10.37.0.129', '--ipv6', '--subnet-v6', 'fd00:37::/64');
    const e1 = await agent.json<Ep & { ipv6: string }>('endpoint', 'attach', '--network', 'ranged', '--netns', w1);
    expect(ip(e1.ipv4)).toBe('10.37.0.128'); // first address of the range (a usable host in the /24)
    const e2 = await agent.json<Ep>('endpoint', 'attach', '--network', 'ranged', '--netns', w2, '--ip', '10.37.0.10', '--mac', '02:00:00:aa:bb:cc');
    expect(ip(e2.ipv4)).toBe('10.37.0.10');
    expect(e2.mac).toBe('02:00:00:aa:bb:cc');
    const e3 = await agent.json<Ep & { ipv6: string }>('endpoint', 'attach', '--network', 'ranged', '--netns', w3);
    expect(ip(e3.ipv4)).toBe('10.37.0.130'); // the aux address .129 is skipped; the fixed .10 did not move the cursor
    expect(e3.ipv6).toMatch(/^fd00:37::[0-9a-f]+\/64$/);
    expect(canPing(w1, ip(e2.ipv4))).toBe(true);
    expect(inNs(w1, 'ping', ['-6', '-c', '1', '-W', '2', ip(e3.ipv6)]).code).toBe(0);
    for (const e of [e1, e2, e3]) await agent.cli('endpoint', 'detach', e.id);
    await agent.cli('network', 'rm', 'ranged');
  });

  it('refuses to start with a gateway bridge subnet that overlaps a host route', async () => {
    const other = h.host(7);
    expect(inNs(`/run/netns/${other}`, 'ip', ['route', 'add', '172.18.5.0/24', 'dev', 'ul0']).code).toBe(0);
    const bad = h.agent(other);
    await expect(bad.start()).rejects.toThrow(/gwbridge subnet 172\.18\.0\.0\/16 overlaps the host route 172\.18\.5\.0\/24 on ul0/);
    expect(linkNames(`/run/netns/${other}`)).not.toContain('vxmesh_gwbridge');
    const good = h.agent(other, ['--gwbridge-subnet', '172.30.0.0/16']);
    await good.start();
    expect((await good.json<{ version: string }>('status')).version).toMatch(/\d+\.\d+/);
  });
});
