// vxmesh doctor on a healthy 3-host cluster (one etcd, gossip, the peer table) passes every check; then
// one thing is broken at a time on host 1 and doctor names exactly that problem, and its fix (run as
// printed) repairs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, inNs, sh, type AgentProcess } from '../helpers/netns.js';
import { EtcdServer } from '../support/etcd-server.js';
import { waitFor } from '../support/wait.js';

interface Finding { check: string; subject?: string; ok: boolean; detail: string; fix?: string }
interface Report { ok: boolean; checks: Finding[] }
interface Net { id: string; name: string; sandbox: string }
interface Ep { id: string; netns: string; mac: string }

const h = new Harness();
let etcd: EtcdServer | undefined;
let a1: AgentProcess;
let host1: string;
let net: Net;
let ep: Ep;
/** host 2's endpoint: a peer-table entry in host 1's sandbox. */
let remote: Ep;

beforeAll(async () => {
  const hosts = [1, 2, 3].map((k) => h.host(k));
  host1 = hosts[0]!;
  etcd = await EtcdServer.start({ netns: h.host(9), host: '198.51.100.9' });
  // no resync during the test: what doctor sees broken stays broken until the fix runs
  const args = ['--gossip-profile', 'fast', '--resync-interval', '3600', '--store', etcd.storeUrl, '--store-prefix', `/vxt-${h.prefix}/`];
  const agents = hosts.map((host, i) => h.agent(host, [...args, '--node-name', `doc-node${i + 1}`, '--join', i === 0 ? '198.51.100.2' : '198.51.100.1']));
  await Promise.all(agents.map((a) => a.start()));
  a1 = agents[0]!;
  net = await a1.json<Net>('network', 'create', 'doc', '--subnet', '10.42.1.0/24');
  const [w1, w2, w3] = h.workloads(['d1', 'd2', 'd3']) as [string, string, string];
  ep = await a1.json<Ep>('endpoint', 'attach', '--network', 'doc', '--netns', w1);
  remote = await agents[1]!.json<Ep>('endpoint', 'attach', '--network', 'doc', '--netns', w2);
  await agents[2]!.json<Ep>('endpoint', 'attach', '--network', 'doc', '--netns', w3);
  // host 1's sandbox holds both remote endpoints' entries once the peer table has them
  await waitFor(() => inNs(`/run/netns/${host1}`, 'bridge', ['-n', net.sandbox, 'fdb', 'show', 'dev', 'vxlan0']).stdout, {
    what: 'peer FDB entries in host 1', until: (o) => o.includes('198.51.100.2') && o.includes('198.51.100.3'), timeoutMs: 20_000, intervalMs: 200,
  });
}, 90_000);
afterAll(async () => {
  await h.cleanup();
  await etcd?.stop();
}, 60_000);

async function doctor(): Promise<{ code: number; report: Report }> {
  const r = await a1.cli('doctor', '--json');
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

/** Runs a printed fix the way a person would: a shell on that host. */
function runFix(fix: string): void {
  const r = inNs(`/run/netns/${host1}`, 'sh', ['-c', fix]);
  if (r.code !== 0) throw new Error(`fix failed (${r.code}): ${fix}\n${r.stderr}`);
}

async function expectHealthy(): Promise<Report> {
  const { code, report } = await doctor();
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(report.ok).toBe(true);
  expect(code).toBe(0);
  return report;
}

/** Exactly one failing finding, of `check`, whose detail matches; its fix repairs it. */
async function expectOnly(check: string, detail: RegExp, fix: RegExp): Promise<void> {
  const { code, report } = await doctor();
  const failed = report.checks.filter((c) => !c.ok);
  expect(failed.map((c) => c.check)).toEqual([check]);
  expect(failed[0]!.detail).toMatch(detail);
  expect(failed[0]!.fix).toMatch(fix);
  expect(report.ok).toBe(false);
  expect(code).toBe(1);
  runFix(failed[0]!.fix!);
  await expectHealthy();
}

describe('vxmesh doctor', () => {
  it('passes every check on a healthy host, and the text form says so', async () => {
    const report = await expectHealthy();
    const names = new Set(report.checks.map((c) => c.check));
    for (const c of ['kernel.vxlan', 'kernel.nftables', 'sysctl.ip_forward', 'nft.table', 'links.host', 'links.sandbox', 'links.workload', 'mtu', 'gossip.members', 'datapath.members', 'store']) {
      expect(names).toContain(c);
    }
    const gossip = report.checks.filter((c) => c.check === 'gossip.members');
    expect(gossip.map((c) => c.subject)).toEqual(['doc-node2 198.51.100.2:7946', 'doc-node3 198.51.100.3:7946']);
    expect(gossip[0]!.detail).toMatch(/answers on TCP 198\.51\.100\.2:7946 and acks a UDP ping in [\d.]+ ms/);
    const datapath = report.checks.filter((c) => c.check === 'datapath.members');
    expect(datapath.map((c) => c.detail)).toEqual([
      "VXLAN (UDP 4789) from doc-node2 (198.51.100.2) is admitted by vxmesh's member filter",
      "VXLAN (UDP 4789) from doc-node3 (198.51.100.3) is admitted by vxmesh's member filter",
    ]);
    expect(report.checks.find((c) => c.check === 'links.sandbox')!.detail).toMatch(/FDB and neighbour entries match/);
    const text = await a1.cli('doctor');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^OK {3}kernel\.vxlan/m);
    expect(text.stdout).toMatch(/all \d+ checks passed/);
  });

  it("names a sandbox's deleted vxlan device", async () => {
    expect(inNs(`/run/netns/${host1}`, 'ip', ['-n', net.sandbox, 'link', 'del', 'vxlan0']).code).toBe(0);
    await expectOnly('links.sandbox', new RegExp(`sandbox ${net.sandbox} \\(network doc ${net.id}\\) differs from the store.*vxlan`), /ip .*link add .*type vxlan/);
  });

  it("names a sandbox's FDB entry deleted behind vxmesh's back, as drift from the peer table", async () => {
    expect(inNs(`/run/netns/${host1}`, 'bridge', ['-n', net.sandbox, 'fdb', 'del', remote.mac, 'dev', 'vxlan0', 'dst', '198.51.100.2', 'self']).code).toBe(0);
    await expectOnly('peers.sandbox',
      new RegExp(`sandbox ${net.sandbox} \\(network doc ${net.id}\\): 1 FDB/neighbour entry differs from the peer table: missing fdb ${remote.mac} -> 198\\.51\\.100\\.2`),
      new RegExp(`fdb append ${remote.mac} dev vxlan0 dst 198\\.51\\.100\\.2`));
  });

  it("names a member the VXLAN filter would drop (its address taken out of the member set)", async () => {
    expect(inNs(`/run/netns/${host1}`, 'nft', ['delete', 'element', 'inet', 'vxmesh', 'members4', '{ 198.51.100.3 }']).code).toBe(0);
    const { code, report } = await doctor();
    const failed = report.checks.filter((c) => !c.ok);
    // the table's drift is named too (the set lost an element); the data-path finding says what it means
    expect(failed.map((c) => c.check).sort()).toEqual(['datapath.members', 'nft.table']);
    const dp = failed.find((c) => c.check === 'datapath.members')!;
    expect(dp.subject).toBe('doc-node3 198.51.100.3:4789');
    expect(dp.detail).toMatch(/VXLAN \(UDP 4789\) from member doc-node3 \(198\.51\.100\.3\) is dropped here: 198\.51\.100\.3 is not in nft set inet vxmesh members4/);
    expect(code).toBe(1);
    runFix(dp.fix!);
    await expectHealthy();
  });

  it("names vxmesh's flushed nft table", async () => {
    expect(inNs(`/run/netns/${host1}`, 'nft', ['flush', 'table', 'inet', 'vxmesh']).code).toBe(0);
    await expectOnly('nft.table', /nft table inet vxmesh differs from what vxmesh expects/, /\| nft -f -$/);
  });

  it("names vxmesh's deleted nft table", async () => {
    expect(inNs(`/run/netns/${host1}`, 'nft', ['delete', 'table', 'inet', 'vxmesh']).code).toBe(0);
    await expectOnly('nft.table', /nft table inet vxmesh is missing/, /add table inet vxmesh/);
  });

  it("names a wrong MTU on an endpoint's veth", async () => {
    expect(inNs(ep.netns, 'ip', ['link', 'set', 'dev', 'eth0', 'mtu', '1400']).code).toBe(0);
    await expectOnly('links.workload', new RegExp(`workload namespace ${ep.netns} differs from the store.*mtu 1450`), /link set dev eth0 .*mtu 1450/);
  });

  it('names a gossip member cut off on TCP and UDP 7946 (host 3 still relays its probes: memberlist keeps it a member)', async () => {
    // this host's packets to host 2's gossip port: TCP refused, UDP dropped
    expect(inNs(`/run/netns/${host1}`, 'nft', ['add', 'table', 'inet', `${h.prefix}doc`]).code).toBe(0);
    try {
      inNs(`/run/netns/${host1}`, 'nft', ['add', 'chain', 'inet', `${h.prefix}doc`, 'out', '{ type filter hook output priority 0 ; }']);
      inNs(`/run/netns/${host1}`, 'nft', ['add', 'rule', 'inet', `${h.prefix}doc`, 'out', 'ip daddr 198.51.100.2 tcp dport 7946 reject with tcp reset']);
      inNs(`/run/netns/${host1}`, 'nft', ['add', 'rule', 'inet', `${h.prefix}doc`, 'out', 'ip daddr 198.51.100.2 udp dport 7946 drop']);
      const { code, report } = await doctor();
      const failed = report.checks.filter((c) => !c.ok);
      expect(failed.map((c) => `${c.check} ${c.subject}`)).toEqual(['gossip.members doc-node2 198.51.100.2:7946']);
      expect(failed[0]!.detail).toMatch(/does not answer on TCP 198\.51\.100\.2:7946: ECONNREFUSED; does not answer on UDP 198\.51\.100\.2:7946: no ack to a UDP ping/);
      expect(failed[0]!.fix).toMatch(/allow TCP and UDP 7946 between this host and 198\.51\.100\.2/);
      expect(code).toBe(1);
    } finally {
      sh('nsenter', [`--net=/run/netns/${host1}`, 'nft', 'delete', 'table', 'inet', `${h.prefix}doc`]);
    }
    // memberlist may have marked it suspect meanwhile: healthy again once it is alive
    await waitFor(doctor, { what: 'doctor healthy after the unblock', until: (d) => d.report.ok, timeoutMs: 20_000, intervalMs: 500 });
    await expectHealthy();
  });
});
