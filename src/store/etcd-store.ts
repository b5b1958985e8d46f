import { Etcd3, type IOptions, type IKeyValue, type IRequestOp, type ICompare } from 'etcd3';
import { StoreConflict, StoreUnavailable } from './errors.js';
import { watchEtcd } from './etcd-watch.js';
import type { KV, Store, StoreHealth, TxnOp, WatchEvent, WatchOptions } from './types.js';

// The Store on etcd (v3 API through the etcd3 client), for state shared by a cluster. Every key lives
// under `prefix`; values are JSON; a KV's revision is etcd's mod_revision, so expectRevision compares
// map 1:1 onto etcd compares (0 = create_revision 0, i.e. the key does not exist).
// Fail fast: no retries inside a call, a deadline on every request, and errors that name the endpoints.

export interface EtcdStoreOptions {
  /** e.g. ['http://127.0.0.1:2379']; a bare host:port means http. */
  endpoints: string[];
  /** Key prefix for everything this store reads and writes (default '/vxmesh/'). */
  prefix?: string;
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** Deadline of each request (default 3000 ms). */
  requestTimeoutMs?: number;
  /** etcd's --max-txn-ops (default 128): bigger txns are refused here with a clear error. */
  maxTxnOps?: number;
}

/** A fault-handling policy that runs the call once: no retry, no circuit breaker (the caller decides). */
const runOnce = { execute: <T>(fn: (ctx: { signal: AbortSignal }) => T) => Promise.resolve().then(() => fn({ signal: new AbortController().signal })) };

/** Watch stream reconnect delays: 100 ms doubling up to 2 s (etcd3's default goes up to 30 s). */
function backoff(ms: number): { duration: number; next: () => ReturnType<typeof backoff> } {
  return { duration: ms, next: () => backoff(Math.min(ms * 2, 2000)) };
}

export class EtcdStore implements Store {
  private failure: { error: string; since: string } | undefined;

  private constructor(
    private readonly client: Etcd3,
    private readonly endpoints: string[],
    private readonly prefix: string,
    private readonly timeoutMs: number,
    private readonly maxTxnOps: number,
  ) {}

  /** Connects and checks that etcd answers; throws StoreUnavailable naming the endpoints if it does not. */
  static async connect(options: EtcdStoreOptions): Promise<EtcdStore> {
    if (options.endpoints.length === 0) throw new Error('store: no etcd endpoints given; pass --store etcd://HOST:2379[,HOST:2379...]');
    const endpoints = options.endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `${options.tls ? 'https' : 'http'}://${e}`));
    const timeoutMs = options.requestTimeoutMs ?? 3000;
    const clientOptions: IOptions = {
      hosts: endpoints,
      credentials: options.tls ? { rootCertificate: options.tls.ca, privateKey: options.tls.key, certChain: options.tls.cert } : undefined,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      faultHandling: {
        global: runOnce as unknown as NonNullable<IOptions['faultHandling']>['global'],
        host: () => runOnce as unknown as ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>,
        watchBackoff: backoff(100) as unknown as NonNullable<IOptions['faultHandling']>['watchBackoff'],
      },
    };
    const store = new EtcdStore(new Etcd3(clientOptions), endpoints, options.prefix ?? '/vxmesh/', timeoutMs, options.maxTxnOps ?? 128);
    try {
      await store.snapshot('\u0000never'); // one round trip: is etcd there?
    } catch (e) {
      store.client.close();
      throw e;
    }
    return store;
  }

  private full(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  private short(kv: IKeyValue): string {
    return kv.key.toString().slice(this.prefix.length);
  }

  private decode<T>(kv: IKeyValue): KV<T> {
    const key = this.short(kv);
    let value: T;
    try {
      value = JSON.parse(kv.value.toString()) as T;
    } catch {
      throw new Error(`store: etcd key ${kv.key.toString()} does not hold JSON; something other than vxmesh wrote under ${this.prefix}`);
    }
    return { key, value, revision: Number(kv.mod_revision) };
  }

  /** Runs one etcd request, turning transport failures into StoreUnavailable and recording health. */
  private async call<R>(what: () => Promise<R>): Promise<R> {
    try {
      const r = await what();
      this.failure = undefined;
      return r;
    } catch (e) {
      const err = isTransportError(e) ? new StoreUnavailable(this.endpoints, e) : (e as Error);
      this.failure = { error: err.message, since: this.failure?.since ?? new Date().toISOString() };
      throw err;
    }
  }

  async get<T>(key: string): Promise<KV<T> | undefined> {
    const res = await this.call(() => this.client.kv.range({ key: this.full(key) }));
    const kv = res.kvs[0];
    return kv ? this.decode<T>(kv) : undefined;
  }

  async list<T>(prefix: string): Promise<KV<T>[]> {
    return (await this.snapshot<T>(prefix)).items;
  }

  async snapshot<T>(prefix: string): Promise<{ items: KV<T>[]; revision: number }> {
    const key = this.full(prefix);
    const res = await this.call(() => this.client.kv.range({ key, range_end: rangeEnd(key) }));
    return { items: res.kvs.map((kv) => this.decode<T>(kv)), revision: Number(res.header.revision) };
  }

  async txn(ops: TxnOp[]): Promise<number> {
    if (ops.length > this.maxTxnOps) {
      throw new Error(`store: a transaction of ${ops.length} operations exceeds etcd's limit of ${this.maxTxnOps} (etcd --max-txn-ops); split it`);
    }
    const seen = new Set<string>();
    for (const o of ops) {
      if (seen.has(o.key)) throw new Error(`store: key ${o.key} appears twice in one transaction`);
      seen.add(o.key);
      if (o.op === 'put' && (o.value === undefined || o.value === null)) throw new Error(`store: value for ${o.key} is ${o.value}; use a delete op`);
    }
    const compared = ops.filter((o) => o.expectRevision !== undefined);
    const compare: ICompare[] = compared.map((o) =>
      o.expectRevision === 0
        ? { key: this.full(o.key), target: 'Create', result: 'Equal', create_revision: 0 }
        : { key: this.full(o.key), target: 'Mod', result: 'Equal', mod_revision: o.expectRevision! },
    );
    const success: IRequestOp[] = ops.filter((o) => o.op !== 'check').map((o) =>
      o.op === 'put' ? { request_put: { key: this.full(o.key), value: Buffer.from(JSON.stringify(o.value)) } } : { request_delete_range: { key: this.full(o.key) } },
    );
    // On a failed compare, read the compared keys in the same transaction to name the one that moved.
    const failure: IRequestOp[] = compared.map((o) => ({ request_range: { key: this.full(o.key) } }));
    const res = await this.call(() => this.client.kv.txn({ compare, success, failure }));
    if (!res.succeeded) {
      const moved = compared.find((o, i) => Number(res.responses[i]?.response_range.kvs[0]?.mod_revision ?? 0) !== o.expectRevision);
      throw new StoreConflict((moved ?? compared[0]!).key);
    }
    return Number(res.header.revision);
  }

  watch<T>(prefix: string, fromRevision: number, onEvent: (ev: WatchEvent<T>) => void, options: WatchOptions = {}): () => void {
    return watchEtcd<T>({
      client: this.client,
      fullPrefix: this.prefix + prefix,
      stripPrefix: this.prefix.length,
      fromRevision,
      onEvent,
      options,
      onTransportError: (e) => (this.failure = { error: new StoreUnavailable(this.endpoints, e).message, since: this.failure?.since ?? new Date().toISOString() }),
      onTransportOk: () => (this.failure = undefined),
    });
  }

  health(): StoreHealth {
    return this.failure ? { ok: false, ...this.failure } : { ok: true };
  }

  /** Compacts etcd's history up to `revision` (tests and maintenance; etcd usually auto-compacts). */
  async compactHistory(revision: number): Promise<void> {
    await this.call(() => this.client.kv.compact({ revision, physical: true }));
  }

  close(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }

  /** The request deadline, for callers that report it. */
  get requestTimeoutMs(): number {
    return this.timeoutMs;
  }
}

/** The first key after every key starting with `prefix` (etcd's range_end for a prefix). */
export function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all keys
}

/** etcd could not be reached or did not answer in time (as opposed to answering with an error). */
export function isTransportError(e: unknown): boolean {
  const name = (e as Error | undefined)?.name ?? '';
  const msg = (e as Error | undefined)?.message ?? '';
  return /Unavailable|DeadlineExceeded|Cancelled|ClientClosed/.test(name) || /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|No connection established/i.test(msg);
}
