// Runs test/netns/mesh-client.mjs inside a namespace: `count` TCP connections to target:port, each
// answered by a mesh-server.mjs with its name. Shared by the single-host services tests.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './netns.js';

export interface Burst { replies: Record<string, number>; failures: unknown[] }

export function tcpBurst(nsPath: string, target: string, port: number, count: number): Promise<Burst> {
  return new Promise((resolve, reject) => {
    const p = spawn('nsenter', [`--net=${nsPath}`, process.execPath, join(ROOT, 'test/netns/mesh-client.mjs'), 'burst', 'tcp', target, String(port), String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Burst) : reject(new Error(`client exit ${code}`))));
  });
}
