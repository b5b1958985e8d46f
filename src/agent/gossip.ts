import { randomUUID } from 'node:crypto';
import { readFile, writeFile, rename } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Keyring, createMemberlist, defaultLanConfig, type Delegate, type Memberlist } from '../gossip/memberlist/index.js';
import { NetworkDB } from '../gossip/networkdb/index.js';
import { VxError } from '../errors.js';
import type { GossipNode, GossipStatus, KeyOp, KeyOpResult } from '../model/api.js';

// vxmesh's own control messages ride memberlist user messages next to NetworkDB's protobuf ones.
// A NetworkDB GossipMessage starts with a protobuf tag byte (0x08/0x12); 0xf5 never does.
const CONTROL_MAGIC = 0xf5;
const KEY_OP_TIMEOUT_MS = 5_000;

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

export interface GossipOptions {
  nodeName: string;
  bindAddr: string;
  port: number;
  join: string[];
  keyFile?: string;
  /** Memberlist timing overrides (tests use a fast profile). */
  timing?: Partial<Pick<ReturnType<typeof defaultLanConfig>, 'probeIntervalMs' | 'probeTimeoutMs' | 'gossipIntervalMs' | 'pushPullIntervalMs' | 'suspicionMult'>>;
}

/** Reads a key file: one base64 key per line (16, 24 or 32 bytes), the first is the primary. */
export async function readKeyFile(path: string): Promise<Keyring> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new VxError('INVALID_ARGUMENT', `cannot read gossip key file ${path}: ${e.code ?? e.message}`);
  });
  const keys = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!keys.length) throw new VxError('INVALID_ARGUMENT', `gossip key file ${path} holds no key: put a base64 key in it (vxmesh gossip keygen)`);
  return Keyring.fromBase64(keys.map((k, i) => checkKey(k, `${path} line ${i + 1}`)));
}

function checkKey(b64: string, where: string): string {
  const buf = /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  if (![16, 24, 32].includes(buf.length)) {
    throw new VxError('INVALID_ARGUMENT', `${where}: a gossip key is base64 of 16, 24 or 32 bytes (vxmesh gossip keygen makes one)`);
  }
  return b64;
}

/**
 * The agent's gossip: a memberlist node on advertise-addr:gossip-port carrying NetworkDB, a join loop
 * that keeps retrying peers it cannot reach yet, and cluster-wide keyring rotation.
 */
export class GossipService {
  private ml!: Memberlist;
  readonly db: NetworkDB;
  private keyring: Keyring | null = null;
  private joinTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly pendingAcks = new Map<string, { want: Set<string>; failed: Map<string, string>; done: () => void }>();

  constructor(
    private readonly opts: GossipOptions,
    private readonly log: Logger,
  ) {
    this.db = new NetworkDB({
      nodeName: opts.nodeName,
      onProtocolError: (e) => log.debug({ err: e.message }, 'networkdb dropped input'),
    });
  }

  async start(): Promise<void> {
    if (this.opts.keyFile) this.keyring = await readKeyFile(this.opts.keyFile);
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
      delegate,
      events: this.db,
      logger: {
        info: (o, m) => gossipLog.info(o, m),
        warn: (o, m) => gossipLog.warn(o, m),
        debug: (o, m) => gossipLog.debug(o, m),
        error: (o, m) => gossipLog.error(o, m),
      },
    });
    this.db.attach(this.ml);
    this.log.info({ node: this.opts.nodeName, addr: `${this.opts.bindAddr}:${this.opts.port}`, encrypted: Boolean(this.keyring) }, 'gossip listening');
    if (this.opts.join.length) void this.joinLoop(1_000);
  }

  private async joinLoop(delayMs: number): Promise<void> {
    if (this.stopped) return;
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
      return;
    }
    this.log.warn({ peers, error, retryInMs: delayMs }, 'cannot reach any gossip peer yet; retrying');
    if (this.stopped) return;
    this.joinTimer = setTimeout(() => void this.joinLoop(Math.min(delayMs * 2, 10_000)), delayMs);
  }

  status(): GossipStatus {
    const all = this.ml.allNodes();
    return {
      node: this.ml.localName,
      addr: this.opts.bindAddr,
      port: this.opts.port,
      alive: all.filter((n) => n.state === 'alive').length,
      members: all.length,
      encrypted: Boolean(this.keyring),
    };
  }

  listNodes(): GossipNode[] {
    return this.ml
      .allNodes()
      .map((n) => ({ name: n.name, addr: n.addr, port: n.port, state: n.state, self: n.name === this.ml.localName }))
      .sort((a, b) => a.name.localeCompare(b.name));
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
    const targets = this.ml.members().filter((m) => m.state === 'alive' && m.name !== this.ml.localName).map((m) => m.name);
    const id = randomUUID();
    const failed = new Map<string, string>();
    const done = new Promise<void>((resolve) => {
      this.pendingAcks.set(id, { want: new Set(targets), failed, done: resolve });
      if (!targets.length) resolve();
    });
    const msg: KeyOpMsg = { t: 'key', id, from: this.ml.localName, op, key: k };
    await Promise.all(targets.map((t) => this.ml.sendReliable(t, encodeControl(msg)).catch((e) => {
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

  private async persistKeys(): Promise<void> {
    if (!this.opts.keyFile) return;
    const tmp = `${this.opts.keyFile}.tmp`;
    await writeFile(tmp, this.keyringView().keys.join('\n') + '\n', { mode: 0o600 });
    await rename(tmp, this.opts.keyFile);
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
      const ack: KeyAckMsg = { t: 'key-ack', id: msg.id, from: this.ml.localName, ...(error ? { error } : {}) };
      await this.ml.sendReliable(msg.from, encodeControl(ack)).catch(() => undefined);
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.joinTimer) clearTimeout(this.joinTimer);
    await this.db.leaveCluster(1_000).catch(() => undefined);
    await this.ml.leave(1_000).catch(() => undefined);
    this.db.close();
    await this.ml.shutdown();
  }
}

function encodeControl(msg: ControlMsg): Buffer {
  return Buffer.concat([Buffer.from([CONTROL_MAGIC]), Buffer.from(JSON.stringify(msg))]);
}
