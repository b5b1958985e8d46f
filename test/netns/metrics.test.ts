// --metrics-addr: an agent in a netns host serves Prometheus text; a scripted scenario (attach 2, a failed
// attach, detach 1, drift repaired, a gossip peer killed) moves the counters by exactly those amounts.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Harness, inNs, type AgentProcess } from '../helpers/netns.js';
import { EtcdServer } from '../support/etcd-server.js';
import { parsePromText, sampleValue, type PromFamily } from '../support/prom-text.js';
import { agentArgs, runAgentExpectingExit } from '../support/agent-exit.js';
import { waitFor } from '../support/wait.js';

const h = new Harness();
let etcd: EtcdServer | undefined;
afterAll(async () => {
  await h.cleanup();
  await etcd?.stop();
}, 60_000);

const ADDR = '198.51.100.1:9469';
const ROOT = join(import.meta.dirname, '../..');

/** dig inside a workload (a test tool: it may use ip netns exec; agents never do). Returns the status line's rcode. */
function digStatus(ns: string, ...args: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', ns.split('/').pop()!, 'dig', '@127.0.0.11', '+tries=1', '+time=3', ...args], { encoding: 'utf8' });
  return /status: ([A-Z]+)/.exec(r.stdout)?.[1] ?? `no answer: ${r.stdout}${r.stderr}`;
}

/** Scrapes from inside the host's namespace (the only place that address exists). */
function scrape(host: string): Map<string, PromFamily> {
  const script = `fetch('http://${ADDR}/metrics').then(async (r) => { if (r.status !== 200) process.exit(3); process.stdout.write(await r.text()); })`;
  const r = inNs(`/run/netns/${host}`, process.execPath, ['-e', script]);
  if (r.code !== 0) throw new Error(`scrape failed (${r.code}): ${r.stderr}`);
  return parsePromText(r.stdout);
}

describe('prometheus metrics', () => {
  let a1: AgentProcess;
  let a2: AgentProcess;

  it('counts attaches, detaches, kernel batches, store transactions, drift and gossip events', async () => {
    const [h1, h2] = [h.host(1), h.host(2)];
    // --join needs a shared store: one etcd in a third namespace
    etcd = await EtcdServer.start({ netns: h.host(9), host: '198.51.100.9' });
    const fast = ['--gossip-profile', 'fast', '--resync-interval', '1', '--store', etcd.storeUrl, '--store-prefix', `/vxt-${h.prefix}/`];
    a1 = h.agent(h1, [...fast, '--node-name', 'm-node1', '--metrics-addr', ADDR]);
    a2 = h.agent(h2, [...fast, '--node-name', 'm-node2', '--join', '198.51.100.1']);
    await a1.start();
    await a2.start();
    await waitFor(() => sampleValue(scrape(h1), 'vxmesh_gossip_members', { state: 'alive' }), { what: '2 alive members', until: (n) => n === 2, intervalMs: 300 });

    expect((await a1.cli('network', 'create', 'm1', '--subnet', '10.41.1.0/24')).code).toBe(0);
    const before = scrape(h1);
    const v = (f: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}) => sampleValue(f, name, labels);

    const [w1, w2] = h.workloads(['m1', 'm2']) as [string, string];
    const ep1 = await a1.json<{ id: string }>('endpoint', 'attach', '--network', 'm1', '--netns', w1);
    await a1.json('endpoint', 'attach', '--network', 'm1', '--netns', w2, '--name', 'db');
    expect((await a1.cli('endpoint', 'attach', '--network', 'nosuch', '--netns', w2)).code).not.toBe(0);
    expect((await a1.cli('endpoint', 'detach', ep1.id)).code).toBe(0);
    const after = scrape(h1);

    // logs name objects as the CLI lists them: endpoint name + 12-char id, network name + 12-char id
    const m1Id = (await a1.json<{ id: string }[]>('network', 'inspect', 'm1'))[0]!.id;
    const attached = a1.log.split('\n').filter((l) => l.includes('"endpoint attached"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(attached.find((l) => l.endpoint === 'db')).toMatchObject({ endpointId: expect.stringMatching(/^[0-9a-f]{12}$/), network: 'm1', networkId: m1Id.slice(0, 12) });
    const detached = a1.log.split('\n').find((l) => l.includes('"endpoint detached"'));
    expect(JSON.parse(detached!)).toMatchObject({ endpointId: ep1.id.slice(0, 12), network: 'm1', networkId: m1Id.slice(0, 12) });

    const delta = (name: string, labels: Record<string, string> = {}) => v(after, name, labels) - v(before, name, labels);
    expect(delta('vxmesh_attaches_total', { result: 'ok' })).toBe(2);
    expect(delta('vxmesh_attaches_total', { result: 'error' })).toBe(1);
    expect(delta('vxmesh_attach_duration_seconds_count', { result: 'ok' })).toBe(2);
    expect(delta('vxmesh_attach_duration_seconds_bucket', { result: 'ok', le: '+Inf' })).toBe(2);
    expect(v(after, 'vxmesh_attach_duration_seconds_sum', { result: 'ok' })).toBeGreaterThan(0);
    expect(delta('vxmesh_detaches_total', { result: 'ok' })).toBe(1);
    expect(delta('vxmesh_kernel_batches_total', { tool: 'ip' })).toBeGreaterThanOrEqual(3);
    expect(v(after, 'vxmesh_kernel_batch_errors_total', { tool: 'ip' })).toBe(0);
    expect(delta('vxmesh_kernel_batch_duration_seconds_count', { tool: 'ip' })).toBe(delta('vxmesh_kernel_batches_total', { tool: 'ip' }));
    // an attach and a detach are store transactions each (at least); none failed
    expect(delta('vxmesh_store_transactions_total')).toBeGreaterThanOrEqual(3);
    expect(v(after, 'vxmesh_store_transaction_errors_total', { error: 'conflict' }) + v(after, 'vxmesh_store_transaction_errors_total', { error: 'write' })).toBe(0);
    expect(v(after, 'vxmesh_gossip_sent_bytes_total', { transport: 'udp' })).toBeGreaterThan(0);
    expect(v(after, 'vxmesh_gossip_received_messages_total', { transport: 'udp' })).toBeGreaterThan(0);
    expect(v(after, 'vxmesh_gossip_received_bytes_total', { transport: 'tcp' })).toBeGreaterThan(0); // the join's push/pull
    for (const name of ['vxmesh_networkdb_entries', 'vxmesh_reconcile_drift_repaired_total', 'vxmesh_gossip_suspect_events_total']) expect(after.has(name)).toBe(true);
    expect(after.get('vxmesh_attach_duration_seconds')!.type).toBe('histogram');
    expect(after.get('vxmesh_gossip_members')!.type).toBe('gauge');

    // DNS: two owned-name answers and one refused (class CH), each one reply timed
    const dns0 = scrape(h1);
    expect(digStatus(w2, 'db')).toBe('NOERROR');
    expect(digStatus(w2, 'DB')).toBe('NOERROR');
    expect(digStatus(w2, 'db', 'CH', 'TXT')).toBe('REFUSED');
    const dns1 = scrape(h1);
    const dnsDelta = (name: string, labels: Record<string, string> = {}) => v(dns1, name, labels) - v(dns0, name, labels);
    expect(dnsDelta('vxmesh_dns_queries_total', { result: 'noerror' })).toBe(2);
    expect(dnsDelta('vxmesh_dns_queries_total', { result: 'refused' })).toBe(1);
    expect(dnsDelta('vxmesh_dns_query_duration_seconds_count')).toBe(3);
    expect(v(dns1, 'vxmesh_dns_query_duration_seconds_sum')).toBeGreaterThan(0);
    expect(dns1.get('vxmesh_dns_query_duration_seconds')!.type).toBe('histogram');
    expect(dnsDelta('vxmesh_dns_forwarded_total')).toBe(0);

    // VXLAN from a non-member (a host with no agent) is dropped by the member filter and counted
    const rogue = h.host(50);
    const drops0 = v(scrape(h1), 'vxmesh_vxlan_dropped_nonmember_packets_total');
    const inject = spawnSync('nsenter', [`--net=/run/netns/${rogue}`, 'python3', join(ROOT, 'test/netns/vxlan-inject.py'), '198.51.100.50', '198.51.100.1', '4096', '02:42:0a:29:01:09', '10.41.1.9', '9999', '20'], { encoding: 'utf8' });
    expect(inject.status, inject.stderr).toBe(0);
    await waitFor(() => v(scrape(h1), 'vxmesh_vxlan_dropped_nonmember_packets_total'), { what: '20 VXLAN drops counted', until: (n) => n - drops0 >= 20, intervalMs: 200 });

    // the peer table: an endpoint on the other host is one FDB and one neighbour entry in m1's sandbox here
    const m1 = (await a1.json<{ id: string }[]>('network', 'inspect', 'm1'))[0]!;
    const peers0 = v(scrape(h1), 'vxmesh_peer_entries', { network: m1.id, kind: 'fdb' });
    await a2.json('endpoint', 'attach', '--network', 'm1', '--netns', h.workload('m3'));
    const peers1 = await waitFor(() => scrape(h1), { what: "a peer entry for the other host's endpoint", until: (f) => v(f, 'vxmesh_peer_entries', { network: m1.id, kind: 'fdb' }) === peers0 + 1, intervalMs: 200 });
    expect(v(peers1, 'vxmesh_peer_entries', { network: m1.id, kind: 'neigh' })).toBe(peers0 + 1);

    // drift: vxmesh's nft table removed behind its back is put back by the periodic resync, and counted
    const drift0 = v(scrape(h1), 'vxmesh_reconcile_drift_repaired_total', { kind: 'nft' });
    expect(inNs(`/run/netns/${h1}`, 'nft', ['delete', 'table', 'inet', 'vxmesh']).code).toBe(0);
    await waitFor(() => v(scrape(h1), 'vxmesh_reconcile_drift_repaired_total', { kind: 'nft' }), { what: 'nft drift repaired', until: (n) => n > drift0, intervalMs: 300 });

    // a gossip peer killed: suspect, then dead, exactly once
    await a2.kill9();
    const dead = await waitFor(() => scrape(h1), { what: 'peer dead', until: (f) => v(f, 'vxmesh_gossip_members', { state: 'dead' }) === 1, timeoutMs: 20_000, intervalMs: 300 });
    expect(v(dead, 'vxmesh_gossip_members', { state: 'alive' })).toBe(1);
    expect(v(dead, 'vxmesh_gossip_dead_events_total')).toBe(1);
    expect(v(dead, 'vxmesh_gossip_suspect_events_total')).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('a taken --metrics-addr stops the start, naming the address, before the kernel is touched', async () => {
    const other = h.agent(a1.host);
    // its own data dir, socket and prefix (later flags win): only the metrics address is shared
    const own = ['--data-dir', join(h.tmp, 'other'), '--socket', join(h.tmp, 'other.sock'), '--netns-prefix', `${h.prefix}x`];
    const exit = await runAgentExpectingExit(a1.host, agentArgs(other, [...own, '--metrics-addr', ADDR]));
    expect(exit.code).toBe(1);
    expect(exit.errorLines.at(-1)).toMatchObject({ step: 'metrics socket' });
    expect(exit.errorLines.at(-1)!.msg).toMatch(/cannot serve metrics: 198\.51\.100\.1:9469 is already in use: stop what holds it, or choose another --metrics-addr/);
    expect(h.namespaces().filter((n) => n.startsWith(`${h.prefix}x`))).toEqual([]);
  });
});
