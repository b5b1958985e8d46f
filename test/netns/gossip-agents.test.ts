// Agents gossiping over a real underlay: three netns hosts on a switch, memberlist on :7946.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, type AgentProcess } from '../helpers/netns.js';
import { EtcdServer } from '../support/etcd-server.js';
import { sleep, waitFor as waitUntil } from '../support/wait.js';

interface Node { name: string; addr: string; state: string; self: boolean }
interface KeyResult { keys: string[]; primary: string; nodes: number; failed: unknown[] }

process.env.VXMESH_GOSSIP_PROFILE = 'fast'; // inherited by the agents: probe 200 ms, gossip 50 ms
const h = new Harness();
// --join needs a shared store: one etcd on the underlay, in a namespace of its own.
let etcd: EtcdServer | undefined;
beforeAll(async () => {
  etcd = await EtcdServer.start({ netns: h.host(9), host: '198.51.100.9' });
  process.env.VXMESH_STORE = etcd.storeUrl; // inherited by the agents
  process.env.VXMESH_STORE_PREFIX = `/vxt-${h.prefix}/`;
});
afterAll(async () => {
  await etcd?.stop();
  await h.cleanup();
});

const waitFor = <T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> =>
  waitUntil(fn, { what, until: ok, timeoutMs: ms, intervalMs: 200 });

const RETRYING = /cannot reach any gossip peer yet; retrying/g;
/** How many join attempts an agent has logged as failed (its join loop retries after 1 s, 2 s, 4 s...). */
const failedJoins = (a: AgentProcess) => a.log.match(RETRYING)?.length ?? 0;

const states = async (a: AgentProcess) =>
  Object.fromEntries((await a.json<Node[]>('node', 'ls')).map((n) => [n.addr, n.state]));

describe('agents form a gossip cluster', () => {
  const keyA = randomBytes(32).toString('base64');
  const keyB = randomBytes(32).toString('base64');
  let agents: AgentProcess[] = [];

  it('joins (retrying a peer that is not up yet), lists members, marks a killed agent dead', async () => {
    const hosts = [1, 2, 3].map((k) => h.host(k));
    const keyFile = (k: number) => {
      const f = join(h.tmp, `key${k}`);
      writeFileSync(f, keyA + '\n', { mode: 0o600 });
      return f;
    };
    agents = hosts.map((host, i) => h.agent(host, ['--gossip-key-file', keyFile(i + 1), ...(i > 0 ? ['--join', '198.51.100.1'] : [])]));
    // 2 and 3 start first and must keep retrying until 1 is up: each has failed twice before 1 starts
    await agents[1]!.start();
    await agents[2]!.start();
    for (const a of agents.slice(1)) await waitUntil(() => failedJoins(a), { what: `two failed joins by ${a.host}`, until: (n) => n >= 2 });
    await agents[0]!.start();
    for (const a of agents) {
      await waitFor('3 alive members', () => states(a), (s) => Object.values(s).filter((x) => x === 'alive').length === 3);
    }
    const st = await agents[0]!.json<{ gossip: { alive: number; encrypted: boolean; addr: string; port: number } }>('status');
    expect(st.gossip).toMatchObject({ alive: 3, encrypted: true, addr: '198.51.100.1', port: 7946 });
    const self = await agents[0]!.json<Node[]>('node', 'ls');
    expect(self.filter((n) => n.self).map((n) => n.addr)).toEqual(['198.51.100.1']);

    await agents[2]!.kill9();
    for (const a of agents.slice(0, 2)) {
      await waitFor('agent 3 dead', () => states(a), (s) => s['198.51.100.3'] === 'dead', 15_000);
    }
    await agents[2]!.start(); // same data dir, same node name: it comes back alive
    await waitFor('agent 3 back', () => states(agents[0]!), (s) => s['198.51.100.3'] === 'alive', 15_000);
  });

  it('refuses a node with another key, and rotates keys cluster-wide', async () => {
    const stranger = h.host(4);
    const f = join(h.tmp, 'key4');
    writeFileSync(f, keyB + '\n');
    const s = h.agent(stranger, ['--gossip-key-file', f, '--join', '198.51.100.1']);
    await s.start();
    // Refused, not just slow: it tried twice (1 s apart) and the cluster still does not list it.
    await waitUntil(() => failedJoins(s), { what: 'two refused joins by the stranger', until: (n) => n >= 2 });
    expect(Object.keys(await states(agents[0]!))).not.toContain('198.51.100.4');
    expect(Object.keys(await states(s))).toEqual(['198.51.100.4']);
    await s.kill9();

    const install = await agents[0]!.json<KeyResult>('gossip', 'key', 'install', keyB);
    expect(install.failed).toEqual([]);
    expect(install.nodes).toBe(3);
    for (const a of agents) expect((await a.json<KeyResult>('gossip', 'key', 'ls')).keys.sort()).toEqual([keyA, keyB].sort());
    await agents[1]!.json('gossip', 'key', 'use', keyB);
    const removed = await agents[2]!.json<KeyResult>('gossip', 'key', 'remove', keyA);
    expect(removed.failed).toEqual([]);
    for (const a of agents) expect(await a.json<KeyResult>('gossip', 'key', 'ls')).toMatchObject({ keys: [keyB], primary: keyB });
    const refused = await agents[0]!.cli('gossip', 'key', 'remove', keyB);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/primary/);
    // Time is the thing tested here: after the rotation nobody is suspected or dropped for several
    // probe rounds (the fast profile probes every 200 ms), so a pause, not a condition.
    await sleep(1500);
    for (const a of agents) {
      expect(Object.values(await states(a)).filter((x) => x === 'alive')).toHaveLength(3);
    }
    // the stranger (keyB only) is now welcome: the cluster speaks keyB
    await s.start();
    await waitFor('stranger joined', () => states(agents[0]!), (st) => st['198.51.100.4'] === 'alive', 15_000);
  });
});
