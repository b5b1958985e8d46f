// Receive packet steering (RPS) per device: which CPUs may run the stack for what a device
// receives. Only sysfs has it (/sys/class/net/DEV/queues/rx-N/rps_cpus), and /sys shows the network
// namespace of whoever mounted it (the agent's own may not match: it can run under nsenter). So the
// write runs in a private mount namespace inside the target network namespace with sysfs mounted
// afresh, as `ip netns exec` does: one process per namespace for all its devices.
import { readFile } from 'node:fs/promises';
import { run } from './exec.js';
import { inNs, type NsRef } from './ns.js';

// $1 = mask, then the devices. A device that is not there (removed since the caller looked) is
// skipped; one without receive queues in sysfs, or a write the kernel refuses, fails the call.
const WRITE = 'set -e; mount -t sysfs sysfs /sys; m=$1; shift; for d in "$@"; do [ -d /sys/class/net/"$d" ] || continue; for q in /sys/class/net/"$d"/queues/rx-*; do [ -e "$q/rps_cpus" ] || { echo "$d: no receive queue in sysfs" >&2; exit 1; }; echo "$m" > "$q/rps_cpus"; done; done';

/**
 * The rps_cpus mask (hex, 32-bit groups comma-separated, as sysfs prints it) of a CPU list in the
 * kernel's format (`/sys/devices/system/cpu/online`: "0-1", "0-3,6,8-9").
 */
export function cpuListMask(list: string): string {
  let mask = 0n;
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`CPU list "${list}" is not in the kernel's format (e.g. 0-3,6)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > 8191) throw new Error(`CPU list "${list}": range ${part} is not valid`);
    for (let c = lo; c <= hi; c++) mask |= 1n << BigInt(c);
  }
  const hex = mask.toString(16);
  const groups: string[] = [];
  for (let end = hex.length; end > 0; end -= 8) groups.unshift(hex.slice(Math.max(0, end - 8), end));
  return groups.map((g, i) => (i === 0 ? g : g.padStart(8, '0'))).join(',');
}

/** A mask as a number, so "00000003" and "3" and "0,00000003" compare equal. */
export function maskValue(mask: string): bigint {
  const hex = mask.trim().replace(/,/g, '');
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new Error(`"${mask}" is not a CPU mask`);
  return BigInt(`0x${hex}`);
}

/**
 * The mask of every online CPU (RPS's usual setting: any CPU may take a flow, chosen by its hash);
 * '' on a one-CPU host, where RPS has nothing to spread.
 */
export async function onlineCpuMask(): Promise<string> {
  const mask = cpuListMask(await readFile('/sys/devices/system/cpu/online', 'utf8'));
  const v = maskValue(mask);
  return (v & (v - 1n)) === 0n ? '' : mask;
}

/** Sets rps_cpus of every receive queue of `devices` in `ns` to `mask` (devices not there are skipped). */
export async function setRpsCpus(ns: NsRef, devices: string[], mask: string): Promise<void> {
  if (!devices.length) return;
  maskValue(mask);
  await run(...inNs(ns, 'unshare', ['--mount', 'sh', '-c', WRITE, 'sh', mask, ...devices]));
}
