// `vxmesh agent`: the composition root. Starts the steps in order (src/agent/steps.ts), runs until
// SIGTERM/SIGINT, stops them in reverse. A failed start undoes what it did, logs one line and exits 1.
import type { Logger } from 'pino';
import type { AgentConfig } from './config.js';
import { Registry } from 'prom-client';
import { NetTransport } from '../gossip/memberlist/index.js';
import { VxMetrics } from '../metrics/metrics.js';
import { PreboundTransport } from './gossip-transport.js';
import { MeteredTransport } from './metered-transport.js';
import { Lifecycle, StartError } from './lifecycle.js';
import { createAgentLogger } from './log.js';
import { StartGate } from './start-gate.js';
import { agentSteps, type AgentParts } from './steps.js';

/** Longest a stop may take before the process exits regardless (a supervisor is waiting). */
const STOP_DEADLINE_MS = 15_000;

/** Runs the agent until SIGTERM/SIGINT. The data plane stays up when the agent stops. */
export async function runAgent(config: AgentConfig): Promise<void> {
  process.umask(0o077); // everything the agent writes is 0600 / 0700 (sockets are chmod 0600 on top)
  const log = createAgentLogger(config);
  const signalled = waitForSignal(log);
  // A crash is a log line too (then the exit a supervisor acts on); the data plane stays up.
  const crash = (err: unknown) => {
    log.fatal({ err: err instanceof Error ? err.stack : String(err) }, `vxmesh agent crashed: ${messageOf(err)}`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  // One registry per agent, passed down (never prom-client's global one); gossip's sockets are metered under memberlist.
  const metrics = config.metricsAddr ? new VxMetrics(new Registry()) : undefined;
  const transport = new PreboundTransport(metrics ? new MeteredTransport(new NetTransport(), metrics) : undefined);
  const parts: AgentParts = { log, apiGate: new StartGate(), pluginGate: new StartGate(), transport, locks: [], ...(metrics ? { metrics } : {}) };
  const lifecycle = new Lifecycle({ log, stopTimeoutMs: 3_000 });
  try {
    await lifecycle.start(agentSteps(config, parts));
  } catch (e) {
    const err = e instanceof StartError ? e : new StartError('start', e);
    log.fatal({ step: err.step, ...whereDamaged(err.cause) }, `vxmesh agent failed to start (${err.step}): ${messageOf(err.cause)}`);
    process.exit(1);
  }
  log.info({ node: parts.nodeName, socket: config.socket, dataDir: config.dataDir, advertiseAddr: parts.advertiseAddr, netnsPrefix: config.netnsPrefix }, 'vxmesh agent ready');

  const signal = await signalled;
  log.info({ signal }, 'stopping (the data plane stays up)');
  setTimeout(() => {
    log.error({ timeoutMs: STOP_DEADLINE_MS }, 'stop did not finish in time: exiting anyway');
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  await lifecycle.stop();
  log.info('vxmesh agent stopped');
}

/** The first SIGTERM/SIGINT asks for a stop (after the start, if one is running); a second one exits at once. */
function waitForSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (seen) {
        log.warn({ signal }, 'second signal: exiting without finishing the stop');
        process.exit(1);
      }
      seen = true;
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A damaged store names its file and offset: carried as fields too, for whoever reads the JSON. */
function whereDamaged(e: unknown): { file?: string; offset?: number } {
  const d = e as { file?: unknown; offset?: unknown } | undefined;
  return typeof d?.file === 'string' && typeof d.offset === 'number' ? { file: d.file, offset: d.offset } : {};
}
