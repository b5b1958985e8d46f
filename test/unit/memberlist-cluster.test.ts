// In-process memberlist clusters on the mem transport: join, failure detection,
// Waits are conditions with generous deadlines (15 s): they return as soon as the condition holds, and a
// busy machine (2 cores shared with netns tests) must not turn a slow round into a failure.
// refutation, graceful leave, user broadcasts, encryption.
import { afterEach, describe, expect, it } from 'vitest';
import { Keyring, MemNetwork } from '../../src/gossip/memberlist/index.js';
import { encodeSuspect, encodeDead } from '../../src/gossip/memberlist/messages.js';
import { startCluster, stateOf, stopAll, waitFor, type TestNode } from '../interop/helpers/mem-cluster.js';

let running: TestNode[] = [];
afterEach(async () => {
  await stopAll(running);
  running = [];
});

describe('memberlist cluster on the mem transport', () => {
  it('joins: every node lists every other node as alive, with meta, and user state is exchanged', async () => {
    const net = new MemNetwork();
    running = await startCluster(net, 5);
    await waitFor(() => running.every((n) => n.ml.numMembers() === 5), 15_000, 'full membership');
    for (const n of running) {
      expect(n.ml.members().map((m) => m.name).sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
      expect(n.ml.members().find((m) => m.name === 'n3')!.meta.toString()).toBe('n3');
      expect(n.d.joins.length).toBe(5);
    }
    // the join push/pull carried delegate state both ways
    expect(running[0]!.d.remoteStates).toContain('state-of-n1');
    expect(running[1]!.d.remoteStates).toContain('state-of-n0');
  });

  it('pingUdp: a direct ping/ack round trip to a member; none for a node that is down or unknown', async () => {
    const net = new MemNetwork();
    running = await startCluster(net, 3);
    await waitFor(() => running.every((n) => n.ml.numMembers() === 3), 5000, 'full membership');
    const rtt = await running[0]!.ml.pingUdp('n1', 1000);
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(1000);
    expect(await running[0]!.ml.pingUdp('nobody', 100)).toBeUndefined();
    net.setDown(running[2]!.addr, true);
    expect(await running[0]!.ml.pingUdp('n2', 200)).toBeUndefined();
  });

  it('detects a crashed node: suspect, then dead after the suspicion timeout', async () => {
    const net = new MemNetwork();
    running = await startCluster(net, 4);
    await waitFor(() => running.every((n) => n.ml.numMembers() === 4), 15_000, 'full membership');
    net.setDown(running[3]!.addr, true);
    const others = running.slice(0, 3);
    await waitFor(() => others.some((n) => stateOf(n.ml, 'n3') === 'suspect'), 15_000, 'suspect');
    const t = await waitFor(() => others.every((n) => stateOf(n.ml, 'n3') === 'dead'), 15_000, 'dead everywhere');
    expect(t).toBeGreaterThan(0);
    for (const n of others) {
      expect(n.ml.members().map((m) => m.name)).not.toContain('n3');
      expect(n.d.leaves).toContainEqual({ name: 'n3', state: 'dead' });
    }
  });

  it('refutes a suspicion about itself with a higher incarnation and stays alive everywhere', async () => {
    const net = new MemNetwork();
    running = await startCluster(net, 3);
    await waitFor(() => running.every((n) => n.ml.numMembers() === 3), 15_000, 'full membership');
    const target = running[1]!;
    const before = target.ml.localNode().incarnation;
    // n2 accuses n1 (inject into n2, which gossips it; n1 must refute)
    running[2]!.ml.ingestPacket(encodeSuspect({ incarnation: before, node: 'n1', from: 'n2' }), running[2]!.addr);
    expect(stateOf(running[2]!.ml, 'n1')).toBe('suspect');
    await waitFor(() => target.ml.localNode().incarnation > before, 15_000, 'refutation');
    const inc = target.ml.localNode().incarnation;
    await waitFor(
      () => running.every((n) => n.ml.allNodes().some((m) => m.name === 'n1' && m.state === 'alive' && m.incarnation === inc)),
      15_000,
      'refutation seen by all',
    );
    // a dead message about ourselves is refuted too
    target.ml.ingestPacket(encodeDead({ incarnation: inc, node: 'n1', from: 'n0' }), running[0]!.addr);
    expect(target.ml.localNode().incarnation).toBeGreaterThan(inc);
    expect(target.ml.localNode().state).toBe('alive');
  });

  it('graceful leave is seen as left (not dead) by the others', async () => {
    const net = new MemNetwork();
    running = await startCluster(net, 3);
    await waitFor(() => running.every((n) => n.ml.numMembers() === 3), 15_000, 'full membership');
    await running[2]!.ml.leave(2000);
    await waitFor(() => running.slice(0, 2).every((n) => stateOf(n.ml, 'n2') === 'left'), 15_000, 'left');
    expect(running[0]!.d.leaves).toContainEqual({ name: 'n2', state: 'left' });
    expect(running[0]!.ml.numMembers()).toBe(2);
  });

  it('user broadcasts reach every node; best-effort and reliable user messages arrive', async () => {
    const net = new MemNetwork();
    running = await startCluster(net, 4);
    await waitFor(() => running.every((n) => n.ml.numMembers() === 4), 15_000, 'full membership');
    running[0]!.d.broadcast('hello-all');
    await waitFor(() => running.slice(1).every((n) => n.d.received.includes('hello-all')), 15_000, 'broadcast');
    await running[1]!.ml.sendBestEffort('n2', Buffer.from('udp-direct'));
    await running[1]!.ml.sendReliable('n3', Buffer.from('tcp-direct'.repeat(500)));
    await waitFor(() => running[2]!.d.received.includes('udp-direct'), 2000, 'udp user msg');
    await waitFor(() => running[3]!.d.received.includes('tcp-direct'.repeat(500)), 2000, 'tcp user msg');
    await expect(running[1]!.ml.sendReliable('nobody', Buffer.from('x'))).rejects.toThrow(/unknown/);
  });

  it('encrypted cluster works; a node with another key or no key cannot join', async () => {
    const net = new MemNetwork();
    const key = Buffer.alloc(16, 3);
    running = await startCluster(net, 3, { keyring: new Keyring(key) });
    await waitFor(() => running.every((n) => n.ml.numMembers() === 3), 15_000, 'encrypted membership');
    running[0]!.d.broadcast('secret');
    await waitFor(() => running.slice(1).every((n) => n.d.received.includes('secret')), 15_000, 'encrypted broadcast');

    const wrongKey = await startCluster(net, 1, { keyring: new Keyring(Buffer.alloc(16, 4)) }, 'bad', 100);
    const noKey = await startCluster(net, 1, {}, 'plain', 110);
    // distinct addresses from the main cluster
    running.push(...wrongKey, ...noKey);
    await expect(wrongKey[0]!.ml.join([running[0]!.addr])).rejects.toThrow();
    await expect(noKey[0]!.ml.join([running[0]!.addr])).rejects.toThrow(/encrypt/i);
    await new Promise((r) => setTimeout(r, 300));
    expect(running[0]!.ml.members().map((m) => m.name).sort()).toEqual(['n0', 'n1', 'n2']);
    expect(running[0]!.ml.rejectedCounts().get('decrypt failed') ?? 0).toBeGreaterThan(0);
  });

  it('labels: nodes with different labels do not mix', async () => {
    const net = new MemNetwork();
    running = await startCluster(net, 2, { label: 'blue' });
    await waitFor(() => running.every((n) => n.ml.numMembers() === 2), 15_000, 'labelled membership');
    const red = await startCluster(net, 1, { label: 'red' }, 'red', 120);
    running.push(...red);
    await expect(red[0]!.ml.join([running[0]!.addr])).rejects.toThrow();
    expect(running[0]!.ml.numMembers()).toBe(2);
    expect(running[0]!.ml.rejectedCounts().get('label mismatch')).toBeGreaterThan(0);
  });
});
