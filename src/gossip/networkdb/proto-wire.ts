// Minimal protobuf (proto3) wire primitives: a growable writer and a bounds-checked reader.
// Every decoding failure is a ProtoDecodeError, so callers can tell bad peer input from bugs.

export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(`protobuf decode: ${message}`);
    this.name = 'ProtoDecodeError';
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

const UINT64_MAX = (1n << 64n) - 1n;

export class ProtoWriter {
  private buf: Buffer = Buffer.allocUnsafe(128);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(value: bigint | number): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
      this.smallVarint(value);
      return;
    }
    if (value < 0n || value > UINT64_MAX) throw new RangeError(`varint out of uint64 range: ${value}`);
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.smallVarint(Number(value));
      return;
    }
    this.ensure(10);
    let v = value;
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** Non-negative safe integer; avoids BigInt on the hot path. */
  private smallVarint(value: number): void {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wireType: number): void {
    this.smallVarint(field * 8 + wireType);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_BYTES);
    this.smallVarint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  private string(field: number, value: string): void {
    const len = Buffer.byteLength(value, 'utf8');
    this.tag(field, WIRE_BYTES);
    this.smallVarint(len);
    this.ensure(len);
    this.pos += this.buf.write(value, this.pos, len, 'utf8');
  }

  // proto3 scalars: default values (0, false, "", empty bytes) are not written.
  uint64Field(field: number, value: bigint): void {
    if (value !== 0n) {
      this.tag(field, WIRE_VARINT);
      this.varint(value);
    }
  }

  enumField(field: number, value: number): void {
    if (value !== 0) {
      if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
        throw new RangeError(`enum value out of range: ${value}`);
      }
      this.tag(field, WIRE_VARINT);
      this.smallVarint(value);
    }
  }

  int32Field(field: number, value: number): void {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`int32 out of range: ${value}`);
    }
    if (value !== 0) {
      this.tag(field, WIRE_VARINT);
      // Negative int32 is sign-extended to 64 bits on the wire.
      this.varint(value < 0 ? BigInt(value) + (1n << 64n) : value);
    }
  }

  boolField(field: number, value: boolean): void {
    if (value) {
      this.tag(field, WIRE_VARINT);
      this.smallVarint(1);
    }
  }

  stringField(field: number, value: string): void {
    if (value.length > 0) this.string(field, value);
  }

  bytesField(field: number, value: Uint8Array): void {
    if (value.length > 0) this.bytes(field, value);
  }

  /** Repeated fields are written even when an element is empty. */
  repeatedString(field: number, values: readonly string[]): void {
    for (const v of values) this.string(field, v);
  }

  repeatedBytes(field: number, values: readonly Uint8Array[]): void {
    for (const v of values) this.bytes(field, v);
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export interface FieldHeader {
  field: number;
  wireType: number;
}

export class ProtoReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    // Fast path: one-byte varints (tags, small lengths, small times).
    const first = this.buf[this.pos];
    if (first !== undefined && first < 0x80) {
      this.pos++;
      return BigInt(first);
    }
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtoDecodeError('truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (result > UINT64_MAX) throw new ProtoDecodeError('varint overflows uint64');
        return result;
      }
      shift += 7n;
    }
    throw new ProtoDecodeError('varint longer than 10 bytes');
  }

  /** A varint that must fit a non-negative JS number no larger than `max`. */
  smallVarint(max: number, what: string): number {
    // Fast path: up to 4 bytes (28 bits) without BigInt.
    let n = 0;
    for (let i = 0, p = this.pos; i < 4 && p < this.buf.length; i++, p++) {
      const b = this.buf[p] as number;
      n += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) {
        if (n > max) throw new ProtoDecodeError(`${what} too large: ${n}`);
        this.pos = p + 1;
        return n;
      }
    }
    const v = this.varint();
    if (v > BigInt(max)) throw new ProtoDecodeError(`${what} too large: ${v}`);
    return Number(v);
  }

  header(): FieldHeader {
    const key = this.smallVarint(0xffffffff, 'field key');
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 0) throw new ProtoDecodeError('field number 0 is invalid');
    if (field > 0x1fffffff) throw new ProtoDecodeError(`field number too large: ${field}`);
    return { field, wireType };
  }

  lengthDelimited(): Uint8Array {
    const len = this.smallVarint(0x7fffffff, 'length');
    if (len > this.buf.length - this.pos) {
      throw new ProtoDecodeError(`length ${len} exceeds remaining ${this.buf.length - this.pos} bytes`);
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_BYTES:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (n > this.buf.length - this.pos) throw new ProtoDecodeError('truncated fixed-width field');
    this.pos += n;
  }
}

export function expectWireType(h: FieldHeader, wireType: number, message: string): void {
  if (h.wireType !== wireType) {
    throw new ProtoDecodeError(
      `${message} field ${h.field}: wire type ${h.wireType}, expected ${wireType}`,
    );
  }
}

export function readUtf8(data: Uint8Array): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8');
}

/** Copy so decoded messages never alias (and pin) the receive buffer. */
export function copyBytes(data: Uint8Array): Buffer {
  return Buffer.from(data);
}

/** Low 32 bits of a varint as a signed int32 (protobuf int32 semantics). */
export function toInt32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}
