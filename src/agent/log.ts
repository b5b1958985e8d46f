// The agent's logger: --log-format json (one JSON object a line, the default) or pretty (pino-pretty,
// for people at a terminal). Both write synchronously, so the line a failed start logs right before
// the process exits is never lost.
import { destination, pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { AgentConfig } from './config.js';

export function createAgentLogger(config: Pick<AgentConfig, 'logLevel' | 'logFormat'>): Logger {
  const opts = { level: config.logLevel, base: { pid: process.pid } };
  if (config.logFormat === 'pretty') {
    return pino(opts, pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), destination: 1 }));
  }
  return pino(opts, destination({ dest: 1, sync: true }));
}
