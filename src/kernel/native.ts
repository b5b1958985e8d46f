// The native addon (native/vxmesh_native.c, built by `npm install` / `npm run build:native`):
// flock(), sockets made inside another network namespace, a clsact qdisc added without a tc process
// and the flow-hash program on tcx egress. Loaded only through this module.
import { createRequire } from 'node:module';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

export type NetnsSocketKind = 'udp4' | 'udp6' | 'tcp4' | 'tcp6';

interface NativeAddon {
  flock(fd: number, exclusive: boolean, nonBlocking: boolean): boolean;
  socketInNetns(nsPath: string, kind: NetnsSocketKind, address: string, port: number): number;
  addClsactQdisc(nsPath: string, ifname: string): boolean;
  attachFlowHashTcx(nsPath: string, ifname: string): Promise<boolean>;
  flowHashTcxAttached(nsPath: string, ifname: string): Promise<boolean>;
}

// dist/kernel/native.js and src/kernel/native.ts both sit two levels below the package root.
const ADDON_PATH = join(import.meta.dirname, '../../build/Release/vxmesh_native.node');

function addon(): NativeAddon {
  try {
    return createRequire(import.meta.url)(ADDON_PATH) as NativeAddon; // require() caches it
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new Error(`the vxmesh native addon cannot be loaded (${why}): build it with \`npm run build:native\` (needs a C compiler, make and python3)`);
  }
}

/**
 * flock(2) on an open fd: the lock lives as long as the fd (and so dies with the process).
 * Returns false when nonBlocking and another open file holds a conflicting lock.
 */
export function flock(fd: number, exclusive: boolean, nonBlocking: boolean): boolean {
  return addon().flock(fd, exclusive, nonBlocking);
}

/**
 * A socket created and bound inside the network namespace at nsPath (TCP: listening, backlog 128),
 * returned as a CLOEXEC fd. The calling thread returns to its own namespace before this returns.
 * Errors carry `code` (errno name) and a message naming the step, address and namespace.
 */
export function socketInNetns(nsPath: string, kind: NetnsSocketKind, address: string, port: number): number {
  return addon().socketInNetns(nsPath, kind, address, port);
}

/**
 * A clsact qdisc on `ifname` inside the namespace at nsPath, by one rtnetlink request on the calling
 * thread (as `tc qdisc add dev IFNAME clsact`, without the process). False: it had one already.
 * Errors carry `code` (errno name: ENODEV for no such interface). Meant for a device still down:
 * on an up one the kernel deactivates the transmit queues for an RCU grace period (packets drop).
 */
export function addClsactQdisc(nsPath: string, ifname: string): boolean {
  return addon().addClsactQdisc(nsPath, ifname);
}

/**
 * The flow-hash program (the same three instructions as rx-steering.ts FLOW_HASH_PROG) on `ifname`'s
 * tcx egress inside the namespace at nsPath (Linux 6.6+: no qdisc, and it stays on the interface when
 * the interface moves to another namespace). Resolves false when it was there already. Runs on a
 * libuv pool thread: the attachment waits for an RCU grace period (~16 ms here).
 */
export function attachFlowHashTcx(nsPath: string, ifname: string): Promise<boolean> {
  return addon().attachFlowHashTcx(nsPath, ifname);
}

/** Whether the flow-hash program is on `ifname`'s tcx egress inside the namespace at nsPath. */
export function flowHashTcxAttached(nsPath: string, ifname: string): Promise<boolean> {
  return addon().flowHashTcxAttached(nsPath, ifname);
}

/** A dgram socket bound to address:port inside nsPath (`sock`: an unbound socket of the caller's making). */
export async function udpSocketInNetns(nsPath: string, kind: 'udp4' | 'udp6', address: string, port: number, sock: Socket = createSocket(kind)): Promise<Socket> {
  const fd = socketInNetns(nsPath, kind, address, port);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ fd }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return sock;
}

/** A net.Server listening on address:port inside nsPath. */
export async function tcpServerInNetns(nsPath: string, kind: 'tcp4' | 'tcp6', address: string, port: number, server: Server = createServer()): Promise<Server> {
  const fd = socketInNetns(nsPath, kind, address, port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
