// A full decoder for responses, for tests, benches and debugging (the server never decodes
// responses it builds). Throws on malformed input.
import { HEADER_LEN, QType } from './constants.js';
import { keyToName, readName } from './name.js';

export interface DecodedRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Presentation form: "10.0.0.2", "fd00::2" (full hex groups), "api.", "0 0 80 api.", SOA fields. */
  data: string;
}

export interface DecodedMessage {
  id: number;
  flags: number;
  rcode: number;
  question: { name: string; type: number; class: number }[];
  answer: DecodedRecord[];
  authority: DecodedRecord[];
  additional: DecodedRecord[];
}

export function decodeMessage(msg: Buffer): DecodedMessage {
  if (msg.length < HEADER_LEN) throw new Error('message shorter than a header');
  const counts = [4, 6, 8, 10].map((o) => msg.readUInt16BE(o));
  let pos = HEADER_LEN;
  const name = (): string => {
    const n = readName(msg, pos);
    if (!n) throw new Error(`bad name at ${pos}`);
    pos = n.end;
    return keyToName(n.key);
  };
  const u16 = (): number => {
    if (pos + 2 > msg.length) throw new Error('truncated');
    pos += 2;
    return msg.readUInt16BE(pos - 2);
  };
  const question = [];
  for (let i = 0; i < counts[0]!; i++) question.push({ name: name(), type: u16(), class: u16() });
  const record = (): DecodedRecord => {
    const rname = name();
    const type = u16();
    const cls = u16();
    const ttl = (u16() << 16 | u16()) >>> 0;
    const len = u16();
    const end = pos + len;
    if (end > msg.length) throw new Error('rdata past the end');
    let data: string;
    if (type === QType.A && len === 4) data = [...msg.subarray(pos, end)].join('.');
    else if (type === QType.AAAA && len === 16) data = Array.from({ length: 8 }, (_, i) => msg.readUInt16BE(pos + 2 * i).toString(16)).join(':');
    else if (type === QType.PTR || type === QType.CNAME || type === QType.NS) data = name();
    else if (type === QType.SRV) data = `${u16()} ${u16()} ${u16()} ${name()}`;
    else if (type === QType.SOA) {
      const parts = [name(), name()];
      while (pos + 4 <= end) parts.push(String(msg.readUInt32BE((pos += 4) - 4)));
      data = parts.join(' ');
    } else data = msg.subarray(pos, end).toString('hex');
    pos = end;
    return { name: rname, type, class: cls, ttl, data };
  };
  const section = (n: number): DecodedRecord[] => Array.from({ length: n }, record);
  const answer = section(counts[1]!);
  const authority = section(counts[2]!);
  const additional = section(counts[3]!);
  const flags = msg.readUInt16BE(2);
  const opt = additional.find((r) => r.type === QType.OPT);
  const rcode = (flags & 0xf) | (opt ? (opt.ttl >>> 24) << 4 : 0);
  return { id: msg.readUInt16BE(0), flags, rcode, question, answer, authority, additional };
}
