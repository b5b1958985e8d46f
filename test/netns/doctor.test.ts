// vxmesh doctor on a real host: a healthy agent (with a gossip peer) passes every check; then one thing
// is broken at a time and doctor names exactly that problem, and its fix (run as printed) repairs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, inNs, sh, type AgentProcess } from '../helpers/netns.js';

interface Finding { check: string; subject?: string; ok: boolean; detail: string; fix?: string }
interface Report { ok: boolean; checks: Finding[] }
interface Net { id: string; name: string; sandbox: string }
interface Ep { id: string; netns: string }

const h = new Harness();
let a1: AgentProcess;
let host1: string;
let net: Net;
let ep: Ep;

beforeAll(async () => {
  host1 = h.host(1);
  const host2 = h.host(2);
  // no resync during the test: what doctor sees broken stays broken until the fix runs
  const args = ['--gossip-profile', 'fast', '--resync-interval', '3600'];
  a1 = h.agent(host1, args);
  const a2 = h.agent(host2, [...args, '--join', '198.51.100.1']);
  await a1.start();
  await a2.start();
  net = await a1.json<Net>('network', 'create', 'doc', '--subnet', '10.42.1.0/24');
  const [w] = h.workloads(['d1']) as [string];
  ep = await a1.json<Ep>('endpoint', 'attach', '--network', 'doc', '--netns', w);
}, 60_000);
afterAll(async () => {
  await h.cleanup();
});

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
    for (const c of ['kernel.vxlan', 'kernel.nftables', 'sysctl.ip_forward', 'nft.table', 'links.host', 'links.sandbox', 'links.workload', 'mtu', 'gossip.members', 'store']) {
      expect(names).toContain(c);
    }
    expect(report.checks.find((c) => c.check === 'gossip.members')!.detail).toMatch(/answers on TCP 198\.51\.100\.2:7946/);
    const text = await a1.cli('doctor');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^OK {3}kernel\.vxlan/m);
    expect(text.stdout).toMatch(/all \d+ checks passed/);
  });

  it("names a sandbox's deleted vxlan device", async () => {
    expect(inNs(`/run/netns/${host1}`, 'ip', ['-n', net.sandbox, 'link', 'del', 'vxlan0']).code).toBe(0);
    await expectOnly('links.sandbox', new RegExp(`sandbox ${net.sandbox} \\(network doc\\) differs from the store.*vxlan`), /ip .*link add .*type vxlan/);
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

  it('names a gossip member that does not answer on TCP 7946', async () => {
    // drop TCP to the peer's gossip port on this host only (UDP stays, so memberlist still sees it alive)
    const rule = ['add', 'table', 'inet', `${h.prefix}doc`];
    expect(inNs(`/run/netns/${host1}`, 'nft', rule).code).toBe(0);
    try {
      inNs(`/run/netns/${host1}`, 'nft', ['add', 'chain', 'inet', `${h.prefix}doc`, 'out', '{ type filter hook output priority 0 ; }']);
      inNs(`/run/netns/${host1}`, 'nft', ['add', 'rule', 'inet', `${h.prefix}doc`, 'out', 'ip daddr 198.51.100.2 tcp dport 7946 reject with tcp reset']);
      const { code, report } = await doctor();
      const failed = report.checks.filter((c) => !c.ok);
      expect(failed.map((c) => c.check)).toEqual(['gossip.members']);
      expect(failed[0]!.detail).toMatch(/does not answer on TCP 198\.51\.100\.2:7946: ECONNREFUSED/);
      expect(failed[0]!.fix).toMatch(/allow TCP and UDP 7946 between this host and 198\.51\.100\.2/);
      expect(code).toBe(1);
    } finally {
      sh('nsenter', [`--net=/run/netns/${host1}`, 'nft', 'delete', 'table', 'inet', `${h.prefix}doc`]);
    }
    await expectHealthy();
  });
});
