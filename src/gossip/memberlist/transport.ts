// What memberlist needs from the network: UDP-like packets and TCP-like streams on one
// address. net-transport.ts binds real sockets; mem-transport.ts is an in-process fabric.

export interface StreamConn {
  /** "ip:port" of the other end. */
  readonly remoteAddr: string;
  /** The next chunk of bytes, or null once the peer closed (or the conn was closed). */
  read(): Promise<Buffer | null>;
  write(buf: Buffer): Promise<void>;
  close(): void;
}

export interface TransportHandlers {
  onPacket(buf: Buffer, from: string, timestamp: number): void;
  onStream(conn: StreamConn): void;
}

export interface Transport {
  /** Bind and start delivering; resolves to the bound ip and port (port 0 picks one). */
  start(bindAddr: string, bindPort: number, handlers: TransportHandlers): Promise<{ addr: string; port: number }>;
  /** Send one datagram to "ip:port"; best effort. */
  writeTo(buf: Buffer, addr: string): void;
  dial(addr: string, timeoutMs: number): Promise<StreamConn>;
  shutdown(): Promise<void>;
}

/** A queue of incoming chunks with a pending reader, shared by both transports. */
export class ChunkQueue {
  private chunks: Buffer[] = [];
  private ended = false;
  private waiter: ((b: Buffer | null) => void) | null = null;

  push(b: Buffer): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(b);
    } else {
      this.chunks.push(b);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
  }

  read(): Promise<Buffer | null> {
    const next = this.chunks.shift();
    if (next) return Promise.resolve(next);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}
