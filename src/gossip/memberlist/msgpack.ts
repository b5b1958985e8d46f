// The msgpack dialect of hashicorp/go-msgpack 0.5.x with a zero-value MsgpackHandle:
// structs are maps keyed by Go field name, strings AND []byte use the old raw/str family
// (fixstr, str16, str32 — never str8 or bin on encode), nil slices are nil, ints are the
// smallest form (non-negative signed ints use the unsigned forms). The decoder is lenient
// the way Go's is: it also accepts str8 and bin8/16/32.

export class MsgpackError extends Error {
  constructor(message: string) {
    super(`msgpack: ${message}`);
    this.name = 'MsgpackError';
  }
}

/** Input ended inside an object: on a stream, more bytes may complete it. */
export class MsgpackTruncated extends MsgpackError {
  constructor() {
    super('truncated input');
    this.name = 'MsgpackTruncated';
  }
}

export class MsgpackWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 128) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.len++] = b;
    return this;
  }

  rawBytes(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
    return this;
  }

  nil(): this {
    return this.byte(0xc0);
  }

  bool(v: boolean): this {
    return this.byte(v ? 0xc3 : 0xc2);
  }

  uint(v: number): this {
    if (!Number.isInteger(v) || v < 0) throw new MsgpackError(`not an unsigned integer: ${v}`);
    this.ensure(9);
    if (v <= 0x7f) {
      this.buf[this.len++] = v;
    } else if (v <= 0xff) {
      this.buf[this.len++] = 0xcc;
      this.buf[this.len++] = v;
    } else if (v <= 0xffff) {
      this.buf[this.len++] = 0xcd;
      this.buf.writeUInt16BE(v, this.len);
      this.len += 2;
    } else if (v <= 0xffffffff) {
      this.buf[this.len++] = 0xce;
      this.buf.writeUInt32BE(v, this.len);
      this.len += 4;
    } else {
      this.buf[this.len++] = 0xcf;
      this.buf.writeBigUInt64BE(BigInt(v), this.len);
      this.len += 8;
    }
    return this;
  }

  int(v: number): this {
    if (!Number.isInteger(v)) throw new MsgpackError(`not an integer: ${v}`);
    if (v >= 0) return this.uint(v);
    this.ensure(9);
    if (v >= -32) {
      this.buf[this.len++] = v & 0xff;
    } else if (v >= -128) {
      this.buf[this.len++] = 0xd0;
      this.buf.writeInt8(v, this.len);
      this.len += 1;
    } else if (v >= -32768) {
      this.buf[this.len++] = 0xd1;
      this.buf.writeInt16BE(v, this.len);
      this.len += 2;
    } else if (v >= -2147483648) {
      this.buf[this.len++] = 0xd2;
      this.buf.writeInt32BE(v, this.len);
      this.len += 4;
    } else {
      this.buf[this.len++] = 0xd3;
      this.buf.writeBigInt64BE(BigInt(v), this.len);
      this.len += 8;
    }
    return this;
  }

  private rawHeader(n: number): void {
    this.ensure(5);
    if (n < 32) {
      this.buf[this.len++] = 0xa0 | n;
    } else if (n <= 0xffff) {
      this.buf[this.len++] = 0xda;
      this.buf.writeUInt16BE(n, this.len);
      this.len += 2;
    } else {
      this.buf[this.len++] = 0xdb;
      this.buf.writeUInt32BE(n, this.len);
      this.len += 4;
    }
  }

  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.rawHeader(b.length);
    return this.rawBytes(b);
  }

  /** A Go []byte: nil -> msgpack nil, otherwise a str-family raw string. */
  bytes(b: Buffer | null): this {
    if (b === null) return this.nil();
    this.rawHeader(b.length);
    return this.rawBytes(b);
  }

  mapHeader(n: number): this {
    this.ensure(5);
    if (n < 16) {
      this.buf[this.len++] = 0x80 | n;
    } else if (n <= 0xffff) {
      this.buf[this.len++] = 0xde;
      this.buf.writeUInt16BE(n, this.len);
      this.len += 2;
    } else {
      this.buf[this.len++] = 0xdf;
      this.buf.writeUInt32BE(n, this.len);
      this.len += 4;
    }
    return this;
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** A decoded msgpack map; keys stay as decoded values (struct keys are strings). */
export interface MpMap {
  readonly kind: 'map';
  readonly entries: Array<[MpValue, MpValue]>;
}
export type MpValue = null | boolean | number | bigint | Buffer | MpValue[] | MpMap;

const MAX_DEPTH = 32;

/** Decode one msgpack object at `pos`; returns the value and the offset after it. */
export function decodeValue(buf: Buffer, pos: number, depth = 0): [MpValue, number] {
  if (depth > MAX_DEPTH) throw new MsgpackError('nesting too deep');
  if (pos >= buf.length) throw new MsgpackTruncated();
  const b = buf[pos]!;
  pos += 1;
  const need = (n: number): void => {
    if (pos + n > buf.length) throw new MsgpackTruncated();
  };
  const raw = (n: number): [MpValue, number] => {
    need(n);
    return [buf.subarray(pos, pos + n), pos + n];
  };
  const array = (n: number): [MpValue, number] => {
    if (n > buf.length - pos) throw new MsgpackTruncated();
    const out: MpValue[] = [];
    for (let i = 0; i < n; i++) {
      const [v, next] = decodeValue(buf, pos, depth + 1);
      out.push(v);
      pos = next;
    }
    return [out, pos];
  };
  const map = (n: number): [MpValue, number] => {
    if (n * 2 > buf.length - pos) throw new MsgpackTruncated();
    const entries: Array<[MpValue, MpValue]> = [];
    for (let i = 0; i < n; i++) {
      const [k, p1] = decodeValue(buf, pos, depth + 1);
      const [v, p2] = decodeValue(buf, p1, depth + 1);
      entries.push([k, v]);
      pos = p2;
    }
    return [{ kind: 'map', entries }, pos];
  };

  if (b <= 0x7f) return [b, pos];
  if (b >= 0xe0) return [b - 0x100, pos];
  if ((b & 0xe0) === 0xa0) return raw(b & 0x1f);
  if ((b & 0xf0) === 0x90) return array(b & 0x0f);
  if ((b & 0xf0) === 0x80) return map(b & 0x0f);
  switch (b) {
    case 0xc0:
      return [null, pos];
    case 0xc2:
      return [false, pos];
    case 0xc3:
      return [true, pos];
    case 0xcc:
      need(1);
      return [buf[pos]!, pos + 1];
    case 0xcd:
      need(2);
      return [buf.readUInt16BE(pos), pos + 2];
    case 0xce:
      need(4);
      return [buf.readUInt32BE(pos), pos + 4];
    case 0xcf: {
      need(8);
      const v = buf.readBigUInt64BE(pos);
      return [v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v, pos + 8];
    }
    case 0xd0:
      need(1);
      return [buf.readInt8(pos), pos + 1];
    case 0xd1:
      need(2);
      return [buf.readInt16BE(pos), pos + 2];
    case 0xd2:
      need(4);
      return [buf.readInt32BE(pos), pos + 4];
    case 0xd3: {
      need(8);
      const v = buf.readBigInt64BE(pos);
      const safe = v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER);
      return [safe ? Number(v) : v, pos + 8];
    }
    case 0xca:
      need(4);
      return [buf.readFloatBE(pos), pos + 4];
    case 0xcb:
      need(8);
      return [buf.readDoubleBE(pos), pos + 8];
    case 0xd9:
    case 0xc4:
      need(1);
      pos += 1;
      return raw(buf[pos - 1]!);
    case 0xda:
    case 0xc5:
      need(2);
      pos += 2;
      return raw(buf.readUInt16BE(pos - 2));
    case 0xdb:
    case 0xc6:
      need(4);
      pos += 4;
      return raw(buf.readUInt32BE(pos - 4));
    case 0xdc:
      need(2);
      pos += 2;
      return array(buf.readUInt16BE(pos - 2));
    case 0xdd:
      need(4);
      pos += 4;
      return array(buf.readUInt32BE(pos - 4));
    case 0xde:
      need(2);
      pos += 2;
      return map(buf.readUInt16BE(pos - 2));
    case 0xdf:
      need(4);
      pos += 4;
      return map(buf.readUInt32BE(pos - 4));
    default:
      throw new MsgpackError(`unsupported type byte 0x${b.toString(16)}`);
  }
}

/** Field accessors for a struct decoded from a map keyed by Go field names. */
export class StructFields {
  private readonly fields = new Map<string, MpValue>();

  constructor(
    readonly structName: string,
    value: MpValue,
  ) {
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || Array.isArray(value)) {
      throw new MsgpackError(`${structName}: expected a map`);
    }
    for (const [k, v] of value.entries) {
      if (!Buffer.isBuffer(k)) throw new MsgpackError(`${structName}: non-string map key`);
      this.fields.set(k.toString('utf8'), v);
    }
  }

  private bad(name: string, want: string): MsgpackError {
    return new MsgpackError(`${this.structName}.${name}: expected ${want}`);
  }

  uint(name: string, max: number): number {
    const v = this.fields.get(name);
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      throw this.bad(name, `an unsigned integer <= ${max}`);
    }
    return v;
  }

  /** A Go `int` that we only accept when non-negative (counts and lengths). */
  count(name: string, max: number): number {
    return this.uint(name, max);
  }

  str(name: string): string {
    const v = this.fields.get(name);
    if (v === undefined || v === null) return '';
    if (!Buffer.isBuffer(v)) throw this.bad(name, 'a string');
    return v.toString('utf8');
  }

  bytes(name: string): Buffer | null {
    const v = this.fields.get(name);
    if (v === undefined || v === null) return null;
    if (!Buffer.isBuffer(v)) throw this.bad(name, 'a byte string');
    return Buffer.from(v);
  }

  bool(name: string): boolean {
    const v = this.fields.get(name);
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') throw this.bad(name, 'a bool');
    return v;
  }
}

/** Decode one struct (map) at `pos`. */
export function decodeStruct(structName: string, buf: Buffer, pos = 0): [StructFields, number] {
  const [v, end] = decodeValue(buf, pos);
  return [new StructFields(structName, v), end];
}
