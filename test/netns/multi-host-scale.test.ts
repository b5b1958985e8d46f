// Multi-host at scale (issue 9, "Concurrency"): 3 netns hosts with gossip-joined agents on one etcd
// attach 100 endpoints each (all hosts at once, 10 in flight per host) to one /22; then every one of the 300 addresses answers a ping
// from a workload on every host (the peer table carried each remote endpoint's FDB and neighbour
// entries to the other two hosts). Pings run in parallel batches from one workload namespace per
// host; a target that does not answer yet is retried until a deadline (the peer table converges
// while the first batches run), and the ones still silent are named.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi, type ApiClient } from '../../src/api/client.js';
import type { EndpointInfo } from '../../src/model/api.js';
import { Harness, inNs, type AgentProcess } from '../helpers/netns.js';
import { EtcdServer } from '../support/etcd-server.js';
import { waitFor } from '../support/wait.js';

const HOSTS = 3;
const PER_HOST = 100;
/** Attaches in flight per host. */
const ATTACH_WINDOW = 10;
/** Pings in flight at once from one namespace (each is a short-lived `ping` process). */
const BATCH = 50;

const h = new Harness();
let etcd: EtcdServer | undefined;
const agents: AgentProcess[] = [];
const apis: ApiClient[] = [];

/** The targets from `targets` that did not answer one ping (1 s wait) from `fromNs`, pinged BATCH at a time. */
function silent(fromNs: string, targets: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < targets.length; i += BATCH) {
    const batch = targets.slice(i, i + BATCH);
    const script = `for ip in ${batch.join(' ')}; do (ping -c1 -W1 -q $ip >/dev/null 2>&1 || echo $ip) & done; wait`;
    const r = inNs(fromNs, 'sh', ['-c', script]);
    out.push(...r.stdout.split('\n').filter(Boolean));
  }
  return out;
}

beforeAll(async () => {
  const hosts = Array.from({ length: HOSTS }, (_, i) => h.host(i + 1));
  const keyFile = join(h.tmp, 'gossip.key');
  writeFileSync(keyFile, randomBytes(16).toString('base64') + '\n', { mode: 0o600 });
  etcd = await EtcdServer.start({ netns: hosts[0], host: '198.51.100.1' });
  for (const [i, host] of hosts.entries()) {
    const k = i + 1;
    agents.push(h.agent(host, ['--advertise-addr', `198.51.100.${k}`, '--store', etcd!.storeUrl, '--gossip-key-file', keyFile, '--join', `198.51.100.${k === 1 ? 2 : 1}`]));
  }
  await Promise.all(agents.map((a) => a.start()));
  for (const a of agents) apis.push(connectApi(a.socket, { timeoutMs: 90_000 }));
  for (const a of agents) {
    await waitFor(() => a.json<{ gossip?: { alive: number } }>('status'), { what: `${HOSTS} members seen by ${a.host}`, until: (s) => s.gossip?.alive === HOSTS, timeoutMs: 30_000, intervalMs: 200 });
  }
}, 120_000);

afterAll(async () => {
  for (const api of apis) api.close();
  await etcd?.stop();
  await h.cleanup();
}, 60_000);

describe('300 endpoints over 3 hosts', () => {
  it('attached to one /22 from all hosts at once, each of the 300 answers a ping from every host', async () => {
    const net = await apis[0]!.createNetwork({ name: 'big', subnet: '10.45.0.0/22' });
    await waitFor(async () => Promise.all(apis.map((a) => a.inspectNetwork('big'))), { what: 'big on every host', timeoutMs: 10_000 });
    const workloads = apis.map((_, i) => h.workloads(Array.from({ length: PER_HOST }, (_, j) => `${i + 1}s${j}`)));
    const t0 = Date.now();
    // All hosts at once, ATTACH_WINDOW attaches in flight per host (the 300-at-once race itself is
    // cluster-etcd.test.ts's; here the point is what every host can reach afterwards).
    const attached = await Promise.all(apis.map(async (api, i) => {
      const out: EndpointInfo[] = [];
      const ws = workloads[i]!;
      for (let j = 0; j < ws.length; j += ATTACH_WINDOW) out.push(...(await Promise.all(ws.slice(j, j + ATTACH_WINDOW).map((netns) => api.attach({ network: 'big', netns })))));
      return out;
    }));
    const attachMs = Date.now() - t0;
    const all: EndpointInfo[] = attached.flat();
    expect(new Set(all.map((e) => e.ipv4)).size).toBe(HOSTS * PER_HOST);
    const ips = all.map((e) => e.ipv4.split('/')[0]!);

    // From the first workload of each host, every other endpoint (local ones and the 200 remote ones).
    const t1 = Date.now();
    for (const [i, ws] of workloads.entries()) {
      const own = attached[i]![0]!.ipv4.split('/')[0]!;
      let left = ips.filter((ip) => ip !== own);
      await waitFor(() => (left = silent(ws[0]!, left)), { what: `all ${ips.length - 1} endpoints answering host ${i + 1} (last seen: the silent ones)`, until: (l) => l.length === 0, timeoutMs: 45_000, intervalMs: 200 });
    }
    console.log(`300 endpoints on 3 hosts: attached in ${attachMs} ms; ${HOSTS} x ${ips.length - 1} pings answered in ${Date.now() - t1} ms`);

    // The data-path settings (bench/peers-throughput.mjs): no conntrack entry for the encapsulated
    // traffic on any host, and (where br_netfilter is loaded) bridged frames skip iptables in the sandboxes.
    for (const [i, a] of agents.entries()) {
      const hostNs = `/run/netns/${a.host}`;
      const conntrack = inNs(hostNs, 'cat', ['/proc/net/nf_conntrack']);
      if (conntrack.code === 0) expect(conntrack.stdout.split('\n').filter((l) => l.includes('dport=4789')), `host ${i + 1} tracks VXLAN`).toEqual([]);
      const brNf = inNs(`/run/netns/${a.netnsPrefix}-n-${net.id.slice(0, 12)}`, 'cat', ['/proc/sys/net/bridge/bridge-nf-call-iptables']);
      if (brNf.code === 0) expect(brNf.stdout.trim(), `host ${i + 1}'s sandbox`).toBe('0');
    }
  }, 240_000);
});
