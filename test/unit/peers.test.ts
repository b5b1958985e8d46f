// The peer table: Docker's PeerRecord encoding, remote entries -> FDB/neigh (never our own), and
// the peers controller over two real NetworkDBs wired back to back (a local write reaches the other
// side at once, not on the next gossip round; a failed owner's entries leave).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { NetworkDB } from '../../src/gossip/networkdb/index.js';
import type { Cluster, NodeInfo } from '../../src/gossip/memberlist/types.js';
import type { EndpointRecord, NetworkRecord } from '../../src/overlay/model.js';
import { peerKernelEntries, type RemotePeer } from '../../src/overlay/peer-desired.js';
import { PEER_TABLE, decodePeerRecordWire, encodePeerRecord, parsePeerRecord } from '../../src/overlay/peer-record.js';
import { PeersController, type PeerKernel } from '../../src/overlay/peers-controller.js';
import type { OverlayRecords } from '../../src/overlay/records.js';
import type { PeerKernelEntries } from '../../src/overlay/peer-desired.js';
import { waitFor } from '../support/wait.js';

const silent = pino({ level: 'silent' });

describe('PeerRecord (Docker overlay.proto)', () => {
  it('encodes field by field as gogo does, and decodes back', () => {
    const buf = encodePeerRecord({ endpointIp: '10.0.0.5/24', endpointMac: '02:42:0a:00:00:05', tunnelEndpointIp: '198.51.100.2' });
    // field 1 (0x0a) len 11, field 2 (0x12) len 17, field 3 (0x1a) len 12
    expect(buf.subarray(0, 2)).toEqual(Buffer.from([0x0a, 11]));
    expect(buf[13]).toBe(0x12);
    expect(buf[32]).toBe(0x1a);
    expect(decodePeerRecordWire(buf)).toEqual({ endpointIp: '10.0.0.5/24', endpointMac: '02:42:0a:00:00:05', tunnelEndpointIp: '198.51.100.2' });
    expect(parsePeerRecord(buf)).toEqual({ ip: '10.0.0.5', family: 4, prefix: 24, mac: '02:42:0a:00:00:05', vtep: '198.51.100.2' });
  });

  it('is loaded from a schema generated from peer-record.proto (refresh: node test/support/gen-peer-record-schema.mjs)', () => {
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../support/gen-peer-record-schema.mjs', import.meta.url)), '--check'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('checks what another host sends before it can reach the kernel', () => {
    const rec = (endpointIp: string, endpointMac: string, tunnelEndpointIp: string) => () => parsePeerRecord(encodePeerRecord({ endpointIp, endpointMac, tunnelEndpointIp }));
    expect(rec('10.0.0.5', '02:42:0a:00:00:05', '198.51.100.2')).toThrow(/not IP\/prefix/);
    expect(rec('10.0.0.5/33', '02:42:0a:00:00:05', '198.51.100.2')).toThrow(/prefix out of range/);
    expect(rec('10.0.0.5/24; reboot', '02:42:0a:00:00:05', '198.51.100.2')).toThrow(/endpoint_ip/);
    expect(rec('10.0.0.5/24', 'ff:ff:ff:ff:ff:ff', '198.51.100.2')).toThrow(/unicast MAC/);
    expect(rec('10.0.0.5/24', '02:42:0a:00:00:05 self', '198.51.100.2')).toThrow(/endpoint_mac/);
    expect(rec('10.0.0.5/24', '02:42:0a:00:00:05', '')).toThrow(/tunnel_endpoint_ip/);
    expect(() => parsePeerRecord(Buffer.from([0x0a, 0x50, 1]))).toThrow(/peer record/);
    expect(parsePeerRecord(encodePeerRecord({ endpointIp: 'FD00:0:0::5/64', endpointMac: '02:42:0A:00:00:05', tunnelEndpointIp: '198.51.100.2' }))).toMatchObject({ ip: 'fd00::5', family: 6, mac: '02:42:0a:00:00:05' });
  });
});

describe('peerKernelEntries', () => {
  const peer = (key: string, owner: string, ip: string, mac: string, vtep: string): RemotePeer => ({ key, owner, record: { ip, family: ip.includes(':') ? 6 : 4, prefix: 24, mac, vtep } });
  it('FDB (MAC -> VTEP) and neighbours (IP -> MAC, v4 and v6) for remote endpoints only', () => {
    const out = peerKernelEntries([
      peer('e2', 'B', '10.0.0.3', '02:42:0a:00:00:03', '198.51.100.2'),
      peer('e2-v6', 'B', 'fd00::3', '02:42:0a:00:00:03', '198.51.100.2'),
      peer('e1', 'A', '10.0.0.2', '02:42:0a:00:00:02', '198.51.100.1'), // ours, by owner
      peer('e9', 'C', '10.0.0.9', '02:42:0a:00:00:09', '198.51.100.3'), // ours, by endpoint id (a stale entry of a previous life)
      peer('e9-v6', 'C', 'fd00::9', '02:42:0a:00:00:09', '198.51.100.3'),
      peer('e7', 'D', '10.0.0.7', '02:42:0a:00:00:07', '198.51.100.1'), // points at our own VTEP
    ], { nodeName: 'A', vtep: '198.51.100.1', localEndpointIds: new Set(['e9']) });
    expect(out.fdb).toEqual([{ mac: '02:42:0a:00:00:03', dev: 'vxlan0', dst: '198.51.100.2' }]);
    expect(out.neigh).toEqual([
      { ip: '10.0.0.3', mac: '02:42:0a:00:00:03', dev: 'vxlan0' },
      { ip: 'fd00::3', mac: '02:42:0a:00:00:03', dev: 'vxlan0' },
    ]);
  });
});

// ---- two NetworkDBs back to back

interface Node {
  db: NetworkDB;
  alive: boolean;
}

function pair(): { a: NetworkDB; b: NetworkDB; pump: () => void; fail: (name: string) => void } {
  const nodes = new Map<string, Node>();
  const info = (name: string, addr: string): NodeInfo => ({ name, addr, port: 7946, meta: Buffer.alloc(0), state: 'alive', incarnation: 1, vsn: [1, 5, 2, 0, 0, 0] });
  const infos = [info('A', '198.51.100.1'), info('B', '198.51.100.2')];
  // Table gossip rounds far apart: anything that arrives within the test's deadline came by the immediate send.
  const mk = (name: string) => new NetworkDB({ nodeName: name, logger: silent, gossipIntervalMs: 60_000, bulkSyncIntervalMs: 600_000, immediateTableGossip: true });
  const a = mk('A');
  const b = mk('B');
  nodes.set('A', { db: a, alive: true });
  nodes.set('B', { db: b, alive: true });
  const cluster = (self: string): Cluster => ({
    localName: self,
    members: () => infos.filter((i) => nodes.get(i.name)!.alive),
    numMembers: () => infos.length,
    join: async () => 1,
    sendBestEffort: async (to, msg) => {
      const n = nodes.get(to);
      if (n?.alive) queueMicrotask(() => n.db.notifyMsg(Buffer.from(msg)));
    },
    sendReliable: async (to, msg) => {
      const n = nodes.get(to);
      if (n?.alive) queueMicrotask(() => n.db.notifyMsg(Buffer.from(msg)));
    },
    leave: async () => undefined,
    shutdown: async () => undefined,
  });
  a.attach(cluster('A'));
  b.attach(cluster('B'));
  // memberlist's piggybacked broadcasts (node and network events), delivered by hand
  const pump = () => {
    for (const [name, n] of nodes) {
      for (const m of n.db.getBroadcasts(2, 1400)) for (const [other, o] of nodes) if (other !== name && o.alive) o.db.notifyMsg(m);
    }
  };
  const fail = (name: string) => {
    nodes.get(name)!.alive = false;
    for (const [other, o] of nodes) if (other !== name) o.db.notifyLeave({ ...infos.find((i) => i.name === name)!, state: 'dead' });
  };
  return { a, b, pump, fail };
}

const NET: NetworkRecord = {
  id: 'n'.repeat(64), name: 'web', vni: 4096, mtu: 1450, internal: false, labels: {}, ownsPools: true, sandbox: 'x-n-nnnn', createdAt: '',
  v4: { poolId: 'p4', subnet: '10.0.0.0/24', gateway: '10.0.0.1', prefix: 24 },
  v6: { poolId: 'p6', subnet: 'fd00::/64', gateway: 'fd00::1', prefix: 64 },
};

function endpoint(id: string, node: string, ipv4: string, ipv6?: string): EndpointRecord & { node: string } {
  const mac = `02:42:0a:00:00:0${ipv4.split('.')[3]}`;
  return { id, networkId: NET.id, name: id, aliases: [], netns: `/run/netns/${id}`, ifName: 'eth0', ipv4, ...(ipv6 ? { ipv6 } : {}), mac, leaveInHost: false, preallocated: false, labels: {}, state: 'ready', createdAt: '', node };
}

/** The records as the controller reads them: one shared store (both hosts see every endpoint). */
class FakeRecords {
  eps = new Map<string, EndpointRecord & { node: string }>();
  private readonly listeners = new Set<() => void>();
  readonly endpoints = { values: () => [...this.eps.values()], onChange: (fn: () => void) => (this.listeners.add(fn), () => this.listeners.delete(fn)) };
  readonly networks = { get: (id: string) => (id === NET.id ? NET : undefined), onChange: () => () => undefined };
  endpointsOf(nid: string) {
    return [...this.eps.values()].filter((e) => e.networkId === nid);
  }
  set(ep: EndpointRecord & { node: string }) {
    this.eps.set(ep.id, ep);
    for (const l of this.listeners) l();
  }
  remove(id: string) {
    this.eps.delete(id);
    for (const l of this.listeners) l();
  }
}

class FakeKernel implements PeerKernel {
  source: (net: NetworkRecord) => PeerKernelEntries | undefined = () => undefined;
  programmed: PeerKernelEntries | undefined;
  syncs = 0;
  setPeerSource(fn: (net: NetworkRecord) => PeerKernelEntries | undefined) {
    this.source = fn;
  }
  setMemberSource() {}
  async syncSandbox(net: NetworkRecord) {
    this.syncs++;
    this.programmed = this.source(net);
  }
  async syncHostFirewall() {}
}

function controller(db: NetworkDB, records: FakeRecords, node: string, vtep: string) {
  const kernel = new FakeKernel();
  const members = { memberAddrs: () => ['198.51.100.1', '198.51.100.2'], onMembersChange: () => () => undefined };
  const c = new PeersController(db, records as unknown as OverlayRecords, kernel, members, { vtep, isLocal: (ep) => (ep as { node?: string }).node === node, joinWaitMs: 50 }, silent);
  return { c, kernel };
}

describe('PeersController over NetworkDB', () => {
  it('publishes local endpoints at once; the other host programs them (v4 and v6), never its own; delete and owner failure remove them', async () => {
    const { a, b, pump, fail } = pair();
    const recA = new FakeRecords();
    const recB = new FakeRecords();
    const A = controller(a, recA, 'A', '198.51.100.1');
    const B = controller(b, recB, 'B', '198.51.100.2');
    await A.c.start();
    await B.c.start();
    // B has a workload in the network first, so it is a member there.
    const eb = endpoint('eb', 'B', '10.0.0.3');
    recA.set(eb);
    recB.set(eb);
    await waitFor(() => b.joinedNetworks(), { what: 'B in the network', until: (n) => n.includes(NET.id) });
    pump();

    const t0 = Date.now();
    const ea = endpoint('ea', 'A', '10.0.0.2', 'fd00::2');
    recA.set(ea);
    recB.set(ea);
    const got = await waitFor(async () => B.kernel.programmed, { what: "A's endpoint programmed on B", until: (p) => (p?.neigh.length ?? 0) === 2, timeoutMs: 2_000 });
    // Well under the (60 s) gossip round: the write went out at once.
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(got!.fdb).toEqual([{ mac: '02:42:0a:00:00:02', dev: 'vxlan0', dst: '198.51.100.1' }]);
    expect(got!.neigh.map((n) => n.ip).sort()).toEqual(['10.0.0.2', 'fd00::2']);
    const onA = await waitFor(async () => A.kernel.programmed, { what: "B's endpoint programmed on A", until: (p) => (p?.fdb.length ?? 0) === 1 });
    expect(onA!.fdb).toEqual([{ mac: '02:42:0a:00:00:03', dev: 'vxlan0', dst: '198.51.100.2' }]);
    expect(b.getTableByNetwork(PEER_TABLE, NET.id).get('ea-v6')?.owner).toBe('A');

    recA.remove('ea');
    recB.remove('ea');
    await waitFor(async () => B.kernel.programmed, { what: 'deleted endpoint gone on B', until: (p) => p?.neigh.length === 0, timeoutMs: 2_000 });

    const ea2 = endpoint('ea2', 'A', '10.0.0.4');
    recA.set(ea2);
    recB.set(ea2);
    await waitFor(async () => B.kernel.programmed, { what: 'new endpoint on B', until: (p) => p?.fdb.length === 1 });
    fail('A');
    await waitFor(async () => B.kernel.programmed, { what: "failed owner's entries gone on B", until: (p) => p?.fdb.length === 0, timeoutMs: 2_000 });

    await A.c.stop();
    await B.c.stop();
    a.close();
    b.close();
  });

  it('a restarted controller reconciles from the table as it is now (list, then watch)', async () => {
    const { a, b, pump } = pair();
    const recA = new FakeRecords();
    const recB = new FakeRecords();
    const A = controller(a, recA, 'A', '198.51.100.1');
    const eb = endpoint('eb', 'B', '10.0.0.3');
    const ea = endpoint('ea', 'A', '10.0.0.2');
    for (const r of [recA, recB]) {
      r.set(ea);
      r.set(eb);
    }
    await A.c.start();
    await waitFor(() => a.joinedNetworks(), { what: 'A in the network', until: (n) => n.includes(NET.id) });
    pump();
    const B1 = controller(b, recB, 'B', '198.51.100.2');
    await B1.c.start();
    await waitFor(async () => B1.kernel.programmed, { what: 'programmed', until: (p) => p?.fdb.length === 1 });
    await B1.c.stop();
    // A second controller on the same NetworkDB (an agent restart keeps none of its memory): it lists what is there.
    const B2 = controller(b, recB, 'B', '198.51.100.2');
    await B2.c.start();
    const p = await waitFor(async () => B2.kernel.programmed, { what: 'reprogrammed after restart', until: (x) => x?.fdb.length === 1 });
    expect(p!.fdb[0]!.dst).toBe('198.51.100.1');
    await A.c.stop();
    await B2.c.stop();
    a.close();
    b.close();
  });
});
