// Services in the resolver: the dns side of the services contract (src/ingress/model.ts ServiceView),
// fed through a small in-test view; what a namespace on given networks gets for each kind of name,
// and that a change costs one service's records, not a rebuild.
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { RecordStore } from '../../src/dns/records/record-store.js';
import { ServiceFeed } from '../../src/dns/service-feed.js';
import { dnsServiceOf, type ServiceSource } from '../../src/dns/service-names.js';
import type { ServiceRecord, ServiceTask, ServiceView } from '../../src/ingress/model.js';
import { A, AAAA, ANY, PTR, SRV, ask, data } from './dns-helpers.js';


const NO_TASKS: ServiceTask[] = [];

/** The services plane as the resolver sees it: hands out the same objects until something changes. */
class FakeServiceView implements ServiceView {
  private readonly byId = new Map<string, ServiceRecord>();
  private readonly taskLists = new Map<string, Map<string, ServiceTask[]>>();
  private readonly listeners = new Set<() => void>();

  services(): ServiceRecord[] {
    return [...this.byId.values()];
  }
  service(id: string): ServiceRecord | undefined {
    return this.byId.get(id);
  }
  tasks(serviceId: string, networkId: string): ServiceTask[] {
    return (this.taskLists.get(serviceId)?.get(networkId) ?? NO_TASKS).slice(); // a copy, as StoreServiceView gives
  }
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  put(s: ServiceRecord, silent = false): void {
    this.byId.set(s.id, s);
    if (!silent) this.changed();
  }
  remove(id: string): void {
    this.byId.delete(id);
    this.changed();
  }
  setTasks(serviceId: string, networkId: string, tasks: ServiceTask[], silent = false): void {
    const id = serviceId.padEnd(64, '0');
    const lists = this.taskLists.get(id) ?? new Map<string, ServiceTask[]>();
    this.taskLists.set(id, lists);
    lists.set(networkId, [...tasks].sort((a, b) => a.endpointId.localeCompare(b.endpointId)));
    if (!silent) this.changed();
  }
  changed(): void {
    for (const fn of this.listeners) fn();
  }
}

// The real contract fits what the resolver reads (a compile-time check).
const fits = (v: ServiceView): ServiceSource => v;

function service(id: string, name: string, over: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    id: id.padEnd(64, '0'), name, endpointMode: 'vip', affinity: 'none', networks: ['front'], vips: [{ networkId: 'front', ipv4: '10.1.0.2' }],
    ports: [], labels: {}, createdAt: '2026-12-01T00:00:00Z', version: 1, ...over,
  };
}

function task(serviceId: string, network: string, n: number, over: Partial<ServiceTask> = {}): ServiceTask {
  return { endpointId: `ep${n}`.padEnd(64, '0'), serviceId: serviceId.padEnd(64, '0'), networkId: network, name: `task${n}`, ipv4: `10.${network === 'front' ? 1 : 2}.0.${n}`, aliases: [], node: 'h1', ...over };
}

function setup(): { view: FakeServiceView; store: RecordStore; feed: ServiceFeed; refused: string[] } {
  const view = new FakeServiceView();
  const store = new RecordStore();
  const refused: string[] = [];
  const feed = new ServiceFeed(fits(view), store, (s, e) => refused.push(`${s.name}: ${e.message}`));
  view.put(service('a', 'api', {
    networks: ['front', 'back'],
    vips: [{ networkId: 'front', ipv4: '10.1.0.2' }, { networkId: 'back', ipv4: '10.2.0.2', ipv6: 'fd02::2' }, { networkId: 'ingress', ipv4: '10.255.0.5' }],
    ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, mode: 'ingress' }, { protocol: 'udp', targetPort: 53, publishedPort: 0, mode: 'ingress' }],
  }), true);
  view.setTasks('a', 'front', [task('a', 'front', 10), task('a', 'front', 11)], true);
  view.setTasks('a', 'back', [task('a', 'back', 10, { ipv6: 'fd02::10' })], true);
  view.put(service('d', 'db', { endpointMode: 'dnsrr', networks: ['back'], vips: [] }), true);
  view.setTasks('d', 'back', [21, 22, 23, 24].map((n) => task('d', 'back', n)), true);
  view.put(service('e', 'empty', { endpointMode: 'dnsrr', networks: ['front'], vips: [] }), true);
  feed.start();
  return { view, store, feed, refused };
}

const flush = () => new Promise<void>((r) => queueMicrotask(r));

describe('dns: service names from the services view', () => {
  it('answers NAME with the VIP of each network the asker shares with the service, and tasks.NAME with the tasks', () => {
    const { store } = setup();
    expect(data(ask(store.view(['front']), 'api', A))).toEqual(['10.1.0.2']);
    expect(data(ask(store.view(['back']), 'API', A))).toEqual(['10.2.0.2']);
    expect(data(ask(store.view(['front', 'back']), 'api', A))).toEqual(['10.1.0.2', '10.2.0.2']);
    expect(data(ask(store.view(['front']), 'tasks.api', A))).toEqual(['10.1.0.10', '10.1.0.11']);
    expect(data(ask(store.view(['back']), 'Tasks.Api', AAAA))).toEqual(['fd02:0:0:0:0:0:0:10']);
    expect(ask(store.view(['ingress']), 'api', A).rcode).toBe(3); // no names on the routing mesh's network
  });

  it('answers a dnsrr NAME with its tasks in changing order, and NODATA (not forwarded) while it has none', () => {
    const { store } = setup();
    const back = store.view(['back']);
    expect(data(ask(back, 'db', A))).toEqual(['10.2.0.21', '10.2.0.22', '10.2.0.23', '10.2.0.24']);
    const orders = new Set<string>();
    for (let i = 0; i < 50; i++) orders.add(ask(back, 'db', A).answer.map((r) => r.data).join(','));
    expect(orders.size).toBeGreaterThan(1);
    for (const name of ['empty', 'tasks.empty']) {
      const m = ask(store.view(['front']), name, A);
      expect([m.rcode, m.answer.length, m.authority[0]?.type], name).toEqual([0, 0, 6]);
    }
    expect(ask(store.view(['front']), 'empty', ANY).answer).toEqual([]);
  });

  it('answers PTR of a VIP with the service name and of a task with the task name', () => {
    const v = setup().store.view(['front', 'back']);
    expect(data(ask(v, '2.0.1.10.in-addr.arpa', PTR))).toEqual(['api.']);
    expect(data(ask(v, '2.0.2.10.in-addr.arpa', PTR))).toEqual(['api.']);
    expect(data(ask(v, '11.0.1.10.in-addr.arpa', PTR))).toEqual(['task11.']);
    expect(data(ask(v, '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.d.f.ip6.arpa', PTR))).toEqual(['api.']);
    expect(data(ask(v, '22.0.2.10.in-addr.arpa', PTR))).toEqual(['task22.']);
  });

  it('answers SRV _PORT._PROTO.NAME for its ports, with the addresses the asker sees as additional', () => {
    const v = setup().store.view(['front']);
    for (const [name, want] of [['_8080._tcp.api', '0 0 80 api.'], ['_80._tcp.api', '0 0 80 api.'], ['_53._udp.api', '0 0 53 api.']]) {
      const m = ask(v, name!, SRV);
      expect(m.answer.map((r) => r.data), name).toEqual([want]);
      expect(m.additional.filter((r) => r.type === A).map((r) => r.data)).toEqual(['10.1.0.2']);
    }
    expect(ask(v, '_0._udp.api', SRV).rcode).toBe(3); // an unpublished port has no published SRV name
  });

  it('answers NODATA for AAAA of a v4-only name, NXDOMAIN under an owned name and on networks the asker is not on', () => {
    const { store } = setup();
    const front = store.view(['front']);
    const nodata = ask(front, 'api', AAAA);
    expect([nodata.rcode, nodata.answer.length, nodata.authority[0]?.type, nodata.authority[0]?.ttl]).toEqual([0, 0, 6, 1]);
    expect(ask(front, 'nope.api', A).rcode).toBe(3);
    expect(ask(front, 'x.tasks.api', A).rcode).toBe(3);
    expect(ask(front, 'db', A).rcode).toBe(3); // db is on back only
    expect(ask(front, 'tasks.db', A).rcode).toBe(3);
    expect(ask(front, 'example.com', A).rcode).toBe(2); // not owned: forwarded (no forwarder here: SERVFAIL)
  });

  it('follows the view: a task that goes, a scale to zero, a new VIP, a removed service', async () => {
    const { view, store } = setup();
    const front = store.view(['front']);
    expect(data(ask(front, 'tasks.api', A))).toHaveLength(2); // cached now
    view.setTasks('a', 'front', [task('a', 'front', 11)]);
    await flush();
    expect(data(ask(front, 'tasks.api', A))).toEqual(['10.1.0.11']);
    expect(ask(front, '10.0.1.10.in-addr.arpa', PTR).rcode).not.toBe(0);
    view.setTasks('a', 'front', []);
    await flush();
    expect([ask(front, 'tasks.api', A).rcode, ask(front, 'tasks.api', A).answer.length]).toEqual([0, 0]);
    view.put({ ...view.service('a'.padEnd(64, '0'))!, vips: [{ networkId: 'front', ipv4: '10.1.0.3' }], version: 2 });
    await flush();
    expect(data(ask(front, 'api', A))).toEqual(['10.1.0.3']);
    view.remove('a'.padEnd(64, '0'));
    await flush();
    expect(ask(front, 'api', A).rcode).toBe(2); // no longer owned anywhere: forwarded
    expect(ask(front, '3.0.1.10.in-addr.arpa', PTR).rcode).toBe(2);
  });

  it('a task whose name DNS cannot carry keeps its address in tasks.NAME (only its PTR is dropped)', async () => {
    const { view, store, refused } = setup();
    view.setTasks('a', 'front', [task('a', 'front', 10), task('a', 'front', 12, { name: 'x'.repeat(64) })]);
    await flush();
    expect(refused).toEqual([]);
    expect(data(ask(store.view(['front']), 'tasks.api', A))).toEqual(['10.1.0.10', '10.1.0.12']);
    expect(ask(store.view(['front']), '12.0.1.10.in-addr.arpa', PTR).answer).toEqual([]);
  });

  it('a bad service is not answered, is told once, and is answered once fixed', async () => {
    const { view, store, refused } = setup();
    view.put(service('b', 'bad..name', { vips: [{ networkId: 'front', ipv4: '10.1.0.9' }] }));
    view.changed();
    await flush();
    view.changed();
    await flush();
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/bad\.\.name: service record .*\.name/);
    view.put(service('b', 'good', { vips: [{ networkId: 'front', ipv4: '10.1.0.9' }] }));
    await flush();
    expect(data(ask(store.view(['front']), 'good', A))).toEqual(['10.1.0.9']);
  });
});

describe('dns: service changes are incremental', () => {
  function big(n: number, tasksEach: number): { view: FakeServiceView; store: RecordStore; feed: ServiceFeed; ms: number } {
    const view = new FakeServiceView();
    const store = new RecordStore();
    const feed = new ServiceFeed(view, store, () => undefined);
    for (let i = 0; i < n; i++) {
      const id = `s${i}x`;
      view.put(service(id, `svc${i}`, { vips: [{ networkId: 'front', ipv4: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` }] }), true);
      view.setTasks(id, 'front', Array.from({ length: tasksEach }, (_, t) => task(id, 'front', t, { endpointId: `${id}-${t}`, name: `svc${i}.${t}`, ipv4: `10.${50 + t}.${(i >> 8) & 255}.${i & 255}` })), true);
    }
    const t0 = performance.now();
    feed.start();
    return { view, store, feed, ms: performance.now() - t0 };
  }

  it('10,000 services x 10 tasks: one task change upserts one service, cheaply', async () => {
    const { view, store, feed, ms } = big(10_000, 10);
    const v = store.view(['front']);
    expect(data(ask(v, 'tasks.svc4242', A))).toHaveLength(10);
    const changedBefore = feed.stats.changed;
    const times: number[] = [];
    for (let round = 0; round < 25; round++) {
      const id = `s${round * 97}x`;
      view.setTasks(id, 'front', view.tasks(id.padEnd(64, '0'), 'front').slice(1), true);
      const t0 = performance.now();
      feed.sync();
      if (round >= 5) times.push(performance.now() - t0); // the first ones pay for the load's garbage
    }
    expect(feed.stats.changed - changedBefore).toBe(25);
    const m97 = ask(v, 'tasks.svc97', A);
    expect([m97.rcode, m97.answer.length], JSON.stringify(m97)).toEqual([0, 9]);
    times.sort((a, b) => a - b);
    const p50 = times[10]!;
    console.log(`dns service feed: initial load of 10,000 services x 10 tasks ${ms.toFixed(0)} ms; one task change p50 ${p50.toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms`);
    expect(p50).toBeLessThan(25); // the initial load (a full build) takes >100x this
    // Many changes in one turn of the event loop make one sync.
    const syncs = feed.stats.syncs;
    for (let i = 0; i < 100; i++) view.setTasks(`s${i}x`, 'front', [], false);
    await flush();
    expect(feed.stats.syncs - syncs).toBe(1);
    feed.stop();
  }, 60_000);
});

describe('dns: the feed keeps the records equal to the view', () => {
  const nets = ['front', 'back'];
  const ids = ['s1', 's2', 's3'];
  const ip = fc.integer({ min: 1, max: 5 });
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('put' as const), id: fc.constantFrom(...ids), name: fc.constantFrom('api', 'web', 'db'),
      mode: fc.constantFrom('vip' as const, 'dnsrr' as const), networks: fc.subarray(nets, { minLength: 1 }), vip: ip,
      port: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('tasks' as const), id: fc.constantFrom(...ids), network: fc.constantFrom(...nets), tasks: fc.uniqueArray(ip, { maxLength: 4 }) }),
    fc.record({ kind: fc.constant('remove' as const), id: fc.constantFrom(...ids) }),
    fc.record({ kind: fc.constant('touch' as const), id: fc.constantFrom(...ids), network: fc.constantFrom(...nets) }),
  );
  const questions = ['api', 'web', 'db', 'tasks.api', 'tasks.web', 'tasks.db', '_1._tcp.api', '_2._tcp.web', '1.0.1.10.in-addr.arpa', '2.0.2.10.in-addr.arpa', '3.0.9.10.in-addr.arpa'];
  const snapshot = (s: RecordStore, networks: string[]): string[] => {
    const v = s.view(networks);
    return questions.flatMap((q) => [A, PTR, SRV].map((t) => {
      const m = ask(v, q, t);
      return `${q}/${t}: ${m.rcode} ${m.answer.map((r) => r.data).sort().join(',')}`;
    }));
  };

  it('after any sequence of service and task changes, answers as a store built from the view at the end', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const view = new FakeServiceView();
      const live = new RecordStore();
      const feed = new ServiceFeed(view, live, () => undefined);
      feed.start();
      for (const o of ops) {
        snapshot(live, ['front']); // fill caches, so stale ones would show
        const id = o.id.padEnd(64, '0');
        if (o.kind === 'put') {
          view.put(service(o.id, o.name, {
            endpointMode: o.mode, networks: o.networks, version: (view.service(id)?.version ?? 0) + 1,
            vips: o.mode === 'vip' ? o.networks.map((n) => ({ networkId: n, ipv4: `10.0.9.${o.vip}` })) : [],
            ports: o.port ? [{ protocol: 'tcp', targetPort: 80, publishedPort: o.port, mode: 'host' }] : [],
          }), true);
        } else if (o.kind === 'tasks') {
          view.setTasks(o.id, o.network, o.tasks.map((n) => task(o.id, o.network, n)), true);
        } else if (o.kind === 'remove') {
          if (view.service(id)) view.remove(id);
        } else {
          // The same tasks as new objects (a view rebuilt its lists): nothing must change.
          view.setTasks(o.id, o.network, view.tasks(id, o.network).map((t) => ({ ...t })), true);
        }
        feed.sync();
      }
      const fresh = new RecordStore();
      for (const s of view.services()) fresh.upsertService(dnsServiceOf(s, s.networks.map((n) => view.tasks(s.id, n))));
      for (const networks of [['front'], ['back'], ['front', 'back']]) expect(snapshot(live, networks)).toEqual(snapshot(fresh, networks));
    }), { numRuns: 150 });
  });
});
