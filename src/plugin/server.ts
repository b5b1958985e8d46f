// The plugin's HTTP server on a unix socket: POST /<Method>, JSON in, JSON out, errors as
// {"Err": "..."} (dockerd shows Err to the user and rolls back).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { prepareSocketPath, type SocketRole } from '../util/unix-socket.js';
import { VxError, type ErrorCode } from '../errors.js';
import { BadRequest } from './body.js';
import type { PluginLogger } from './context.js';
import type { Handler } from './network-driver.js';

const CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';
const MAX_BODY_BYTES = 1 << 20;

/**
 * HTTP status for an agent error. 404 is kept for "no such method": dockerd treats a 404 from a
 * plugin as "not implemented", which would hide a real NOT_FOUND from the user.
 */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 400,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  RESOURCE_EXHAUSTED: 409,
  INTERNAL: 500,
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest(`request body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(method: string, text: string): unknown {
  if (text.trim() === '') return null; // dockerd sends some calls with no body at all
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequest(`${method}: the request body is not valid JSON`);
  }
}

async function handle(handlers: Record<string, Handler>, logger: PluginLogger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.url ?? '/').replace(/^\/+/, '').split('?')[0] ?? '';
  if (req.method !== 'POST') {
    send(res, 405, { Err: `vxmesh plugin: use POST /${method}, not ${req.method ?? '?'}` });
    return;
  }
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
  if (!handler) {
    await readBody(req).catch(() => '');
    send(res, 404, { Err: `vxmesh plugin: unknown method "${method}"; it implements Plugin.Activate, NetworkDriver.* and IpamDriver.*` });
    return;
  }
  try {
    const body = parseJson(method, await readBody(req));
    const reply = await handler(body);
    logger.debug({ method, body }, 'plugin call');
    send(res, 200, reply);
  } catch (err) {
    if (err instanceof BadRequest) {
      logger.warn({ method, err: err.message }, 'plugin call rejected');
      send(res, 400, { Err: err.message });
    } else if (err instanceof VxError) {
      logger.warn({ method, code: err.code, err: err.message }, 'plugin call failed');
      send(res, STATUS_BY_CODE[err.code], { Err: err.message });
    } else {
      logger.error({ method, err }, 'plugin call failed unexpectedly');
      const message = err instanceof Error ? err.message : String(err);
      send(res, 500, { Err: `vxmesh plugin: ${method} failed: ${message}; see the vxmesh agent log` });
    }
  }
}

/** The docker plugin socket (its directory is docker's: world-readable, like dockerd makes it). */
const PLUGIN_SOCKET: SocketRole = {
  notASocket: (p) => `docker plugin socket ${p} exists and is not a socket: remove it or choose another --plugin-name`,
  inUse: (p) =>
    `another process already serves the docker plugin socket ${p}: stop it, or give this agent another --plugin-name (or --no-plugin)`,
};

export async function listenOnSocket(handlers: Record<string, Handler>, logger: PluginLogger, socketPath: string): Promise<Server> {
  await prepareSocketPath(socketPath, PLUGIN_SOCKET, 0o755);
  const server = createServer((req, res) => {
    handle(handlers, logger, req, res).catch((err: unknown) => {
      logger.error({ err }, 'plugin request handling failed');
      if (!res.headersSent) send(res, 500, { Err: 'vxmesh plugin: internal error; see the vxmesh agent log' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
