import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Keyring, createMemberlist, defaultLanConfig, type Delegate, type EventDelegate, type Memberlist, type Transport } from '../gossip/memberlist/index.js';
import { NetworkDB } from '../gossip/networkdb/index.js';
import { VxError } from '../errors.js';
import type { GossipNode, GossipStatus, KeyOp, KeyOpResult } from '../model/api.js';
import { decodeGossipKey } from '../model/validate.js';
import { Mutex } from '../util/mutex.js';
import { writeFileAtomic } from '../util/atomic-file.js';

// vxmesh's own control messages ride memberlist user messages next to NetworkDB's protobuf ones.
// A NetworkDB GossipMessage starts with a protobuf tag byte (0x08/0x12); 0xf5 never does.
const CONTROL_MAGIC = 0xf5;
const KEY_OP_TIMEOUT_MS = 5_000;
/** With --join, how long the member filter waits for the first join before it trusts what it knows. */
const MEMBERS_GRACE_MS = 10_000;

interface KeyOpMsg {
  t: 'key';
  id: string;
  from: string;
  op: Exclude<KeyOp, 'list'>;
  key: string;
}
interface KeyAckMsg {
  t: 'key-ack';
  id: string;
  from: string;
  error?: string;
}
type ControlMsg = KeyOpMsg | KeyAckMsg;

export type GossipTiming = Partial<Pick<ReturnType<typeof defaultLanConfig>, 'probeIntervalMs' | 'probeTimeoutMs' | 'gossipIntervalMs' | 'pushPullIntervalMs' | 'suspicionMult'>>;

/**
 * Default timing: a killed host is declared dead in 2.0-2.7 s (issue 9: < 3 s, Docker 5.3-7 s), with
 * no false positive measured with every core busy: probe every 400 ms, 200 ms for the direct ack,
 * suspicion = 3 probe intervals (x6 at most while confirmations are missing). Each node runs its own
 * timers, so this stays interoperable with memberlist's LAN profile.
 */
export const DEFAULT_GOSSIP_TIMING: GossipTiming = Object.freeze({ probeIntervalMs: 400, probeTimeoutMs: 200, gossipIntervalMs: 100, suspicionMult: 3 });

/** --gossip-profile: 'fast' makes failure detection take about a second (tests on one machine); 'default' is DEFAULT_GOSSIP_TIMING. */
export function gossipTiming(profile: 'default' | 'fast'): GossipTiming {
  return profile === 'fast' ? { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 5_000 } : { ...DEFAULT_GOSSIP_TIMING };
}

export interface GossipOptions {
  nodeName: string;
  bindAddr: string;
  port: number;
  join: string[];
  /** --gossip-key-file: the user's file, read when there is no keyring state yet, never written. */
  keyFile?: string;
  /** The live keyring (state in the data dir, 0600): what rotation writes, and what a restart starts from. */
  keyringPath?: string;
  /** Memberlist timing overrides (gossipTiming()). */
  timing?: GossipTiming;
  /** Sockets bound earlier (PreboundTransport); default: memberlist binds its own at start(). */
  transport?: Transport;
  /** Hears of members turning suspect or dead (metrics). */
  observer?: GossipObserver;
}

export interface GossipObserver {
  suspect(node: string): void;
  dead(node: string): void;
}

/** Reads a key file: one base64 key per line (16, 24 or 32 bytes), the first is the primary. */
export async function readKeyFile(path: string): Promise<Keyring> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new VxError('INVALID_ARGUMENT', `cannot read gossip key file ${path}: ${e.code ?? e.message}`);
  });
  if (!text.split('\n').some((l) => l.trim() && !l.trim().startsWith('#'))) {
    throw new VxError('INVALID_ARGUMENT', `gossip key file ${path} holds no key: put a base64 key in it (vxmesh gossip keygen)`);
  }
  return parseKeys(text, path);
}

/** The one gossip key check (src/model/validate.ts); returns the key as given. */
function checkKey(b64: string, where: string): string {
  decodeGossipKey(b64, where);
  return b64;
}

/** Parses keyring text: one base64 key per line, the first is the primary. */
function parseKeys(text: string, path: string): Keyring {
  const keys = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!keys.length) throw new VxError('INVALID_ARGUMENT', `gossip keyring ${path} holds no key`);
  return Keyring.fromBase64(keys, (i) => `${path} line ${i + 1}`);
}

/**
 * The keyring to start from: the state file when there is one (it carries every rotation), else the
 * user's key file, whose keys then become the state. The user's file is only ever read.
 */
async function loadKeyring(keyFile: string, statePath: string | undefined, log: Logger): Promise<Keyring> {
  const state = statePath ? await readFile(statePath, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new VxError('FAILED_PRECONDITION', `cannot read gossip keyring state ${statePath}: ${e.code ?? e.message}`);
  }) : undefined;
  if (state === undefined || !statePath) return readKeyFile(keyFile);
  const keyring = parseKeys(state, statePath);
  const fromFile = await readKeyFile(keyFile).catch(() => undefined);
  const same = (a: Keyring, b: Keyring) => a.getKeys().map((k) => k.toString('base64')).join() === b.getKeys().map((k) => k.toString('base64')).join();
  if (fromFile && !same(fromFile, keyring)) {
    log.warn({ state: statePath, keyFile }, 'the gossip key file differs from the keyring state in the data dir: the state is used (it holds every rotation); the key file only seeds a new data dir (delete the state file to start from the key file again)');
  }
  return keyring;
}

/**
 * The agent's gossip: a memberlist node on advertise-addr:gossip-port carrying NetworkDB, a join loop
 * that keeps retrying peers it cannot reach yet, and cluster-wide keyring rotation.
 */
export class GossipService {
  private ml: Memberlist | undefined;
  readonly db: NetworkDB;
  private readonly persistLock = new Mutex();
  private keyring: Keyring | null = null;
  private joinTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly memberListeners = new Set<() => void>();
  private membersKnown = false;
  private membersTimer: NodeJS.Timeout | undefined;
  private readonly pendingAcks = new Map<string, { want: Set<string>; failed: Map<string, string>; done: () => void }>();

  constructor(
    private readonly opts: GossipOptions,
    private readonly log: Logger,
  ) {
    this.db = new NetworkDB({
      nodeName: opts.nodeName,
      logger: log.child({ component: 'networkdb' }),
      // Table rounds as often as memberlist's gossip, and local writes sent at once (issue 9: a new endpoint is reachable in well under 150 ms).
      ...(opts.timing?.gossipIntervalMs ? { gossipIntervalMs: opts.timing.gossipIntervalMs } : {}),
      immediateTableGossip: true,
    });
  }

  /**
   * Reads and checks the keyring (state, else --gossip-key-file) without starting anything, so a bad
   * key file fails the start before the kernel is touched. start() calls it when nobody did.
   */
  async loadKeys(): Promise<void> {
    if (this.opts.keyFile && !this.keyring) this.keyring = await loadKeyring(this.opts.keyFile, this.opts.keyringPath, this.log);
  }

  async start(): Promise<void> {
    await this.loadKeys();
    await this.persistKeys(); // from here on the state file is where the keyring lives
    const delegate: Delegate = {
      nodeMeta: (limit) => this.db.nodeMeta(limit),
      notifyMsg: (msg) => (msg[0] === CONTROL_MAGIC ? this.onControl(msg) : this.db.notifyMsg(msg)),
      getBroadcasts: (overhead, limit) => this.db.getBroadcasts(overhead, limit),
      localState: (join) => this.db.localState(join),
      mergeRemoteState: (buf, join) => this.db.mergeRemoteState(buf, join),
    };
    const config = defaultLanConfig({
      name: this.opts.nodeName,
      bindAddr: this.opts.bindAddr,
      bindPort: this.opts.port,
      keyring: this.keyring,
      ...this.opts.timing,
    });
    const gossipLog = this.log.child({ component: 'memberlist' });
    this.ml = await createMemberlist(config, {
      ...(this.opts.transport ? { transport: this.opts.transport } : {}),
      delegate,
      events: this.eventsFor(this.opts.observer),
      logger: gossipLog,
    });
    this.db.attach(this.ml);
    this.log.info({ node: this.opts.nodeName, addr: `${this.opts.bindAddr}:${this.opts.port}`, encrypted: Boolean(this.keyring) }, 'gossip listening');
    if (this.opts.join.length) {
      void this.joinLoop(1_000);
      // Peers that stay unreachable must not keep the member filter open for good.
      this.membersTimer = setTimeout(() => this.markMembersKnown(), MEMBERS_GRACE_MS);
      this.membersTimer.unref();
    } else this.markMembersKnown();
  }

  /**
   * Advertise addresses of the members that are not dead or left (self included); undefined until
   * the membership is known (gossip started and, with --join, the first join went through), so a
   * restarting agent does not shut out peers it has not heard from yet.
   */
  memberAddrs(): string[] | undefined {
    const ml = this.ml;
    if (!ml || !this.membersKnown) return undefined;
    return [...new Set(ml.allNodes().filter((n) => n.state === 'alive' || n.state === 'suspect').map((n) => n.addr))].sort();
  }

  /** Called (synchronously, from memberlist's event path) whenever a member joins, fails, leaves or changes. Returns the unsubscribe. */
  onMembersChange(fn: () => void): () => void {
    this.memberListeners.add(fn);
    return () => this.memberListeners.delete(fn);
  }

  private membersChanged(): void {
    for (const fn of this.memberListeners) {
      try {
        fn();
      } catch (e) {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'a gossip membership listener failed');
      }
    }
  }

  /**
   * NetworkDB hears every membership event, then the membership listeners; the observer (if any) hears
   * of suspects and deaths too. (Not "known" yet on someone joining us: the join's push/pull may still
   * be merging NetworkDB's state.)
   */
  private eventsFor(observer: GossipObserver | undefined): EventDelegate {
    return {
      notifyJoin: (n) => {
        this.db.notifyJoin(n);
        this.membersChanged();
      },
      notifyUpdate: (n) => {
        this.db.notifyUpdate(n);
        this.membersChanged();
      },
      notifyLeave: (n) => {
        if (n.state === 'dead') observer?.dead(n.name);
        this.db.notifyLeave(n);
        this.membersChanged();
      },
      ...(observer ? { notifySuspect: (n: Parameters<NonNullable<EventDelegate['notifySuspect']>>[0]) => observer.suspect(n.name) } : {}),
    };
  }

  private get memberlist(): Memberlist {
    if (!this.ml) throw new VxError('FAILED_PRECONDITION', 'gossip is not running yet');
    return this.ml;
  }

  private async joinLoop(delayMs: number): Promise<void> {
    if (this.stopped || !this.ml) return;
    const peers = this.opts.join.map((p) => (p.includes(':') && !p.startsWith('[') && p.split(':').length === 2 ? p : `${p}:7946`));
    let joined = 0;
    let error = '';
    try {
      joined = await this.ml.join(peers);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (joined > 0) {
      this.log.info({ peers, joined, members: this.ml.numMembers() }, 'joined the gossip cluster');
      this.markMembersKnown();
      return;
    }
    this.log.warn({ peers, error, retryInMs: delayMs }, 'cannot reach any gossip peer yet; retrying');
    if (this.stopped) return;
    this.joinTimer = setTimeout(() => void this.joinLoop(Math.min(delayMs * 2, 10_000)), delayMs);
  }

  private markMembersKnown(): void {
    if (this.membersKnown) return;
    this.membersKnown = true;
    this.membersChanged();
  }

  status(): GossipStatus {
    const all = this.ml?.allNodes() ?? [];
    return {
      node: this.ml?.localName ?? this.opts.nodeName,
      addr: this.opts.bindAddr,
      port: this.opts.port,
      alive: all.filter((n) => n.state === 'alive').length,
      members: all.length,
      encrypted: Boolean(this.keyring),
    };
  }

  listNodes(): GossipNode[] {
    const ml = this.ml;
    if (!ml) return [];
    return ml
      .allNodes()
      .map((n) => ({ name: n.name, addr: n.addr, port: n.port, state: n.state, self: n.name === ml.localName }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A direct UDP ping/ack round trip to a member (ms), undefined without an ack in time (doctor). */
  pingUdp(name: string, timeoutMs: number): Promise<number | undefined> {
    return this.ml ? this.ml.pingUdp(name, timeoutMs) : Promise.resolve(undefined);
  }

  private keyringView(): Pick<KeyOpResult, 'keys' | 'primary'> {
    const keys = this.keyring?.getKeys().map((k) => k.toString('base64')) ?? [];
    return { keys, primary: keys[0] ?? '' };
  }

  /** list: this node's keyring; install/use/remove: applied here and on every alive member. */
  async keyOp(op: KeyOp, key?: string): Promise<KeyOpResult> {
    if (op === 'list') return { ...this.keyringView(), nodes: 1, failed: [] };
    if (!this.keyring) {
      throw new VxError('FAILED_PRECONDITION', 'gossip is not encrypted on this node: start every agent with --gossip-key-file to use keys');
    }
    const k = checkKey(key ?? '', 'key');
    this.applyKeyOp(op, k); // here first: a refusal (e.g. removing the primary) stops it everywhere
    await this.persistKeys();
    const ml = this.memberlist;
    const targets = ml.members().filter((m) => m.state === 'alive' && m.name !== ml.localName).map((m) => m.name);
    const id = randomUUID();
    const failed = new Map<string, string>();
    const done = new Promise<void>((resolve) => {
      this.pendingAcks.set(id, { want: new Set(targets), failed, done: resolve });
      if (!targets.length) resolve();
    });
    const msg: KeyOpMsg = { t: 'key', id, from: ml.localName, op, key: k };
    await Promise.all(targets.map((t) => ml.sendReliable(t, encodeControl(msg)).catch((e) => {
      failed.set(t, `unreachable: ${e instanceof Error ? e.message : String(e)}`);
      this.settleAck(id, t);
    })));
    const timer = setTimeout(() => {
      const p = this.pendingAcks.get(id);
      if (p) for (const t of p.want) failed.set(t, 'no answer within 5 s');
      this.pendingAcks.delete(id);
      p?.done();
    }, KEY_OP_TIMEOUT_MS);
    await done;
    clearTimeout(timer);
    this.pendingAcks.delete(id);
    return { ...this.keyringView(), nodes: targets.length + 1, failed: [...failed].map(([node, error]) => ({ node, error })) };
  }

  private applyKeyOp(op: KeyOpMsg['op'], b64: string): void {
    const buf = Buffer.from(b64, 'base64');
    try {
      if (op === 'install') this.keyring!.addKey(buf);
      else if (op === 'use') this.keyring!.useKey(buf);
      else this.keyring!.removeKey(buf);
    } catch (e) {
      const m = e instanceof Error ? e.message.replace(/^keyring: /, '') : String(e);
      throw new VxError('FAILED_PRECONDITION', `gossip key ${op} refused: ${m}${op === 'use' ? ' (install it first)' : ''}`);
    }
  }

  /** Writes the live keyring to the state file (never the user's key file); one write at a time, the latest wins. */
  private persistKeys(): Promise<void> {
    const path = this.opts.keyringPath;
    if (!path || !this.keyring) return Promise.resolve();
    return this.persistLock.run(() => writeFileAtomic(path, this.keyringView().keys.join('\n') + '\n', 0o600));
  }

  private settleAck(id: string, node: string): void {
    const p = this.pendingAcks.get(id);
    if (!p) return;
    p.want.delete(node);
    if (!p.want.size) p.done();
  }

  private onControl(raw: Buffer): void {
    let msg: ControlMsg;
    try {
      msg = JSON.parse(raw.subarray(1).toString()) as ControlMsg;
    } catch {
      this.log.warn('dropped a malformed vxmesh control message');
      return;
    }
    if (msg.t === 'key-ack') {
      if (msg.error) this.pendingAcks.get(msg.id)?.failed.set(msg.from, msg.error);
      this.settleAck(msg.id, msg.from);
      return;
    }
    if (msg.t !== 'key' || !['install', 'use', 'remove'].includes(msg.op)) return;
    void (async () => {
      let error: string | undefined;
      try {
        if (!this.keyring) throw new Error('this node has no keyring');
        this.applyKeyOp(msg.op, checkKey(msg.key, 'key'));
        await this.persistKeys();
        this.log.info({ op: msg.op, from: msg.from }, 'gossip keyring changed');
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      const ml = this.ml;
      if (!ml) return;
      const ack: KeyAckMsg = { t: 'key-ack', id: msg.id, from: ml.localName, ...(error ? { error } : {}) };
      await ml.sendReliable(msg.from, encodeControl(ack)).catch(() => undefined);
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.joinTimer) clearTimeout(this.joinTimer);
    if (this.membersTimer) clearTimeout(this.membersTimer);
    const ml = this.ml;
    if (!ml) return;
    await this.db.leaveCluster(1_000).catch(() => undefined);
    await ml.leave(1_000).catch(() => undefined);
    this.db.close();
    await ml.shutdown();
  }
}

function encodeControl(msg: ControlMsg): Buffer {
  return Buffer.concat([Buffer.from([CONTROL_MAGIC]), Buffer.from(JSON.stringify(msg))]);
}
