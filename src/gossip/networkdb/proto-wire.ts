// A bounds-checked protobuf wire reader, used to check input strictly (as Go's generated
// Unmarshal does) before protobufjs decodes it. Every failure is a ProtoDecodeError, so callers
// can tell bad peer input from bugs.

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

  /** Bytes read so far. */
  get offset(): number {
    return this.pos;
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
