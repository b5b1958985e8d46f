// IP text <-> wire bytes (Go net.IP) and host:port helpers. Parsing and formatting are
// src/util/ip-addr.ts's (the one IP codec); only the byte layout of Go's net.IP lives here.
import { formatIp, parseIp } from '../../util/ip-addr.js';

/** Text address -> 4 (IPv4) or 16 (IPv6) bytes, big-endian, as Go's net.IP.To4/To16. */
export function ipToBytes(ip: string): Buffer {
  const { family, value } = parseIp(ip);
  const buf = Buffer.alloc(family === 4 ? 4 : 16);
  let v = value;
  for (let i = buf.length - 1; i >= 0; i--) {
    buf[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return buf;
}

/** Go's net.IP.String(): 4 bytes or v4-mapped 16 bytes print as dotted quad. */
export function ipFromBytes(b: Buffer): string {
  if (b.length !== 4 && b.length !== 16) throw new Error(`IP must be 4 or 16 bytes, got ${b.length}`);
  let value = 0n;
  for (const byte of b) value = (value << 8n) | BigInt(byte);
  if (b.length === 4) return formatIp(4, value);
  if (value >> 32n === 0xffffn) return formatIp(4, value & 0xffffffffn);
  return formatIp(6, value);
}

export function isValidIpBytes(b: Buffer | null): b is Buffer {
  return b !== null && (b.length === 4 || b.length === 16);
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function splitHostPort(addr: string, defaultPort?: number): { host: string; port: number } {
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr);
  if (m6) return { host: m6[1]!, port: m6[2] !== undefined ? Number(m6[2]) : need(defaultPort, addr) };
  const colons = addr.split(':').length - 1;
  if (colons === 1) {
    const [h, p] = addr.split(':');
    const port = Number(p);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port in address ${addr}`);
    return { host: h!, port };
  }
  return { host: addr, port: need(defaultPort, addr) };
}

function need(port: number | undefined, addr: string): number {
  if (port === undefined) throw new Error(`address ${addr} has no port`);
  return port;
}
