// NetworkDB.watch is list-then-watch, and a bulk sync always carries a COMPOUND batch (even an
// empty one), as Docker's does.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  MessageType,
  NetworkDB,
  NetworkEventType,
  decodeBulkSyncMessage,
  decodeCompoundMessage,
  decodeGossipMessage,
  encodeNetworkEvent,
  wrapGossip,
  type TableChange,
} from '../../src/gossip/networkdb/index.js';
import type { Cluster, NodeInfo } from '../../src/gossip/memberlist/types.js';

const silent = pino({ level: 'silent' });
const short = (c: TableChange): string => `${c.type} ${c.nid}/${c.key}=${c.value.toString()}`;

async function dbWithEntries(): Promise<NetworkDB> {
  const db = new NetworkDB({ nodeName: 'a', logger: silent });
  await db.joinNetwork('n1');
  await db.joinNetwork('n2');
  db.createEntry('t1', 'n1', 'k1', Buffer.from('v1'));
  db.createEntry('t1', 'n1', 'k2', Buffer.from('v2'));
  db.createEntry('t2', 'n1', 'k3', Buffer.from('v3'));
  db.createEntry('t1', 'n2', 'k4', Buffer.from('v4'));
  db.deleteEntry('t1', 'n1', 'k2');
  return db;
}

describe('NetworkDB.watch: list, then watch', () => {
  it('a new watcher first gets every live entry it matches, then live changes', async () => {
    const db = await dbWithEntries();
    const seen: string[] = [];
    const stop = db.watch('t1', 'n1', (c) => seen.push(short(c)));
    expect(seen).toEqual(['create n1/k1=v1']);
    db.updateEntry('t1', 'n1', 'k1', Buffer.from('v1b'));
    db.createEntry('t1', 'n2', 'k5', Buffer.from('other network'));
    expect(seen).toEqual(['create n1/k1=v1', 'update n1/k1=v1b']);
    stop();
    db.deleteEntry('t1', 'n1', 'k1');
    expect(seen).toHaveLength(2);
    db.close();
  });

  it('a watcher of every network lists all of them; owners are reported', async () => {
    const db = await dbWithEntries();
    const seen: TableChange[] = [];
    db.watch('t1', undefined, (c) => seen.push(c));
    expect(seen.map(short).sort()).toEqual(['create n1/k1=v1', 'create n2/k4=v4']);
    expect(seen.every((c) => c.owner === 'a')).toBe(true);
    db.close();
  });

  it('changes made by the callback during the listing arrive after it, in order', async () => {
    const db = await dbWithEntries();
    const seen: string[] = [];
    db.watch('t1', 'n1', (c) => {
      seen.push(short(c));
      if (c.key === 'k1' && c.type === 'create') {
        db.updateEntry('t1', 'n1', 'k1', Buffer.from('x'));
        db.createEntry('t1', 'n1', 'k9', Buffer.from('y'));
      }
    });
    expect(seen).toEqual(['create n1/k1=v1', 'update n1/k1=x', 'create n1/k9=y']);
    db.close();
  });
});

describe('NetworkDB bulk sync', () => {
  it('with no entries to send, still carries an empty COMPOUND (Docker logs "unknown message type 0" otherwise)', async () => {
    const sent: Array<{ node: string; msg: Buffer }> = [];
    const peer: NodeInfo = { name: 'b', addr: '127.0.0.2', port: 7946, meta: Buffer.alloc(0), state: 'alive', incarnation: 1, vsn: [1, 5, 2, 0, 0, 0] };
    const cluster: Cluster = {
      localName: 'a',
      members: () => [peer],
      numMembers: () => 2,
      join: () => Promise.resolve(1),
      sendBestEffort: () => Promise.resolve(),
      sendReliable: (node, msg) => {
        sent.push({ node, msg });
        return Promise.resolve();
      },
      leave: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const db = new NetworkDB({ nodeName: 'a', logger: silent, bulkSyncTimeoutMs: 50 });
    db.attach(cluster);
    db.notifyMsg(wrapGossip(MessageType.NETWORK_EVENT, encodeNetworkEvent({ type: NetworkEventType.JOIN, lTime: 1n, nodeName: 'b', networkId: 'n1' })));
    await db.joinNetwork('n1');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.node).toBe('b');
    const g = decodeGossipMessage(sent[0]!.msg);
    expect(g.type).toBe(MessageType.BULK_SYNC);
    const bsm = decodeBulkSyncMessage(g.data);
    expect(bsm.networks).toEqual(['n1']);
    // GossipMessage{type: COMPOUND} with an empty CompoundMessage: gogo omits the empty data field.
    expect(bsm.payload.toString('hex')).toBe('0805');
    const inner = decodeGossipMessage(bsm.payload);
    expect(inner.type).toBe(MessageType.COMPOUND);
    expect(decodeCompoundMessage(inner.data).messages).toHaveLength(0);
    db.close();
  });
});
