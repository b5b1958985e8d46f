// Buffered reading of one memberlist message from a stream. The msgpack decoder never
// reads ahead, so raw user bytes start right after the last msgpack object.
import { decodeStruct, MsgpackTruncated, type StructFields } from './msgpack.js';
import type { StreamConn } from './transport.js';

export class StreamReader {
  private buf: Buffer;
  private pos = 0;
  private eof: boolean;

  /** `conn` null = a fixed buffer with nothing more to come. */
  constructor(
    private readonly conn: StreamConn | null,
    private readonly maxBytes: number,
    initial: Buffer = Buffer.alloc(0),
  ) {
    this.buf = initial;
    this.eof = conn === null;
  }

  private async more(): Promise<boolean> {
    if (this.eof || !this.conn) return false;
    const chunk = await this.conn.read();
    if (chunk === null) {
      this.eof = true;
      return false;
    }
    const rest = this.buf.subarray(this.pos);
    if (rest.length + chunk.length > this.maxBytes) throw new Error(`stream message exceeds ${this.maxBytes} bytes`);
    this.buf = Buffer.concat([rest, chunk]);
    this.pos = 0;
    return true;
  }

  async readExact(n: number): Promise<Buffer> {
    if (n > this.maxBytes) throw new Error(`stream message exceeds ${this.maxBytes} bytes`);
    while (this.buf.length - this.pos < n) {
      if (!(await this.more())) throw new Error('unexpected end of stream');
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Read one byte; null at a clean end of stream. */
  async readByteOrEnd(): Promise<number | null> {
    while (this.buf.length - this.pos < 1) {
      if (!(await this.more())) return null;
    }
    return this.buf[this.pos++]!;
  }

  async readStruct<T>(name: string, read: (f: StructFields) => T): Promise<T> {
    for (;;) {
      try {
        const [fields, end] = decodeStruct(name, this.buf, this.pos);
        const value = read(fields);
        this.pos = end;
        return value;
      } catch (err) {
        if (!(err instanceof MsgpackTruncated)) throw err;
        if (!(await this.more())) throw new Error(`${name}: unexpected end of stream`);
      }
    }
  }
}
