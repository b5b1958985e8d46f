// The VIP and ingress planes' desired state (pure): frontends per workload namespace, the ingress
// sandbox's port frontends, the host's DNAT table and the ingress legs of tasks.
import { describe, expect, it } from 'vitest';
import { desiredVipFrontends, frontendsFingerprint, vipFrontends } from '../../src/ingress/vip-desired.js';
import { hostDnats, hostIngressTable, planLegs, publishedPorts, sandboxFrontends } from '../../src/ingress/ingress-desired.js';
import type { ServiceRecord, ServiceTask } from '../../src/ingress/model.js';
import type { EndpointRecord } from '../../src/overlay/model.js';

const hex = (c: string) => c.repeat(64);
const NET_A = hex('a');
const NET_B = hex('b');
const INGRESS = hex('f');

function svc(id: string, over: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    id, name: `s${id[0]}`, endpointMode: 'vip', affinity: 'none', networks: [NET_A], vips: [{ networkId: NET_A, ipv4: '10.1.0.2' }],
    ports: [], labels: {}, createdAt: '', version: 1, ...over,
  };
}
const task = (serviceId: string, networkId: string, ipv4: string, endpointId = ipv4): ServiceTask => ({ endpointId, serviceId, networkId, name: ipv4, ipv4, aliases: [], node: 'n1' });

function ep(id: string, over: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    id, networkId: NET_A, name: id.slice(0, 12), aliases: [], netns: '/run/netns/w1', ifName: 'eth0', ipv4: '10.1.0.9', mac: '', leaveInHost: false,
    preallocated: false, labels: {}, state: 'ready', createdAt: '', ...over,
  };
}

describe('VIP frontends per namespace', () => {
  const s1 = svc(hex('1'));
  const s2 = svc(hex('2'), { networks: [NET_B], vips: [{ networkId: NET_B, ipv4: '10.2.0.2', ipv6: 'fd00::2' }], affinity: 'client-ip' });
  const dnsrr = svc(hex('3'), { endpointMode: 'dnsrr', vips: [] });
  const tasks: Record<string, ServiceTask[]> = {
    [`${s1.id}/${NET_A}`]: [task(s1.id, NET_A, '10.1.0.5'), task(s1.id, NET_A, '10.1.0.3')],
    [`${s2.id}/${NET_B}`]: [{ ...task(s2.id, NET_B, '10.2.0.7'), ipv6: 'fd00::7' }],
    [`${dnsrr.id}/${NET_A}`]: [task(dnsrr.id, NET_A, '10.1.0.8')],
  };
  const source = { services: () => [s1, s2, dnsrr], tasks: (s: string, n: string) => tasks[`${s}/${n}`] ?? [] };

  it("gives a namespace the VIPs of the vip-mode services on its networks, backends sorted, v6 as its own frontend", () => {
    const d = desiredVipFrontends([ep('e1'), ep('e2', { networkId: NET_B, netns: '/run/netns/w2' }), ep('e3', { networkId: NET_B, netns: '/run/netns/w1' })], source);
    expect(d.get('/run/netns/w1')!.map((f) => f.id)).toEqual([`${s1.id}/${NET_A}`, `${s2.id}/${NET_B}`, `${s2.id}/${NET_B}/6`]);
    expect(d.get('/run/netns/w1')![0]).toEqual({ id: `${s1.id}/${NET_A}`, match: { kind: 'vip', vip: '10.1.0.2' }, backends: ['10.1.0.3', '10.1.0.5'], affinity: 'none' });
    expect(d.get('/run/netns/w2')!.map((f) => [f.match, f.backends, f.affinity])).toEqual([
      [{ kind: 'vip', vip: '10.2.0.2' }, ['10.2.0.7'], 'client-ip'],
      [{ kind: 'vip', vip: 'fd00::2' }, ['fd00::7'], 'client-ip'],
    ]);
  });

  it('skips dnsrr services, docker endpoints without a namespace, pending endpoints and skipped networks; keeps an empty list for a namespace without services', () => {
    expect(vipFrontends(dnsrr, NET_A, tasks[`${dnsrr.id}/${NET_A}`]!)).toEqual([]);
    const d = desiredVipFrontends([ep('e1', { netns: '' }), ep('e2', { state: 'pending', netns: '/run/netns/w9' }), ep('e3', { netns: '/run/netns/w3' })], source, (n) => n === NET_A);
    expect([...d.keys()]).toEqual(['/run/netns/w3']);
    expect(d.get('/run/netns/w3')).toEqual([]);
  });

  it('fingerprints change exactly when the frontends change', () => {
    const a = desiredVipFrontends([ep('e1')], source).get('/run/netns/w1')!;
    const b = desiredVipFrontends([ep('e1')], source).get('/run/netns/w1')!;
    expect(frontendsFingerprint(a)).toBe(frontendsFingerprint(b));
    tasks[`${s1.id}/${NET_A}`]!.pop();
    const c = desiredVipFrontends([ep('e1')], source).get('/run/netns/w1')!;
    expect(frontendsFingerprint(c)).not.toBe(frontendsFingerprint(a));
    expect(c[0]!.backends).toEqual(['10.1.0.5']);
  });
});

describe('ingress desired state', () => {
  const web = svc(hex('1'), { ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, mode: 'ingress' }, { protocol: 'udp', targetPort: 53, publishedPort: 5353, mode: 'ingress' }] });
  const hostSvc = svc(hex('2'), { ports: [{ protocol: 'tcp', targetPort: 9000, publishedPort: 9090, mode: 'host' }] });
  const plain = svc(hex('3'), { ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 0, mode: 'ingress' }] });

  it('balances each ingress port over the tasks on the ingress network, source rewritten to the sandbox', () => {
    const f = sandboxFrontends([web, hostSvc, plain], () => [task(web.id, INGRESS, '10.255.0.9'), task(web.id, INGRESS, '10.255.0.4')], '10.255.0.2');
    expect(f).toEqual([
      { id: `${web.id}/tcp/8080`, match: { kind: 'port', protocol: 'tcp', port: 8080, family: 4 }, targetPort: 80, backends: ['10.255.0.4', '10.255.0.9'], affinity: 'none', snatTo: '10.255.0.2' },
      { id: `${web.id}/udp/5353`, match: { kind: 'port', protocol: 'udp', port: 5353, family: 4 }, targetPort: 53, backends: ['10.255.0.4', '10.255.0.9'], affinity: 'none', snatTo: '10.255.0.2' },
    ]);
  });

  it('DNATs ingress ports to the sandbox and host ports to a local task only; no table when nothing is published here', () => {
    const ports = publishedPorts([web, hostSvc, plain]);
    expect(ports.map((p) => `${p.protocol}/${p.publishedPort}`)).toEqual(['udp/5353', 'tcp/8080', 'tcp/9090']);
    const withTask = hostDnats(ports, '172.18.0.3', (id) => (id === hostSvc.id ? '172.18.0.7' : undefined));
    expect(withTask).toEqual([
      { protocol: 'udp', port: 5353, to: '172.18.0.3', toPort: 5353, mode: 'ingress' },
      { protocol: 'tcp', port: 8080, to: '172.18.0.3', toPort: 8080, mode: 'ingress' },
      { protocol: 'tcp', port: 9090, to: '172.18.0.7', toPort: 9000, mode: 'host' },
    ]);
    const t = hostIngressTable(withTask)!;
    expect(t.name).toBe('vxmesh_ingress');
    expect(t.chains.map((c) => [c.name, c.rules.length])).toEqual([['prerouting', 3], ['output', 3], ['postrouting', 1]]);
    expect(t.chains[0]!.rules[2]!.match).toBe('fib daddr type local tcp dport 9090 dnat ip to 172.18.0.7:9000');
    expect(hostDnats(ports, undefined, () => undefined)).toEqual([]);
    expect(hostIngressTable([])).toBeUndefined();
  });

  it('gives each local task of a meshed service one leg, and removes legs whose task or publish went', () => {
    const t1 = ep(hex('4'), { serviceId: web.id, netns: '/run/netns/t1' });
    const t2 = ep(hex('5'), { serviceId: web.id, netns: '/run/netns/t2' });
    const t3 = ep(hex('6'), { serviceId: hostSvc.id, netns: '/run/netns/t3' });
    const leg1 = ep(hex('7'), { networkId: INGRESS, serviceId: web.id, ingressLegOf: t1.id, netns: '/run/netns/t1' });
    const orphan = ep(hex('8'), { networkId: INGRESS, serviceId: web.id, ingressLegOf: hex('9'), netns: '/run/netns/gone' });
    const services = new Map([web, hostSvc].map((s) => [s.id, s]));
    const plan = planLegs([t1, t2, t3, leg1, orphan], (id) => services.get(id), INGRESS);
    expect(plan.add.map((e) => e.id)).toEqual([t2.id]);
    expect(plan.remove.map((e) => e.id)).toEqual([orphan.id]);
    // The service stops publishing: every leg goes, none is added.
    const quiet = planLegs([t1, t2, leg1], () => ({ ...web, ports: [] }), INGRESS);
    expect(quiet).toEqual({ add: [], remove: [leg1] });
    // No ingress network: nothing to add.
    expect(planLegs([t1, t2], (id) => services.get(id), undefined).add).toEqual([]);
  });
});
