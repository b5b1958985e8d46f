// Shared by the dns unit tests: a query in wire form, and asking a resolver view through a real DnsServer.
import type { DnsView } from '../../src/dns/records/record-store.js';
import { DnsServer } from '../../src/dns/server/dns-server.js';
import { decodeMessage, type DecodedMessage } from '../../src/dns/wire/decode.js';

export const A = 1;
export const AAAA = 28;
export const PTR = 12;
export const SRV = 33;
export const ANY = 255;

/** A query for `name` (labels as given, letter case kept) of type `qtype`; `edns` adds an OPT with that UDP size. */
export function query(name: string, qtype: number, opts: { id?: number; edns?: number; rd?: boolean } = {}): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(opts.id ?? 0x1234, 0);
  h.writeUInt16BE(opts.rd === false ? 0 : 0x0100, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(opts.edns ? 1 : 0, 10);
  const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)]));
  const tail = Buffer.from([0, qtype >> 8, qtype & 0xff, 0, 1]);
  const opt = opts.edns ? Buffer.from([0, 0, 41, opts.edns >> 8, opts.edns & 0xff, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([h, ...labels, tail, opt]);
}

const server = new DnsServer({}); // no forwarder: a query that would be forwarded gets SERVFAIL (rcode 2)

/** The answer a namespace with `view` gets for `name`/`qtype` (UDP, EDNS 1232). */
export function ask(view: DnsView, name: string, qtype: number): DecodedMessage {
  let out: Buffer | undefined;
  server.handle(query(name, qtype, { edns: 1232 }), view, 'udp', (b) => (out = b));
  return decodeMessage(out!);
}

/** The answer section's data, sorted. */
export const data = (m: DecodedMessage): string[] => m.answer.map((r) => r.data).sort();
