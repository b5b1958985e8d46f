// The service table over NetworkDB: three in-process hosts (real NetworkDBs through SimHub, real
// OverlayRecords over one shared FileStore standing in for etcd, the real PeersController joining
// networks) each run the service table controller and the service view. A task published on one
// host shows in the others' views, follows service updates, and leaves on detach, service rm and its
// host's failure — even though its endpoint record stays in the shared store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_TEST_PROFILE, NetworkDB } from '../../src/gossip/networkdb/index.js';
import { ENDPOINT_TABLE, encodeEndpointRecord, emptyEndpointRecord, parseEndpointRecord } from '../../src/ingress/endpoint-table.js';
import { serviceKeys, type ServiceRecord } from '../../src/ingress/model.js';
import { ServiceTableController, taskEntry } from '../../src/ingress/service-table.js';
import { StoreServiceView } from '../../src/ingress/service-view.js';
import { keys, type EndpointRecord, type NetworkRecord } from '../../src/overlay/model.js';
import type { PeerKernelEntries } from '../../src/overlay/peer-desired.js';
import { PeersController, type PeerKernel } from '../../src/overlay/peers-controller.js';
import { OverlayRecords } from '../../src/overlay/records.js';
import { FileStore, type Store } from '../../src/store/index.js';
import { SimHub } from '../support/sim-hub.js';
import { waitFor } from '../support/wait.js';

const silent = pino({ level: 'silent' });

const NET: NetworkRecord = {
  id: 'a'.repeat(64), name: 'web', vni: 4096, mtu: 1450, internal: false, labels: {}, ownsPools: true, sandbox: '', createdAt: '', state: 'ready',
  v4: { poolId: 'p4', subnet: '10.0.0.0/24', gateway: '10.0.0.1', prefix: 24 },
};
const INGRESS: NetworkRecord = { ...NET, id: 'b'.repeat(64), name: 'ingress', vni: 4097, v4: { poolId: 'p5', subnet: '10.255.0.0/16', gateway: '10.255.0.1', prefix: 16 } };

const SVC: ServiceRecord = {
  id: 's'.repeat(64), name: 'api', endpointMode: 'vip', affinity: 'none', networks: [NET.id],
  vips: [{ networkId: NET.id, ipv4: '10.0.0.2' }, { networkId: INGRESS.id, ipv4: '10.255.0.2' }],
  ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 30080, mode: 'ingress' }, { protocol: 'udp', targetPort: 53, publishedPort: 5353, mode: 'host' }],
  labels: {}, createdAt: '', version: 1,
};

function endpoint(id: string, node: string, ipv4: string, extra: Partial<EndpointRecord> = {}): EndpointRecord {
  return { id, networkId: NET.id, name: `task-${id}`, aliases: [`alias-${id}`], netns: `/run/netns/${id}`, ifName: 'eth0', ipv4, mac: '02:42:0a:00:00:05', leaveInHost: false, preallocated: false, labels: {}, state: 'ready', createdAt: '', node, serviceId: SVC.id, ...extra };
}

class NullKernel implements PeerKernel {
  setPeerSource(_fn: (net: NetworkRecord) => PeerKernelEntries | undefined) {}
  setMemberSource() {}
  async syncSandbox() {}
  async syncHostFirewall() {}
}

interface Host {
  name: string;
  db: NetworkDB;
  records: OverlayRecords;
  peers: PeersController;
  view: StoreServiceView;
  table: ServiceTableController;
  changes: number;
}

interface World {
  hub: SimHub;
  store: Store;
  dir: string;
  hosts: Map<string, Host>;
}

let world: World | undefined;

afterEach(async () => {
  if (!world) return;
  const w = world;
  world = undefined;
  for (const h of w.hosts.values()) {
    await h.table.stop();
    await h.view.stop();
    await h.peers.stop();
    await h.records.stop();
    h.db.close();
  }
  w.hub.close();
  await w.store.close();
  await rm(w.dir, { recursive: true, force: true });
});

/** Hosts on one hub and one shared store (as with etcd: every host sees every record). */
async function build(names: string[]): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'vx-svctable-'));
  const store = await FileStore.open(dir);
  const hub = new SimHub({ gossipIntervalMs: 50, pushPullIntervalMs: 1_000 });
  const w: World = { hub, store, dir, hosts: new Map() };
  world = w;
  for (const [i, name] of names.entries()) {
    const db = new NetworkDB({ nodeName: name, ...FAST_TEST_PROFILE, immediateTableGossip: true, logger: silent });
    db.attach(hub.add(name, db, db, `198.51.100.${i + 1}`));
    hub.join(name, i > 0 ? names[0] : undefined);
    const records = new OverlayRecords(store, { node: name, shared: true, netnsPrefix: `${name}-` });
    const members = { memberAddrs: () => names.map((_, j) => `198.51.100.${j + 1}`), onMembersChange: () => () => undefined };
    const peers = new PeersController(db, records, new NullKernel(), members, { vtep: `198.51.100.${i + 1}`, isLocal: (ep) => records.isMine(ep), joinWaitMs: 100 }, silent);
    const view = new StoreServiceView(store, records, db, silent);
    const table = new ServiceTableController(db, records, view, peers, silent);
    const host: Host = { name, db, records, peers, view, table, changes: 0 };
    view.onChange(() => host.changes++);
    w.hosts.set(name, host);
  }
  hub.start();
  for (const h of w.hosts.values()) {
    await h.records.start();
    await h.peers.start();
    await h.view.start();
    await h.table.start();
  }
  return w;
}

const put = (key: string, value: unknown) => world!.store.txn([{ op: 'put', key, value }]);
const del = (key: string) => world!.store.txn([{ op: 'delete', key }]);
const host = (name: string) => world!.hosts.get(name)!;
const taskIds = (h: string, sid = SVC.id, nid = NET.id) => host(h).view.tasks(sid, nid).map((t) => `${t.endpointId}@${t.node}`);

describe('service table over NetworkDB (3 hosts)', () => {
  it('a task on one host shows on the others, follows service updates, leaves on detach, service rm and host failure', async () => {
    await build(['A', 'B', 'C']);
    await put(keys.network(NET.id), NET);
    await put(serviceKeys.service(SVC.id), SVC);
    // C runs a plain endpoint only (no task): it is in the network, so it learns the tasks.
    await put(keys.endpoint('ec'), endpoint('ec', 'C', '10.0.0.9', { serviceId: undefined }));
    await put(keys.endpoint('eb'), endpoint('eb', 'B', '10.0.0.4'));
    await waitFor(async () => taskIds('C'), { what: "B's task on C", until: (t) => t.join() === 'eb@B' });

    const t0 = Date.now();
    await put(keys.endpoint('ea'), endpoint('ea', 'A', '10.0.0.3'));
    // A sees its own task from the store (no gossip round), C through the table.
    await waitFor(async () => taskIds('A'), { what: "A's own task", until: (t) => t.includes('ea@A') });
    await waitFor(async () => taskIds('C'), { what: "A's task on C", until: (t) => t.join() === 'ea@A,eb@B', timeoutMs: 5_000 });
    const spreadMs = Date.now() - t0;
    expect(taskIds('B')).toEqual(['ea@A', 'eb@B']);
    expect(host('C').view.tasks(SVC.id, NET.id)[0]).toEqual({ endpointId: 'ea', serviceId: SVC.id, networkId: NET.id, name: 'task-ea', ipv4: '10.0.0.3', aliases: ['alias-ea'], node: 'A' });
    expect(host('C').view.service(SVC.id)?.name).toBe('api');
    // The entry is Docker's EndpointRecord with the service's VIP; no ingress ports off the ingress network.
    const onC = parseEndpointRecord(host('C').db.getEntry(ENDPOINT_TABLE, NET.id, 'ea')!);
    expect(onC).toMatchObject({ name: 'task-ea', serviceName: 'api', serviceId: SVC.id, virtualIp: '10.0.0.2', ipv4: '10.0.0.3', taskAliases: ['alias-ea'], ingressPorts: [] });
    // No entry for C's plain endpoint (not a task).
    expect(host('A').db.getEntry(ENDPOINT_TABLE, NET.id, 'ec')).toBeUndefined();

    // Service update (new VIP): every entry is rewritten.
    await put(serviceKeys.service(SVC.id), { ...SVC, vips: [{ networkId: NET.id, ipv4: '10.0.0.200' }], version: 2 });
    await waitFor(async () => ['ea', 'eb'].map((k) => parseEndpointRecord(host('C').db.getEntry(ENDPOINT_TABLE, NET.id, k)!).virtualIp), {
      what: 'new VIP in every entry on C', until: (v) => v.every((x) => x === '10.0.0.200'),
    });

    // Detach.
    await del(keys.endpoint('ea'));
    await waitFor(async () => taskIds('C'), { what: 'detached task gone on C', until: (t) => t.join() === 'eb@B' });
    // A has no endpoint left on the network: the peers controller leaves it, and A's view of it empties.
    await waitFor(async () => taskIds('A'), { what: 'A out of the network', until: (t) => t.length === 0 });
    expect(host('A').db.joinedNetworks()).toEqual([]);

    // Host failure: its task leaves every other view although its record stays in the shared store.
    await put(keys.endpoint('ea2'), endpoint('ea2', 'A', '10.0.0.5'));
    await waitFor(async () => taskIds('C'), { what: 'new task on C', until: (t) => t.includes('ea2@A') });
    world!.hub.kill('A');
    await waitFor(async () => [taskIds('B'), taskIds('C')], { what: "failed host's task gone", until: ([b, c]) => b!.join() === 'eb@B' && c!.join() === 'eb@B' });
    expect(host('C').records.endpoints.get('ea2')).toBeDefined();

    // Service rm: B deletes its entry.
    await del(serviceKeys.service(SVC.id));
    await waitFor(async () => host('C').db.getEntry(ENDPOINT_TABLE, NET.id, 'eb'), { what: "B's entry deleted", until: (v) => v === undefined });
    expect(taskIds('C')).toEqual([]);
    expect(host('C').view.services()).toEqual([]);
    console.log(`service table: task on A -> C's view in ${spreadMs} ms (immediate table gossip, SimHub)`);
  });

  it('drops a bad or plain entry from another host without a throw, and a disabled task is not live', async () => {
    await build(['A', 'B']);
    await put(keys.network(NET.id), NET);
    await put(serviceKeys.service(SVC.id), SVC);
    await put(keys.endpoint('ea'), endpoint('ea', 'A', '10.0.0.3'));
    await put(keys.endpoint('eb'), endpoint('eb', 'B', '10.0.0.4'));
    await waitFor(async () => taskIds('A'), { what: 'both tasks on A', until: (t) => t.length === 2 });
    const b = host('B').db;
    b.createEntry(ENDPOINT_TABLE, NET.id, 'junk', Buffer.from([0x0a, 0x50, 1]));
    b.createEntry(ENDPOINT_TABLE, NET.id, 'evil', encodeEndpointRecord({ ...emptyEndpointRecord(), name: 'x; rm', serviceId: SVC.id, endpointIp: '10.0.0.66' }));
    b.createEntry(ENDPOINT_TABLE, NET.id, 'plain', encodeEndpointRecord({ ...emptyEndpointRecord(), name: 'c1', endpointIp: '10.0.0.67' }));
    b.createEntry(ENDPOINT_TABLE, NET.id, 'off', encodeEndpointRecord({ ...emptyEndpointRecord(), name: 'off', serviceId: SVC.id, endpointIp: '10.0.0.68', serviceDisabled: true }));
    await waitFor(async () => host('A').view.stats().badEntries, { what: 'bad entries seen on A', until: (n) => n === 2 });
    await waitFor(async () => host('A').db.getEntry(ENDPOINT_TABLE, NET.id, 'off'), { what: 'disabled entry on A' });
    expect(taskIds('A')).toEqual(['ea@A', 'eb@B']);
    // B's writer owns the entries it did not make (a previous life's): its next publish removes them.
    await host('B').table.reconcile();
    await waitFor(async () => host('A').db.getTableByNetwork(ENDPOINT_TABLE, NET.id).size, { what: "B's stray entries removed", until: (n) => n === 2 });
  });

  it('coalesces change notifications: 40 tasks attached at once make a handful of onChange calls', async () => {
    await build(['A', 'B']);
    await put(keys.network(NET.id), NET);
    await put(serviceKeys.service(SVC.id), SVC);
    await put(keys.endpoint('eb'), endpoint('eb', 'B', '10.0.0.4'));
    await waitFor(async () => taskIds('B'), { what: 'B in the network', until: (t) => t.length === 1 });
    const before = host('B').changes;
    await world!.store.txn(Array.from({ length: 40 }, (_, i) => ({ op: 'put' as const, key: keys.endpoint(`ea${String(i).padStart(2, '0')}`), value: endpoint(`ea${String(i).padStart(2, '0')}`, 'A', `10.0.0.${100 + i}`) })));
    await waitFor(async () => taskIds('B').length, { what: '41 tasks on B', until: (n) => n === 41, timeoutMs: 5_000 });
    const calls = host('B').changes - before;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(20);
    expect(host('B').view.stats()).toMatchObject({ remoteTasks: 40, localTasks: 1 });
  });
});

describe('service table pieces', () => {
  it('ingress ports travel only on the ingress network, as Docker gossips them', () => {
    const task = endpoint('ea', 'A', '10.0.0.3', { ipv6: 'fd00::3' });
    const leg = endpoint('ea-leg', 'A', '10.255.0.3', { networkId: INGRESS.id, ingressLegOf: 'ea', serviceId: undefined });
    expect(parseEndpointRecord(taskEntry(task, NET, SVC))).toMatchObject({ virtualIp: '10.0.0.2', ipv6: 'fd00::3', ingressPorts: [] });
    expect(parseEndpointRecord(taskEntry(leg, INGRESS, SVC))).toMatchObject({
      virtualIp: '10.255.0.2', ingressPorts: [{ name: '', protocol: 'tcp', targetPort: 80, publishedPort: 30080 }],
    });
    expect(parseEndpointRecord(taskEntry(task, NET, { ...SVC, endpointMode: 'dnsrr', vips: [] })).virtualIp).toBeUndefined();
  });

  it('without gossip the view is this host\'s records: tasks at once, ingress legs under their task\'s service', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vx-svcview-'));
    const store = await FileStore.open(dir);
    const records = new OverlayRecords(store, { node: 'solo', shared: false, netnsPrefix: 'x-' });
    const view = new StoreServiceView(store, records, undefined, silent);
    try {
      await records.start();
      await view.start();
      let notified = 0;
      view.onChange(() => notified++);
      await store.txn([
        { op: 'put', key: serviceKeys.service(SVC.id), value: SVC },
        { op: 'put', key: keys.endpoint('e1'), value: endpoint('e1', 'solo', '10.0.0.3') },
        { op: 'put', key: keys.endpoint('e0'), value: endpoint('e0', 'solo', '10.0.0.4') },
        { op: 'put', key: keys.endpoint('p1'), value: endpoint('p1', 'solo', '10.0.0.5', { state: 'pending' }) },
        { op: 'put', key: keys.endpoint('leg'), value: endpoint('leg', 'solo', '10.255.0.3', { networkId: INGRESS.id, ingressLegOf: 'e1', serviceId: undefined }) },
      ]);
      await waitFor(async () => notified, { what: 'a change notification' });
      expect(view.tasks(SVC.id, NET.id).map((t) => t.endpointId)).toEqual(['e0', 'e1']); // sorted; the pending one not live
      expect(view.tasks(SVC.id, INGRESS.id).map((t) => `${t.endpointId}/${t.serviceId === SVC.id}`)).toEqual(['leg/true']);
      expect(view.tasks('nope', NET.id)).toEqual([]);
      expect(view.services().map((s) => s.id)).toEqual([SVC.id]);
    } finally {
      await view.stop();
      await records.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
