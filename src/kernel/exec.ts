import { spawn } from 'node:child_process';

/** A kernel operation failed; `message` carries the tool's own (kernel) error text. */
export class KernelError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'KernelError';
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs one process, feeding `input` on stdin. Never throws for a non-zero exit: callers decide.
 * The child gets SIGKILL if the agent dies (setpriv --pdeathsig): an `ip -batch` orphaned by a
 * crashed agent must not keep changing the kernel while the next agent reads it.
 */
export function runProcess(cmd: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? -1 }),
    );
    child.stdin.on('error', () => undefined); // the tool may exit before reading everything
    child.stdin.end(input ?? '');
  });
}

/** Runs a command and returns stdout; a non-zero exit becomes a KernelError with the tool's message. */
export async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await runProcess(cmd, args, input);
  if (r.code !== 0) {
    const text = (r.stderr || r.stdout).trim() || `exit code ${r.code}`;
    throw new KernelError(`${cmd} ${args.join(' ')}: ${text}`, `${cmd} ${args.join(' ')}`, r.stderr);
  }
  return r.stdout;
}
