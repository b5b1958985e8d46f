// The services planes on IPVS end to end through one agent (`--lb ipvs`): this machine's kernel has no
// ip_vs, so test/vm/mesh-ipvs-scenario.mjs runs inside a throwaway VM with the stock Debian kernel
// (run-in-vm.sh). Skipped, saying why, when the VM tooling is absent.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, sh } from '../helpers/netns.js';

function runInVm(): string | undefined {
  if (process.env.VXMESH_RUN_IN_VM) return process.env.VXMESH_RUN_IN_VM;
  for (let dir = dirname(ROOT); dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'shared/tools/run-in-vm.sh'))) return join(dir, 'shared/tools/run-in-vm.sh');
  }
  return undefined;
}
const script = runInVm();
const usable = script !== undefined && sh('sh', ['-c', 'command -v qemu-system-x86_64 && command -v busybox']).code === 0;
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

describe.skipIf(!usable)(`services on IPVS through the agent, in a VM with ip_vs${usable ? '' : ' (skipped: no run-in-vm.sh, qemu or busybox)'}`, () => {
  let r: Result;
  beforeAll(async () => {
    const p = spawn(script!, ['ip netns add vxm-cl && nsenter --net=/run/netns/vxm-cl node test/vm/mesh-ipvs-scenario.mjs'], { cwd: ROOT, env: { ...process.env, VM_TIMEOUT: String(VM_TIMEOUT_S) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((res) => p.on('close', res));
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    if (code !== 0 || !line) throw new Error(`VM scenario failed (exit ${code}):\n${err.slice(-3000)}\n${out.slice(-2000)}`);
    r = JSON.parse(line.slice(7)) as Result;
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
