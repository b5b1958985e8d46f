// `vxmesh doctor`'s services checks over fakes, and the LB dry-run readers (lb-drift.ts) over
// kernel-shaped tables: what is as expected passes; a missing table, a lost backend, a stale VIP or
// mark, a missing IPVS service or an extra ingress table each fail with a sentence that names it.
import { describe, expect, it } from 'vitest';
import {
  ingressPortsFindings,
  ingressSandboxFindings,
  lbKindFindings,
  lbVipFindings,
  serviceTaskFindings,
  servicesDoctorChecks,
  type ServicesDoctorDeps,
} from '../../src/ingress/doctor-checks.js';
import type { IngressExpected } from '../../src/ingress/ingress-controller.js';
import { hostIngressTable } from '../../src/ingress/ingress-desired.js';
import { ipvsLbDrift, nftLbDrift } from '../../src/ingress/lb/lb-drift.js';
import { LB_MAP_NAMES, backendElementsOf, dispatchOf } from '../../src/ingress/lb/nft-lb-desired.js';
import type { LbFrontend } from '../../src/ingress/lb/types.js';
import type { ServiceRecord, ServiceTask, ServiceView } from '../../src/ingress/model.js';
import type { IpvsService, NftActualSet, NftActualTable } from '../../src/kernel/index.js';
import type { EndpointRecord } from '../../src/overlay/model.js';

const NET = 'a'.repeat(64);
const SVC = '1'.repeat(64);
const GONE = '2'.repeat(64);

const vip = (id: string, addr: string, backends: string[]): LbFrontend => ({ id, match: { kind: 'vip', vip: addr }, backends, affinity: 'none' });
const port = (p: number, backends: string[]): LbFrontend => ({ id: `p${p}`, match: { kind: 'port', protocol: 'tcp', port: p, family: 4 }, targetPort: 80, backends, affinity: 'none', snatTo: '10.255.0.2' });

function set(name: string): NftActualSet {
  return { name, type: [], flags: [], elements: new Map() };
}

/** `inet vxmesh_lb` as `nft -j` reads back a table programmed with these frontends. */
function nftTableHolding(frontends: LbFrontend[]): NftActualTable {
  const sets = new Map(LB_MAP_NAMES.map((n) => [n as string, set(n)]));
  for (const fe of frontends) {
    const d = dispatchOf(fe);
    if (!fe.backends.length) {
      sets.get(d.refuse)!.elements.set(d.key.join(' . '), '');
      continue;
    }
    sets.get(d.map)!.elements.set(d.key.join(' . '), `goto pick_n${fe.backends.length}`);
    const be = backendElementsOf(fe, [...fe.backends].reverse()); // the slot order is the LB's business
    for (const e of be.elements) sets.get(be.map)!.elements.set(e.key.join(' . '), e.value.join(' . '));
  }
  const hooked = (name: string) => ({ name, base: { type: 'nat', hook: name, priority: -100, policy: 'accept' }, rules: [{ canon: '[]' }] });
  return { family: 'inet', name: 'vxmesh_lb', chains: new Map([['prerouting', hooked('prerouting')], ['output', hooked('output')]]), sets };
}

describe('nftLbDrift', () => {
  const want = [vip('a', '10.1.0.2', ['10.1.0.3', '10.1.0.4']), vip('b', 'fd00:1::2', ['fd00:1::3']), vip('c', '10.1.0.9', []), port(8080, ['10.255.0.5'])];

  it('finds nothing when the table holds exactly the frontends (slots in any order)', () => {
    expect(nftLbDrift(nftTableHolding(want), want)).toEqual([]);
    expect(nftLbDrift(undefined, [])).toEqual([]);
  });

  it('names a missing table, a lost backend, a frontend not dispatched, a stale VIP and a flushed chain', () => {
    expect(nftLbDrift(undefined, want)).toEqual(['nft table inet vxmesh_lb is missing (4 frontend(s) expected)']);
    const t = nftTableHolding([...want, vip('old', '10.1.0.77', ['10.1.0.3'])]);
    t.sets.get('vipbe4')!.elements.delete('10.1.0.2 . 0');
    t.sets.get('vips6')!.elements.clear();
    t.chains.get('output')!.rules = [];
    const drift = nftLbDrift(t, want);
    expect(drift).toContain('chain output of inet vxmesh_lb is empty or not hooked');
    expect(drift).toContain('VIP 10.1.0.2 has backends 10.1.0.3, expected 10.1.0.3, 10.1.0.4');
    expect(drift).toContain('VIP fd00:1::2 is not dispatched (missing from map vips6)');
    expect(drift).toContain('10.1.0.77 in vips4 belongs to no expected frontend (stale)');
    expect(drift).toContain('backends 10.1.0.3 of vipbe4 10.1.0.77 belong to no expected frontend (stale)');
  });

  it('checks the published port target and the refusal of a frontend without backends', () => {
    const t = nftTableHolding(want);
    t.sets.get('portbe4tcp')!.elements.set('8080 . 0', '10.255.0.5 . 81');
    t.sets.get('novips4')!.elements.clear();
    expect(nftLbDrift(t, want)).toEqual([
      'VIP 10.1.0.9 has no backend but is not refused (missing from set novips4)',
      'tcp/8080 (IPv4) has backends 10.255.0.5 . 81, expected 10.255.0.5 . 80',
    ]);
  });
});

describe('ipvsLbDrift', () => {
  const want = [vip('a', '10.1.0.2', ['10.1.0.3', '10.1.0.4']), port(8080, ['10.255.0.5'])];
  const marks = (): NftActualTable => {
    const sets = new Map(['vip4', 'vip6', 'port4', 'port6'].map((n) => [n, set(n)]));
    sets.get('vip4')!.elements.set('10.1.0.2', String(0x58000001));
    sets.get('port4')!.elements.set('tcp . 8080', String(0x58000002));
    return { family: 'inet', name: 'vxmesh_ipvs', chains: new Map(), sets };
  };
  const dest = (addr: string, p: number, weight = 1) => ({ addr, port: p, forward: 'masq' as const, weight });
  const services = (): IpvsService[] => [
    { kind: 'fwmark', id: String(0x58000001), family: 4, scheduler: 'rr', dests: [dest('10.1.0.3', 0), dest('10.1.0.4', 0), dest('10.1.0.8', 0, 0)] },
    { kind: 'fwmark', id: String(0x58000002), family: 4, scheduler: 'rr', dests: [dest('10.255.0.5', 80)] },
    { kind: 'fwmark', id: '7', family: 4, scheduler: 'rr', dests: [] }, // not vxmesh's
  ];

  it('finds nothing when marks and services match (a draining destination is fine)', () => {
    expect(ipvsLbDrift(marks(), services(), want)).toEqual([]);
  });

  it('names a missing mark table, a missing service, wrong destinations and stale marks', () => {
    expect(ipvsLbDrift(undefined, services(), want)).toEqual(['nft table inet vxmesh_ipvs (firewall marks) is missing (2 frontend(s) expected)']);
    const s = services();
    s[0]!.dests.pop();
    s[0]!.dests.pop();
    s.splice(1, 1);
    s.push({ kind: 'fwmark', id: String(0x58000009), family: 4, scheduler: 'rr', dests: [] });
    const t = marks();
    t.sets.get('vip4')!.elements.set('10.1.0.50', String(0x58000003));
    expect(ipvsLbDrift(t, s, want)).toEqual([
      'VIP 10.1.0.2 (fwmark 0x58000001) has destinations 10.1.0.3:0, expected 10.1.0.3:0, 10.1.0.4:0',
      'tcp/8080 (IPv4): no IPVS service for fwmark 0x58000002',
      'firewall mark 0x58000003 for vip4 10.1.0.50 belongs to no expected frontend (stale)',
      'IPVS service fwmark 0x58000009 belongs to no expected frontend (stale)',
    ]);
  });
});

function deps(over: Partial<ServicesDoctorDeps> = {}) {
  const svc: ServiceRecord = { id: SVC, name: 'web', endpointMode: 'vip', affinity: 'none', networks: [NET], vips: [{ networkId: NET, ipv4: '10.1.0.2' }], ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, mode: 'ingress' }], labels: {}, createdAt: '', version: 1 };
  let tasks: ServiceTask[] = [{ endpointId: 'e1', serviceId: SVC, networkId: NET, name: 't1', ipv4: '10.1.0.3', aliases: [], node: 'n' }];
  const view: ServiceView = { services: () => [svc], service: (id) => (id === SVC ? svc : undefined), tasks: () => tasks, onChange: () => () => undefined };
  const drifts = new Map<string, string[]>();
  const ep = (id: string, serviceId: string): EndpointRecord => ({ id, networkId: NET, name: id, aliases: [], netns: '/run/netns/w1', ifName: 'eth0', ipv4: '10.1.0.3', mac: '', leaveInHost: false, preallocated: false, labels: {}, state: 'ready', createdAt: '', serviceId });
  const expected: IngressExpected = {
    sandbox: 'vx-ingress-sbox',
    meshed: [svc],
    network: { id: 'b'.repeat(64) } as IngressExpected['network'],
    sandboxEndpoint: { ...ep('sb', ''), state: 'ready', ipv4: '10.255.0.2' },
    sandboxFrontends: [port(8080, ['10.255.0.5'])],
    hostTable: hostIngressTable([{ protocol: 'tcp', port: 8080, to: '172.18.0.2', toPort: 8080, mode: 'ingress' }]),
  };
  let hostDrift: string[] = [];
  const d: ServicesDoctorDeps = {
    view,
    lb: { chosenKind: 'nftables', drift: async (ns) => drifts.get(ns.kind === 'named' ? ns.name : '') ?? [] },
    lbAsked: 'auto',
    ipvsAvailable: async () => false,
    vipFrontends: () => new Map([['/run/netns/w1', [vip('a', '10.1.0.2', ['10.1.0.3'])]], ['/run/netns/w2', []]]),
    ingress: { expected: () => expected, hostTableDrift: async () => hostDrift },
    localEndpoints: () => [ep('e1', SVC), ep('e9', GONE)],
    nsExists: () => true,
    ...over,
  };
  return { d, drifts, expected, setTasks: (t: ServiceTask[]) => (tasks = t), setHostDrift: (c: string[]) => (hostDrift = c) };
}

describe('services doctor checks', () => {
  it('lb.kind says which load balancer runs, and fails when IPVS is chosen but ip_vs no longer answers', async () => {
    const { d } = deps();
    expect(await lbKindFindings(d)).toEqual([expect.objectContaining({ check: 'lb.kind', ok: true, detail: expect.stringContaining('nftables maps') })]);
    expect((await lbKindFindings({ ...d, lb: { chosenKind: 'ipvs' }, lbAsked: 'ipvs' }))[0]).toMatchObject({ ok: false, fix: expect.stringContaining('modprobe ip_vs') });
    expect((await lbKindFindings({ ...d, lb: { chosenKind: 'ipvs' }, ipvsAvailable: async () => true }))[0]).toMatchObject({ ok: true });
    expect((await lbKindFindings({ ...d, lb: {} }))[0]).toMatchObject({ ok: false });
  });

  it('lb.vip checks each workload namespace with VIPs and reports the LB drift with a fix', async () => {
    const w = deps();
    expect(await lbVipFindings(w.d)).toEqual([expect.objectContaining({ check: 'lb.vip', subject: '/run/netns/w1', ok: true, detail: expect.stringContaining('1 VIP frontend(s), 1 backend(s)') })]);
    w.drifts.set('w1', ['nft table inet vxmesh_lb is missing (1 frontend(s) expected)']);
    const [bad] = await lbVipFindings(w.d);
    expect(bad).toMatchObject({ ok: false, detail: expect.stringContaining('vxmesh_lb is missing'), fix: expect.stringContaining('resync') });
    expect((await lbVipFindings({ ...w.d, nsExists: () => false }))[0]).toMatchObject({ ok: false, detail: expect.stringContaining('is gone') });
    expect(await lbVipFindings({ ...w.d, vipFrontends: () => new Map() })).toEqual([expect.objectContaining({ ok: true, detail: expect.stringContaining('no local workload') })]);
  });

  it('ingress.sandbox needs the sandbox, its leg and its frontends while a service publishes in ingress mode', async () => {
    const w = deps();
    expect((await ingressSandboxFindings(w.d))[0]).toMatchObject({ check: 'ingress.sandbox', ok: true, detail: expect.stringContaining('1 published port(s) over 1 backend(s)') });
    w.drifts.set('vx-ingress-sbox', ['tcp/8080 (IPv4) is not dispatched (missing from map ports4)']);
    expect((await ingressSandboxFindings(w.d))[0]).toMatchObject({ ok: false, detail: expect.stringContaining('not dispatched') });
    expect((await ingressSandboxFindings({ ...w.d, nsExists: () => false }))[0]).toMatchObject({ ok: false, detail: expect.stringContaining('is missing') });
    delete w.expected.sandboxEndpoint;
    expect((await ingressSandboxFindings(w.d))[0]).toMatchObject({ ok: false, detail: expect.stringContaining('no ready leg') });
    w.expected.meshed = [];
    expect((await ingressSandboxFindings(w.d))[0]).toMatchObject({ ok: false, detail: expect.stringContaining('no service publishes') });
    expect((await ingressSandboxFindings({ ...w.d, nsExists: () => false }))[0]).toMatchObject({ ok: true });
  });

  it('ingress.ports passes when the host table needs no change and names a missing or extra table', async () => {
    const w = deps();
    expect((await ingressPortsFindings(w.d))[0]).toMatchObject({ check: 'ingress.ports', ok: true, detail: expect.stringContaining('DNATs the 1 port(s)') });
    w.setHostDrift(['add table inet vxmesh_ingress', 'add chain inet vxmesh_ingress prerouting']);
    expect((await ingressPortsFindings(w.d))[0]).toMatchObject({ ok: false, detail: expect.stringContaining('is missing: the 1 published port(s) do not answer'), fix: expect.stringContaining('resync') });
    delete w.expected.hostTable;
    w.setHostDrift(['delete table inet vxmesh_ingress']);
    expect((await ingressPortsFindings(w.d))[0]).toMatchObject({ ok: false, detail: expect.stringContaining('nothing is published') });
  });

  it('services.tasks informs about services without a live task and tasks whose service is gone', async () => {
    const w = deps();
    const found = await serviceTaskFindings(w.d);
    expect(found.every((f) => f.ok)).toBe(true);
    expect(found.map((f) => f.detail)).toEqual([
      '1 service(s) with 1 live task(s) known to this host',
      expect.stringContaining(`is a task of service ${GONE.slice(0, 12)}, which no longer exists`),
    ]);
    w.setTasks([]);
    expect((await serviceTaskFindings(w.d)).map((f) => f.detail)).toContain('(information) service web has no live task: its VIP and published ports refuse connections (attach one: vxmesh endpoint attach NETWORK --service web ...)');
  });

  it('runs the five checks in order', () => {
    expect(servicesDoctorChecks(deps().d).map((c) => c.name)).toEqual(['lb.kind', 'lb.vip', 'ingress.sandbox', 'ingress.ports', 'services.tasks']);
  });
});
