// IP text <-> wire bytes (Go net.IP) and host:port helpers.
import { isIP } from 'node:net';

export function ipToBytes(ip: string): Buffer {
  const family = isIP(ip);
  if (family === 4) return Buffer.from(ip.split('.').map((p) => Number(p)));
  if (family === 6) {
    const [headRaw, tailRaw] = ip.includes('::') ? ip.split('::') : [ip, undefined];
    const parseGroups = (s: string | undefined): number[] => {
      if (!s) return [];
      const out: number[] = [];
      for (const g of s.split(':')) {
        if (g.includes('.')) {
          const v4 = ipToBytes(g);
          out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        } else {
          out.push(parseInt(g, 16));
        }
      }
      return out;
    };
    const head = parseGroups(headRaw);
    const tail = parseGroups(tailRaw);
    const groups = tailRaw === undefined ? head : [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
    const buf = Buffer.alloc(16);
    groups.forEach((g, i) => buf.writeUInt16BE(g, i * 2));
    return buf;
  }
  throw new Error(`not an IP address: ${ip}`);
}

/** Go's net.IP.String(): 4 bytes or v4-mapped 16 bytes print as dotted quad. */
export function ipFromBytes(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length === 16) {
    const v4mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    if (v4mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
    // compress the longest run of zero groups
    let bestStart = -1;
    let bestLen = 0;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== '0') {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen && j - i > 1) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (bestStart < 0) return groups.join(':');
    return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
  }
  throw new Error(`IP must be 4 or 16 bytes, got ${b.length}`);
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
