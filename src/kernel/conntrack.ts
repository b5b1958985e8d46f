// Connection-tracking entries a load balancer must not keep after a backend left: a TCP attempt still
// unanswered (SYN_SENT: its retransmits, and a later connection that reuses the 5-tuple, would keep
// going to the gone backend for up to 2 minutes) and UDP flows (they stick to a backend while the
// client keeps sending). Established TCP connections are left alone (quiesce, not cut).
import { runProcess, KernelError } from './exec.js';
import { inNs, type NsRef } from './ns.js';

/** Deletes the namespace's unanswered TCP and all UDP conntrack entries whose reply comes from one of `backends`. */
export async function forgetFlowsTo(ns: NsRef, backends: Iterable<string>): Promise<void> {
  for (const ip of backends) {
    const family = ip.includes(':') ? ['-f', 'ipv6'] : [];
    for (const filter of [['-p', 'tcp', '--state', 'SYN_SENT'], ['-p', 'udp']]) {
      const [cmd, args] = inNs(ns, 'conntrack', ['-D', ...family, ...filter, '--reply-src', ip]);
      const r = await runProcess(cmd, args);
      // Exit 1 with "0 flow entries have been deleted": there was nothing to delete.
      if (r.code !== 0 && !(r.code === 1 && /\b0 flow entries/.test(r.stderr))) {
        throw new KernelError(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit code ${r.code}`}`, `${cmd} ${args.join(' ')}`, r.stderr);
      }
    }
  }
}
