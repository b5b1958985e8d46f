// A sparse, chunked, immutable bitmap over bigint offsets, stored as plain JSON.
//
// Why this shape: pools are persisted as JSON through the store, and every allocation returns a new
// state. The bitmap is cut into 256-bit chunks keyed by chunk index (decimal string); each chunk is the
// base64 of its 32 bytes, and an all-zero chunk is simply absent. So
//  - an IPv4 /16 has at most 256 chunks (~12 KB of JSON when full), an IPv6 /64 with a few thousand
//    endpoints has a handful of chunks, however large the prefix;
//  - an update copies the small chunk index and re-encodes one 32-byte chunk (strings are shared);
//  - a search skips full chunks by string comparison and never visits more chunks than are present
//    plus the few all-reserved ones, so sparse IPv6 pools stay O(chunks), not O(2^64).

import { VxError } from '../agent/types.js';

export type ChunkMap = Readonly<Record<string, string>>;

const CHUNK_BITS = 256;
const CHUNK_BYTES = CHUNK_BITS / 8;
const CHUNK_SHIFT = 8n; // log2(CHUNK_BITS)
const CHUNK_BITS_BIG = BigInt(CHUNK_BITS);
const FULL_CHUNK = Buffer.alloc(CHUNK_BYTES, 0xff).toString('base64');

function chunkIndex(offset: bigint): bigint {
  return offset >> CHUNK_SHIFT;
}

function bitInChunk(offset: bigint): number {
  return Number(offset & (CHUNK_BITS_BIG - 1n));
}

function decode(encoded: string): Buffer {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== CHUNK_BYTES) throw new VxError('INTERNAL', `corrupt IPAM bitmap chunk "${encoded.slice(0, 16)}"`);
  return bytes;
}

function isSet(bytes: Uint8Array, bit: number): boolean {
  return ((bytes[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

export function hasBit(chunks: ChunkMap, offset: bigint): boolean {
  const encoded = chunks[chunkIndex(offset).toString()];
  return encoded !== undefined && isSet(decode(encoded), bitInChunk(offset));
}

/** Returns a new map with the bit at `offset` set (`on`) or cleared; the input is not modified. */
export function withBit(chunks: ChunkMap, offset: bigint, on: boolean): ChunkMap {
  const key = chunkIndex(offset).toString();
  const encoded = chunks[key];
  const bytes = encoded === undefined ? Buffer.alloc(CHUNK_BYTES) : decode(encoded);
  const bit = bitInChunk(offset);
  const byte = bytes[bit >> 3] ?? 0;
  bytes[bit >> 3] = on ? byte | (1 << (bit & 7)) : byte & ~(1 << (bit & 7));
  const next: Record<string, string> = { ...chunks };
  if (bytes.every((b) => b === 0)) delete next[key];
  else next[key] = bytes.toString('base64');
  return next;
}

/**
 * The lowest offset in [from, to] whose bit is clear and which `skip` does not exclude, or undefined.
 * `skip` must exclude only a handful of offsets (reserved addresses), which bounds the walk over
 * absent chunks.
 */
export function findClear(
  chunks: ChunkMap,
  from: bigint,
  to: bigint,
  skip: (offset: bigint) => boolean,
): bigint | undefined {
  let offset = from;
  while (offset <= to) {
    const index = chunkIndex(offset);
    const chunkBase = index << CHUNK_SHIFT;
    const chunkEnd = chunkBase + CHUNK_BITS_BIG - 1n;
    const limit = chunkEnd < to ? chunkEnd : to;
    const encoded = chunks[index.toString()];
    if (encoded !== FULL_CHUNK) {
      const bytes = encoded === undefined ? undefined : decode(encoded);
      const last = Number(limit - chunkBase);
      for (let bit = Number(offset - chunkBase); bit <= last; bit++) {
        if (bytes !== undefined) {
          if ((bit & 7) === 0 && bytes[bit >> 3] === 0xff) {
            bit += 7; // whole byte taken
            continue;
          }
          if (isSet(bytes, bit)) continue;
        }
        const candidate = chunkBase + BigInt(bit);
        if (!skip(candidate)) return candidate;
      }
    }
    offset = limit + 1n;
  }
  return undefined;
}

/** All set offsets in ascending order. */
export function setBits(chunks: ChunkMap): bigint[] {
  const indexes = Object.keys(chunks)
    .map((k) => BigInt(k))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: bigint[] = [];
  for (const index of indexes) {
    const bytes = decode(chunks[index.toString()] ?? '');
    const base = index << CHUNK_SHIFT;
    for (let bit = 0; bit < CHUNK_BITS; bit++) {
      if (isSet(bytes, bit)) out.push(base + BigInt(bit));
    }
  }
  return out;
}
