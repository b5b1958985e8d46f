// A read-only look at dockerd's own API, used for one thing: the NAME of a docker network.
// dockerd's CreateNetwork call to a driver carries only the network id, and dockerd records the
// network (and so answers GET /networks/ID) only after the driver has returned. So the name is
// looked up shortly after CreateNetwork, by polling, and the vxmesh network is created then.
import { existsSync } from 'node:fs';
import { request } from 'node:http';

/** dockerd's API socket path from DOCKER_HOST (unix:// only), else the default; undefined when unusable. */
export function dockerSocketPath(dockerHost: string | undefined): string | undefined {
  const host = dockerHost ?? 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://')) return undefined;
  return host.slice('unix://'.length);
}

function getJson(socketPath: string, path: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`dockerd API at ${socketPath} did not answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Waits until dockerd knows network `id` and returns its name; undefined when dockerd's API is not
 * reachable or does not show the network within `waitMs` (e.g. DOCKER_HOST names another daemon).
 * It looks at least once, so waitMs 0 asks whether dockerd knows the network now.
 */
export async function waitForDockerNetworkName(socketPath: string | undefined, id: string, waitMs: number): Promise<string | undefined> {
  if (socketPath === undefined || !existsSync(socketPath)) return undefined;
  const deadline = Date.now() + waitMs;
  let delay = 5;
  // At least one look (waitMs 0: is the network there now?).
  for (let first = true; first || Date.now() < deadline; first = false) {
    try {
      const res = await getJson(socketPath, `/v1.41/networks/${encodeURIComponent(id)}`, 2000);
      if (res.status === 200 && typeof res.body === 'object' && res.body !== null) {
        const name = (res.body as { Name?: unknown }).Name;
        if (typeof name === 'string' && name !== '') return name;
      }
      if (res.status !== 404) return undefined; // not a dockerd we understand
    } catch {
      return undefined;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  return undefined;
}
