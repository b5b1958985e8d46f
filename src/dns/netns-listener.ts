// Serves the resolver at 127.0.0.11:53 (UDP and TCP) inside a workload namespace from the agent's
// own process: the native addon creates the sockets in the namespace (setns around socket+bind),
// so no process runs per namespace. The namespace's loopback must be up (attach does that).
import type { Server } from 'node:net';
import type { Socket } from 'node:dgram';
import { tcpServerInNetns, udpSocketInNetns } from '../kernel/native.js';
import { VxError } from '../errors.js';
import type { DnsView } from './records/record-store.js';
import type { DnsServer, Served } from './server/dns-server.js';
import { EMBEDDED_RESOLVER } from './resolv-conf.js';
import { createDnsUdpSocket } from './server/udp-socket.js';

export interface NetnsListenOptions {
  readonly address?: string;
  readonly port?: number;
}

/** Binds UDP and TCP in `nsPath` and serves them with `server` through `view`; close() undoes both. */
export async function serveInNetns(server: DnsServer, nsPath: string, view: DnsView, options: NetnsListenOptions = {}): Promise<Served> {
  const address = options.address ?? EMBEDDED_RESOLVER;
  const port = options.port ?? 53;
  const kind = address.includes(':') ? 6 : 4;
  let udp: Socket | undefined;
  let tcp: Server | undefined;
  try {
    const udpKind = kind === 4 ? 'udp4' : 'udp6';
    udp = await udpSocketInNetns(nsPath, udpKind, address, port, createDnsUdpSocket(udpKind));
    tcp = await tcpServerInNetns(nsPath, kind === 4 ? 'tcp4' : 'tcp6', address, port);
  } catch (e) {
    udp?.close();
    const err = e as Error & { code?: string };
    const hint = err.code === 'EADDRNOTAVAIL' ? ' (is the namespace\'s loopback up?)' : err.code === 'EADDRINUSE' ? ' (another resolver already serves this namespace)' : '';
    throw new VxError('FAILED_PRECONDITION', `cannot serve DNS at ${address}:${port} in ${nsPath}: ${err.message}${hint}`);
  }
  const servedUdp = server.serveUdp(udp, view);
  const servedTcp = server.serveTcp(tcp, view);
  return {
    close: async () => {
      await Promise.all([servedUdp.close(), servedTcp.close()]);
    },
  };
}
