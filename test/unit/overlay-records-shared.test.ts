// OverlayRecords' local view: with a shared store each host sees every endpoint (listing, hosts, rm)
// but repairs, GCs and plumbs only its own, names sandboxes with its own prefix, and keeps a sandbox
// only while it has an endpoint there. With the embedded store every record is this host's.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointRecord, GatewayRecord, NetworkRecord } from '../../src/overlay/model.js';
import { keys } from '../../src/overlay/model.js';
import { OverlayRecords, type LocalView } from '../../src/overlay/records.js';
import { FileStore } from '../../src/store/index.js';

const net: NetworkRecord = {
  id: 'a'.repeat(64), name: 'web', vni: 4096, mtu: 1450, internal: false, labels: {}, ownsPools: true, sandbox: 'h1-n-aaaaaaaaaaaa', createdAt: '', state: 'ready',
  v4: { poolId: 'p', subnet: '10.0.0.0/24', gateway: '10.0.0.1', prefix: 24 },
};
const ep = (n: number, node: string | undefined, netns = `/run/netns/c${n}`): EndpointRecord => ({
  id: String(n).repeat(64).slice(0, 64), networkId: net.id, name: `e${n}`, aliases: [], netns, ifName: 'eth0', ipv4: `10.0.0.${n + 1}`, mac: '',
  leaveInHost: false, preallocated: false, labels: {}, state: 'ready', createdAt: '', ...(node === undefined ? {} : { node }),
});
const leg = (id: string, node: string | undefined): GatewayRecord => ({ id, netns: '/run/netns/c1', ifName: 'eth1', ip: '172.18.0.2', mac: '', state: 'ready', ...(node === undefined ? {} : { node }) });

let dir: string | undefined;
let store: FileStore | undefined;
afterEach(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function recordsWith(view: LocalView, eps: EndpointRecord[], legs: GatewayRecord[] = []): Promise<OverlayRecords> {
  dir = await mkdtemp(join(tmpdir(), 'vxmesh-records-'));
  store = await FileStore.open(dir);
  await store.txn([
    { op: 'put', key: keys.network(net.id), value: net },
    ...eps.map((e) => ({ op: 'put' as const, key: keys.endpoint(e.id), value: e })),
    ...legs.map((g) => ({ op: 'put' as const, key: keys.gateway(g.id), value: g })),
  ]);
  const records = new OverlayRecords(store, view);
  await records.start();
  return records;
}

describe('OverlayRecords local view', () => {
  it('shared store: every host listed, only its own endpoints and legs local, its own sandbox name', async () => {
    const r = await recordsWith({ node: 'h2', shared: true, netnsPrefix: 'h2' }, [ep(1, 'h1'), ep(2, 'h2'), ep(3, 'h3'), ep(4, 'h1', '/run/netns/c2')], [leg('l1', 'h1'), leg('l2', 'h2')]);
    expect(r.endpointsOf(net.id)).toHaveLength(4);
    expect(r.hostsOf(net.id)).toEqual(['h1', 'h2', 'h3']);
    expect(r.localEndpoints().map((e) => e.name)).toEqual(['e2']);
    expect(r.endpointsIn('/run/netns/c1')).toEqual([]); // c1 on h1 and h3 is not this host's c1
    expect(r.endpointsIn('/run/netns/c2').map((e) => e.name)).toEqual(['e2']);
    expect(r.gateways.values().map((g) => g.id)).toEqual(['l2']);
    expect(r.networks.get(net.id)?.sandbox).toBe('h2-n-aaaaaaaaaaaa');
    expect(r.wantsSandbox(r.networks.get(net.id)!)).toBe(true);
    expect(r.isMine(ep(1, 'h1'))).toBe(false);
    await r.stop();
  });

  it('shared store: a host without endpoints on a network keeps no sandbox for it', async () => {
    const r = await recordsWith({ node: 'h9', shared: true, netnsPrefix: 'h9' }, [ep(1, 'h1')]);
    expect(r.wantsSandbox(r.networks.get(net.id)!)).toBe(false);
    expect(r.localEndpointsOf(net.id)).toEqual([]);
    await r.stop();
  });

  it('embedded store: every record is this host\'s, whatever node it names (or none)', async () => {
    const r = await recordsWith({ node: 'h2', shared: false, netnsPrefix: 'vx' }, [ep(1, 'h1'), ep(2, undefined)], [leg('l1', 'old-name')]);
    expect(r.localEndpoints()).toHaveLength(2);
    expect(r.gateways.values()).toHaveLength(1);
    expect(r.networks.get(net.id)?.sandbox).toBe('h1-n-aaaaaaaaaaaa'); // as recorded
    expect(r.hostsOf(net.id)).toEqual(['h1', 'h2']);
    expect(r.wantsSandbox(r.networks.get(net.id)!)).toBe(true);
    await r.stop();
  });

  it('an acknowledgement shown ahead of the store: listed and announced at once, kept over store changes, gone with the record', async () => {
    const pending = { ...ep(1, 'h1'), state: 'pending' as const };
    const r = await recordsWith({ node: 'h1', shared: true, netnsPrefix: 'h1' }, [pending]);
    const heard: string[] = [];
    r.endpoints.onChange((ev) => heard.push(ev.type === 'put' ? `put ${ev.value.state} ${ev.value.name}` : 'delete'));
    expect(r.hostsOf(net.id)).toEqual([]);

    r.endpoints.showAhead(pending.id, (e) => ({ ...e, state: 'ready' }));
    expect(heard).toEqual(['put ready e1']);
    expect(r.endpoints.get(pending.id)?.state).toBe('ready');
    expect(r.localEndpoints().map((e) => e.state)).toEqual(['ready']);
    expect(r.hostsOf(net.id)).toEqual(['h1']);
    expect(r.endpoints.stored(pending.id)?.value.state).toBe('pending');

    // Another change to the stored record (still pending there) shows through, still ready here.
    const rev = await store!.txn([{ op: 'put', key: keys.endpoint(pending.id), value: { ...pending, name: 'renamed' } }]);
    await r.waitForRevision(rev);
    expect(r.endpoints.get(pending.id)).toMatchObject({ name: 'renamed', state: 'ready' });
    expect(heard.at(-1)).toBe('put ready renamed');

    // The store catching up with what was shown is no news to the planes.
    const heardBefore = heard.length;
    const caughtUp = await store!.txn([{ op: 'put', key: keys.endpoint(pending.id), value: { ...pending, name: 'renamed', state: 'ready' } }]);
    await r.waitForRevision(caughtUp);
    expect(heard.length).toBe(heardBefore);
    expect(r.endpoints.stored(pending.id)?.value.state).toBe('ready');
    await store!.txn([{ op: 'put', key: keys.endpoint(pending.id), value: { ...pending, name: 'renamed' } }]).then((x) => r.waitForRevision(x));

    // Deleted in the store: nothing is shown, and a later record under the id is shown as stored.
    const del = await store!.txn([{ op: 'delete', key: keys.endpoint(pending.id) }]);
    await r.waitForRevision(del);
    expect(r.endpoints.get(pending.id)).toBeUndefined();
    expect(heard.at(-1)).toBe('delete');
    const again = await store!.txn([{ op: 'put', key: keys.endpoint(pending.id), value: pending }]);
    await r.waitForRevision(again);
    expect(r.endpoints.get(pending.id)?.state).toBe('pending');
    await r.stop();
  });
});
