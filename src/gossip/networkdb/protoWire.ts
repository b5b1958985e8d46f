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
  private chunks: number[] = [];
  private parts: Buffer[] = [];

  private flushBytes(): void {
    if (this.chunks.length > 0) {
      this.parts.push(Buffer.from(this.chunks));
      this.chunks = [];
    }
  }

  varint(value: bigint | number): void {
    let v = BigInt(value);
    if (v < 0n || v > UINT64_MAX) throw new RangeError(`varint out of uint64 range: ${v}`);
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_BYTES);
    this.varint(data.length);
    this.flushBytes();
    this.parts.push(Buffer.from(data.buffer, data.byteOffset, data.length));
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
      this.varint(value);
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
      this.varint(1);
    }
  }

  stringField(field: number, value: string): void {
    if (value.length > 0) this.bytes(field, Buffer.from(value, 'utf8'));
  }

  bytesField(field: number, value: Uint8Array): void {
    if (value.length > 0) this.bytes(field, value);
  }

  /** Repeated fields are written even when an element is empty. */
  repeatedString(field: number, values: readonly string[]): void {
    for (const v of values) this.bytes(field, Buffer.from(v, 'utf8'));
  }

  repeatedBytes(field: number, values: readonly Uint8Array[]): void {
    for (const v of values) this.bytes(field, v);
  }

  finish(): Buffer {
    this.flushBytes();
    return Buffer.concat(this.parts);
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
