// Attach's last step on a shared store (etcd). The acknowledgement goes to the host-local ack log (one
// fdatasync, ~0.2 ms) and this host's planes see the records ready at once (RecordSet.showAhead); the
// store's `ready` write follows off the attach's path, batched, retried until it lands or the record
// is gone. Both attach guarantees hold: "attach returned => survives a crash" (the next start finishes
// the records the log names) and "ready => plumbed" (the acknowledgement follows the kernel step).
// Another host sees the record `pending` a few ms longer; it learns of the endpoint from gossip anyway.

import type { Logger } from 'pino';
import { errText } from '../errors.js';
import type { IpamController } from '../ipam/store-ipam.js';
import type { IpamTxn } from '../ipam/store-allocator.js';
import type { AckLog } from '../store/ack-log.js';
import { keys, type EndpointRecord, type GatewayRecord } from './model.js';
import type { OverlayRecords, RecordSet } from './records.js';
import { summarize } from './ownership.js';

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;
/** The log is emptied once every acknowledgement it holds is in the store and it names this many. */
const CLEAR_AFTER = 256;
/** How long after an acknowledgement its store write starts. */
const KICK_AFTER_MS = 2;
/** Acknowledgements per store transaction: 2 writes each at most, under etcd's default 128 operations. */
const BATCH = 50;

/** An attach acknowledged here whose store record may still say `pending`. */
interface Owed {
  endpointId: string;
  gatewayId?: string;
}

const asReady = <R extends { state: string }>(r: R): R => (r.state === 'ready' ? r : { ...r, state: 'ready' });

export class ReadyWriter {
  private readonly owed = new Map<string, Owed>();
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private failingSince: number | undefined;
  private stopped = false;

  constructor(
    private readonly records: OverlayRecords,
    private readonly ipam: IpamController,
    /** The host-local log, and what it held when the agent opened it. */
    private readonly acks: { log: AckLog; acked: ReadonlySet<string> },
    private readonly log: Logger,
  ) {}

  /**
   * Makes the attach durable here and visible on this host: once this resolves the endpoint (and its
   * new gateway leg) are ready for every plane and survive a crash. Throws only if the log could not
   * be written (nothing is shown then).
   */
  async acknowledge(ep: EndpointRecord, gw: GatewayRecord | undefined): Promise<void> {
    await this.acks.log.add(gw ? [ep.id, gw.id] : [ep.id]);
    this.records.endpoints.showAhead(ep.id, asReady);
    if (gw) this.records.gateways.showAhead(gw.id, asReady);
    this.owed.set(ep.id, { endpointId: ep.id, ...(gw ? { gatewayId: gw.id } : {}) });
    // Once the attach's reply is on its way (the caller still waits for DNS to serve the namespace, a
    // turn of the event loop or two): the write's client-side work (~1.5 ms of gRPC encoding) would delay it.
    setTimeout(() => this.kick(), KICK_AFTER_MS);
  }

  /**
   * At start, before any repair: records this host acknowledged before it stopped whose `ready`
   * write never landed are written ready now, and the log is emptied. Returns their ids.
   */
  async finishAcknowledged(): Promise<string[]> {
    const logged = this.acks.acked;
    this.stopped = false;
    // An in-process restart may still owe writes: they are in the log too, finished the same way.
    const owed = [...this.owed.values()];
    const acked = new Set([...logged, ...owed.flatMap((o) => [o.endpointId, ...(o.gatewayId ? [o.gatewayId] : [])])]);
    const eps = this.records.localEndpoints().filter((e) => e.state === 'pending' && acked.has(e.id));
    const legs = this.records.gateways.values().filter((g) => g.state === 'pending' && acked.has(g.id));
    const done = [...eps.map((e) => `endpoint ${e.id.slice(0, 12)}`), ...legs.map((g) => `gateway leg ${g.id}`)];
    if (done.length) {
      // One record each ([endpoint, leg] with one of them): 2 * BATCH writes per transaction, as in drain().
      const pairs = [...eps.map((e) => [e.id, undefined] as const), ...legs.map((g) => [undefined, g.id] as const)];
      for (let i = 0; i < pairs.length; i += BATCH * 2) {
        const part = pairs.slice(i, i + BATCH * 2);
        await this.ipam.write(async (txn) => part.forEach(([endpointId, gatewayId]) => this.stage(txn, endpointId, gatewayId)));
      }
      this.log.warn(summarize(done), 'attaches acknowledged before the agent stopped are marked ready in the store now');
    }
    for (const o of owed) this.settled(o);
    await this.acks.log.clear();
    return done;
  }

  /** Attaches whose store write is still owed. */
  get backlog(): number {
    return this.owed.size;
  }

  /** Waits up to `timeoutMs` for the owed writes; what is left stays in the log for the next start. */
  async stop(timeoutMs = 2_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.draining, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    if (this.owed.size) this.log.warn({ owed: this.owed.size }, 'stopping with ready records not yet in the store: the next start writes them (they are in the ack log)');
  }

  private kick(): void {
    if (this.draining || this.retryTimer || this.stopped) return;
    this.draining = this.drain().finally(() => (this.draining = undefined));
  }

  /** Writes everything owed, up to BATCH per transaction (attaches that finish together share one). */
  private async drain(): Promise<void> {
    while (this.owed.size && !this.stopped) {
      const batch = [...this.owed.values()].slice(0, BATCH);
      try {
        await this.ipam.write(async (txn) => {
          for (const o of batch) this.stage(txn, o.endpointId, o.gatewayId);
        });
      } catch (e) {
        this.failingSince ??= Date.now();
        this.log.warn({ owed: this.owed.size, err: errText(e), retryMs: this.retryMs }, 'store refused ready records of acknowledged attaches (kept in the ack log): retrying');
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        return;
      }
      if (this.failingSince !== undefined) this.log.info({ afterMs: Date.now() - this.failingSince }, 'ready records of acknowledged attaches are in the store again');
      this.failingSince = undefined;
      this.retryMs = RETRY_MIN_MS;
      for (const o of batch) this.settled(o);
      if (!this.owed.size && this.acks.log.size >= CLEAR_AFTER) await this.acks.log.clear().catch((e: unknown) => this.log.warn({ err: errText(e) }, 'could not empty the ack log (tried again later)'));
    }
  }

  /** The store holds what `o` acknowledged (or the records are gone). */
  private settled(o: Owed): void {
    if (this.owed.get(o.endpointId) === o) this.owed.delete(o.endpointId);
    this.records.endpoints.dropAhead(o.endpointId);
    if (o.gatewayId) this.records.gateways.dropAhead(o.gatewayId);
  }

  /** Stages `ready` over what the store holds now (a record detached meanwhile is left gone). */
  private stage(txn: IpamTxn, endpointId: string | undefined, gatewayId: string | undefined): void {
    const put = <R extends { id: string; state: string }>(set: RecordSet<R>, key: (id: string) => string, id: string | undefined) => {
      const cur = id === undefined ? undefined : set.stored(id);
      if (cur && cur.value.state !== 'ready') txn.put(key(cur.value.id), asReady(cur.value), cur.revision);
    };
    put(this.records.endpoints, keys.endpoint, endpointId);
    put(this.records.gateways, keys.gateway, gatewayId);
  }
}
