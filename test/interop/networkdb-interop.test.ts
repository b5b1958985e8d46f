// vxmesh NetworkDB (on vxmesh memberlist) against Docker 26.1.5's OWN networkdb package (built
// from Debian trixie's golang-github-docker-docker-dev by docker-networkdb/build.sh), on
// 127.0.0.1 with distinct ports. Every Docker process started here is SIGKILLed by PID in
// afterEach, also when a test fails.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemberlist, fastTestConfig, Keyring, type Memberlist } from '../../src/gossip/memberlist/index.js';
import { NetworkDB, type TableChange } from '../../src/gossip/networkdb/index.js';
import { buildNdbPeer, ndbBuildUnavailable, NdbPeer, type NdbEvent } from './helpers/ndbpeer.js';
import { waitFor } from '../support/wait.js';

const unavailable = ndbBuildUnavailable();
const silent = pino({ level: 'silent' });
let nextPort = 20000 + Math.floor(Math.random() * 20000);
let binary = '';
const dockerPeers: NdbPeer[] = [];
const tsNodes: TsNode[] = [];

interface TsNode {
  name: string;
  addr: string;
  ml: Memberlist;
  db: NetworkDB;
  changes: TableChange[];
  stopped: boolean;
  keyring: Keyring | null;
}

function startDocker(name: string, keys?: Buffer[]): NdbPeer {
  const p = new NdbPeer(binary, { name, port: nextPort++, ...(keys ? { keys: keys.map((k) => k.toString('base64')) } : {}) });
  dockerPeers.push(p);
  return p;
}

async function startTs(name: string, key?: Buffer): Promise<TsNode> {
  const port = nextPort++;
  const db = new NetworkDB({ nodeName: name, logger: silent, bulkSyncTimeoutMs: 5_000 });
  const keyring = key ? new Keyring(key) : null;
  const ml = await createMemberlist(
    fastTestConfig({ name, bindAddr: '127.0.0.1', bindPort: port, keyring }),
    { delegate: db, events: db, logger: silent },
  );
  db.attach(ml);
  const node: TsNode = { name, addr: `127.0.0.1:${port}`, ml, db, changes: [], stopped: false, keyring };
  db.watch('t1', undefined, (c) => node.changes.push(c));
  tsNodes.push(node);
  return node;
}

/** A crash as far as peers can tell: sockets close, no leave message. */
async function crashTs(n: TsNode): Promise<void> {
  n.stopped = true;
  n.db.close();
  await n.ml.shutdown();
}

function saw(n: TsNode, type: string, key: string, value?: string): boolean {
  return n.changes.some((c) => c.type === type && c.key === key && (value === undefined || c.value.toString() === value));
}

function dockerSaw(p: NdbPeer, kind: string, key: string, value?: string): boolean {
  return p.watched(kind, key).some((e: NdbEvent) => value === undefined || e.value === value);
}

/** Docker logs these when it cannot make sense of what we sent. */
function expectDockerUnbothered(p: NdbPeer): void {
  expect(p.stderr).not.toMatch(/unknown message type|Error decoding|Failed to decode|has a 0 reapTime|is unknown to memberlist/);
}

async function cleanup(): Promise<void> {
  for (const p of dockerPeers.splice(0)) {
    p.kill();
    await p.exited();
  }
  for (const n of tsNodes.splice(0)) if (!n.stopped) await crashTs(n);
}

describe.skipIf(unavailable !== null)("NetworkDB interop with Docker 26.1.5's own networkdb", () => {
  beforeAll(async () => {
    binary = await buildNdbPeer();
  }, 600_000);
  afterEach(cleanup);

  it('cluster join both ways, network join with bulk sync, entries created/updated/deleted both ways', async () => {
    const go1 = startDocker('go1');
    await go1.waitEvent((e) => e.ev === 'ready', 10_000);
    await go1.request('joinnet n1', 'joinnet');
    await go1.request('create t1 n1 kgo v-go', 'create');

    // vxmesh joins Docker; then Docker joins vxmesh.
    const ts = await startTs('ts1');
    expect(await ts.ml.join([go1.addr])).toBe(1);
    const go2 = startDocker('go2');
    await go2.waitEvent((e) => e.ev === 'ready', 10_000);
    await go2.request(`join ${ts.addr}`, 'joined');
    const everyone = ['go1', 'go2', 'ts1'];
    await waitFor(() => ts.ml.members().length === 3, { timeoutMs: 10_000, what: 'vxmesh lists 3 members' });
    for (const g of [go1, go2]) {
      const peers = await waitFor(() => g.peers(), { what: `${g.opts.name} lists all 3`, timeoutMs: 10_000, until: (p) => p.join() === everyone.join() });
      expect(peers).toEqual(everyone);
    }

    // Network join: the entry go1 wrote before we were in n1 arrives by bulk sync.
    await ts.db.joinNetwork('n1');
    await waitFor(() => ts.db.getEntry('t1', 'n1', 'kgo')?.toString() === 'v-go', { timeoutMs: 5_000, what: 'bulk-synced entry at vxmesh' });
    expect(saw(ts, 'create', 'kgo', 'v-go')).toBe(true);
    ts.db.createEntry('t1', 'n1', 'kts', Buffer.from('v-ts'));
    await go1.waitEvent((e) => e.ev === 'watch' && e.kind === 'create' && e.key === 'kts' && e.value === 'v-ts', 5_000);
    // Docker joining the network bulk-syncs from its members, vxmesh among them.
    await go2.request('joinnet n1', 'joinnet');
    await waitFor(() => dockerSaw(go2, 'create', 'kts', 'v-ts') && dockerSaw(go2, 'create', 'kgo', 'v-go'), { timeoutMs: 5_000, what: 'bulk sync at go2' });
    expect(await go2.table('t1', 'n1')).toEqual({ kgo: 'v-go', kts: 'v-ts' });
    await waitFor(() => ts.db.peers('n1').length === 3, { timeoutMs: 5_000, what: 'vxmesh sees 3 nodes in n1' });

    // Updates and deletes, both ways.
    await go1.request('update t1 n1 kgo v-go-2', 'update');
    await waitFor(() => saw(ts, 'update', 'kgo', 'v-go-2'), { timeoutMs: 5_000, what: 'Docker update at vxmesh' });
    ts.db.updateEntry('t1', 'n1', 'kts', Buffer.from('v-ts-2'));
    await waitFor(() => dockerSaw(go1, 'update', 'kts', 'v-ts-2') && dockerSaw(go2, 'update', 'kts', 'v-ts-2'), { timeoutMs: 5_000, what: 'vxmesh update at Docker' });
    ts.db.deleteEntry('t1', 'n1', 'kts');
    await waitFor(() => dockerSaw(go1, 'delete', 'kts') && dockerSaw(go2, 'delete', 'kts'), { timeoutMs: 5_000, what: 'vxmesh delete at Docker' });
    await go1.request('delete t1 n1 kgo', 'delete');
    await waitFor(() => saw(ts, 'delete', 'kgo') && dockerSaw(go2, 'delete', 'kgo'), { timeoutMs: 5_000, what: 'Docker delete at vxmesh and go2' });
    expect(ts.db.getTableByNetwork('t1', 'n1').size).toBe(0);
    expect(await go2.table('t1', 'n1')).toEqual({});
    for (const g of [go1, go2]) expectDockerUnbothered(g);
  }, 60_000);

  it("a SIGKILLed Docker node's entries leave vxmesh; a crashed vxmesh node's entries leave Docker", async () => {
    const go1 = startDocker('go1');
    const go2 = startDocker('go2');
    await go1.waitEvent((e) => e.ev === 'ready', 10_000);
    await go2.waitEvent((e) => e.ev === 'ready', 10_000);
    const ts = await startTs('ts1');
    await ts.ml.join([go1.addr, go2.addr]);
    await waitFor(() => ts.ml.members().length === 3, { timeoutMs: 10_000, what: '3 members' });
    for (const g of [go1, go2]) {
      await g.request('joinnet n1', 'joinnet');
      await g.request(`create t1 n1 k-${g.opts.name} v`, 'create');
    }
    await ts.db.joinNetwork('n1');
    ts.db.createEntry('t1', 'n1', 'k-ts1', Buffer.from('v'));
    await waitFor(() => ts.db.getTableByNetwork('t1', 'n1').size === 3, { timeoutMs: 5_000, what: 'vxmesh has all 3 entries' });
    await waitFor(() => dockerSaw(go1, 'create', 'k-ts1') && dockerSaw(go2, 'create', 'k-ts1'), { timeoutMs: 5_000, what: 'Docker has the vxmesh entry' });
    // go2 must hold go1's entry before go1 dies: once go2 marks go1 failed it ignores go1's entries
    // (arriving late, relayed), so an entry it never had would never "leave" (a CI run waited 120 s).
    await waitFor(() => dockerSaw(go2, 'create', 'k-go1') && dockerSaw(go1, 'create', 'k-go2'), { timeoutMs: 5_000, what: "each Docker node has the other's entry" });

    go1.kill();
    await waitFor(() => saw(ts, 'delete', 'k-go1'), { timeoutMs: 20_000, what: "vxmesh drops the killed Docker node's entry" });
    // Docker<->Docker detection (go2 must itself find go1 dead: a relayed dead message is only a
    // suspicion to Go memberlist); on a timeout, show what go2 logged about go1.
    await waitFor(() => dockerSaw(go2, 'delete', 'k-go1'), { timeoutMs: 120_000, what: "Docker drops the killed Docker node's entry" }).catch((e: unknown) => {
      const aboutGo1 = go2.stderr.split('\n').filter((l) => l.includes('go1')).slice(-20).join('\n');
      throw new Error(`${e instanceof Error ? e.message : String(e)}\ngo2's log lines about go1:\n${aboutGo1}`);
    });
    expect([...ts.db.getTableByNetwork('t1', 'n1').keys()].sort()).toEqual(['k-go2', 'k-ts1']);

    await crashTs(ts);
    await waitFor(() => dockerSaw(go2, 'delete', 'k-ts1'), { timeoutMs: 60_000, what: "Docker drops the crashed vxmesh node's entry" });
    expect(await go2.table('t1', 'n1')).toEqual({ 'k-go2': 'v' });
    expectDockerUnbothered(go2);
    // Docker runs memberlist's LAN defaults (probe 1 s, suspicion 4 s) and Lifeguard stretches its probe
    // interval when this shared machine is loaded: the deadlines above are generous on purpose; the
    // detection time itself is bench/gossip-failure.mjs's business. (Once, in CI dry run, go2 needed over
    // 30 s to drop a killed go1 under load, and once over 60 s: Docker↔Docker detection, with Lifeguard's stretched probes.)
  }, 300_000);

  it('network leave and graceful cluster leave, both ways, take the leaver\'s entries with them', async () => {
    const go1 = startDocker('go1');
    const go2 = startDocker('go2');
    await go1.waitEvent((e) => e.ev === 'ready', 10_000);
    await go2.waitEvent((e) => e.ev === 'ready', 10_000);
    const ts = await startTs('ts1');
    await ts.ml.join([go1.addr, go2.addr]);
    await waitFor(() => ts.ml.members().length === 3, { timeoutMs: 10_000, what: '3 members' });
    for (const g of [go1, go2]) {
      await g.request('joinnet n1', 'joinnet');
      await g.request(`create t1 n1 k-${g.opts.name} v`, 'create');
    }
    await ts.db.joinNetwork('n1');
    ts.db.createEntry('t1', 'n1', 'k-ts1', Buffer.from('v'));
    await waitFor(() => ts.db.getTableByNetwork('t1', 'n1').size === 3, { timeoutMs: 5_000, what: 'vxmesh has all 3 entries' });
    await waitFor(() => dockerSaw(go1, 'create', 'k-ts1') && dockerSaw(go2, 'create', 'k-ts1'), { timeoutMs: 5_000, what: 'Docker has the vxmesh entry' });

    await go1.request('leavenet n1', 'leavenet');
    await waitFor(() => saw(ts, 'delete', 'k-go1') && !ts.db.peers('n1').some((p) => p.name === 'go1'), { timeoutMs: 5_000, what: 'Docker network leave at vxmesh' });
    ts.db.leaveNetwork('n1');
    await waitFor(() => dockerSaw(go2, 'delete', 'k-ts1'), { timeoutMs: 5_000, what: 'vxmesh network leave at Docker' });
    expect(await go2.peers('n1')).toEqual(['go2']);

    await go2.request('close', 'closed');
    await waitFor(() => ts.ml.allNodes().find((n) => n.name === 'go2')?.state === 'left', { timeoutMs: 5_000, what: 'Docker graceful leave seen as left' });
    await ts.db.leaveCluster(1_000);
    await ts.ml.leave(2_000);
    const left = await waitFor(() => go1.peers(), { what: 'Docker drops the vxmesh node that left', timeoutMs: 5_000, until: (p) => !p.includes('ts1') });
    expect(left).toEqual(['go1']);
    expectDockerUnbothered(go1);
  }, 60_000);

  it('AES-128 keys: an encrypted cluster carries entries both ways; a node with another key cannot join', async () => {
    const key = randomBytes(16);
    const go1 = startDocker('go1', [key]);
    await go1.waitEvent((e) => e.ev === 'ready', 10_000);
    await go1.request('joinnet n1', 'joinnet');
    await go1.request('create t1 n1 kgo secret-go', 'create');
    const ts = await startTs('ts1', key);
    await ts.ml.join([go1.addr]);
    await ts.db.joinNetwork('n1');
    await waitFor(() => ts.db.getEntry('t1', 'n1', 'kgo')?.toString() === 'secret-go', { timeoutMs: 5_000, what: 'entry over encrypted bulk sync' });
    ts.db.createEntry('t1', 'n1', 'kts', Buffer.from('secret-ts'));
    await go1.waitEvent((e) => e.ev === 'watch' && e.kind === 'create' && e.key === 'kts' && e.value === 'secret-ts', 5_000);

    const stranger = await startTs('ts2', randomBytes(16));
    await expect(stranger.ml.join([go1.addr])).rejects.toThrow(/memberlist/);
    const plain = await startTs('ts3');
    await expect(plain.ml.join([go1.addr])).rejects.toThrow(/memberlist/);
    expect(await go1.peers()).toEqual(['go1', 'ts1']);
    expectDockerUnbothered(go1);
  }, 60_000);

  it('key rotation as swarm does it (add, make primary, remove the old key) keeps entries flowing both ways', async () => {
    const [k1, k2] = [randomBytes(16), randomBytes(16)];
    const go1 = startDocker('go1', [k1]);
    await go1.waitEvent((e) => e.ev === 'ready', 10_000);
    await go1.request('joinnet n1', 'joinnet');
    const ts = await startTs('ts1', k1);
    await ts.ml.join([go1.addr]);
    await ts.db.joinNetwork('n1');

    await go1.request(`setkey ${k2.toString('base64')}`, 'key');
    ts.keyring!.addKey(k2);
    await go1.request(`setprimary ${k2.toString('base64')}`, 'key');
    ts.keyring!.useKey(k2);
    await go1.request(`removekey ${k1.toString('base64')}`, 'key');
    ts.keyring!.removeKey(k1);
    expect(ts.keyring!.getKeys()).toEqual([k2]);

    ts.db.createEntry('t1', 'n1', 'after-ts', Buffer.from('v'));
    await go1.waitEvent((e) => e.ev === 'watch' && e.kind === 'create' && e.key === 'after-ts', 5_000);
    await go1.request('create t1 n1 after-go v', 'create');
    await waitFor(() => saw(ts, 'create', 'after-go'), { timeoutMs: 5_000, what: 'Docker entry after the rotation' });
    // A node that only has the retired key is shut out.
    const stale = await startTs('ts2', k1);
    await expect(stale.ml.join([go1.addr])).rejects.toThrow(/memberlist/);
    expectDockerUnbothered(go1);
  }, 60_000);
});
