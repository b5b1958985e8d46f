// The CLI against the fake agent over a real unix socket in a temp dir (never /run/vxmesh): one per
// test file, reset before each test. Shared by the cli*.test.ts files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { runCli, type CliDeps } from '../../src/cli/main.js';
import { createFakeAgent, defaultFakeNodes, type FakeAgent } from './api-fake-agent.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliHarness {
  readonly dir: string;
  readonly socketPath: string;
  readonly agent: FakeAgent;
  /** Runs the CLI in-process; the environment defaults to VXMESH_SOCKET=<the fake agent's socket>. */
  run(argv: string[], env?: NodeJS.ProcessEnv, deps?: CliDeps): Promise<CliResult>;
  /** Empties the fake agent (also done before each test). */
  reset(): Promise<void>;
}

export async function runCaptured(argv: string[], env: NodeJS.ProcessEnv, deps?: CliDeps): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  const code = await runCli(argv, env, io, deps);
  return { code, stdout, stderr };
}

/** Registers the hooks of a describe block (or file) and returns the harness they fill in. */
export function useCliHarness(): CliHarness {
  const state: { dir?: string; socketPath?: string; agent?: FakeAgent; server?: ApiServer } = {};
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the CLI harness is used outside its tests');
    return value;
  };
  const harness: CliHarness = {
    get dir() {
      return need(state.dir);
    },
    get socketPath() {
      return need(state.socketPath);
    },
    get agent() {
      return need(state.agent);
    },
    run: (argv, env, deps) => runCaptured(argv, env ?? { VXMESH_SOCKET: harness.socketPath }, deps),
    async reset() {
      const agent = harness.agent;
      for (const service of await agent.listServices()) await agent.removeService(service.id);
      for (const endpoint of await agent.listEndpoints()) await agent.detach(endpoint.id);
      for (const network of await agent.listNetworks()) await agent.removeNetwork(network.id);
      agent.nodes = defaultFakeNodes();
      agent.keyring = [];
      agent.keyFailures = [];
      delete agent.store;
      delete agent.failNext;
      agent.calls.length = 0;
    },
  };

  beforeAll(async () => {
    state.dir = await mkdtemp(join(tmpdir(), 'vxmesh-cli-'));
    state.socketPath = join(state.dir, 'vxmesh.sock');
    state.agent = createFakeAgent();
    state.server = await startApiServer(state.agent, state.socketPath, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await state.server?.close();
    if (state.dir !== undefined) await rm(state.dir, { recursive: true, force: true });
  });
  beforeEach(() => harness.reset());
  return harness;
}
