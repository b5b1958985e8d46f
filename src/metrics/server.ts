// --metrics-addr: serves GET /metrics (Prometheus text) on HOST:PORT; everything else is 404.
import { createServer, type Server } from 'node:http';
import { VxError } from '../errors.js';
import type { VxMetrics } from './metrics.js';

export interface MetricsServer {
  /** The bound address, e.g. "198.51.100.1:9469". */
  readonly address: string;
  close(): Promise<void>;
}

/** Splits "HOST:PORT" / "[V6]:PORT" (checked by the config already). */
export function splitHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!m) throw new VxError('INVALID_ARGUMENT', `--metrics-addr ${JSON.stringify(value)} is not HOST:PORT (e.g. 198.51.100.1:9469)`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

export async function startMetricsServer(metrics: VxMetrics, addr: string): Promise<MetricsServer> {
  const { host, port } = splitHostPort(addr);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('vxmesh serves GET /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e instanceof Error ? e.message : String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? `${addr} is already in use: stop what holds it, or choose another --metrics-addr`
        : e.code === 'EADDRNOTAVAIL' ? `${host} is not an address of this host: choose one for --metrics-addr` : (e.code ?? e.message);
      reject(new VxError('FAILED_PRECONDITION', `cannot serve metrics: ${why}`));
    });
    server.listen(port, host, () => resolve());
  });
  return {
    address: addr,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
