// The dns controller over a real file store and the overlay's record caches, with a recording
// stand-in for the namespace sockets (the real ones: test/netns/dns-agent.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DnsController } from '../../src/dns/dns-controller.js';
import { localByNode } from '../../src/dns/endpoint-names.js';
import type { Listen } from '../../src/dns/namespace-resolvers.js';
import { keys, type EndpointRecord, type NetworkRecord } from '../../src/overlay/model.js';
import { OverlayRecords } from '../../src/overlay/records.js';
import { FileStore } from '../../src/store/index.js';

const NET: NetworkRecord = {
  id: 'n'.repeat(64), name: 'front', vni: 4097, mtu: 1450, internal: false, labels: {}, ownsPools: true, sandbox: 'vx-1',
  v4: { poolId: 'p4', subnet: '10.1.0.0/24', gateway: '10.1.0.1', prefix: 24 }, createdAt: '2026-12-01T00:00:00Z',
};

function endpoint(id: string, over: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    id: id.padEnd(64, '0'), networkId: NET.id, name: id, aliases: [], netns: `/run/netns/${id}`, ifName: 'eth0', ipv4: '10.1.0.2',
    mac: '02:42:0a:01:00:02', leaveInHost: false, preallocated: false, labels: {}, state: 'ready', createdAt: '2026-12-01T00:00:00Z', ...over,
  };
}

let dir: string;
let store: FileStore;
let records: OverlayRecords;
let dns: DnsController;
const live = new Set<string>();
const serving = new Map<string, readonly string[]>();

const listen: Listen = async (_server, nsPath, view) => {
  if (serving.has(nsPath)) throw new Error(`EADDRINUSE in ${nsPath}`);
  serving.set(nsPath, view.networks);
  return { close: async () => void serving.delete(nsPath) };
};

const put = (...eps: (EndpointRecord | NetworkRecord)[]) =>
  store.txn(eps.map((r) => ({ op: 'put' as const, key: 'networkId' in r ? keys.endpoint(r.id) : keys.network(r.id), value: r })));

async function written(rev: Promise<number>): Promise<void> {
  await records.waitForRevision(await rev);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxmesh-dnsctl-'));
  store = await FileStore.open(dir);
  records = new OverlayRecords(store);
  live.clear();
  serving.clear();
  await put(NET, endpoint('a', { netns: '/run/netns/a' }));
  live.add('/run/netns/a');
  await records.start();
  dns = new DnsController(records, { upstreams: [], isLocal: localByNode('me'), listen, namespaceExists: (p) => live.has(p) }, pino({ level: 'silent' }));
  await dns.start();
});

afterEach(async () => {
  await dns?.stop();
  await records.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('dns controller', () => {
  it('serves existing local workload namespaces at start, with their networks', () => {
    expect([...serving]).toEqual([['/run/netns/a', [NET.id]]]);
    expect(dns.stats().records).toBeGreaterThan(0);
  });

  it('serves a namespace once its endpoint is ready, and not other hosts\' or docker-mode ones', async () => {
    live.add('/run/netns/b').add('/run/netns/c').add('/run/netns/d');
    await written(put(endpoint('b', { state: 'pending', ipv4: '10.1.0.3' })));
    await dns.settled('/run/netns/b');
    expect(serving.has('/run/netns/b')).toBe(false);
    await written(put(endpoint('b', { ipv4: '10.1.0.3' })));
    await dns.settled('/run/netns/b');
    expect(serving.has('/run/netns/b')).toBe(true);
    await written(put({ ...endpoint('c', { ipv4: '10.1.0.4' }), node: 'other' } as EndpointRecord, endpoint('d', { ipv4: '10.1.0.5', leaveInHost: true })));
    await dns.reconcile();
    expect([...serving.keys()].sort()).toEqual(['/run/netns/a', '/run/netns/b']);
    const before = dns.stats().records;
    await written(put({ ...endpoint('e', { ipv4: '10.1.0.6' }), node: 'me' } as EndpointRecord));
    expect(dns.stats().records).toBeGreaterThan(before); // every host's names are answered
  });

  it('stops serving when the last endpoint of a namespace goes, and when the namespace is gone', async () => {
    live.add('/run/netns/b');
    await written(put(endpoint('b1', { netns: '/run/netns/b', ipv4: '10.1.0.3' }), endpoint('b2', { netns: '/run/netns/b', ipv4: '10.1.0.4', networkId: NET.id })));
    await dns.settled('/run/netns/b');
    await written(store.txn([{ op: 'delete', key: keys.endpoint(endpoint('b1').id) }]));
    await dns.settled('/run/netns/b');
    expect(serving.has('/run/netns/b')).toBe(true);
    await written(store.txn([{ op: 'delete', key: keys.endpoint(endpoint('b2').id) }]));
    await dns.settled('/run/netns/b');
    expect(serving.has('/run/netns/b')).toBe(false);

    live.delete('/run/netns/a'); // ip netns del: the endpoint record is still there
    await dns.reconcile();
    expect(serving.size).toBe(0);
  });

  it('keeps going when a namespace cannot be served, and serves it at a later reconcile', async () => {
    live.add('/run/netns/b');
    serving.set('/run/netns/b', ['someone else']);
    await written(put(endpoint('b', { ipv4: '10.1.0.3' })));
    await dns.settled('/run/netns/b');
    expect(dns.served().map((s) => s.nsPath)).toEqual(['/run/netns/a']);
    serving.delete('/run/netns/b');
    await dns.reconcile();
    expect(dns.served().map((s) => s.nsPath).sort()).toEqual(['/run/netns/a', '/run/netns/b']);
  });

  it('closes every served namespace on stop, and a second start forgets what was deleted meanwhile', async () => {
    await dns.stop();
    expect(serving.size).toBe(0);
    const records = dns.stats().records;
    await written(store.txn([{ op: 'delete', key: keys.endpoint(endpoint('a').id) }]));
    expect(dns.stats().records).toBe(records); // stopped: not following
    await dns.start();
    expect(dns.stats().records).toBe(0);
    expect(serving.size).toBe(0);
  });

  it('answers nothing for an ingress-network leg, and keeps the ingress network out of the namespace\'s view', async () => {
    const ingress: NetworkRecord = { ...NET, id: 'i'.repeat(64), name: 'ingress', vni: 4098, sandbox: 'vx-2', v4: { ...NET.v4, subnet: '10.255.0.0/16', gateway: '10.255.0.1', prefix: 16 } };
    const before = dns.stats().records;
    await written(put(ingress, endpoint('leg', { netns: '/run/netns/a', networkId: ingress.id, ipv4: '10.255.0.7', ingressLegOf: endpoint('a').id })));
    await dns.settled('/run/netns/a');
    expect(dns.stats().records).toBe(before);
    expect(dns.served()).toEqual([{ nsPath: '/run/netns/a', networks: [NET.id] }]);
  });
});
