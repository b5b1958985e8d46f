// "Start an agent and expect it to exit": for start-up failures. The agent runs in a netns host
// (nsenter, as the harness does); it is SIGKILLed if it has not exited by the deadline.
import { spawn } from 'node:child_process';
import { CLI, type AgentProcess } from '../helpers/netns.js';

export interface AgentExit {
  /** Exit code, or null when it had to be killed (it did not exit by the deadline). */
  code: number | null;
  log: string;
  ms: number;
  /** The agent's log lines at level error or above (pino: 50 error, 60 fatal). */
  errorLines: { level: number; msg: string; step?: string }[];
}

/** The harness's agent arguments for `a` (data dir, socket, prefix, no plugin, debug logs) plus `extra`. */
export function agentArgs(a: AgentProcess, extra: string[] = [], opts: { plugin?: boolean } = {}): string[] {
  return ['--data-dir', a.dataDir, '--socket', a.socket, '--netns-prefix', a.netnsPrefix, ...(opts.plugin ? [] : ['--no-plugin']), '--log-level', 'debug', ...extra];
}

export function runAgentExpectingExit(host: string, args: string[], deadlineMs = 10_000): Promise<AgentExit> {
  const t0 = Date.now();
  const p = spawn('nsenter', [`--net=/run/netns/${host}`, process.execPath, CLI, 'agent', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  p.stdout.on('data', (b: Buffer) => (log += b.toString()));
  p.stderr.on('data', (b: Buffer) => (log += b.toString()));
  const timer = setTimeout(() => p.kill('SIGKILL'), deadlineMs);
  return new Promise((resolve) => {
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, log, ms: Date.now() - t0, errorLines: errorLines(log) });
    });
  });
}

function errorLines(log: string): AgentExit['errorLines'] {
  const out: AgentExit['errorLines'] = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const rec = JSON.parse(line) as { level: number; msg: string; step?: string };
      if (rec.level >= 50) out.push(rec);
    } catch {
      // not a log line
    }
  }
  return out;
}

export interface RawAgent {
  log(): string;
  /** Resolves once the agent logged it is ready; throws with its log if it exited or took over 20 s. */
  ready(): Promise<void>;
  /** SIGTERM; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/** An agent started with exactly these arguments and this command prefix (e.g. unshare ...) inside `host`. */
export function spawnAgent(host: string, args: string[], wrapper: string[] = []): RawAgent {
  const p = spawn('nsenter', [`--net=/run/netns/${host}`, ...wrapper, process.execPath, CLI, 'agent', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  p.stdout.on('data', (b: Buffer) => (log += b.toString()));
  p.stderr.on('data', (b: Buffer) => (log += b.toString()));
  const closed = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
  return {
    log: () => log,
    async ready() {
      const deadline = Date.now() + 20_000;
      while (!log.includes('vxmesh agent ready')) {
        if (p.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not get ready (exit ${p.exitCode}):\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
      const code = await closed;
      clearTimeout(timer);
      return code;
    },
  };
}
