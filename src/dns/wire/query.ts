// Parses one query (header, exactly one question, optional EDNS OPT) without decoding more than the
// resolver needs. The question name becomes a lowercase key built in a reusable scratch buffer,
// so the hot path allocates only that string and the result object.
import {
  FLAG_QR, FLAG_RD, HEADER_LEN, MAX_LABEL_LEN, MAX_NAME_LEN, OPCODE_MASK, OPCODE_QUERY, QType, Rcode,
} from './constants.js';

export interface Edns {
  /** The requestor's UDP payload size, at least 512 (RFC 6891 6.2.5). */
  udpSize: number;
  version: number;
  /** DNSSEC OK, echoed back (RFC 3225). */
  dnssecOk: boolean;
}

export interface Query {
  readonly kind: 'query';
  readonly id: number;
  readonly recursionDesired: boolean;
  /** Lowercase wire name as latin1 ("\x03api\x00"). */
  readonly nameKey: string;
  readonly qtype: number;
  readonly qclass: number;
  /** Offset just after the question: msg[12, questionEnd) is copied into answers as asked (case kept). */
  readonly questionEnd: number;
  readonly edns: Edns | undefined;
  /** The raw query (kept for the question bytes and for forwarding). */
  readonly msg: Buffer;
}

/** A query to answer with only a header (and the question when it parsed): FORMERR, NOTIMP. */
export interface QueryError {
  readonly kind: 'error';
  readonly id: number;
  readonly flags: number;
  readonly rcode: Rcode;
}

/** Not worth an answer: too short for a header, or a response (answering those could loop). */
export interface QueryDrop {
  readonly kind: 'drop';
  readonly reason: string;
}

export type ParsedQuery = Query | QueryError | QueryDrop;

const DROP_SHORT: QueryDrop = { kind: 'drop', reason: 'shorter than a DNS header' };
const DROP_RESPONSE: QueryDrop = { kind: 'drop', reason: 'QR set (a response, not a query)' };

export class QueryParser {
  private readonly scratch = Buffer.alloc(MAX_NAME_LEN + 1);

  parse(msg: Buffer): ParsedQuery {
    if (msg.length < HEADER_LEN) return DROP_SHORT;
    const id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    if (flags & FLAG_QR) return DROP_RESPONSE;
    if ((flags & OPCODE_MASK) >> 11 !== OPCODE_QUERY) return failure(id, flags, Rcode.NOTIMP);
    const qdcount = msg.readUInt16BE(4);
    const ancount = msg.readUInt16BE(6);
    const nscount = msg.readUInt16BE(8);
    const arcount = msg.readUInt16BE(10);
    if (qdcount !== 1 || ancount !== 0 || nscount !== 0) return failure(id, flags, Rcode.FORMERR);

    // Question name: plain labels only (a pointer in the first name could only point into the header).
    const scratch = this.scratch;
    let pos = HEADER_LEN;
    let keyLen = 0;
    for (;;) {
      if (pos >= msg.length) return failure(id, flags, Rcode.FORMERR);
      const len = msg[pos]!;
      if (len > MAX_LABEL_LEN) return failure(id, flags, Rcode.FORMERR);
      if (keyLen + 1 + len > MAX_NAME_LEN || pos + 1 + len > msg.length) return failure(id, flags, Rcode.FORMERR);
      scratch[keyLen++] = len;
      pos++;
      if (len === 0) break;
      for (let end = pos + len; pos < end; pos++) {
        const b = msg[pos]!;
        scratch[keyLen++] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
      }
    }
    if (pos + 4 > msg.length) return failure(id, flags, Rcode.FORMERR);
    const qtype = msg.readUInt16BE(pos);
    const qclass = msg.readUInt16BE(pos + 2);
    const questionEnd = pos + 4;

    let edns: Edns | undefined;
    pos = questionEnd;
    for (let i = 0; i < arcount; i++) {
      const rrStart = pos;
      const after = skipName(msg, pos);
      if (after < 0 || after + 10 > msg.length) return failure(id, flags, Rcode.FORMERR);
      const type = msg.readUInt16BE(after);
      const rdlen = msg.readUInt16BE(after + 8);
      const rdata = after + 10;
      if (rdata + rdlen > msg.length) return failure(id, flags, Rcode.FORMERR);
      if (type === QType.OPT) {
        // One OPT, owned by the root, with well-formed options (RFC 6891 6.1.1).
        if (edns || after !== rrStart + 1 || !optionsWellFormed(msg, rdata, rdlen)) return failure(id, flags, Rcode.FORMERR);
        edns = {
          udpSize: Math.max(512, msg.readUInt16BE(after + 2)),
          version: msg[after + 5]!,
          dnssecOk: (msg.readUInt16BE(after + 6) & 0x8000) !== 0,
        };
      }
      pos = rdata + rdlen;
    }
    return {
      kind: 'query',
      id,
      recursionDesired: (flags & FLAG_RD) !== 0,
      nameKey: scratch.toString('latin1', 0, keyLen),
      qtype,
      qclass,
      questionEnd,
      edns,
      msg,
    };
  }
}

function failure(id: number, flags: number, rcode: Rcode): QueryError {
  return { kind: 'error', id, flags, rcode };
}

/** Offset after a possibly compressed name, or -1 (pointers must point backwards: no loops). */
function skipName(msg: Buffer, off: number): number {
  let pos = off;
  let total = 0;
  for (;;) {
    if (pos >= msg.length) return -1;
    const len = msg[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) return -1;
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      return target < off ? pos + 2 : -1;
    }
    if (len & 0xc0) return -1;
    total += len + 1;
    if (total > MAX_NAME_LEN) return -1;
    if (len === 0) return pos + 1;
    pos += len + 1;
  }
}

function optionsWellFormed(msg: Buffer, start: number, len: number): boolean {
  let pos = start;
  const end = start + len;
  while (pos < end) {
    if (pos + 4 > end) return false;
    pos += 4 + msg.readUInt16BE(pos + 2);
  }
  return pos === end;
}

