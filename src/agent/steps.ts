// The agent's start, step by step, in the order issue 7 fixes: locks, sockets, store, kernel and
// controllers, gossip, serving. Each step undoes only itself; src/agent/lifecycle.ts runs them.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { startApiServer, type ApiServer } from '../api/server.js';
import type { AgentApi, ServicesApi } from '../model/api.js';
import { startPluginServer, type PluginServer } from '../plugin/index.js';
import { EtcdStore, FileStore, parseEtcdStoreUrl, type Store } from '../store/index.js';
import { AckLog } from '../store/ack-log.js';
import { Agent } from './agent.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { AgentConfig } from './config.js';
import { GossipService, gossipTiming, type GossipObserver } from './gossip.js';
import type { PreboundTransport } from './gossip-transport.js';
import { checkGatewaySubnet, readUnderlay } from './host.js';
import type { LifecycleStep } from './lifecycle.js';
import { lockDataDir, lockNetnsPrefix, type HeldLock, type LockHolder } from './locks.js';
import { PRIVATE_MOUNT_NS_WARNING, readNetnsMountVerdict } from './mount-ns.js';
import type { StartGate } from './start-gate.js';
import { VxError } from '../errors.js';
import { claimNodeName } from './node-claim.js';
import type { VxMetrics } from '../metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from '../metrics/server.js';
import { meteredStore } from './metered-store.js';

/** The ack log's file in the data dir (shared store only). */
const ACK_LOG_FILE = 'attach-acks';

function gossipObserver(metrics: VxMetrics): GossipObserver {
  return { suspect: () => metrics.gossipSuspectEvents.inc(), dead: () => metrics.gossipDeadEvents.inc() };
}

/** A node name kept in the data dir, so a restarted agent rejoins as itself: hostname + random suffix. */
async function persistentNodeName(dir: string): Promise<string> {
  const path = join(dir, 'node-name');
  const existing = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (existing) return existing;
  const name = `${hostname().split('.')[0]}-${randomBytes(3).toString('hex')}`;
  await writeFileAtomic(path, name + '\n');
  return name;
}

/** `--store etcd://...`: connects (one round trip) or throws naming the endpoints; TLS files are read here. */
async function openEtcdStore(config: AgentConfig): Promise<EtcdStore> {
  const read = async (flag: string, path: string | undefined) =>
    path === undefined
      ? undefined
      : readFile(path).catch((e: NodeJS.ErrnoException) => {
          throw new VxError('FAILED_PRECONDITION', `--${flag} ${path}: cannot read it (${e.code ?? e.message})`);
        });
  const ca = await read('store-ca', config.storeCa);
  const tls = ca ? { ca, cert: await read('store-cert', config.storeCert), key: await read('store-key', config.storeKey) } : undefined;
  const endpoints = parseEtcdStoreUrl(config.store!, { tls: Boolean(tls) });
  // keys are prefix + "networks/...": without a closing slash /vxmesh would also read /vxmesh2's keys
  const prefix = config.storePrefix.endsWith('/') ? config.storePrefix : `${config.storePrefix}/`;
  return EtcdStore.connect({ endpoints, prefix, ...(tls ? { tls } : {}) });
}

async function makeDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    throw new VxError('FAILED_PRECONDITION', `cannot create data dir ${dir}: ${e.code ?? e.message}: choose a writable --data-dir`);
  });
}

/** Everything the steps make, for the steps after them (and for a test to look at). */
export interface AgentParts {
  log: Logger;
  apiGate: StartGate<AgentApi & ServicesApi>;
  pluginGate: StartGate<AgentApi>;
  transport: PreboundTransport;
  locks: HeldLock[];
  advertiseAddr?: string;
  underlayMtu?: number;
  nodeName?: string;
  api?: ApiServer;
  plugin?: PluginServer;
  store?: Store;
  /** With a shared store: the host-local log of acknowledged attaches (src/store/ack-log.ts) and what it held at start. */
  acks?: { log: AckLog; acked: ReadonlySet<string> };
  gossip?: GossipService;
  agent?: Agent;
  /** --metrics-addr: the registry's owner (made in main.ts, as the transport it meters) and its server. */
  metrics?: VxMetrics;
  metricsServer?: MetricsServer;
}

export function agentSteps(config: AgentConfig, parts: AgentParts): LifecycleStep[] {
  const { log } = parts;
  const dataDir = resolve(config.dataDir);
  const me: LockHolder = { pid: process.pid, dataDir, socket: resolve(config.socket) };
  const lockStep = (name: string, take: () => Promise<HeldLock>): LifecycleStep => {
    let held: HeldLock | undefined;
    return {
      name,
      start: async () => {
        held = await take();
        parts.locks.push(held);
      },
      stop: async () => held?.release(),
    };
  };
  return [
    lockStep('data dir lock', async () => {
      await makeDataDir(dataDir);
      const lock = await lockDataDir(dataDir, me);
      await unlink(join(dataDir, 'agent.pid')).catch(() => undefined); // the pid file of agents before the flock
      return lock;
    }),
    lockStep('netns prefix lock', () => lockNetnsPrefix(config.netnsPrefix, me)),
    {
      name: 'host facts',
      start: async () => {
        const verdict = await readNetnsMountVerdict();
        if (verdict.kind === 'not-shared') log.warn({ propagation: verdict.propagation }, PRIVATE_MOUNT_NS_WARNING);
        const underlay = await readUnderlay(config.advertiseAddr);
        await checkGatewaySubnet(config.gwBridgePool);
        parts.advertiseAddr = underlay.advertiseAddr;
        parts.underlayMtu = config.underlayMtu ?? underlay.mtu;
        parts.nodeName = config.nodeName ?? (await persistentNodeName(dataDir));
      },
    },
    {
      name: 'gossip keyring',
      start: async () => {
        parts.gossip = new GossipService(
          {
            nodeName: parts.nodeName!,
            bindAddr: parts.advertiseAddr!,
            port: config.gossipPort,
            join: config.join,
            keyFile: config.gossipKeyFile,
            keyringPath: join(dataDir, 'gossip-keyring'),
            timing: gossipTiming(config.gossipProfile),
            transport: parts.transport,
            ...(parts.metrics ? { observer: gossipObserver(parts.metrics) } : {}),
          },
          log,
        );
        await parts.gossip.loadKeys();
        const gossip = parts.gossip;
        parts.metrics?.watchGossip({ memberStates: () => gossip.listNodes().map((n) => n.state), tableEntries: () => gossip.db.entryCounts() });
      },
    },
    {
      name: 'api socket',
      start: async () => {
        parts.api = await startApiServer(parts.apiGate.api, config.socket, log);
      },
      // calls still waiting for the start are refused first, so the server's close does not wait on them
      stop: async () => {
        await parts.apiGate.close(0);
        await parts.api?.close();
      },
    },
    ...(config.plugin
      ? [{
          name: 'plugin socket',
          start: async () => {
            const socketPath = join(config.pluginDir, `${config.pluginName}.sock`);
            parts.plugin = await startPluginServer(parts.pluginGate.api, { socketPath, logger: log, dockerHost: config.dockerHost });
            await chmod(socketPath, 0o600); // dockerd runs as root: nobody else needs it
          },
          stop: async () => {
            await parts.pluginGate.close(0);
            await parts.plugin?.close();
          },
        }]
      : []),
    ...(config.metricsAddr && parts.metrics
      ? [{
          name: 'metrics socket',
          start: async () => {
            parts.metricsServer = await startMetricsServer(parts.metrics!, config.metricsAddr!);
          },
          stop: async () => parts.metricsServer?.close(),
        }]
      : []),
    {
      name: 'gossip port',
      start: () => parts.transport.bind(parts.advertiseAddr!, config.gossipPort),
      stop: () => parts.transport.shutdown(),
    },
    {
      name: 'store',
      start: async () => {
        // A damaged store throws StoreCorruptError here, having changed nothing: the start stops
        // before the kernel step, so no start-up GC runs on a state that cannot be trusted.
        if (config.store) {
          if (config.salvage) log.warn('--salvage repairs the embedded store; with --store etcd://... it changes nothing');
          parts.store = await openEtcdStore(config);
          await claimNodeName(parts.store, parts.nodeName!, parts.advertiseAddr!).catch(async (e: unknown) => {
            await parts.store?.close();
            throw e;
          });
          parts.acks = await AckLog.open(join(dataDir, ACK_LOG_FILE)).catch(async (e: unknown) => {
            await parts.store?.close();
            throw e;
          });
          log.info({ store: config.store, prefix: config.storePrefix, node: parts.nodeName }, 'cluster state in etcd');
          return;
        }
        const fileStore = await FileStore.open(dataDir, { salvage: config.salvage });
        parts.store = fileStore;
        const report = fileStore.salvageReport;
        if (report) {
          log.warn(
            { kept: report.kept, dropped: report.dropped, damaged: report.damaged },
            `store salvaged: kept ${report.kept} verifiable record(s), lost ${report.dropped}; the damaged file(s) were moved aside (${report.damaged.map((d) => d.movedTo).join(', ')}); kernel objects the store no longer accounts for are left in place`,
          );
        }
      },
      stop: async () => {
        await parts.acks?.log.close();
        await parts.store?.close();
      },
    },
    {
      name: 'kernel and controllers',
      start: async () => {
        parts.agent = new Agent({
          config,
          store: parts.metrics ? meteredStore(parts.store!, parts.metrics) : parts.store!,
          log,
          ...(parts.metrics ? { metrics: parts.metrics } : {}),
          facts: { advertiseAddr: parts.advertiseAddr, underlayMtu: parts.underlayMtu!, nodeName: parts.nodeName!, sharedStore: Boolean(config.store) },
          gossip: parts.gossip!,
          ...(parts.acks ? { acks: parts.acks } : {}),
        });
        await parts.agent.start();
      },
      stop: async () => parts.agent?.stop(),
    },
    {
      name: 'gossip',
      start: async () => parts.gossip!.start(),
      stop: async () => parts.gossip?.stop(),
    },
    {
      name: 'serving',
      start: async () => {
        parts.apiGate.open(parts.agent!);
        parts.pluginGate.open(parts.agent!);
      },
      stop: async () => {
        await Promise.all([parts.apiGate.close(), parts.pluginGate.close()]);
      },
    },
  ];
}
