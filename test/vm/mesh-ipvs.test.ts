// The services planes on IPVS end to end through one agent (`--lb ipvs`): this machine's kernel has no
// ip_vs, so test/vm/mesh-ipvs-scenario.mjs runs inside a throwaway VM with the stock Debian kernel
// (run-in-vm.sh). Skipped, saying why, when the VM tooling is absent.
import { beforeAll, describe, expect, it } from 'vitest';
import { runVmScenario, vmTooling } from '../helpers/vm.js';

const tooling = vmTooling();
const VM_TIMEOUT_S = 600;

interface Result {
  loadBalancer?: string; vip?: Record<string, number>; published?: Record<string, number>; ipvsClient?: string; ipvsSandbox?: string; hostTable?: string;
  vipAfterScale?: Record<string, number>; ipvsClientAfterScale?: string; vipAfterRestart?: Record<string, number>; ipvsClientAfterRestart?: string;
  ipvsSandboxAfterRestart?: string; ipvsClientAfterRm?: string; error?: string;
}
/** `ipvsadm -Ln` as [service, [destinations]] rows. */
const services = (text = '') => {
  const rows: [string, string[]][] = [];
  for (const l of text.split('\n')) {
    if (/^(FWM|TCP|UDP)\s/.test(l)) rows.push([l.trim().split(/\s+/).slice(0, 3).join(' '), []]);
    else if (/^\s+->\s+\d/.test(l)) rows.at(-1)?.[1].push(l.trim().split(/\s+/).slice(1, 3).join(' '));
  }
  return rows;
};

describe.skipIf(!('script' in tooling))(`services on IPVS through the agent, in a VM with ip_vs${'why' in tooling ? ` (skipped: ${tooling.why})` : ''}`, () => {
  let r: Result;
  beforeAll(async () => {
    const script = (tooling as { script: string }).script;
    r = (await runVmScenario(script, 'ip netns add vxm-cl && nsenter --net=/run/netns/vxm-cl node test/vm/mesh-ipvs-scenario.mjs', VM_TIMEOUT_S)) as Result;
  }, (VM_TIMEOUT_S + 30) * 1000);

  it('--lb ipvs: the VIP (from the workload itself) and the published port (from the underlay) reach both tasks', () => {
    expect(r.error).toBeUndefined();
    expect(r.loadBalancer).toBe('ipvs');
    expect(Object.keys(r.vip ?? {}).sort()).toEqual(['t1', 't2']);
    expect(Object.keys(r.published ?? {}).sort()).toEqual(['t1', 't2']);
  });

  it('ipvsadm shows exactly one fwmark service per namespace with the tasks; none after service rm', () => {
    const client = services(r.ipvsClient);
    expect(client).toHaveLength(1);
    expect(client[0]![0]).toMatch(/^FWM \d+ rr$/);
    expect(client[0]![1].sort()).toEqual(['10.83.0.3:0 Masq', '10.83.0.4:0 Masq']);
    const sandbox = services(r.ipvsSandbox);
    expect(sandbox).toHaveLength(1);
    expect(sandbox[0]![1].map((d) => d.replace(/^10\.255\.0\.\d+/, 'ingress-ip')).sort()).toEqual(['ingress-ip:80 Masq', 'ingress-ip:80 Masq']);
    expect(r.hostTable).toContain('dport 8080 dnat ip to');
    expect(services(r.ipvsClientAfterRm)).toEqual([]);
  });

  it('scale 2 -> 1: the removed task gets no new connection and keeps at most a draining (weight 0) destination; a crash and restart duplicates nothing', () => {
    expect(r.vipAfterScale).toEqual({ t1: 20 });
    const scaled = services(r.ipvsClientAfterScale);
    expect(scaled).toHaveLength(1);
    const weights = (text?: string) => (text ?? '').split('\n').filter((l) => /^\s+->\s+10\./.test(l)).map((l) => l.trim().split(/\s+/).slice(1, 4).join(' ')).sort();
    expect(weights(r.ipvsClientAfterScale).filter((d) => !d.endsWith(' 0'))).toEqual(['10.83.0.3:0 Masq 1']);
    expect(r.vipAfterRestart).toEqual({ t1: 20 });
    expect(services(r.ipvsClientAfterRestart)).toHaveLength(1);
    expect(weights(r.ipvsClientAfterRestart).filter((d) => !d.endsWith(' 0'))).toEqual(['10.83.0.3:0 Masq 1']);
    expect(services(r.ipvsSandboxAfterRestart)).toHaveLength(1);
  });
});
