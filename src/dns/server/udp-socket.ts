// UDP sockets for serving DNS. Replies go to rinfo.address, always an IP literal, so the
// socket's "lookup" can answer synchronously: Node's default goes through dns.lookup, which
// re-checks the literal and defers every send by a process.nextTick (~0.6 us of ~8 per query).
import { createSocket, type Socket } from 'node:dgram';

type LookupCallback = (err: Error | null, address: string, family: number) => void;

function literalLookup(address: string, family: unknown, callback: LookupCallback): void {
  callback(null, address, typeof family === 'number' ? family : address.includes(':') ? 6 : 4);
}

/** A dgram socket meant for DnsServer.serveUdp (bind it, or bind({fd}) to an fd made elsewhere). */
export function createDnsUdpSocket(type: 'udp4' | 'udp6'): Socket {
  return createSocket({ type, lookup: literalLookup as never });
}
