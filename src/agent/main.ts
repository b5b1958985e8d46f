import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readlink, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startApiServer } from '../api/server.js';
import { startPluginServer } from '../plugin/index.js';
import { FileStore } from '../store/index.js';
import { Agent } from './agent.js';
import type { AgentConfig } from './config.js';
import { GossipService } from './gossip.js';
import { checkGatewaySubnet, readUnderlay } from './host.js';

/** A node name kept in the data dir, so a restarted agent rejoins as itself: hostname + random suffix. */
async function persistentNodeName(dir: string): Promise<string> {
  const path = join(dir, 'node-name');
  const existing = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (existing) return existing;
  const name = `${hostname().split('.')[0]}-${randomBytes(3).toString('hex')}`;
  await writeFile(path, name + '\n', { mode: 0o600 });
  return name;
}

/** One agent per data dir: a pid file created exclusively; a stale one (dead pid) is taken over. */
async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'agent.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.write(String(process.pid));
      await fh.close();
      return () => unlink(path).catch(() => undefined);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(`another vxmesh agent (pid ${pid}) uses data dir ${dir}`);
      }
      await unlink(path).catch(() => undefined);
    }
  }
  throw new Error(`cannot lock data dir ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Sandbox namespaces are bind mounts under /run/netns made in the agent's mount namespace. Under
 * `ip netns exec` (a private one) they would vanish with the agent, taking the data plane down.
 */
async function warnOnPrivateMountNamespace(log: { warn(o: object, m: string): void }): Promise<void> {
  const [mine, init] = await Promise.all([readlink('/proc/self/ns/mnt').catch(() => ''), readlink('/proc/1/ns/mnt').catch(() => '')]);
  if (mine && init && mine !== init) {
    log.warn({ mine, init }, 'the agent runs in a private mount namespace (ip netns exec?): its sandbox namespaces will not outlive it; use nsenter --net=... or run it in the host mount namespace');
  }
}

/** Runs the agent until SIGTERM/SIGINT. The data plane stays up when the agent stops. */
export async function runAgent(config: AgentConfig): Promise<void> {
  const log = pino({ level: config.logLevel, base: { pid: process.pid } });
  const unlock = await lockDataDir(config.dataDir);
  await warnOnPrivateMountNamespace(log);
  const underlay = await readUnderlay(config.advertiseAddr);
  await checkGatewaySubnet(config.gwBridgePool);
  if (!underlay.advertiseAddr) log.warn('no advertise address found (no global IPv4): vxlan devices get no local address');
  const store = await FileStore.open(config.dataDir);
  const gossip = new GossipService(
    {
      nodeName: config.nodeName ?? (await persistentNodeName(config.dataDir)),
      bindAddr: underlay.advertiseAddr ?? '0.0.0.0',
      port: config.gossipPort,
      join: config.join,
      keyFile: config.gossipKeyFile,
      // Test knob: the fast profile (probe 200 ms, gossip 50 ms) so failure tests take seconds.
      ...(process.env.VXMESH_GOSSIP_PROFILE === 'fast' || config.gossipProfile === 'fast'
        ? { timing: { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 5_000 } }
        : {}),
    },
    log,
  );
  const agent = new Agent({
    config,
    store,
    log,
    facts: { advertiseAddr: underlay.advertiseAddr, underlayMtu: config.underlayMtu ?? underlay.mtu },
    gossip,
  });
  await agent.start();
  await gossip.start();
  const api = await startApiServer(agent, config.socket, log);
  const plugin = config.plugin
    ? await startPluginServer(agent, { socketPath: join(config.pluginDir, `${config.pluginName}.sock`), logger: log })
    : undefined;
  log.info({ socket: config.socket, dataDir: config.dataDir, advertiseAddr: underlay.advertiseAddr }, 'vxmesh agent ready');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping (the data plane stays up)');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await plugin?.close();
  await api.close();
  await gossip.stop();
  await agent.stop();
  await store.close();
  await unlock();
}
