// Preparing a unix socket path for listening: directory, stale socket, permissions.
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { VxError } from '../errors.js';

/** How to name the socket in refusals, and what to tell the user to do about it. */
export interface SocketRole {
  notASocket: (path: string) => string;
  inUse: (path: string) => string;
}

/** The agent's gRPC API socket. */
export const API_SOCKET: SocketRole = {
  notASocket: (p) => `${p} exists and is not a socket; remove it or choose another --socket`,
  inUse: (p) => `another process is already serving ${p}: is a vxmesh agent running?`,
};

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** True when some process accepts connections on the socket. */
function isSocketLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = createConnection(socketPath);
    connection.once('connect', () => {
      connection.destroy();
      resolve(true);
    });
    connection.once('error', () => resolve(false));
  });
}

/**
 * Creates the socket's directory (0700 when we create it) and removes a stale socket left by a
 * crashed process. Refuses to touch a live socket or a path that is not a socket.
 */
export async function prepareSocketPath(socketPath: string, role: SocketRole = API_SOCKET, dirMode = 0o700): Promise<void> {
  await mkdir(dirname(socketPath), { recursive: true, mode: dirMode });
  let stats;
  try {
    stats = await lstat(socketPath);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  if (!stats.isSocket()) {
    throw new VxError('FAILED_PRECONDITION', role.notASocket(socketPath));
  }
  if (await isSocketLive(socketPath)) {
    throw new VxError('FAILED_PRECONDITION', role.inUse(socketPath));
  }
  await unlink(socketPath);
}

/** Only root (the socket's owner) may talk to the agent. */
export async function restrictSocket(socketPath: string): Promise<void> {
  await chmod(socketPath, 0o600);
}

export async function removeSocket(socketPath: string): Promise<void> {
  try {
    await unlink(socketPath);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}
