// NetworkDB behaviour across many in-process nodes wired through SimHub (a memberlist stand-in),
// driven by fake timers so simulated minutes take milliseconds.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FAST_TEST_PROFILE,
  MessageType,
  NetworkDB,
  type TableChange,
  TableEventType,
  encodeTableEvent,
  wrapGossip,
} from '../../src/gossip/networkdb/index.js';
import type { Delegate } from '../../src/gossip/memberlist/types.js';
import { SimHub } from '../support/sim-hub.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

interface Node {
  name: string;
  db: NetworkDB;
  /** Every user message delivered to this node, raw. */
  inbox: Buffer[];
  events: TableChange[];
}

interface World {
  hub: SimHub;
  nodes: Node[];
  byName: Map<string, Node>;
}

function build(count: number, seed = 1): World {
  const random = rng(seed);
  const hub = new SimHub({ gossipIntervalMs: 50, pushPullIntervalMs: 2_000, random });
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const name = `node${i}`;
    const db = new NetworkDB({ nodeName: name, ...FAST_TEST_PROFILE, random });
    const node: Node = { name, db, inbox: [], events: [] };
    // Spy on what reaches the node, without changing what it does.
    const spy: Delegate = {
      nodeMeta: (l) => db.nodeMeta(l),
      notifyMsg: (m) => {
        node.inbox.push(m);
        db.notifyMsg(m);
      },
      getBroadcasts: (o, l) => db.getBroadcasts(o, l),
      localState: (j) => db.localState(j),
      mergeRemoteState: (b, j) => db.mergeRemoteState(b, j),
    };
    const cluster = hub.add(name, spy, db);
    db.attach(cluster);
    hub.join(name, i > 0 ? 'node0' : undefined);
    nodes.push(node);
  }
  hub.start();
  return { hub, nodes, byName: new Map(nodes.map((n) => [n.name, n])) };
}

/** Advance simulated time in small steps until `cond` holds; returns the simulated ms it took. */
async function until(cond: () => boolean, maxMs: number, what: string): Promise<number> {
  let t = 0;
  while (!cond()) {
    if (t >= maxMs) throw new Error(`not converged after ${maxMs} simulated ms: ${what}`);
    await vi.advanceTimersByTimeAsync(25);
    t += 25;
  }
  return t;
}

async function joinAll(nodes: Node[], nid: string, table = 't'): Promise<void> {
  for (const n of nodes) {
    await n.db.joinNetwork(nid);
    n.db.watch(table, nid, (c) => n.events.push(c));
  }
  await until(() => nodes.every((n) => n.db.peers(nid).length === nodes.length), 20_000, `membership of ${nid}`);
}

function tableDump(db: NetworkDB, table: string, nid: string): string {
  return JSON.stringify(
    [...db.getTableByNetwork(table, nid)].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.owner, v.value.toString()]),
  );
}

function close(w: World): void {
  w.hub.close();
  for (const n of w.nodes) n.db.close();
}

describe('NetworkDB over an in-process cluster', () => {
  let world: World | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    if (world) close(world);
    world = undefined;
    vi.useRealTimers();
  });

  it('an entry reaches every node of its network and no node outside it (40 nodes, 2 networks)', async () => {
    world = build(40);
    const inA = world.nodes.slice(0, 25);
    const inB = world.nodes.slice(25);
    await joinAll(inA, 'netA', 'secret-table');
    await joinAll(inB, 'netB', 'secret-table');

    const writer = inA[3] as Node;
    writer.db.createEntry('secret-table', 'netA', 'ep1', Buffer.from('10.0.0.5'));
    const took = await until(
      () => inA.every((n) => n.db.getEntry('secret-table', 'netA', 'ep1')?.toString() === '10.0.0.5'),
      5_000,
      'entry on every netA node',
    );
    expect(took).toBeLessThanOrEqual(2_000);
    // Give gossip and two bulk-sync periods the chance to leak, then look at every byte received.
    await vi.advanceTimersByTimeAsync(2_500);
    const marker = Buffer.from('secret-table');
    for (const n of inB) {
      expect(n.inbox.some((m) => m.includes(marker)), `${n.name} saw netA table traffic`).toBe(false);
      expect(n.db.getTableByNetwork('secret-table', 'netA').size).toBe(0);
      expect(n.events).toEqual([]);
    }
    for (const n of inA) {
      const expected = { type: 'create', table: 'secret-table', nid: 'netA', key: 'ep1', owner: writer.name };
      expect(n.events.map(({ value: _v, ...rest }) => rest)).toEqual([expected]);
      expect(n.db.getTableByNetwork('secret-table', 'netA').get('ep1')?.owner).toBe(writer.name);
    }

    // An update by another node wins and moves ownership; a delete removes it everywhere.
    (inA[10] as Node).db.updateEntry('secret-table', 'netA', 'ep1', Buffer.from('10.0.0.6'));
    await until(() => inA.every((n) => n.db.getEntry('secret-table', 'netA', 'ep1')?.toString() === '10.0.0.6'), 5_000, 'update');
    expect(inA.every((n) => n.db.getTableByNetwork('secret-table', 'netA').get('ep1')?.owner === 'node10')).toBe(true);
    writer.db.deleteEntry('secret-table', 'netA', 'ep1');
    await until(() => inA.every((n) => n.db.getEntry('secret-table', 'netA', 'ep1') === undefined), 5_000, 'delete');
    expect(inA.every((n) => n.events.at(-1)?.type === 'delete')).toBe(true);
  });

  it('rejects bad local writes with clear errors', async () => {
    world = build(1);
    const db = (world.nodes[0] as Node).db;
    expect(() => db.createEntry('t', 'nope', 'k', Buffer.from('v'))).toThrow(/network nope is not joined/);
    await db.joinNetwork('n');
    await expect(db.joinNetwork('n')).rejects.toThrow(/already joined/);
    expect(() => db.updateEntry('t', 'n', 'k', Buffer.from('v'))).toThrow(/no such entry/);
    db.createEntry('t', 'n', 'k', Buffer.from('v'));
    expect(() => db.createEntry('t', 'n', 'k', Buffer.from('v'))).toThrow(/already exists/);
    expect(() => db.createEntry('', 'n', 'k', Buffer.from('v'))).toThrow(/table must be a non-empty string/);
    db.deleteEntry('t', 'n', 'k');
    expect(() => db.deleteEntry('t', 'n', 'k')).toThrow(/no such entry/);
    // Re-creating over a tombstone is allowed.
    db.createEntry('t', 'n', 'k', Buffer.from('again'));
    expect(db.getEntry('t', 'n', 'k')?.toString()).toBe('again');
  });

  it('partition for 30 s then heal: tables end identical everywhere (20 nodes)', async () => {
    world = build(20, 7);
    const all = world.nodes;
    await joinAll(all, 'n1');
    all.forEach((n, i) => n.db.createEntry('t', 'n1', `base${i}`, Buffer.from(`v${i}`)));
    await until(() => all.every((n) => n.db.getTableByNetwork('t', 'n1').size === 20), 5_000, 'base entries');

    const left = all.slice(0, 10);
    const right = all.slice(10);
    world.hub.partition([left.map((n) => n.name), right.map((n) => n.name)]);
    // Each side drops the other side's entries as soon as it sees those nodes fail.
    expect(left.every((n) => n.db.getTableByNetwork('t', 'n1').size === 10)).toBe(true);
    expect(right.every((n) => n.db.getTableByNetwork('t', 'n1').size === 10)).toBe(true);

    // Both sides keep writing during the split.
    (left[0] as Node).db.createEntry('t', 'n1', 'left-new', Buffer.from('L'));
    (right[0] as Node).db.createEntry('t', 'n1', 'right-new', Buffer.from('R'));
    (right[1] as Node).db.deleteEntry('t', 'n1', 'base11');
    (left[2] as Node).db.updateEntry('t', 'n1', 'base2', Buffer.from('v2-updated'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect((left[5] as Node).db.getEntry('t', 'n1', 'right-new')).toBeUndefined();
    expect((right[5] as Node).db.getEntry('t', 'n1', 'left-new')).toBeUndefined();

    // Only reachability returns: the nodes must rediscover each other (NetworkDB's reconnect
    // loop re-joins failed nodes, then bulk-syncs with them).
    world.hub.heal(false);
    const reference = (): string => tableDump((all[0] as Node).db, 't', 'n1');
    const took = await until(
      () => all.every((n) => tableDump(n.db, 't', 'n1') === reference()) && (all[0] as Node).db.getTableByNetwork('t', 'n1').size === 21,
      30_000,
      'identical tables after heal',
    );
    const table = (all[13] as Node).db.getTableByNetwork('t', 'n1');
    expect(table.get('left-new')?.value.toString()).toBe('L');
    expect(table.get('right-new')?.value.toString()).toBe('R');
    expect(table.get('base2')?.value.toString()).toBe('v2-updated');
    expect(table.has('base11')).toBe(false);
    expect(took).toBeLessThan(30_000);
  });

  it('a delete beats a stale create, live and after a bulk sync to a late joiner', async () => {
    world = build(4, 3);
    const [a, b, c, late] = world.nodes as [Node, Node, Node, Node];
    await joinAll([a, b, c], 'n');
    a.db.createEntry('t', 'n', 'k', Buffer.from('v1'));
    await until(() => [b, c].every((n) => n.db.getEntry('t', 'n', 'k') !== undefined), 5_000, 'create');
    // Capture the create as it travelled, to replay it later as a stale duplicate.
    const staleCreate = wrapGossip(
      MessageType.TABLE_EVENT,
      encodeTableEvent({ type: TableEventType.CREATE, lTime: 1n, nodeName: 'node0', networkId: 'n', tableName: 't', key: 'k', value: Buffer.from('v1'), residualReapTime: 0 }),
    );
    a.db.deleteEntry('t', 'n', 'k');
    await until(() => [b, c].every((n) => n.db.getEntry('t', 'n', 'k') === undefined), 5_000, 'delete');

    const eventsBefore = b.events.length;
    b.db.notifyMsg(staleCreate);
    expect(b.db.getEntry('t', 'n', 'k')).toBeUndefined();
    expect(b.events.length).toBe(eventsBefore);

    // A node joining later learns the tombstone by bulk sync, and then also ignores the stale create.
    await late.db.joinNetwork('n');
    await until(() => late.db.peers('n').length === 4 && a.db.peers('n').length === 4, 10_000, 'late join membership');
    await vi.advanceTimersByTimeAsync(3_000); // a few bulk-sync periods
    late.db.notifyMsg(staleCreate);
    expect(late.db.getEntry('t', 'n', 'k')).toBeUndefined();

    // Once the tombstone is reaped (reapEntryInterval), the same replay would be accepted again:
    // that is exactly what the tombstone was protecting against.
    await vi.advanceTimersByTimeAsync(FAST_TEST_PROFILE.reapEntryIntervalMs as number);
    b.db.notifyMsg(staleCreate);
    expect(b.db.getEntry('t', 'n', 'k')?.toString()).toBe('v1');
  });

  it("a killed node's entries disappear everywhere and come back when it rejoins (12 nodes)", async () => {
    world = build(12, 11);
    const all = world.nodes;
    await joinAll(all, 'n');
    const victim = all[5] as Node;
    for (const k of ['a', 'b', 'c']) victim.db.createEntry('t', 'n', k, Buffer.from(k));
    (all[0] as Node).db.createEntry('t', 'n', 'keep', Buffer.from('x'));
    await until(() => all.every((n) => n.db.getTableByNetwork('t', 'n').size === 4), 5_000, 'entries everywhere');

    world.hub.kill(victim.name);
    const others = all.filter((n) => n !== victim);
    for (const n of others) {
      expect([...n.db.getTableByNetwork('t', 'n').keys()]).toEqual(['keep']);
      const deletes = n.events.filter((e) => e.type === 'delete').map((e) => `${e.key}@${e.owner}`).sort();
      expect(deletes).toEqual(['a@node5', 'b@node5', 'c@node5']);
      expect(n.db.peers('n').map((p) => p.name)).not.toContain(victim.name);
    }

    await vi.advanceTimersByTimeAsync(5_000);
    world.hub.revive(victim.name, 'node0');
    await until(() => all.every((n) => n.db.getTableByNetwork('t', 'n').size === 4), 15_000, 'entries restored');
    for (const n of others) expect(n.db.getTableByNetwork('t', 'n').get('b')?.owner).toBe(victim.name);
  });

  it('leaving a network deletes the leaver’s entries everywhere and drops it from peers', async () => {
    world = build(6, 5);
    const all = world.nodes;
    await joinAll(all, 'n');
    const leaver = all[2] as Node;
    leaver.db.createEntry('t', 'n', 'mine', Buffer.from('1'));
    await until(() => all.every((n) => n.db.getEntry('t', 'n', 'mine') !== undefined), 5_000, 'create');
    leaver.db.leaveNetwork('n');
    expect(leaver.db.getEntry('t', 'n', 'mine')).toBeUndefined();
    await until(
      () => all.every((n) => n.db.getEntry('t', 'n', 'mine') === undefined && !n.db.peers('n').some((p) => p.name === leaver.name)),
      5_000,
      'leave',
    );
    expect(() => leaver.db.createEntry('t', 'n', 'x', Buffer.from('1'))).toThrow(/not joined/);
  });

  it('a graceful cluster leave (NodeEvent LEAVE) removes the node’s entries before any failure detection', async () => {
    world = build(8, 9);
    const all = world.nodes;
    await joinAll(all, 'n');
    const goer = all[4] as Node;
    goer.db.createEntry('t', 'n', 'bye', Buffer.from('1'));
    await until(() => all.every((n) => n.db.getEntry('t', 'n', 'bye') !== undefined), 5_000, 'create');
    const others = all.filter((n) => n !== goer);
    const deletesBefore = others.map((n) => n.events.filter((e) => e.type === 'delete').length);
    const leaving = goer.db.leaveCluster(1_000);
    // The hub reports no failure yet: only the gossiped NodeEvent LEAVE can remove the entry.
    await until(() => others.every((n) => n.db.getEntry('t', 'n', 'bye') === undefined), 1_000, 'leave seen');
    expect(others.every((n) => !n.db.peers('n').some((p) => p.name === goer.name))).toBe(true);
    others.forEach((n, i) => expect(n.events.filter((e) => e.type === 'delete').length).toBe((deletesBefore[i] as number) + 1));
    await vi.advanceTimersByTimeAsync(1_000);
    await leaving;
  });

  it('close() stops all timers', async () => {
    world = build(3);
    await joinAll(world.nodes, 'n');
    close(world);
    world = undefined;
    expect(vi.getTimerCount()).toBe(0);
  });
});
