// Shared by the test/vm tests: find the VM tooling (run-in-vm.sh, a kernel with modules, qemu,
// busybox), and run one scenario script in a throwaway VM, returning the JSON of its `RESULT ` line.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, sh } from './netns.js';

/**
 * run-in-vm.sh: $VXMESH_RUN_IN_VM, else the team's shared/tools/run-in-vm.sh beside the repository or
 * above it, else the copy in scripts/ (so a bare clone — CI — runs the VM tests too).
 */
function findRunInVm(): string | undefined {
  if (process.env.VXMESH_RUN_IN_VM) return process.env.VXMESH_RUN_IN_VM;
  for (let dir = dirname(ROOT); dirname(dir) !== dir; dir = dirname(dir)) {
    const p = join(dir, 'shared/tools/run-in-vm.sh');
    if (existsSync(p)) return p;
  }
  const copy = join(ROOT, 'scripts/run-in-vm.sh');
  return existsSync(copy) ? copy : undefined;
}

/** The run-in-vm.sh to use, or why VM tests must be skipped here. */
export function vmTooling(): { script: string } | { why: string } {
  const script = findRunInVm();
  if (!script) return { why: 'no run-in-vm.sh (set VXMESH_RUN_IN_VM, or restore scripts/run-in-vm.sh)' };
  const kernels = existsSync('/boot') ? readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-') && existsSync(`/lib/modules/${f.slice(8)}`)) : [];
  if (!kernels.length) return { why: 'no kernel image with modules in /boot (apt-get install linux-image-amd64)' };
  if (sh('sh', ['-c', 'command -v qemu-system-x86_64']).code !== 0) return { why: 'no qemu-system-x86_64 (apt-get install qemu-system-x86)' };
  if (sh('sh', ['-c', 'command -v busybox']).code !== 0) return { why: 'no busybox (apt-get install busybox-static)' };
  return { script };
}

/** Runs `cmd` (a shell command, from the repository root) in a VM; the parsed JSON after its `RESULT ` line. */
export async function runVmScenario(script: string, cmd: string, timeoutS: number): Promise<unknown> {
  const p = spawn(script, [cmd], { cwd: ROOT, env: { ...process.env, VM_TIMEOUT: String(timeoutS) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((res) => p.on('close', res));
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line) throw new Error(`VM scenario failed (exit ${code}):\n${stderr.slice(-4000)}\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(7));
}
