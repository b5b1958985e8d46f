// Receive packet steering (RPS) per device: which CPUs may run the stack for what a device
// receives. Only sysfs has it (/sys/class/net/DEV/queues/rx-N/rps_cpus), and /sys shows the network
// namespace of whoever mounted it (the agent's own may not match: it can run under nsenter). So the
// write runs in a private mount namespace inside the target network namespace with sysfs mounted
// afresh, as `ip netns exec` does: one process per namespace for all its devices.
import { mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelError, run, runProcess } from './exec.js';
import { attachFlowHashTcx } from './native.js';
import { inNs, nsFile, nsTarget, type NsRef } from './ns.js';

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

/**
 * A tc egress program (eBPF, 3 instructions) that drops the packet's flow hash, so the next device
 * that needs one (RPS at the sandbox's veth end) computes it from the headers, and the kernel's flow
 * hash is the same for both directions of a connection (it sorts addresses and ports first). Without
 * it a TCP packet carries its socket's random txhash, drawn anew per connection and per direction:
 * RPS then puts a connection's data and its ACKs on unrelated CPUs (bench/RESULTS.md, session 5).
 * ELF object as `llvm-mc -triple=bpfel -filetype=obj` assembles this source:
 *     .section vxmesh,"ax",@progbits
 *     .globl vxmesh_symhash
 *     .type vxmesh_symhash,@function
 *   vxmesh_symhash:
 *     call 41          ; bpf_set_hash_invalid(skb)
 *     r0 = 0           ; TC_ACT_OK
 *     exit
 *     .size vxmesh_symhash, .-vxmesh_symhash
 *     .section license,"aw",@progbits
 *     .asciz "GPL"
 */
export const FLOW_HASH_PROG = {
  /** The program's name as `tc filter show` prints it (how a device is recognised as done). */
  name: 'vxmesh_symhash',
  section: 'vxmesh',
  elf: Buffer.from(
    'f0VMRgIBAQAAAAAAAAAAAAEA9wABAAAAAAAAAAAAAAAAAAAAAAAAAMgAAAAAAAAAAAAAAEAAAAAAAEAABgABAIUAAAApAAAAtwAAAAAAAACVAAAAAAAAAEdQTAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADgAAABIAAwAAAAAAAAAAABgAAAAAAAAAAC50ZXh0AHZ4bWVzaAB2eG1lc2hfc3ltaGFzaABsaWNlbnNlAC5zdHJ0YWIALnN5bXRhYgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAJQAAAAMAAAAAAAAAAAAAAAAAAAAAAAAAkAAAAAAAAAA1AAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAEAAAABAAAABgAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAHAAAAAQAAAAYAAAAAAAAAAAAAAAAAAABAAAAAAAAAABgAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAHQAAAAEAAAADAAAAAAAAAAAAAAAAAAAAWAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAC0AAAACAAAAAAAAAAAAAAAAAAAAAAAAAGAAAAAAAAAAMAAAAAAAAAABAAAAAQAAAAgAAAAAAAAAGAAAAAAAAAA=',
    'base64',
  ),
} as const;

/** tc's priority for the filter: an arbitrary fixed one, so a user's own egress filters keep theirs. */
const FLOW_HASH_PREF = '49100';

/** Whether `device` in `ns` has the flow-hash program on its egress (tc's own listing). */
export async function hasSymmetricFlowHash(ns: NsRef, device: string): Promise<boolean> {
  const out = await run(...inNs(ns, 'tc', ['filter', 'show', 'dev', device, 'egress']));
  return out.includes(`name ${FLOW_HASH_PROG.name} `);
}

/**
 * Puts the flow-hash program on the egress of each of `devices` in `ns`: a clsact qdisc and one bpf
 * filter, both `replace` (a device that has them gets the same again, atomically), in one `tc -batch`
 * process for the namespace (a check first would be a second process). The qdisc should be there
 * already (LinkSpec.clsact, added while the device was down): adding one here, to an up device,
 * drops what it sends for an RCU grace period; replacing an existing one drops nothing.
 * Devices not there (removed since the caller looked) are skipped.
 */
export async function setSymmetricFlowHash(ns: NsRef, devices: string[]): Promise<void> {
  if (!devices.length) return;
  // tc reads the object by path. It is unlinked before tc runs and read through this process's open
  // descriptor, so an agent killed mid-write leaves no file behind (only this short window could).
  const dir = await mkdtemp(join(tmpdir(), 'vxmesh-bpf-'));
  let fh: FileHandle | undefined;
  try {
    const path = join(dir, 'flow-hash.o');
    await writeFile(path, FLOW_HASH_PROG.elf, { mode: 0o600 });
    fh = await open(path, 'r');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  try {
    const obj = `/proc/${process.pid}/fd/${fh.fd}`;
    const batch = devices.flatMap((dev) => [
      `qdisc replace dev ${dev} clsact`,
      `filter replace dev ${dev} egress pref ${FLOW_HASH_PREF} handle 1 bpf direct-action obj ${obj} sec ${FLOW_HASH_PROG.section}`,
    ]);
    // -force: one missing device does not stop the others; only errors other than that count.
    const r = await runProcess(...inNs(ns, 'tc', ['-force', '-batch', '-']), batch.join('\n') + '\n');
    const errors = r.stderr.split('\n').filter((l) => l.trim() && !/Cannot find device|^Command failed/.test(l));
    if (r.code !== 0 && errors.length) throw new KernelError(`tc -batch in ${nsTarget(ns)}: ${errors.join('; ')}`, 'tc -batch', r.stderr);
  } finally {
    await fh.close();
  }
}

/**
 * The flow-hash program on `device`'s tcx egress (Linux 6.6+), for an interface another party moves
 * into its namespace (a docker endpoint's veth: the runtime moves it into the container, which drops
 * a qdisc and its filters, while a tcx attachment stays). No process; resolves false when the program
 * was there already. Throws (code ENODEV: the device is gone; EINVAL: the kernel has no tcx).
 */
export function setSymmetricFlowHashTcx(ns: NsRef, device: string): Promise<boolean> {
  return attachFlowHashTcx(nsFile(ns), device);
}
