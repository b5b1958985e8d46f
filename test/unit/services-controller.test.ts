// ServicesController over a real FileStore and the store IPAM: what one create/update/rm transaction
// leaves in the store (VIPs from the pools, port claims, the name claim), auto-assigned ports, the
// ingress VIP, and refusals that leave the store as it was.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServicesController, type ServicesOptions } from '../../src/ingress/services-controller.js';
import { poolInfo, type PoolState } from '../../src/ipam/index.js';
import { IpamController } from '../../src/ipam/store-ipam.js';
import { keys, type NetworkRecord } from '../../src/overlay/model.js';
import { OverlayRecords } from '../../src/overlay/records.js';
import { FileStore } from '../../src/store/index.js';
import { VxError } from '../../src/errors.js';

const log = pino({ level: 'silent' });
let dir: string;
let store: FileStore;
let records: OverlayRecords;
let ipam: IpamController;
const started: ServicesController[] = [];

async function network(name: string, subnet: string, v6?: string): Promise<NetworkRecord> {
  const id = name.padEnd(64, '0').slice(0, 64);
  const sub = async (family: 4 | 6, cidr: string) => {
    const p = poolInfo(await ipam.write((t) => t.createPool({ owner: name, family, subnet: cidr })));
    return { poolId: p.id, subnet: p.subnet, gateway: p.gateway!, prefix: p.prefix };
  };
  const net: NetworkRecord = {
    id, name, vni: 4096 + subnet.length, mtu: 1450, internal: false, labels: {}, ownsPools: true, sandbox: `sb-${name}`, createdAt: '', state: 'ready',
    v4: await sub(4, subnet), ...(v6 ? { v6: await sub(6, v6) } : {}),
  };
  await ipam.write(async (t) => t.put(keys.network(id), net));
  return net;
}

async function controller(opts: ServicesOptions = {}): Promise<ServicesController> {
  const find = (nameOrId: string) => {
    const n = records.networks.values().find((x) => x.name === nameOrId || x.id === nameOrId);
    if (!n) throw new VxError('NOT_FOUND', `network "${nameOrId}" not found`);
    return n;
  };
  const c = new ServicesController(store, records, ipam, find, opts, log);
  await c.start();
  started.push(c);
  return c;
}

/** Every key under the services plane's prefixes, and the pools' allocation counts. */
async function storeState() {
  const list = async (prefix: string) => (await store.list(prefix)).map((kv) => kv.key);
  const pools = Object.fromEntries((await store.list<PoolState>('ipam/pools/')).map((kv) => [kv.value.owner, kv.value.allocatedCount]));
  return { services: await list('services/'), names: await list('service-names/'), ports: await list('published-ports/'), pools };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxmesh-services-'));
  store = await FileStore.open(dir);
  records = new OverlayRecords(store, { node: 'h1', shared: false, netnsPrefix: 'h1' });
  ipam = new IpamController(store, { defaults: { v4: [], v6: [] }, gwBridgePool: '172.30.0.0/16', gwPoolOwner: 'gwbridge' }, () => undefined, (rev, k) => records.waitForRevision(rev, k), log);
  await records.start();
  await ipam.start();
});
afterEach(async () => {
  for (const c of started.splice(0)) await c.stop();
  await records.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ServicesController', () => {
  it('auto-assigns ingress ports from 30000 up, adds the ingress VIP, keeps both across an update and releases everything at rm', async () => {
    await network('web', '10.1.0.0/24', 'fd01::/64');
    const ingress = await network('ingress', '10.255.0.0/16');
    const c = await controller({ ensureIngressNetwork: async () => ingress });
    const empty = await storeState();

    const a = await c.createService({ name: 'a', networks: ['web'], publish: [{ targetPort: 80 }, { targetPort: 53, protocol: 'udp' }] });
    expect(a.ports).toEqual([
      { protocol: 'tcp', targetPort: 80, publishedPort: 30000, mode: 'ingress' },
      { protocol: 'udp', targetPort: 53, publishedPort: 30000, mode: 'ingress' },
    ]);
    expect(a.vips).toEqual([
      { network: 'web', networkId: expect.any(String), ipv4: '10.1.0.2/24', ipv6: 'fd01::2/64' },
      { network: 'ingress', networkId: ingress.id, ipv4: '10.255.0.2/16' },
    ]);
    const b = await c.createService({ name: 'b', networks: ['web'], publish: [{ targetPort: 80 }] });
    expect(b.ports[0]!.publishedPort).toBe(30001);
    await expect(c.createService({ name: 'c', networks: ['web'], publish: [{ targetPort: 80, publishedPort: 30000 }] })).rejects.toThrow('published port 30000/tcp is already used by service "a"');

    // An empty published port keeps what the service had for that target; the version moves.
    const a2 = await c.updateService({ service: 'a', publish: [{ targetPort: 80 }, { targetPort: 8080, publishedPort: 8080, mode: 'host' }] });
    expect(a2.version).toBe(2);
    expect(a2.ports.map((p) => `${p.publishedPort}/${p.protocol}`)).toEqual(['30000/tcp', '8080/tcp']);
    expect((await storeState()).ports).toEqual(['published-ports/tcp/30000', 'published-ports/tcp/30001', 'published-ports/tcp/8080']);
    // No ingress port left: the ingress VIP goes back to its pool.
    const a3 = await c.updateService({ service: 'a', publish: [{ targetPort: 8080, publishedPort: 8080, mode: 'host' }] });
    expect(a3.vips.map((v) => v.network)).toEqual(['web']);

    await c.removeService('a');
    await c.removeService(b.id.slice(0, 8));
    expect(await storeState()).toEqual(empty);
    expect(await c.listServices()).toEqual([]);
  });

  it('refusals leave the store as it was: ingress without a mesh, a full pool, a taken name', async () => {
    await network('web', '10.1.0.0/24');
    await network('tiny', '10.9.0.0/30'); // one assignable address besides the gateway
    const c = await controller();
    await c.createService({ name: 'first', networks: ['tiny'] });
    const before = await storeState();
    await expect(c.createService({ name: 'x', networks: ['web'], publish: [{ targetPort: 80 }] })).rejects.toThrow(/runs no ingress routing mesh.*mode=host/);
    await expect(c.createService({ name: 'x', networks: ['web', 'tiny'] })).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/^no VIP for service "x" on network "tiny": .*nothing was made$/) });
    await expect(c.createService({ name: 'first', networks: ['web'] })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(c.createService({ name: 'y', networks: ['nope'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await storeState()).toEqual(before);
  });

  it('dnsrr services get no VIP; the network rm guard names the services on a network', async () => {
    const web = await network('web', '10.1.0.0/24');
    const c = await controller();
    const d = await c.createService({ name: 'd', networks: ['web'], endpointMode: 'dnsrr', publish: [{ targetPort: 80, publishedPort: 8080, mode: 'host' }] });
    expect(d.vips).toEqual([]);
    await expect(c.refuseNetworkRemoval(web)).rejects.toThrow('network web is used by service d: remove the service first (vxmesh service rm d)');
    await c.removeService('d');
    await expect(c.refuseNetworkRemoval(web)).resolves.toBeUndefined();
  });

  it('keeps its VIPs when read back by a new controller (a restart)', async () => {
    await network('web', '10.1.0.0/24');
    const made = await (await controller()).createService({ name: 'api', networks: ['web'] });
    const again = await (await controller()).inspectService('api');
    expect(again.vips).toEqual(made.vips);
  });

  it('claims again at start the VIPs and ports a (salvaged) store lost', async () => {
    const web = await network('web', '10.1.0.0/24');
    const made = await (await controller()).createService({ name: 'api', networks: ['web'], publish: [{ targetPort: 80, publishedPort: 8080, mode: 'host' }] });
    const whole = await storeState();
    const vip = made.vips[0]!.ipv4!.split('/')[0]!;
    await ipam.write(async (t) => {
      await t.releaseAddress(web.v4.poolId, vip);
      t.delete('published-ports/tcp/8080');
    });
    expect((await storeState()).ports).toEqual([]);
    await controller();
    expect(await storeState()).toEqual(whole);
    // The next allocation does not hand the VIP out again.
    await expect(ipam.write((t) => t.allocateAddress(web.v4.poolId, { ip: vip }, 'web'))).rejects.toThrow(`address ${vip} is already in use`);
  });
});
