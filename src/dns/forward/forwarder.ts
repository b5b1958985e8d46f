// Forwards queries vxmesh does not own to the upstream resolvers: UDP first, TCP when the answer
// was truncated, the next upstream on timeout or SERVFAIL/REFUSED, undefined (-> SERVFAIL) when
// none answered. The sockets live in the namespace of the process that starts the forwarder
// (the agent's: the host's upstreams are reachable from there, not from a workload).
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { FLAG_QR, FLAG_TC, HEADER_LEN, Rcode } from '../wire/constants.js';
import type { Query } from '../wire/query.js';
import { truncated } from '../wire/response.js';
import { tcpExchange } from './tcp-exchange.js';
import type { Upstream } from './upstreams.js';

export interface ForwarderOptions {
  readonly upstreams: readonly Upstream[];
  /** How long to wait for one upstream before trying the next (ms). */
  readonly attemptTimeoutMs?: number;
  /** Queries forwarded at once; more are answered SERVFAIL at once. */
  readonly maxInFlight?: number;
}

const SOCKETS_PER_FAMILY = 4;

export interface ForwarderStats {
  forwarded: number;
  answered: number;
  timeouts: number;
  tcpRetries: number;
  overCap: number;
  failed: number;
}

interface Pending {
  readonly upstream: Upstream;
  readonly query: Buffer;
  readonly questionEnd: number;
  readonly socket: Socket;
  readonly resolve: (msg: Buffer | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

export class Forwarder {
  readonly stats: ForwarderStats = { forwarded: 0, answered: 0, timeouts: 0, tcpRetries: 0, overCap: 0, failed: 0 };
  private readonly pending = new Map<number, Pending>();
  /** A few sockets per family, so a spoofer must guess the source port as well as the ID. */
  private readonly sockets = new Map<4 | 6, Socket[]>();
  private inFlight = 0;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly cap: number;

  constructor(private readonly options: ForwarderOptions) {
    this.timeoutMs = options.attemptTimeoutMs ?? 1000;
    this.cap = options.maxInFlight ?? 512;
  }

  get upstreams(): readonly Upstream[] {
    return this.options.upstreams;
  }

  /** The response for the client (its ID, truncated to what it can take over UDP), or undefined. */
  async forward(q: Query, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    if (this.closed || this.options.upstreams.length === 0) return undefined;
    if (this.inFlight >= this.cap) {
      this.stats.overCap++;
      return undefined;
    }
    this.inFlight++;
    this.stats.forwarded++;
    try {
      let fallback: Buffer | undefined;
      for (const u of this.options.upstreams) {
        const msg = await this.exchange(u, q);
        if (!msg) continue;
        const rcode = msg[3]! & 0xf;
        if (rcode === Rcode.SERVFAIL || rcode === Rcode.REFUSED) {
          fallback = msg;
          continue;
        }
        return this.toClient(q, msg, transport);
      }
      if (fallback) return this.toClient(q, fallback, transport);
      this.stats.failed++;
      return undefined;
    } finally {
      this.inFlight--;
    }
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.pending.clear();
    for (const list of this.sockets.values()) for (const s of list) s.close();
    this.sockets.clear();
  }

  private async exchange(u: Upstream, q: Query): Promise<Buffer | undefined> {
    const udp = await this.udpExchange(u, q);
    if (!udp || !(udp.readUInt16BE(2) & FLAG_TC)) return udp;
    this.stats.tcpRetries++;
    const tcp = await tcpExchange(u, q.msg, this.timeoutMs);
    return tcp && matches(tcp, q.msg, q.questionEnd, q.id) ? tcp : udp;
  }

  private udpExchange(u: Upstream, q: Query): Promise<Buffer | undefined> {
    const id = this.freeId();
    if (id < 0 || this.closed) return Promise.resolve(undefined);
    const query = Buffer.from(q.msg);
    query.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.stats.timeouts++;
        resolve(undefined);
      }, this.timeoutMs);
      const socket = this.socket(u.family);
      this.pending.set(id, { upstream: u, query, questionEnd: q.questionEnd, socket, resolve, timer });
      socket.send(query, u.port, u.address, (err) => {
        if (err && this.pending.get(id)?.timer === timer) {
          clearTimeout(timer);
          this.pending.delete(id);
          resolve(undefined);
        }
      });
    });
  }

  private onMessage(msg: Buffer, from: { address: string; port: number }, on: Socket): void {
    if (msg.length < HEADER_LEN) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    // Only the upstream we asked, on the socket we asked from, with our ID and question, is believed.
    if (!p || p.socket !== on || p.upstream.port !== from.port || !sameAddress(p.upstream.address, from.address)) return;
    if (!matches(msg, p.query, p.questionEnd, id)) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    this.stats.answered++;
    p.resolve(msg);
  }

  private toClient(q: Query, upstream: Buffer, transport: 'udp' | 'tcp'): Buffer {
    const limit = transport === 'tcp' ? 0xffff : q.edns ? q.edns.udpSize : 512;
    if (upstream.length > limit) return truncated(q, upstream[3]! & 0xf);
    const out = Buffer.from(upstream);
    out.writeUInt16BE(q.id, 0);
    // Keep the client's question bytes (its letter case) whatever the upstream echoed.
    q.msg.copy(out, HEADER_LEN, HEADER_LEN, q.questionEnd);
    return out;
  }

  private freeId(): number {
    if (this.pending.size >= 0xffff) return -1;
    for (;;) {
      const id = randomInt(0x10000);
      if (!this.pending.has(id)) return id;
    }
  }

  private socket(family: 4 | 6): Socket {
    let list = this.sockets.get(family);
    if (!list) {
      list = Array.from({ length: SOCKETS_PER_FAMILY }, () => {
        const s = createSocket(family === 4 ? 'udp4' : 'udp6');
        s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo, s));
        s.on('error', () => undefined); // ICMP errors on an unconnected socket: the attempt times out
        s.bind(0); // the kernel picks a random ephemeral port
        s.unref();
        return s;
      });
      this.sockets.set(family, list);
    }
    return list[randomInt(list.length)]!;
  }
}

function isLetter(b: number): boolean {
  const l = b | 0x20;
  return l >= 0x61 && l <= 0x7a;
}

function sameAddress(a: string, b: string): boolean {
  return a === b || a.split('%')[0] === b.split('%')[0] || b === `::ffff:${a}`;
}

/** A response to `query`: its ID, QR set, the same question (letter case aside). */
function matches(msg: Buffer, query: Buffer, qEnd: number, id: number): boolean {
  if (msg.length < qEnd || msg.readUInt16BE(0) !== id || !(msg.readUInt16BE(2) & FLAG_QR)) return false;
  if (msg.readUInt16BE(4) !== 1) return false;
  for (let i = HEADER_LEN; i < qEnd; i++) {
    if (msg[i] !== query[i] && (!isLetter(query[i]!) || (msg[i]! | 0x20) !== (query[i]! | 0x20))) return false;
  }
  return true;
}
