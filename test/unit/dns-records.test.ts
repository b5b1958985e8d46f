// Records scoped per view: what a namespace on given networks gets for each kind of name, and that
// answers follow changes at once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VxError } from '../../src/errors.js';
import { RecordStore } from '../../src/dns/records/record-store.js';
import type { EndpointRecord, ServiceRecord } from '../../src/dns/records/types.js';
import { A, AAAA, PTR, SRV, ask, data } from './dns-helpers.js';

const AA = 0x0400;

function cluster(): RecordStore {
  const s = new RecordStore();
  s.upsertService({
    id: 'svc-api', name: 'api', aliases: ['backend'], mode: 'vip',
    vips: [{ network: 'front', ipv4: '10.1.0.2' }, { network: 'back', ipv4: '10.2.0.2', ipv6: 'fd02::2' }],
    tasks: [
      { network: 'front', ipv4: '10.1.0.10', name: 'api.1.aaa' }, { network: 'front', ipv4: '10.1.0.11', name: 'api.2.bbb' },
      { network: 'back', ipv4: '10.2.0.10', ipv6: 'fd02::10', name: 'api.1.aaa' },
    ],
    ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080 }, { protocol: 'udp', targetPort: 53 }],
  });
  s.upsertService({
    id: 'svc-db', name: 'db', mode: 'dnsrr', vips: [],
    tasks: [1, 2, 3, 4, 5].map((i) => ({ network: 'back', ipv4: `10.2.0.${20 + i}` })),
  });
  s.upsertEndpoint({ id: 'c1/front', network: 'front', name: 'client1', aliases: ['cli'], ipv4: '10.1.0.50' });
  return s;
}

describe('dns records', () => {
  it('answers a service name with the VIP of each network the asker is on', () => {
    const s = cluster();
    expect(data(ask(s.view(['front']), 'api', A))).toEqual(['10.1.0.2']);
    expect(data(ask(s.view(['back']), 'API', A))).toEqual(['10.2.0.2']);
    expect(data(ask(s.view(['front', 'back']), 'backend', A))).toEqual(['10.1.0.2', '10.2.0.2']);
    expect(ask(s.view(['front']), 'api', A).flags & AA).toBe(AA);
  });

  it('answers tasks.NAME with the task addresses, and a dnsrr name with them in changing order', () => {
    const s = cluster();
    expect(data(ask(s.view(['front']), 'tasks.api', A))).toEqual(['10.1.0.10', '10.1.0.11']);
    const back = s.view(['back']);
    const orders = new Set<string>();
    for (let i = 0; i < 50; i++) orders.add(ask(back, 'db', A).answer.map((r) => r.data).join(','));
    expect(orders.size).toBeGreaterThan(1);
    expect(data(ask(back, 'db', A))).toEqual(['10.2.0.21', '10.2.0.22', '10.2.0.23', '10.2.0.24', '10.2.0.25']);
  });

  it('answers AAAA for IPv6 addresses and NODATA with an SOA where the name has none', () => {
    const s = cluster();
    expect(data(ask(s.view(['back']), 'api', AAAA))).toEqual(['fd02:0:0:0:0:0:0:2']);
    const nodata = ask(s.view(['front']), 'api', AAAA);
    expect([nodata.rcode, nodata.answer.length, nodata.authority[0]?.type, nodata.authority[0]?.name]).toEqual([0, 0, 6, 'api.']);
    expect(nodata.authority[0]!.ttl).toBe(1);
  });

  it('answers NXDOMAIN under an owned name, NODATA for an empty non-terminal, forwards the rest', () => {
    const v = cluster().view(['front']);
    const nx = ask(v, 'nope.api', A);
    expect([nx.rcode, nx.authority[0]?.name]).toEqual([3, 'api.']);
    expect(ask(v, '_tcp.api', A).rcode).toBe(0);
    expect(ask(v, '_tcp.api', A).authority).toHaveLength(1);
    expect(ask(v, 'example.com', A).rcode).toBe(2); // would be forwarded (no forwarder here: SERVFAIL)
  });

  it('answers NXDOMAIN for a name that exists only on a network the asker is not on', () => {
    const s = cluster();
    expect(ask(s.view(['front']), 'db', A).rcode).toBe(3);
    expect(ask(s.view(['back']), 'client1', A).rcode).toBe(3);
    expect(ask(s.view(['back']), 'x.client1', AAAA).rcode).toBe(3);
  });

  it('answers PTR for VIPs, tasks and endpoints', () => {
    const v = cluster().view(['front', 'back']);
    expect(data(ask(v, '2.0.1.10.in-addr.arpa', PTR))).toEqual(['api.']);
    expect(data(ask(v, '10.0.1.10.in-addr.arpa', PTR))).toEqual(['api.1.aaa.']);
    expect(data(ask(v, '50.0.1.10.in-addr.arpa', PTR))).toEqual(['client1.']);
    const v6 = '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.d.f.ip6.arpa';
    expect(data(ask(v, v6, PTR))).toEqual(['api.1.aaa.']);
  });

  it('answers SRV _PORT._PROTO.NAME for target and published ports, with the addresses as additional', () => {
    const v = cluster().view(['front']);
    for (const name of ['_8080._tcp.api', '_80._tcp.api', '_53._udp.api', '_80._tcp.backend']) {
      const m = ask(v, name, SRV);
      expect(m.answer.map((r) => r.data)).toEqual([name.includes('udp') ? '0 0 53 api.' : '0 0 80 api.']);
      expect(m.additional.filter((r) => r.type === A).map((r) => r.data)).toEqual(['10.1.0.2']);
    }
    expect(ask(v, '_81._tcp.api', SRV).rcode).toBe(3);
  });

  it('follows changes at once: a removed task leaves, a new VIP replaces the old', () => {
    const s = cluster();
    const v = s.view(['front']);
    expect(data(ask(v, 'tasks.api', A))).toHaveLength(2); // cached now
    s.upsertService({
      id: 'svc-api', name: 'api', mode: 'vip', vips: [{ network: 'front', ipv4: '10.1.0.3' }],
      tasks: [{ network: 'front', ipv4: '10.1.0.11' }],
    });
    expect(data(ask(v, 'tasks.api', A))).toEqual(['10.1.0.11']);
    expect(data(ask(v, 'api', A))).toEqual(['10.1.0.3']);
    expect(ask(v, 'backend', A).rcode).toBe(2); // the alias is gone: no longer owned anywhere
    s.removeEndpoint('c1/front');
    expect(ask(v, 'cli', A).rcode).toBe(2);
  });

  it('a view follows its namespace joining another network', () => {
    const s = cluster();
    const v = s.view(['front']);
    expect(ask(v, 'db', A).rcode).toBe(3);
    v.setNetworks(['front', 'back']);
    expect(data(ask(v, 'db', A))).toHaveLength(5);
    v.close();
    expect(s.stats().sharedViews).toBe(0);
  });

  it('rejects a bad record with an error naming the field, and keeps the old one', () => {
    const s = cluster();
    const before = s.stats();
    expect(() => s.upsertEndpoint({ id: 'c1/front', network: 'front', name: 'client1', ipv4: '10.1.0.300' }))
      .toThrow(/endpoint record "c1\/front"\.ipv4: "10\.1\.0\.300" is not an IPv4 address/);
    expect(() => s.upsertService({ id: 'x', name: 'a..b', mode: 'vip', vips: [], tasks: [] })).toThrow(VxError);
    expect(() => s.upsertService({ id: 'x', name: 'x', mode: 'vip', vips: [], tasks: [], ports: [{ protocol: 'tcp', targetPort: 0 }] }))
      .toThrow(/ports\[0\]\.targetPort must be a port number/);
    expect(s.stats()).toEqual(before);
    expect(data(ask(s.view(['front']), 'client1', A))).toEqual(['10.1.0.50']);
  });
});

describe('dns records: incremental updates', () => {
  const ip = fc.integer({ min: 1, max: 6 }).map((n) => `10.9.0.${n}`);
  const net = fc.constantFrom('front', 'back');
  const name = fc.constantFrom('api', 'web', 'db', 'tasks.web');
  const endpoint = fc.record({ id: fc.constantFrom('e1', 'e2', 'e3'), network: net, name, ipv4: ip,
    aliases: fc.array(name, { maxLength: 2 }) });
  const service = fc.record({ id: fc.constantFrom('s1', 's2'), name, mode: fc.constantFrom('vip' as const, 'dnsrr' as const),
    vips: fc.array(fc.record({ network: net, ipv4: ip }), { maxLength: 2 }),
    tasks: fc.array(fc.record({ network: net, ipv4: ip }), { maxLength: 4 }) });
  const op = fc.oneof(
    endpoint.map((r) => ({ kind: 'upsertEndpoint' as const, r })), service.map((r) => ({ kind: 'upsertService' as const, r })),
    fc.constantFrom('e1', 'e2', 'e3').map((id) => ({ kind: 'removeEndpoint' as const, id })),
    fc.constantFrom('s1', 's2').map((id) => ({ kind: 'removeService' as const, id })),
  );
  const questions = ['api', 'web', 'db', 'tasks.web', 'tasks.api', 'x.api', '1.0.9.10.in-addr.arpa', '3.0.9.10.in-addr.arpa'];
  const snapshot = (s: RecordStore, networks: string[]): string[] => {
    const v = s.view(networks);
    return questions.flatMap((q) => [A, PTR].map((t) => {
      const m = ask(v, q, t);
      return `${q}/${t}: ${m.rcode} ${m.answer.map((r) => r.data).sort().join(',')}`;
    }));
  };

  it('answers after any sequence of changes as a store built from the final records does', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      const live = new RecordStore();
      const endpoints = new Map<string, EndpointRecord>();
      const services = new Map<string, ServiceRecord>();
      for (const o of ops) {
        snapshot(live, ['front']); // fill caches, so stale ones would show
        if (o.kind === 'upsertEndpoint') { live.upsertEndpoint(o.r); endpoints.set(o.r.id, o.r); }
        if (o.kind === 'upsertService') { live.upsertService(o.r); services.set(o.r.id, o.r); }
        if (o.kind === 'removeEndpoint') { live.removeEndpoint(o.id); endpoints.delete(o.id); }
        if (o.kind === 'removeService') { live.removeService(o.id); services.delete(o.id); }
      }
      const fresh = new RecordStore();
      for (const r of endpoints.values()) fresh.upsertEndpoint(r);
      for (const r of services.values()) fresh.upsertService(r);
      for (const nets of [['front'], ['back'], ['front', 'back']]) expect(snapshot(live, nets)).toEqual(snapshot(fresh, nets));
    }), { numRuns: 150 });
  });
});
