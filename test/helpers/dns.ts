// Shared by the DNS netns tests: dig inside a workload against the embedded resolver, and dnsmasq as
// an upstream that logs every query it sees.
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from '../support/wait.js';
import { mustSh, type Harness } from './netns.js';

/** Sections as "TYPE DATA" lines. ms: wall time including dig's own start-up; queryMs: what dig measured on the wire. */
export interface Dig { status: string; answers: string[]; authority: string[]; additional: string[]; ms: number; queryMs: number }

/** dig @127.0.0.11 inside a workload (dig may use a netns exec; agents never do). Async: an upstream's log pipe keeps draining. */
export function dig(ns: string, ...args: string[]): Promise<Dig> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn('ip', ['netns', 'exec', ns.split('/').pop()!, 'dig', '@127.0.0.11', '+tries=1', '+time=4', '+noall', '+comments', '+answer', '+authority', '+additional', '+stats', ...args]);
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    p.on('close', () => {
      const section = (name: string): string[] => {
        const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(\\n\\n|$)`).exec(out);
        return m ? m[1]!.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(3).join(' ')) : [];
      };
      resolve({
        status: /status: (\w+)/.exec(out)?.[1] ?? `no answer: ${out.trim()}`,
        answers: section('ANSWER'),
        authority: section('AUTHORITY'),
        additional: section('ADDITIONAL').filter((l) => !l.startsWith('OPT')),
        ms: Date.now() - t0,
        queryMs: Number(/Query time: (\d+) msec/.exec(out)?.[1] ?? NaN),
      });
    });
  });
}

/** The address of "ADDR/LEN" (an endpoint's ipv4/ipv6 field). */
export const addrOf = (cidr: string | undefined): string => (cidr ?? '').split('/')[0]!;

export interface DnsUpstream {
  readonly proc: ChildProcess;
  /** Everything dnsmasq logged so far (one line per query). */
  log(): string;
}

/** dnsmasq listening on `listen` inside `nsPath`, answering NXDOMAIN for every name `extraArgs` do not give. Resolves once started. */
export async function startDnsmasq(nsPath: string, listen: string, extraArgs: string[] = []): Promise<DnsUpstream> {
  let log = '';
  const proc = spawn('nsenter', [`--net=${nsPath}`, '/usr/sbin/dnsmasq', '-k', '--no-resolv', '--no-hosts', `--listen-address=${listen}`, '--bind-interfaces',
    ...extraArgs, '--address=/#/', '--log-queries', '--log-facility=-', '-u', 'root', '--pid-file='], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  await waitFor(() => log.includes('started'), { what: 'dnsmasq started' });
  return { proc, log: () => log };
}

export const VETH_UPSTREAM = '203.0.113.53';

/** dnsmasq in a workload namespace of its own, reachable from `host` (203.0.113.1) over a veth at VETH_UPSTREAM. */
export function startVethUpstream(h: Harness, host: string, extraArgs: string[] = []): Promise<DnsUpstream> {
  const upNs = h.workload('up');
  const up = upNs.split('/').pop()!;
  mustSh('ip', ['-n', host, '-batch', '-'], [`link add vup type veth peer name vdn netns ${up}`, 'addr add 203.0.113.1/24 dev vup', 'link set vup up'].join('\n') + '\n');
  mustSh('ip', ['-n', up, '-batch', '-'], ['link set lo up', `addr add ${VETH_UPSTREAM}/24 dev vdn`, 'link set vdn up'].join('\n') + '\n');
  return startDnsmasq(upNs, VETH_UPSTREAM, extraArgs);
}
