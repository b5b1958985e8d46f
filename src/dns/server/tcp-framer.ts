// Splits a TCP byte stream into DNS messages (2-byte length prefix, RFC 1035 4.2.2), pipelined.
export class TcpFramer {
  private pending: Buffer | undefined;

  constructor(private readonly onMessage: (msg: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let pos = 0;
    while (buf.length - pos >= 2) {
      const len = buf.readUInt16BE(pos);
      if (buf.length - pos - 2 < len) break;
      this.onMessage(buf.subarray(pos + 2, pos + 2 + len));
      pos += 2 + len;
    }
    buf = buf.subarray(pos);
    this.pending = buf.length > 0 ? Buffer.from(buf) : undefined;
  }
}
