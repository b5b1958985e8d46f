// Builds the part of an answer after the question (answer, authority and additional records) with
// name compression. Runs only when an answer is (re)built for the cache, never per query: clarity
// over speed. Offsets assume the question starts at byte 12, as it always does.
import { CLASS_IN, HEADER_LEN, QType } from './constants.js';

export interface Soa {
  zoneKey: string;
  mnameKey: string;
  rnameKey: string;
  serial: number;
  ttl: number;
  /** The negative-caching TTL (RFC 2308). */
  minimum: number;
}

export class RecordWriter {
  private readonly bytes: number[] = [];
  private readonly offsets = new Map<string, number>();
  /** Where the tail starts in the full message. */
  private readonly base: number;

  constructor(questionKey: string) {
    this.base = HEADER_LEN + questionKey.length + 4;
    // Every suffix of the question name can be pointed at: the key's bytes are the question's bytes.
    for (let i = 0; i < questionKey.length - 1; i += questionKey.charCodeAt(i) + 1) {
      this.offsets.set(questionKey.slice(i), HEADER_LEN + i);
    }
  }

  get length(): number {
    return this.bytes.length;
  }

  /**
   * The bytes written so far (call once all records are in). Not from Node's shared 8 KiB pool: a
   * cached answer lives long, and a pooled slice would keep its whole slab alive.
   */
  toBuffer(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.bytes.length);
    for (let i = 0; i < this.bytes.length; i++) out[i] = this.bytes[i]!;
    return out;
  }

  address(ownerKey: string, ttl: number, ip: Buffer): void {
    this.header(ownerKey, ip.length === 4 ? QType.A : QType.AAAA, ttl);
    this.u16(ip.length);
    for (const b of ip) this.bytes.push(b);
  }

  ptr(ownerKey: string, ttl: number, targetKey: string): void {
    this.header(ownerKey, QType.PTR, ttl);
    const lenAt = this.reserve16();
    this.name(targetKey, true);
    this.fill16(lenAt);
  }

  srv(ownerKey: string, ttl: number, priority: number, weight: number, port: number, targetKey: string): void {
    this.header(ownerKey, QType.SRV, ttl);
    const lenAt = this.reserve16();
    this.u16(priority);
    this.u16(weight);
    this.u16(port);
    this.name(targetKey, false); // RFC 2782: the target is never compressed
    this.fill16(lenAt);
  }

  soa(soa: Soa): void {
    this.header(soa.zoneKey, QType.SOA, soa.ttl);
    const lenAt = this.reserve16();
    this.name(soa.mnameKey, true);
    this.name(soa.rnameKey, true);
    this.u32(soa.serial);
    this.u32(3600); // refresh, retry, expire: meaningless without secondaries, but well-formed
    this.u32(600);
    this.u32(86400);
    this.u32(soa.minimum);
    this.fill16(lenAt);
  }

  private header(ownerKey: string, type: number, ttl: number): void {
    this.name(ownerKey, true);
    this.u16(type);
    this.u16(CLASS_IN);
    this.u32(ttl);
  }

  private name(key: string, compress: boolean): void {
    for (let i = 0; i < key.length; i += key.charCodeAt(i) + 1) {
      const len = key.charCodeAt(i);
      if (len === 0) break;
      const suffix = key.slice(i);
      const known = compress ? this.offsets.get(suffix) : undefined;
      if (known !== undefined) {
        this.u16(0xc000 | known);
        return;
      }
      const here = this.base + this.bytes.length;
      if (here < 0x3fff && !this.offsets.has(suffix)) this.offsets.set(suffix, here);
      for (let j = i; j <= i + len; j++) this.bytes.push(key.charCodeAt(j));
    }
    this.bytes.push(0);
  }

  private u16(v: number): void {
    this.bytes.push((v >> 8) & 0xff, v & 0xff);
  }

  private u32(v: number): void {
    this.u16((v >>> 16) & 0xffff);
    this.u16(v & 0xffff);
  }

  private reserve16(): number {
    this.u16(0);
    return this.bytes.length - 2;
  }

  private fill16(at: number): void {
    const len = this.bytes.length - at - 2;
    this.bytes[at] = len >> 8;
    this.bytes[at + 1] = len & 0xff;
  }
}
