// `vxmesh doctor` in the agent: runs a list of checks, each a function giving findings, and adds them
// up. A plane adds its checks as one more entry in the list Agent builds (doctorChecks in agent.ts).
// The host-wide checks live here: kernel features, sysctls, gossip members reachable (TCP and UDP), the store.
import { connect } from 'node:net';
import type { KernelFeatures } from '../kernel/index.js';
import { readSysctls } from '../kernel/index.js';
import type { DoctorCheckResult, DoctorReport, GossipNode } from '../model/api.js';
import type { Store } from '../store/index.js';

/** One check: its findings (several subjects may each pass or fail). */
export type DoctorCheck = () => Promise<DoctorCheckResult[]>;

/** Runs every check (one at a time: they read the kernel); a check that throws is itself a failed finding. */
export async function runDoctor(checks: Array<{ name: string; run: DoctorCheck }>): Promise<DoctorReport> {
  const results: DoctorCheckResult[] = [];
  for (const { name, run } of checks) {
    try {
      results.push(...(await run()));
    } catch (e) {
      results.push({ check: name, ok: false, detail: `the check itself failed: ${e instanceof Error ? e.message : String(e)}`, fix: 'see the agent log' });
    }
  }
  return { ok: results.every((r) => r.ok), checks: results };
}

const FEATURE_FIX: Record<keyof KernelFeatures, string> = {
  vxlan: 'modprobe vxlan (and make it load at boot: echo vxlan > /etc/modules-load.d/vxmesh.conf)',
  nftables: 'apt-get install nftables && modprobe nf_tables',
  ipvs: 'modprobe ip_vs (and make it load at boot: echo ip_vs > /etc/modules-load.d/vxmesh.conf)',
};

/**
 * `required`: the features a plane of this agent uses (ip_vs joins when the IPVS load balancer lands);
 * a missing optional one passes, saying what it would be for.
 */
export function featureFindings(features: KernelFeatures, required: (keyof KernelFeatures)[] = ['vxlan', 'nftables']): DoctorCheckResult[] {
  return (Object.keys(FEATURE_FIX) as (keyof KernelFeatures)[]).map((f) => {
    if (features[f]) return { check: `kernel.${f}`, ok: true, detail: `${f} is available` };
    if (!required.includes(f)) return { check: `kernel.${f}`, ok: true, detail: `${f} is not loaded (not used by this agent yet; to have it: ${FEATURE_FIX[f]})` };
    return { check: `kernel.${f}`, ok: false, detail: `the kernel has no ${f} support loaded`, fix: FEATURE_FIX[f] };
  });
}

/** ip_forward carries north-south traffic; strict rp_filter drops replies that come back on another interface. */
export async function sysctlFindings(): Promise<DoctorCheckResult[]> {
  const v = await readSysctls(['net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter']);
  const out: DoctorCheckResult[] = [];
  out.push(v['net.ipv4.ip_forward'] === '1'
    ? { check: 'sysctl.ip_forward', ok: true, detail: 'net.ipv4.ip_forward = 1' }
    : { check: 'sysctl.ip_forward', ok: false, detail: `net.ipv4.ip_forward = ${v['net.ipv4.ip_forward'] ?? 'unreadable'}: workloads cannot reach outside the overlay`, fix: 'sysctl -w net.ipv4.ip_forward=1 (the agent sets it again at its next resync)' });
  out.push(v['net.ipv4.conf.all.rp_filter'] !== '1'
    ? { check: 'sysctl.rp_filter', ok: true, detail: `net.ipv4.conf.all.rp_filter = ${v['net.ipv4.conf.all.rp_filter'] ?? '?'} (not strict)` }
    : { check: 'sysctl.rp_filter', ok: false, detail: 'net.ipv4.conf.all.rp_filter = 1 (strict): replies that return over another interface than they left are dropped', fix: 'sysctl -w net.ipv4.conf.all.rp_filter=2' });
  return out;
}

function tcpReachable(addr: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: addr, port, timeout: timeoutMs });
    const done = (why: string | undefined) => {
      s.destroy();
      resolve(why);
    };
    s.once('connect', () => done(undefined));
    s.once('timeout', () => done(`no answer within ${timeoutMs} ms`));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** A direct UDP ping/ack to a member by name: round trip in ms, undefined without an ack in time. */
export type UdpPing = (name: string, timeoutMs: number) => Promise<number | undefined>;

/**
 * Every other gossip member: not dead, answering on its gossip TCP port (push/pull, fallback pings)
 * and acking a direct UDP ping (probes, gossip). memberlist keeps a member alive through other
 * members' indirect probes, so only the direct round trip shows a blocked path between two hosts.
 */
export async function gossipFindings(nodes: GossipNode[], pingUdp: UdpPing, timeoutMs = 1_000): Promise<DoctorCheckResult[]> {
  const others = nodes.filter((n) => !n.self);
  if (!others.length) return [{ check: 'gossip.members', ok: true, detail: 'no other gossip member (single host)' }];
  return Promise.all(others.map(async (n): Promise<DoctorCheckResult> => {
    const subject = `${n.name} ${n.addr}:${n.port}`;
    const base = { check: 'gossip.members', subject };
    if (n.state === 'dead' || n.state === 'left') {
      return { ...base, ok: false, detail: `member ${n.name} (${n.addr}) is ${n.state}`, fix: `start the vxmesh agent on ${n.addr}; if that host was removed for good, nothing is needed (it is forgotten in time)` };
    }
    const [tcp, rtt] = await Promise.all([tcpReachable(n.addr, n.port, timeoutMs), pingUdp(n.name, timeoutMs)]);
    const udp = rtt === undefined ? `no ack to a UDP ping within ${timeoutMs} ms` : undefined;
    if (tcp === undefined && udp === undefined) {
      return { ...base, ok: true, detail: `member ${n.name} is ${n.state}, answers on TCP ${n.addr}:${n.port} and acks a UDP ping in ${rtt!.toFixed(1)} ms` };
    }
    const broken = [
      ...(tcp === undefined ? [] : [`does not answer on TCP ${n.addr}:${n.port}: ${tcp}`]),
      ...(udp === undefined ? [] : [`does not answer on UDP ${n.addr}:${n.port}: ${udp}`]),
    ];
    return { ...base, ok: false, detail: `member ${n.name} (${n.state}) ${broken.join('; ')}`, fix: `allow TCP and UDP ${n.port} between this host and ${n.addr} (firewall), and check the agent runs there` };
  }));
}

/** The store answers a read and reports no failing writes. */
export async function storeFindings(store: Store): Promise<DoctorCheckResult[]> {
  const h = store.health();
  if (!h.ok) return [{ check: 'store', ok: false, detail: `store writes are failing since ${h.since}: ${h.error}`, fix: 'free disk space / fix permissions of --data-dir (file store), or bring the etcd cluster back' }];
  try {
    await store.get('/vxmesh-doctor-probe');
  } catch (e) {
    return [{ check: 'store', ok: false, detail: `the store does not answer a read: ${e instanceof Error ? e.message : String(e)}`, fix: 'check the store: the data dir (file store) or the etcd endpoints' }];
  }
  return [{ check: 'store', ok: true, detail: 'the store answers reads and writes succeed' }];
}
