// `vxmesh doctor`'s overlay checks: the dry-run diffs of the link and nft reconcilers turned into
// findings a person can act on (what is wrong, what fixes it), and the overlay MTU against the underlay.
import type { DoctorCheckResult, GossipNode } from '../model/api.js';
import type { NetworkRecord } from './model.js';
import { sandboxVeth } from './names.js';
import type { NamespaceDrift, OverlayKernel } from './overlay-kernel.js';

/** VXLAN's own headers: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD = 50;

const RESYNC = ' (the agent repairs this at its next resync, see --resync-interval; the fix repairs it now)';

function runAll(commands: string[]): string {
  return commands.join(' && ');
}

/** vxmesh's nft tables in the agent's namespace, compared with what the records want. */
export async function firewallFindings(kernel: OverlayKernel): Promise<DoctorCheckResult[]> {
  return (await kernel.firewallDrift()).map(({ table, commands }): DoctorCheckResult => {
    if (!commands.length) return { check: 'nft.table', subject: table, ok: true, detail: `nft table ${table} is present and as expected` };
    const missing = commands.includes(`add table ${table}`);
    const detail = missing
      ? `nft table ${table} is missing`
      : `nft table ${table} differs from what vxmesh expects (${commands.length} change(s): ${commands.slice(0, 3).join('; ')}${commands.length > 3 ? '; ...' : ''})`;
    const script = commands.map((c) => `'${c.replace(/'/g, `'\\''`)}'`).join(' ');
    return { check: 'nft.table', subject: table, ok: false, detail: detail + RESYNC, fix: `printf '%s\\n' ${script} | nft -f -` };
  });
}

function where(d: NamespaceDrift): string {
  if (d.kind === 'sandbox') return `sandbox ${d.name} (network ${d.network ?? '?'})`;
  if (d.kind === 'workload') return `workload namespace ${d.name}`;
  return "the agent's namespace";
}

/** Endpoints a missing link belongs to: a sandbox's veth names them; a workload's interfaces are its endpoints'. */
function endpointsOfMissing(d: NamespaceDrift, endpointIds: (sandbox: string) => string[]): string[] {
  if (d.kind === 'workload') return d.endpoints ?? [];
  if (d.kind !== 'sandbox') return [];
  const missing = new Set(d.drift?.missing ?? []);
  return endpointIds(d.name).filter((id) => missing.has(sandboxVeth(id)));
}

/** A reconcile command that only adds or removes an FDB or neighbour entry. */
const PEER_ENTRY = / (fdb (append|del)|neigh (replace|del)) /;

/** "missing fdb 02:42:.. -> 198.51.100.2" / "extra neigh 10.0.0.3" from a command. */
function peerEntryText(command: string): string {
  const fdb = / fdb (append|del) (\S+) dev \S+ dst (\S+)/.exec(command);
  if (fdb) return `${fdb[1] === 'append' ? 'missing' : 'extra'} fdb ${fdb[2]} -> ${fdb[3]}`;
  const neigh = / neigh (replace|del) (\S+)(?: lladdr (\S+))?/.exec(command);
  if (neigh) return `${neigh[1] === 'replace' ? 'missing or wrong' : 'extra'} neigh ${neigh[2]}${neigh[3] ? ` -> ${neigh[3]}` : ''}`;
  return command;
}

function nsFinding(d: NamespaceDrift, endpointIds: (sandbox: string) => string[]): DoctorCheckResult {
  const check = `links.${d.kind}`;
  const base = { check, subject: d.name };
  if (!d.exists) {
    return d.kind === 'workload'
      ? { ...base, ok: false, detail: `${where(d)} of endpoint(s) ${(d.endpoints ?? []).join(', ')} is gone`, fix: `vxmesh endpoint detach ${(d.endpoints ?? []).join(' ')}` }
      : { ...base, ok: false, detail: `${where(d)} is missing`, fix: 'the agent makes it again at its next resync; if it stays missing, restart the agent' };
  }
  if (d.error) return { ...base, ok: false, detail: `cannot read ${where(d)}: ${d.error}`, fix: 'check that the namespace is usable: ip netns list' };
  const drift = d.drift!;
  if (drift.conflicts.length) {
    const ns = d.kind === 'host' ? '' : `-n ${d.name} `;
    return { ...base, ok: false, detail: `in ${where(d)} interface name(s) ${drift.conflicts.join(', ')} are held by interfaces vxmesh did not make`, fix: drift.conflicts.map((c) => `ip ${ns}link del ${c}`).join(' && ') };
  }
  if (drift.missing.length) {
    const eps = endpointsOfMissing(d, endpointIds);
    const whose = eps.length ? ` (endpoint ${eps.join(', ')})` : '';
    return {
      ...base, ok: false, detail: `in ${where(d)} link(s) ${drift.missing.join(', ')} are missing${whose}`,
      fix: eps.length ? `a veth cannot be made again alone: vxmesh endpoint detach ${eps.join(' ')}, then attach it again` : 'restart the agent',
    };
  }
  // Only remote endpoints' FDB/neighbour entries differ: the peer table's drift, listed entry by entry.
  if (d.kind === 'sandbox' && drift.commands.length && drift.commands.every((c) => PEER_ENTRY.test(c))) {
    return {
      check: 'peers.sandbox', subject: d.name, ok: false,
      detail: `${where(d)}: ${drift.commands.length} FDB/neighbour entr${drift.commands.length === 1 ? 'y differs' : 'ies differ'} from the peer table: ${drift.commands.map(peerEntryText).join('; ')}${RESYNC}`,
      fix: runAll(drift.commands),
    };
  }
  if (drift.commands.length) {
    return { ...base, ok: false, detail: `${where(d)} differs from the store: ${drift.commands.length} change(s) needed: ${drift.commands.join('; ')}${RESYNC}`, fix: runAll(drift.commands) };
  }
  return { ...base, ok: true, detail: `${where(d)}: links, addresses, routes, FDB and neighbour entries match the store` };
}

/** Every namespace vxmesh manages: its links, addresses, routes, FDB and neighbour entries against the store. */
export async function linkFindings(kernel: OverlayKernel, endpointIds: (sandbox: string) => string[]): Promise<DoctorCheckResult[]> {
  return (await kernel.linkDrift()).map((d) => nsFinding(d, endpointIds));
}

/** Each network's MTU plus VXLAN's overhead must fit the underlay's MTU, or large packets are dropped. */
export function mtuFindings(networks: NetworkRecord[], underlayMtu: number): DoctorCheckResult[] {
  const fits = networks.filter((n) => n.mtu + VXLAN_OVERHEAD <= underlayMtu);
  const bad = networks.filter((n) => n.mtu + VXLAN_OVERHEAD > underlayMtu);
  const out: DoctorCheckResult[] = bad.map((n) => ({
    check: 'mtu', subject: n.name, ok: false,
    detail: `network ${n.name} has MTU ${n.mtu}: with VXLAN's ${VXLAN_OVERHEAD} bytes that exceeds the underlay MTU ${underlayMtu}`,
    fix: `raise the underlay MTU to ${n.mtu + VXLAN_OVERHEAD}, or make the network again with --mtu ${underlayMtu - VXLAN_OVERHEAD}`,
  }));
  if (!bad.length) out.push({ check: 'mtu', ok: true, detail: `${fits.length} network(s) fit the underlay MTU ${underlayMtu} (VXLAN overhead ${VXLAN_OVERHEAD})` });
  return out;
}

/**
 * The data-path port from each gossip member, as far as this host decides it: vxmesh's members-only
 * filter (when it is in place) must hold the member's address, or its VXLAN is dropped here. It
 * proves what this host admits, not the underlay path (VXLAN has no reply to probe with); a missing
 * filter admits everyone and is the nft.table check's finding.
 */
export function dataPathFindings(nodes: GossipNode[], admission: { port: number; filtered: boolean; admitted: Set<string> }): DoctorCheckResult[] {
  const port = admission.port;
  const others = nodes.filter((n) => !n.self && (n.state === 'alive' || n.state === 'suspect'));
  if (!others.length) return [{ check: 'datapath.members', ok: true, detail: `no other live gossip member: nothing sends VXLAN (UDP ${port}) here` }];
  return others.map((n): DoctorCheckResult => {
    const base = { check: 'datapath.members', subject: `${n.name} ${n.addr}:${port}` };
    if (!admission.filtered) return { ...base, ok: true, detail: `VXLAN (UDP ${port}) from ${n.name} (${n.addr}) is not filtered here (vxmesh's member filter is absent)` };
    if (admission.admitted.has(n.addr)) return { ...base, ok: true, detail: `VXLAN (UDP ${port}) from ${n.name} (${n.addr}) is admitted by vxmesh's member filter` };
    const set = n.addr.includes(':') ? 'members6' : 'members4';
    return {
      ...base, ok: false,
      detail: `VXLAN (UDP ${port}) from member ${n.name} (${n.addr}) is dropped here: ${n.addr} is not in nft set inet vxmesh ${set}${RESYNC}`,
      fix: `nft add element inet vxmesh ${set} '{ ${n.addr} }'`,
    };
  });
}
