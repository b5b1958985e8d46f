// NftTableReconciler against the real kernel, in a namespace this file creates (root only).
// Drift is made by hand with `nft` inside that namespace; it is deleted by name in afterAll.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelError, NftElements, NftReconciler, NftTableReconciler, namedNs, readNftTable, ruleCounters, type NftTable } from '../../src/kernel/index.js';
import { hostBridgeFirewall, hostFirewall } from '../../src/overlay/desired.js';

// The host firewall as agents before the typed nft model wrote it (text for the old full-rewrite reconciler).
const oldHostBridgeBody = `  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "vg*" oifname "vg*" drop comment "vxmesh: workloads do not meet on gwbridge"
  }`;
function oldHostBody(gwSubnet: string, overlaySubnets4: string[]): string {
  const set = overlaySubnets4.length ? `\n    elements = { ${overlaySubnets4.join(', ')} }` : '';
  return `  set overlay4 {
    type ipv4_addr
    flags interval${set}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${gwSubnet} oifname != "vxmesh_gwbridge" masquerade comment "vxmesh: gwbridge egress"
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "vxmesh_gwbridge" ip daddr @overlay4 drop comment "vxmesh: no overlay access around the overlay"
    iifname "vxmesh_gwbridge" oifname "vxmesh_gwbridge" drop comment "vxmesh: workloads do not meet on gwbridge"
  }`;
}

const canRun = process.getuid?.() === 0 && spawnSync('nft', ['--version']).status === 0;

function sh(args: string[], input?: string): string {
  const r = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

describe.skipIf(!canRun)('NftTableReconciler in a real namespace', () => {
  const NS = `vxtnft${randomBytes(4).toString('hex')}`;
  const ns = namedNs(NS);
  const nft = (...args: string[]) => sh(['ip', 'netns', 'exec', NS, 'nft', ...args]);
  const TABLE = 'vxt';

  const backends = new NftElements(['ipv4_addr', 'inet_service'], ['ipv4_addr', 'inet_service']);
  for (let i = 0; i < 500; i++) backends.set([`10.96.${i >> 8}.${i & 255}`, '80'], [`10.0.${i >> 8}.${i & 255}`, '8080']);
  let members = ['198.51.100.1', '198.51.100.2'];

  const desired = (): NftTable => ({
    family: 'inet',
    name: TABLE,
    sets: [
      { name: 'members', type: ['ipv4_addr'], elements: members.map((m) => ({ key: [m] })) },
      { name: 'overlay4', type: ['ipv4_addr'], flags: ['interval'], elements: [{ key: ['10.10.0.0/24'] }, { key: ['10.11.0.0/24'] }] },
      { name: 'backends', type: ['ipv4_addr', 'inet_service'], value: ['ipv4_addr', 'inet_service'], elements: backends },
      { name: 'svc', type: ['ipv4_addr', 'inet_proto', 'inet_service'], value: 'verdict', elements: [{ key: ['10.96.0.1', 'tcp', '80'], value: ['goto svc-web'] }] },
    ],
    chains: [
      { name: 'svc-web', rules: [{ match: 'counter' }] },
      {
        name: 'input',
        base: { type: 'filter', hook: 'input', priority: { name: 'filter', offset: -10 }, policy: 'accept' },
        rules: [{ match: 'udp dport 4789 ip saddr != @members counter drop', comment: 'vxmesh: vxlan from members only' }],
      },
      {
        name: 'output',
        base: { type: 'filter', hook: 'output', priority: { name: 'filter' } },
        rules: [
          { match: 'oifname "lo" icmp type echo-request counter', comment: 'test: pings on lo' },
          { match: 'ip daddr . meta l4proto . th dport vmap @svc' },
        ],
      },
      {
        name: 'postrouting',
        base: { type: 'nat', hook: 'postrouting', priority: { name: 'srcnat' } },
        rules: [{ match: 'ip saddr 172.18.0.0/16 oifname != "vxmesh_gwbridge" masquerade', comment: 'vxmesh: gwbridge egress' }],
      },
    ],
  });

  const handles = async () => {
    const t = (await readNftTable(ns, 'inet', TABLE))!;
    return [...t.chains.values()].flatMap((c) => c.rules.map((r) => `${c.name}#${r.handle}`));
  };
  const pings = async () => ruleCounters((await readNftTable(ns, 'inet', TABLE))!).get('test: pings on lo')?.packets ?? -1;

  beforeAll(() => {
    sh(['ip', 'netns', 'add', NS]);
    sh(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', NS]);
  });

  const rec = new NftTableReconciler();

  it('converges, and a second reconcile applies nothing (cached, fresh, and by a new reconciler)', async () => {
    const first = await rec.reconcile(ns, desired());
    expect(first.summary).toMatchObject({ tableCreated: true, elementsAdded: 505 });
    const listed = nft('list', 'table', 'inet', TABLE);
    expect(listed).toContain('udp dport 4789 ip saddr != @members counter packets 0 bytes 0 drop comment "vxmesh: vxlan from members only"');
    expect(listed).toContain('10.96.1.243 . 80 : 10.0.1.243 . 8080');
    expect((await rec.reconcile(ns, desired())).commands).toEqual([]);
    expect((await rec.reconcile(ns, desired(), { fresh: true })).commands).toEqual([]);
    // A new reconciler (an agent restart) knows nothing: it reads the kernel and learns rule forms.
    expect((await new NftTableReconciler().reconcile(ns, desired(), { fresh: true })).commands).toEqual([]);
    expect(nft('list', 'tables')).not.toContain('canon'); // the scratch table is gone
  });

  it('one element change is one element command; every other rule keeps its handle and counter', async () => {
    sh(['ip', 'netns', 'exec', NS, 'ping', '-c', '3', '-i', '0.01', '127.0.0.1']);
    const counted = await pings();
    expect(counted).toBeGreaterThanOrEqual(3);
    const before = await handles();

    backends.set(['10.97.0.1', '443'], ['10.0.9.1', '8443']);
    const r = await rec.reconcile(ns, desired());
    expect(r.commands).toEqual(['add element inet vxt backends { 10.97.0.1 . 443 : 10.0.9.1 . 8443 }']);
    members = [...members, '198.51.100.3'];
    expect((await rec.reconcile(ns, desired())).commands).toEqual(['add element inet vxt members { 198.51.100.3 }']);

    expect(await handles()).toEqual(before);
    expect(await pings()).toBe(counted);
    expect(nft('list', 'map', 'inet', TABLE, 'backends')).toContain('10.97.0.1 . 443 : 10.0.9.1 . 8443');
  });

  it('repairs drift made by hand: element removed or added, rule deleted, chain flushed, chain added', async () => {
    nft('delete', 'element', 'inet', TABLE, 'backends', '{ 10.96.0.7 . 80 }');
    nft('add', 'element', 'inet', TABLE, 'members', '{ 203.0.113.66 }');
    const t = (await readNftTable(ns, 'inet', TABLE))!;
    const masq = t.chains.get('postrouting')!.rules[0]!.handle!;
    nft('delete', 'rule', 'inet', TABLE, 'postrouting', 'handle', String(masq));
    nft('flush', 'chain', 'inet', TABLE, 'svc-web');
    nft('add', 'chain', 'inet', TABLE, 'stray');
    const keptInput = (await handles()).filter((h) => h.startsWith('input#') || h.startsWith('output#'));

    // Without a read the reconciler trusts what it wrote; a fresh read sees the hand-made changes.
    expect((await rec.reconcile(ns, desired())).commands).toEqual([]);
    const r = await rec.reconcile(ns, desired(), { fresh: true });
    expect(r.commands.sort()).toEqual(
      [
        'flush chain inet vxt stray',
        'delete chain inet vxt stray',
        'delete element inet vxt members { 203.0.113.66 }',
        'add element inet vxt backends { 10.96.0.7 . 80 : 10.0.0.7 . 8080 }',
        'add rule inet vxt svc-web counter',
        'add rule inet vxt postrouting ip saddr 172.18.0.0/16 oifname != "vxmesh_gwbridge" masquerade comment "vxmesh: gwbridge egress"',
        // The flushed/edited chains are flushed again before being refilled (harmless, and atomic).
        'flush chain inet vxt svc-web',
        'flush chain inet vxt postrouting',
      ].sort(),
    );
    // Chains nobody touched were not rewritten.
    expect((await handles()).filter((h) => h.startsWith('input#') || h.startsWith('output#'))).toEqual(keptInput);
    expect((await rec.reconcile(ns, desired(), { fresh: true })).commands).toEqual([]);
  });

  it('a deleted table is made again on the next fresh reconcile', async () => {
    nft('delete', 'table', 'inet', TABLE);
    const r = await rec.reconcile(ns, desired(), { fresh: true });
    expect(r.summary).toMatchObject({ tableCreated: true, elementsAdded: 507 });
    expect((await rec.reconcile(ns, desired(), { fresh: true })).commands).toEqual([]);
  });

  it('a rule the kernel refuses fails with nft\'s message and changes nothing', async () => {
    const before = nft('list', 'table', 'inet', TABLE);
    const bad = desired();
    bad.chains[1]!.rules.push({ match: 'ip saddr 10.0.0.0/8 frobnicate' });
    const err = await rec.reconcile(ns, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect((err as Error).message).toMatch(/syntax error|frobnicate/);
    expect(nft('list', 'table', 'inet', TABLE)).toBe(before);
    // The same error from a fresh reconciler (the rule is checked in a scratch table first).
    const err2 = await new NftTableReconciler().reconcile(ns, bad, { fresh: true }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(KernelError);
    expect(nft('list', 'table', 'inet', TABLE)).toBe(before);
    expect(nft('list', 'tables')).not.toContain('canon');
  });

  it('the host firewall: takes over the table the old full-rewrite reconciler wrote, then changes one element per network', async () => {
    const old = new NftReconciler(); // table `vxmesh`, as agents before this change wrote it
    await old.apply(ns, oldHostBody('172.18.0.0/16', ['10.10.0.0/24']));
    await old.apply(ns, oldHostBridgeBody, { family: 'bridge' });
    const fw = new NftTableReconciler();
    expect((await fw.reconcile(ns, hostFirewall('172.18.0.0/16', ['10.10.0.0/24']), { fresh: true })).commands).toEqual([]);
    expect((await fw.reconcile(ns, hostBridgeFirewall(), { fresh: true })).commands).toEqual([]);
    expect((await fw.reconcile(ns, hostFirewall('172.18.0.0/16', ['10.10.0.0/24', '10.20.0.0/24']))).commands).toEqual([
      'add element inet vxmesh overlay4 { 10.20.0.0/24 }',
    ]);
    expect((await fw.reconcile(ns, hostFirewall('172.18.0.0/16', ['10.20.0.0/24']))).commands).toEqual(['delete element inet vxmesh overlay4 { 10.10.0.0/24 }']);
    expect(nft('list', 'set', 'inet', 'vxmesh', 'overlay4')).toMatch(/elements = \{ 10\.20\.0\.0\/24 \}/);
    await fw.remove(ns, 'inet', 'vxmesh');
    await fw.remove(ns, 'bridge', 'vxmesh');
  });

  it('concurrent reconciles of one table run one after another, each on the state the last one left', async () => {
    const fw = new NftTableReconciler();
    const t = (n: number): NftTable => ({ family: 'inet', name: 'vxc', chains: [], sets: [{ name: 'm', type: ['ipv4_addr'], elements: Array.from({ length: n }, (_, i) => ({ key: [`198.51.100.${i + 1}`] })) }] });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => fw.reconcile(ns, t(i + 1))));
    expect(results.map((r) => r.summary.elementsAdded)).toEqual(new Array(20).fill(1)); // in call order, one new each
    expect((await readNftTable(ns, 'inet', 'vxc'))!.sets.get('m')!.elements.size).toBe(20);
    await fw.remove(ns, 'inet', 'vxc');
  });

  it('carries a load balancer the way the services work will: VIP vmap -> per-service chain -> numgen backend map', async () => {
    // Backends are local addresses on lo; a TCP connect to the VIP is DNATed to one of them.
    sh(['ip', '-n', NS, 'addr', 'add', '10.77.0.11/32', 'dev', 'lo']);
    sh(['ip', '-n', NS, 'addr', 'add', '10.77.0.12/32', 'dev', 'lo']);
    sh(['ip', '-n', NS, 'route', 'add', '10.96.0.0/24', 'dev', 'lo']); // the VIP range routes somewhere
    const svcBackends = (ips: string[]): NftTable['sets'][number] => ({
      name: 'svc-web-be',
      type: ['integer'],
      value: ['ipv4_addr', 'inet_service'],
      typeof: { key: `numgen random mod ${ips.length}`, value: 'ip daddr . tcp dport' },
      elements: ips.map((ip, i) => ({ key: [String(i)], value: [ip, '8080'] })),
    });
    const vips = new NftElements(['ipv4_addr', 'inet_proto', 'inet_service'], 'verdict');
    vips.set(['10.96.0.10', 'tcp', '80'], ['goto svc-web']);
    const lb = (ips: string[]): NftTable => ({
      family: 'inet',
      name: 'vxlb',
      sets: [{ name: 'services', type: ['ipv4_addr', 'inet_proto', 'inet_service'], value: 'verdict', elements: vips }, svcBackends(ips)],
      chains: [
        { name: 'output', base: { type: 'nat', hook: 'output', priority: { name: 'dstnat' } }, rules: [{ match: 'ip daddr . meta l4proto . th dport vmap @services' }] },
        { name: 'svc-web', rules: [{ match: `meta l4proto tcp counter dnat ip to numgen random mod ${ips.length} map @svc-web-be`, comment: 'svc web' }] },
      ],
    });
    const fw = new NftTableReconciler();
    await fw.reconcile(ns, lb(['10.77.0.11', '10.77.0.12']));
    expect((await fw.reconcile(ns, lb(['10.77.0.11', '10.77.0.12']), { fresh: true })).commands).toEqual([]);

    // A listener on each backend answers with its own address; 40 connects reach both.
    const script = `
      const net = require('node:net');
      for (const ip of ['10.77.0.11', '10.77.0.12']) net.createServer((c) => c.end(ip)).listen(8080, ip);
      let seen = {}, n = 0;
      const one = () => new Promise((res, rej) => { const c = net.connect(80, '10.96.0.10'); let d = ''; c.on('data', (b) => d += b); c.on('end', () => res(d)); c.on('error', rej); });
      (async () => { for (let i = 0; i < 40; i++) { const who = await one(); seen[who] = (seen[who] || 0) + 1; } console.log(JSON.stringify(seen)); process.exit(0); })().catch((e) => { console.error(e); process.exit(1); });`;
    const spread = JSON.parse(sh(['ip', 'netns', 'exec', NS, process.execPath, '-e', script])) as Record<string, number>;
    expect(Object.keys(spread).sort()).toEqual(['10.77.0.11', '10.77.0.12']);

    // One backend removed: its element goes and the service's one rule (mod N) is rewritten; the VIP map is untouched.
    const r = await fw.reconcile(ns, lb(['10.77.0.12']));
    expect(r.summary.chainsRewritten).toEqual(['svc-web']);
    expect(r.commands.filter((c) => c.includes('services'))).toEqual([]);
    expect(r.commands.filter((c) => c.includes('element'))).toEqual(['delete element inet vxlb svc-web-be { 0, 1 }', 'add element inet vxlb svc-web-be { 0 : 10.77.0.12 . 8080 }']);
    const after = JSON.parse(sh(['ip', 'netns', 'exec', NS, process.execPath, '-e', script])) as Record<string, number>;
    expect(after).toEqual({ '10.77.0.12': 40 });
    await fw.remove(ns, 'inet', 'vxlb');
  });

  it('remove() deletes the table and is harmless when it is gone', async () => {
    await rec.remove(ns, 'inet', TABLE);
    expect(await readNftTable(ns, 'inet', TABLE)).toBeUndefined();
    await rec.remove(ns, 'inet', TABLE);
  });
});
