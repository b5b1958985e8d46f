// IPVS state as plain data: what `ipvsadm -S -n` prints, parsed into typed services and destinations,
// and the pure plan from actual to desired as `ipvsadm -R` restore lines (one restore per change set).
// Only fwmark services are planned; other services (TCP/UDP virtual addresses) are read and kept as is.
import { formatIp, parseIp } from '../util/ip-addr.js';

export type IpvsForward = 'masq' | 'route' | 'tunnel';

export interface IpvsDest {
  /** Canonical IP (IPv6 compressed, lower case). */
  addr: string;
  /** 0: the connection's own destination port. */
  port: number;
  forward: IpvsForward;
  weight: number;
}

export interface IpvsService {
  /** fwmark services only carry the mark; `tcp`/`udp`/`sctp` services are address:port. */
  kind: 'fwmark' | 'tcp' | 'udp' | 'sctp';
  /** The mark (fwmark) or `addr:port` / `[addr]:port` (others). */
  id: string;
  family: 4 | 6;
  scheduler: string;
  /** Persistence timeout in seconds (`-p`); absent: not persistent. */
  persistent?: number;
  /** Options ipvsadm -S prints that vxmesh does not model (`-b`, `-M`, `-o`), kept verbatim. */
  extra?: string;
  dests: IpvsDest[];
}

/** A fwmark service vxmesh wants (always masquerading destinations, weight 1). */
export interface IpvsFwmarkSpec {
  fwmark: number;
  family: 4 | 6;
  scheduler: 'rr' | 'sh';
  dests: { addr: string; port: number }[];
}

/** Connection counters of one destination (`ipvsadm -Ln` ActiveConn / InActConn). */
export interface IpvsDestConns {
  active: number;
  inactive: number;
}

export function serviceKey(kind: IpvsService['kind'], id: string, family: 4 | 6): string {
  return `${kind}:${id}:${family}`;
}
export function fwmarkKey(fwmark: number, family: 4 | 6): string {
  return serviceKey('fwmark', String(fwmark), family);
}
export function destKey(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function canonAddr(text: string): string {
  const ip = parseIp(text);
  return formatIp(ip.family, ip.value);
}

/** `1.2.3.4:80` / `[fd00::2]:80` -> address and port. */
export function parseAddrPort(text: string): { addr: string; port: number } {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([0-9.]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not address:port`);
  return { addr: canonAddr(m[1]!), port: Number(m[2]) };
}

const FORWARD_FLAGS: Record<string, IpvsForward> = { '-m': 'masq', '-g': 'route', '-i': 'tunnel' };
const FORWARD_FLAG_OF: Record<IpvsForward, string> = { masq: '-m', route: '-g', tunnel: '-i' };
const KIND_FLAGS: Record<string, IpvsService['kind']> = { '-t': 'tcp', '-u': 'udp', '--sctp-service': 'sctp', '-f': 'fwmark' };

/** Parses `ipvsadm -S -n` (or `--save -n`) output. Throws on a line it cannot read. */
export function parseIpvsSave(text: string): IpvsService[] {
  const services: IpvsService[] = [];
  const byKey = new Map<string, IpvsService>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const words = line.split(/\s+/);
    const op = words[0];
    const kind = KIND_FLAGS[words[1] ?? ''];
    const id = words[2];
    if ((op !== '-A' && op !== '-a') || !kind || id === undefined) throw new Error(`unexpected ipvsadm -S line "${line}"`);
    const family: 4 | 6 = words.includes('-6') || id.startsWith('[') ? 6 : 4;
    const canonId = kind === 'fwmark' ? String(Number(id)) : destKey(parseAddrPort(id).addr, parseAddrPort(id).port);
    const key = serviceKey(kind, canonId, family);
    if (op === '-A') {
      const svc: IpvsService = { kind, id: canonId, family, scheduler: 'wlc', dests: [] };
      const extra: string[] = [];
      for (let i = 3; i < words.length; i++) {
        const w = words[i]!;
        if (w === '-6') continue;
        if (w === '-s') svc.scheduler = words[++i] ?? '';
        else if (w === '-p') svc.persistent = Number(words[++i]);
        else if (w === '-b' || w === '-M' || w === '-O') extra.push(w, words[++i] ?? '');
        else extra.push(w);
      }
      if (extra.length) svc.extra = extra.join(' ');
      services.push(svc);
      byKey.set(key, svc);
      continue;
    }
    const svc = byKey.get(key);
    if (!svc) throw new Error(`ipvsadm -S destination before its service: "${line}"`);
    let dest: IpvsDest | undefined;
    for (let i = 3; i < words.length; i++) {
      const w = words[i]!;
      if (w === '-r') dest = { ...parseAddrPort(words[++i] ?? ''), forward: 'route', weight: 1 };
      else if (FORWARD_FLAGS[w] && dest) dest.forward = FORWARD_FLAGS[w];
      else if (w === '-w' && dest) dest.weight = Number(words[++i]);
      else if ((w === '-x' || w === '-y' || w === '--tun-type' || w === '--tun-port') && dest) i++;
    }
    if (!dest) throw new Error(`ipvsadm -S destination without -r: "${line}"`);
    svc.dests.push(dest);
  }
  return services;
}

/**
 * Connection counters per fwmark service destination from `ipvsadm -L -n`, keyed
 * `fwmarkKey(...) + ' ' + destKey(...)`. Other services are skipped.
 */
export function parseIpvsConns(text: string): Map<string, IpvsDestConns> {
  const out = new Map<string, IpvsDestConns>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const svc = /^FWM\s+(\d+)(\s+IPv6)?\s/.exec(line + ' ');
    if (svc) {
      current = fwmarkKey(Number(svc[1]), svc[2] ? 6 : 4);
      continue;
    }
    if (/^(TCP|UDP|SCTP)\s/.test(line)) {
      current = undefined;
      continue;
    }
    const d = /^\s+->\s+(\S+)\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (d && current) {
      const { addr, port } = parseAddrPort(d[1]!);
      out.set(`${current} ${destKey(addr, port)}`, { active: Number(d[3]), inactive: Number(d[4]) });
    }
  }
  return out;
}

function svcArgs(fwmark: number, family: 4 | 6): string {
  return family === 6 ? `-f ${fwmark} -6` : `-f ${fwmark}`;
}

function destArg(addr: string, port: number): string {
  return destKey(addr, port);
}

export interface IpvsPlanInput {
  desired: IpvsFwmarkSpec[];
  actual: IpvsService[];
  /** Which fwmark services vxmesh owns; others are never touched. */
  owns: (fwmark: number) => boolean;
  /** Destinations being drained: key -> when (ms) they got weight 0. */
  quiescing: ReadonlyMap<string, number>;
  /** Counters of weight-0 destinations (needed only when some are draining). */
  conns?: ReadonlyMap<string, IpvsDestConns>;
  now: number;
  quiesceMs: number;
}

export interface IpvsPlan {
  /** `ipvsadm -R` lines, in order. */
  lines: string[];
  /** Draining destinations after this plan runs (key -> since). */
  quiescing: Map<string, number>;
  /** Weight-0 leftovers whose counters decide their removal (the caller reads `ipvsadm -Ln` then). */
  needsConns: boolean;
}

/** Destinations that are drained when they have no established connection, or the grace period ran out. */
export function planIpvs(input: IpvsPlanInput): IpvsPlan {
  const lines: string[] = [];
  const quiescing = new Map<string, number>();
  let needsConns = false;
  const actualByKey = new Map<string, IpvsService>();
  for (const s of input.actual) if (s.kind === 'fwmark') actualByKey.set(serviceKey('fwmark', s.id, s.family), s);
  const wanted = new Set<string>();
  for (const spec of input.desired) {
    const key = fwmarkKey(spec.fwmark, spec.family);
    wanted.add(key);
    const cur = actualByKey.get(key);
    const args = svcArgs(spec.fwmark, spec.family);
    if (!cur) {
      lines.push(`-A ${args} -s ${spec.scheduler}`);
      for (const d of spec.dests) lines.push(`-a ${args} -r ${destArg(d.addr, d.port)} -m -w 1`);
      continue;
    }
    if (cur.scheduler !== spec.scheduler || cur.persistent !== undefined || cur.extra) lines.push(`-E ${args} -s ${spec.scheduler}`);
    const want = new Set(spec.dests.map((d) => destKey(d.addr, d.port)));
    const have = new Map(cur.dests.map((d) => [destKey(d.addr, d.port), d]));
    for (const d of spec.dests) {
      const h = have.get(destKey(d.addr, d.port));
      if (!h) lines.push(`-a ${args} -r ${destArg(d.addr, d.port)} -m -w 1`);
      else if (h.weight !== 1 || h.forward !== 'masq') lines.push(`-e ${args} -r ${destArg(d.addr, d.port)} -m -w 1`);
    }
    for (const [dk, h] of have) {
      if (want.has(dk)) continue;
      const qkey = `${key} ${dk}`;
      if (h.weight !== 0) {
        // Leaves: no new connection from now on; established ones go on until they end.
        lines.push(`-e ${args} -r ${dk} ${FORWARD_FLAG_OF[h.forward]} -w 0`);
        quiescing.set(qkey, input.now);
        continue;
      }
      const since = input.quiescing.get(qkey) ?? input.now;
      const conns = input.conns?.get(qkey);
      if (input.now - since >= input.quiesceMs || (conns !== undefined && conns.active === 0)) {
        lines.push(`-d ${args} -r ${dk}`);
      } else {
        quiescing.set(qkey, since);
        if (!conns) needsConns = true;
      }
    }
  }
  for (const s of input.actual) {
    if (s.kind !== 'fwmark' || !input.owns(Number(s.id))) continue;
    if (!wanted.has(serviceKey('fwmark', s.id, s.family))) lines.push(`-D ${svcArgs(Number(s.id), s.family)}`);
  }
  return { lines, quiescing, needsConns };
}

/** Restore lines that remove every owned fwmark service (clear). */
export function planIpvsClear(actual: IpvsService[], owns: (fwmark: number) => boolean): string[] {
  return actual.filter((s) => s.kind === 'fwmark' && owns(Number(s.id))).map((s) => `-D ${svcArgs(Number(s.id), s.family)}`);
}
