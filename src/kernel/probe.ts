import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { runProcess } from './exec.js';
import { ipvsAvailable } from './ipvs.js';

export interface KernelFeatures {
  vxlan: boolean;
  nftables: boolean;
  ipvs: boolean;
}

async function moduleListed(name: string): Promise<boolean> {
  try {
    const mods = await readFile('/proc/modules', 'utf8');
    if (mods.split('\n').some((l) => l.startsWith(`${name} `))) return true;
  } catch {
    /* no /proc/modules: fall through */
  }
  return false;
}

/** What this kernel can do, for `vxmesh status` and for choosing the load-balancer backend. */
export async function probeKernel(): Promise<KernelFeatures> {
  // Honest: whether IPVS can be programmed (ipvsadm installed, the kernel has ip_vs, loaded on demand),
  // not merely whether a module is listed.
  const ipvs = await ipvsAvailable();
  const nft = await runProcess('nft', ['list', 'tables']).then((r) => r.code === 0, () => false);
  const vxlan =
    (await moduleListed('vxlan')) || existsSync('/sys/module/vxlan') ||
    (await runProcess('ip', ['link', 'help', 'vxlan']).then((r) => /vxlan/i.test(r.stderr + r.stdout), () => false));
  return { vxlan, nftables: nft, ipvs };
}
