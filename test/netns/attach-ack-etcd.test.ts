// Attach on a shared store acknowledges in a host-local log and writes `ready` to etcd off its path
// (src/overlay/ready-writer.ts). What a user must still get: an attach that returned is plumbed,
// listed and survives a crash of the agent even though etcd never saw `ready`; with etcd slow the
// store catches up on its own, without a restart. A relay in front of etcd (etcd-gate.mjs) holds the
// agent's requests from the instant its `pending` record is written, so the `ready` write is held.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi, type ApiClient } from '../../src/api/client.js';
import { EtcdServer } from '../support/etcd-server.js';
import { waitFor } from '../support/wait.js';
import { Harness, ROOT, canPing, type AgentProcess } from '../helpers/netns.js';

let h: Harness;
let etcd: EtcdServer;
let gate: Gate;
let agent: AgentProcess;
let api: ApiClient;
let prefix: string;

/** The relay process and its line protocol (see etcd-gate.mjs). */
class Gate {
  private readonly lines: string[] = [];
  private readonly waiting: Array<(line: string) => void> = [];
  private readonly rl: Interface;

  constructor(readonly child: ChildProcess) {
    this.rl = createInterface({ input: child.stdout! });
    this.rl.on('line', (l) => (this.waiting.length ? this.waiting.shift()!(l) : this.lines.push(l)));
  }

  next(timeoutMs = 10_000): Promise<string> {
    if (this.lines.length) return Promise.resolve(this.lines.shift()!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('etcd gate said nothing')), timeoutMs);
      this.waiting.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  }

  async ask(cmd: string): Promise<string> {
    this.child.stdin!.write(`${cmd}\n`);
    return this.next();
  }

  /** The endpoint record as etcd holds it. */
  async record(id: string): Promise<{ state: string } | undefined> {
    const line = await this.ask(`get ${prefix}endpoints/${id}`);
    return line === 'value none' ? undefined : (JSON.parse(line.slice('value '.length)) as { state: string });
  }

  kill(): void {
    this.rl.close();
    this.child.kill('SIGKILL');
  }
}

beforeAll(async () => {
  h = new Harness();
  const host = h.host(1);
  const etcdNs = h.host(9);
  etcd = await EtcdServer.start({ netns: etcdNs, host: '198.51.100.9' });
  const port = randomInt(40000, 50000);
  gate = new Gate(spawn('nsenter', [`--net=/run/netns/${etcdNs}`, process.execPath, join(ROOT, 'test/netns/etcd-gate.mjs'), '198.51.100.9', String(port), '198.51.100.9', String(etcd.clientPort)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  expect(await gate.next()).toBe('listening');
  prefix = `/vxt-${h.prefix}/`;
  agent = h.agent(host, ['--store', `etcd://198.51.100.9:${port}`, '--store-prefix', prefix, '--node-name', 'node1']);
  await agent.start();
  api = connectApi(agent.socket, { timeoutMs: 30_000 });
}, 60_000);

afterAll(async () => {
  api?.close();
  gate?.kill();
  await h?.cleanup();
  await etcd?.stop();
}, 60_000);

/** Attaches `netns` while the relay holds every agent request sent after its pending record is written. */
async function attachHeld(network: string, netns: string) {
  expect(await gate.ask(`arm ${prefix}endpoints/`)).toBe('armed');
  const ep = await api.attach({ network, netns });
  expect(await gate.next()).toMatch(/^held /);
  return ep;
}

describe('attach acknowledged ahead of etcd (host-local ack log)', () => {
  it('an attach that returned while etcd had not seen `ready` is plumbed and listed, survives kill -9, and is ready in etcd after the restart', async () => {
    await api.createNetwork({ name: 'acks', subnet: '10.61.0.0/24' });
    const [w1, w2] = h.workloads(['a1', 'a2']);
    const first = await api.attach({ network: 'acks', netns: w1! });

    const held = await attachHeld('acks', w2!);
    // Acknowledged here: listed, its interface works; etcd still says pending.
    expect((await api.listEndpoints('acks')).map((e) => e.id)).toContain(held.id);
    expect(canPing(w2!, first.ipv4.split('/')[0]!)).toBe(true);
    expect((await gate.record(held.id))?.state).toBe('pending');

    await agent.kill9();
    expect(await gate.ask('release')).toBe('released');
    expect((await gate.record(held.id))?.state).toBe('pending'); // nobody wrote it: the agent is gone

    await agent.start();
    api.close();
    api = connectApi(agent.socket, { timeoutMs: 30_000 });
    expect((await gate.record(held.id))?.state).toBe('ready');
    const listed = await api.listEndpoints('acks');
    expect(listed.map((e) => e.id).sort()).toEqual([first.id, held.id].sort());
    expect(listed.find((e) => e.id === held.id)?.ipv4).toBe(held.ipv4);
    expect(canPing(w2!, first.ipv4.split('/')[0]!)).toBe(true);
    expect(canPing(w1!, held.ipv4.split('/')[0]!)).toBe(true);
  }, 60_000);

  it('with etcd slow to take `ready`, the record becomes ready by itself once it can; a detach meanwhile leaves nothing behind', async () => {
    const [w3, w4] = h.workloads(['a3', 'a4']);
    const held = await attachHeld('acks', w3!);
    expect((await gate.record(held.id))?.state).toBe('pending');
    // status says what the store is owed
    expect((await agent.json<{ store?: { owedReady?: number } }>('status')).store?.owedReady).toBe(1);
    expect((await agent.cli('status')).stdout).toContain('1 attach(es) acknowledged here, their ready record not in the store yet');
    expect(await gate.ask('release')).toBe('released');
    await waitFor(async () => (await gate.record(held.id))?.state, { what: 'ready in etcd without a restart', until: (s) => s === 'ready', timeoutMs: 15_000 });
    await waitFor(async () => (await agent.json<{ store?: { owedReady?: number } }>('status')).store?.owedReady, { what: 'nothing owed', until: (n) => n === undefined, timeoutMs: 5_000 });

    // Detached before its ready write could land: the write must not bring the record back.
    const second = await attachHeld('acks', w4!);
    const detaching = api.detach(second.id);
    expect(await gate.ask('release')).toBe('released');
    await detaching;
    await waitFor(async () => gate.record(second.id), { what: 'record gone from etcd', until: (r) => r === undefined, timeoutMs: 10_000 });
    // A later write queues behind any ready write still owed: the detached record stays gone.
    const after = await api.attach({ network: 'acks', netns: w4! });
    await waitFor(async () => (await gate.record(after.id))?.state, { what: 'next attach ready in etcd', until: (s) => s === 'ready', timeoutMs: 10_000 });
    expect(await gate.record(second.id)).toBeUndefined();
    expect((await api.listEndpoints('acks')).map((e) => e.id)).not.toContain(second.id);
  }, 60_000);
});
