import { crc32 } from '../util/crc32.js';

// Frame = u32 BE payload length | u32 BE crc32(payload) | JSON payload.
// A frame can never be found inside another frame's payload: JSON text escapes every byte below 0x20,
// and a length below 16 MiB starts with a 0x00 byte. So a forward scan that finds a verifying frame
// after damage has found real data, not a lookalike inside a torn record.

export const FRAME_HEADER = 8;
const OPEN_BRACE = 0x7b; // every store record is a JSON object: '{"'
const QUOTE = 0x22;

export function frame(obj: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(obj));
  const head = Buffer.alloc(FRAME_HEADER);
  head.writeUInt32BE(payload.length, 0);
  head.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

export type FrameRead = { ok: true; payload: unknown; end: number } | { ok: false; detail: string };

/** Reads and verifies the frame starting at `off`. */
export function readFrameAt(buf: Buffer, off: number): FrameRead {
  if (off + FRAME_HEADER > buf.length) return { ok: false, detail: `short record header (${buf.length - off} bytes)` };
  const len = buf.readUInt32BE(off);
  const sum = buf.readUInt32BE(off + 4);
  const end = off + FRAME_HEADER + len;
  if (end > buf.length) return { ok: false, detail: `record of ${len} bytes runs past the end of the file` };
  const payload = buf.subarray(off + FRAME_HEADER, end);
  if (crc32(payload) !== sum) return { ok: false, detail: 'checksum mismatch' };
  try {
    return { ok: true, payload: JSON.parse(payload.toString()), end };
  } catch {
    return { ok: false, detail: 'checksum matches but the payload is not JSON' };
  }
}

/**
 * The offset of the first frame at or after `from` that verifies and whose payload `accept`s, or undefined.
 * Cheap per byte: only positions whose payload would start with '{"' are checksummed.
 */
export function findNextFrame(buf: Buffer, from: number, accept: (payload: unknown) => boolean): number | undefined {
  for (let p = from; p + FRAME_HEADER + 2 <= buf.length; p++) {
    if (buf[p + FRAME_HEADER] !== OPEN_BRACE || buf[p + FRAME_HEADER + 1] !== QUOTE) continue;
    const r = readFrameAt(buf, p);
    if (r.ok && accept(r.payload)) return p;
  }
  return undefined;
}
