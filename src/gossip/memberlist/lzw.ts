// LZW exactly as Go's compress/lzw with LSB bit order and literal width 8 (the only
// algorithm memberlist uses, Algo 0). Codes start 9 bits wide, 256 = clear, 257 = eof,
// widths grow to 12 bits, and at code 4095 the writer emits clear and starts over.

const LIT_WIDTH = 8;
const CLEAR = 1 << LIT_WIDTH; // 256
const EOF = CLEAR + 1; // 257
const MAX_WIDTH = 12;
const MAX_CODE = (1 << MAX_WIDTH) - 1; // 4095

class BitWriter {
  private out: Buffer;
  private len = 0;
  private bits = 0;
  private nBits = 0;

  constructor(sizeHint: number) {
    this.out = Buffer.allocUnsafe(Math.max(16, sizeHint));
  }

  write(code: number, width: number): void {
    this.bits |= code << this.nBits;
    this.nBits += width;
    while (this.nBits >= 8) {
      this.push(this.bits & 0xff);
      this.bits >>>= 8;
      this.nBits -= 8;
    }
  }

  private push(b: number): void {
    if (this.len === this.out.length) {
      const next = Buffer.allocUnsafe(this.out.length * 2);
      this.out.copy(next);
      this.out = next;
    }
    this.out[this.len++] = b;
  }

  finish(): Buffer {
    if (this.nBits > 0) this.push(this.bits & 0xff);
    return Buffer.from(this.out.subarray(0, this.len));
  }
}

export function lzwCompress(input: Buffer): Buffer {
  const w = new BitWriter((input.length >> 1) + 8);
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << width;
  let table = new Map<number, number>();

  // Returns false when the code space ran out (a clear was emitted, table reset).
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      w.write(CLEAR, width);
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = CLEAR << 1;
      table = new Map();
      return false;
    }
    return true;
  };

  if (input.length === 0) {
    w.write(CLEAR, width);
    w.write(EOF, width);
    return w.finish();
  }

  w.write(CLEAR, width);
  let code = input[0]!;
  for (let i = 1; i < input.length; i++) {
    const literal = input[i]!;
    const key = (code << 8) | literal;
    const found = table.get(key);
    if (found !== undefined) {
      code = found;
      continue;
    }
    w.write(code, width);
    code = literal;
    if (incHi()) table.set(key, hi);
  }
  w.write(code, width);
  incHi();
  w.write(EOF, width);
  return w.finish();
}

export class LzwError extends Error {
  constructor(message: string) {
    super(`lzw: ${message}`);
    this.name = 'LzwError';
  }
}

/** Decompress; rejects malformed input and output larger than `maxOutput`. */
export function lzwDecompress(input: Buffer, maxOutput = 32 * 1024 * 1024): Buffer {
  const suffix = new Uint8Array(1 << MAX_WIDTH);
  const prefix = new Uint16Array(1 << MAX_WIDTH);
  const scratch = new Uint8Array(1 << MAX_WIDTH);
  let out = Buffer.allocUnsafe(Math.max(64, input.length * 3));
  let outLen = 0;
  const emit = (src: Uint8Array, from: number, to: number): void => {
    const n = to - from;
    if (outLen + n > maxOutput) throw new LzwError(`output exceeds ${maxOutput} bytes`);
    if (outLen + n > out.length) {
      let size = out.length * 2;
      while (size < outLen + n) size *= 2;
      const next = Buffer.allocUnsafe(size);
      out.copy(next, 0, 0, outLen);
      out = next;
    }
    out.set(src.subarray(from, to), outLen);
    outLen += n;
  };

  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << width;
  let last = -1;
  let bits = 0;
  let nBits = 0;
  let pos = 0;

  for (;;) {
    while (nBits < width) {
      if (pos >= input.length) throw new LzwError('unexpected EOF');
      bits |= input[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;

    if (code < CLEAR) {
      scratch[0] = code;
      emit(scratch, 0, 1);
      if (last !== -1) {
        suffix[hi] = code;
        prefix[hi] = last;
      }
    } else if (code === CLEAR) {
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = 1 << width;
      last = -1;
      continue;
    } else if (code === EOF) {
      return Buffer.from(out.subarray(0, outLen));
    } else if (code <= hi) {
      if (code === hi && last === -1) throw new LzwError('invalid code');
      let c = code;
      let i = scratch.length - 1;
      if (code === hi) {
        // KwKwK: the entry being defined is last + first byte of last.
        c = last;
        while (c >= CLEAR) c = prefix[c]!;
        scratch[i--] = c;
        c = last;
      }
      while (c >= CLEAR) {
        scratch[i--] = suffix[c]!;
        c = prefix[c]!;
      }
      scratch[i] = c;
      emit(scratch, i, scratch.length);
      if (last !== -1) {
        suffix[hi] = c;
        prefix[hi] = last;
      }
    } else {
      throw new LzwError('invalid code');
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        last = -1;
        hi--;
      } else {
        width++;
        overflow = 1 << width;
      }
    }
  }
}
