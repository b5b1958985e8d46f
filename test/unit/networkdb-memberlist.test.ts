// NetworkDB on the real memberlist implementation over its in-memory transport (real timers).

import { afterEach, describe, expect, it } from 'vitest';
import { FAST_TEST_PROFILE, NetworkDB } from '../../src/gossip/networkdb/index.js';
import { createMemberlist, fastTestConfig, MemNetwork, type Memberlist } from '../../src/gossip/memberlist/index.js';

interface Peer {
  name: string;
  addr: string;
  ml: Memberlist;
  db: NetworkDB;
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

let running: Peer[] = [];
afterEach(async () => {
  for (const p of running) {
    p.db.close();
    await p.ml.shutdown();
  }
  running = [];
});

async function start(net: MemNetwork, count: number): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) {
    const name = `ndb${i}`;
    const ip = `127.0.0.${i + 1}`;
    const db = new NetworkDB({ nodeName: name, ...FAST_TEST_PROFILE });
    const ml = await createMemberlist(fastTestConfig({ name, bindAddr: ip, bindPort: 7946, pushPullIntervalMs: 1_000 }), {
      transport: net.transport(),
      delegate: db,
      events: db,
    });
    db.attach(ml);
    peers.push({ name, addr: `${ip}:7946`, ml, db });
  }
  for (const p of peers.slice(1)) await p.ml.join([(peers[0] as Peer).addr]);
  return peers;
}

describe('NetworkDB on the real memberlist (mem transport)', () => {
  it('scoped propagation, failure removes entries, rejoin restores them', async () => {
    const net = new MemNetwork();
    running = await start(net, 6);
    await waitFor(() => running.every((p) => p.ml.numMembers() === 6), 20_000, 'memberlist membership');
    const inN = running.slice(0, 4);
    const outside = running.slice(4);
    for (const p of inN) await p.db.joinNetwork('n');
    for (const p of outside) await p.db.joinNetwork('other');
    await waitFor(() => inN.every((p) => p.db.peers('n').length === 4), 20_000, 'network membership via broadcasts');

    const [, b, c] = inN as [Peer, Peer, Peer, Peer];
    b.db.createEntry('overlay_peer_table', 'n', 'ep-b', Buffer.from('10.0.0.2'));
    c.db.createEntry('overlay_peer_table', 'n', 'ep-c', Buffer.from('10.0.0.3'));
    await waitFor(() => inN.every((p) => p.db.getTableByNetwork('overlay_peer_table', 'n').size === 2), 20_000, 'entries in n');
    for (const p of outside) expect(p.db.getTableByNetwork('overlay_peer_table', 'n').size).toBe(0);

    // Crash c: memberlist declares it dead, NetworkDB drops its entries everywhere.
    net.setDown(c.addr, true);
    const survivors = inN.filter((p) => p !== c);
    await waitFor(
      () => survivors.every((p) => p.db.getEntry('overlay_peer_table', 'n', 'ep-c') === undefined),
      30_000,
      'entries of the dead node removed',
    );
    expect(survivors.every((p) => p.db.getEntry('overlay_peer_table', 'n', 'ep-b')?.toString() === '10.0.0.2')).toBe(true);

    // Bring it back. Nobody calls join by hand: NetworkDB's reconnect loop re-joins failed
    // nodes, push/pull restores memberships and bulk sync restores the entries.
    net.setDown(c.addr, false);
    await waitFor(
      () => survivors.every((p) => p.db.getEntry('overlay_peer_table', 'n', 'ep-c')?.toString() === '10.0.0.3'),
      30_000,
      'entries restored after rejoin',
    );
    expect(c.db.getEntry('overlay_peer_table', 'n', 'ep-b')?.toString()).toBe('10.0.0.2');
  }, 120_000);
});
