// One DNS exchange over TCP (RFC 7766 framing): used when an upstream's UDP answer was truncated.
import { connect } from 'node:net';
import type { Upstream } from './upstreams.js';

export function tcpExchange(u: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: u.address, port: u.port, family: u.family });
    let data = Buffer.alloc(0);
    const done = (msg: Buffer | undefined): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(msg);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
    sock.on('connect', () => {
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(query.length, 0);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) done(data.subarray(2, 2 + data.readUInt16BE(0)));
    });
  });
}
