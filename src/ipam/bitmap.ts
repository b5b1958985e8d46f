// A sparse, chunked, immutable bitmap over bigint offsets, stored as plain JSON.
//
// Why this shape: pools are persisted as JSON through the store, and every allocation returns a new
// state. The bitmap is cut into 256-bit chunks; only chunks with a bit set are kept, as a list of
// [chunk index (decimal string), base64 of the chunk's 32 bytes] sorted by index. So
//  - an IPv4 /16 has at most 256 chunks (~13 KB of JSON when full), and an IPv6 /64 holds only the
//    chunks its endpoints fall in, however large the prefix;
//  - an update copies the list (an array of shared strings: a memcpy) and re-encodes one chunk;
//    a plain object keyed by chunk index was measured 200x slower to copy once IPv6 indexes exceed
//    2^32 and the object falls into dictionary mode;
//  - a search skips full chunks by string comparison and never visits more chunks than are present
//    plus the few all-reserved ones, so sparse IPv6 pools stay O(chunks), not O(2^64).

import { VxError } from '../errors.js';

/** [chunk index as canonical decimal, base64 chunk], ascending by index, no all-zero chunks. */
export type ChunkMap = readonly (readonly [string, string])[];

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

/** Orders canonical decimal strings numerically without parsing them. */
function compareIndex(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** Position of `key` in the list, or -(insertion point) - 1 when absent. */
function search(chunks: ChunkMap, key: string): number {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const cmp = compareIndex((chunks[mid] as readonly [string, string])[0], key);
    if (cmp === 0) return mid;
    if (cmp < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

function chunkAt(chunks: ChunkMap, key: string): string | undefined {
  const at = search(chunks, key);
  return at < 0 ? undefined : chunks[at]?.[1];
}

export function hasBit(chunks: ChunkMap, offset: bigint): boolean {
  const encoded = chunkAt(chunks, chunkIndex(offset).toString());
  return encoded !== undefined && isSet(decode(encoded), bitInChunk(offset));
}

/** Returns a new list with the bit at `offset` set (`on`) or cleared; the input is not modified. */
export function withBit(chunks: ChunkMap, offset: bigint, on: boolean): ChunkMap {
  const key = chunkIndex(offset).toString();
  const at = search(chunks, key);
  const bytes = at < 0 ? Buffer.alloc(CHUNK_BYTES) : decode((chunks[at] as readonly [string, string])[1]);
  const bit = bitInChunk(offset);
  const byte = bytes[bit >> 3] ?? 0;
  bytes[bit >> 3] = on ? byte | (1 << (bit & 7)) : byte & ~(1 << (bit & 7));
  const next = chunks.slice();
  const empty = bytes.every((b) => b === 0);
  if (at >= 0) {
    if (empty) next.splice(at, 1);
    else next[at] = [key, bytes.toString('base64')];
  } else if (!empty) {
    next.splice(-at - 1, 0, [key, bytes.toString('base64')]);
  }
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
    const encoded = chunkAt(chunks, index.toString());
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
  const out: bigint[] = [];
  for (const [key, encoded] of chunks) {
    const bytes = decode(encoded);
    const base = BigInt(key) << CHUNK_SHIFT;
    for (let bit = 0; bit < CHUNK_BITS; bit++) {
      if (isSet(bytes, bit)) out.push(base + BigInt(bit));
    }
  }
  return out;
}
