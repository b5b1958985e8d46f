// Label header (memberlist 0.5): 244 | len | label, outermost on every packet and stream.
import { HAS_LABEL } from './messages.js';

export const LABEL_MAX = 255;

export function validateLabel(label: string): void {
  const len = Buffer.byteLength(label, 'utf8');
  if (len > LABEL_MAX) throw new Error(`label is ${len} bytes; at most ${LABEL_MAX}`);
}

export function labelOverhead(label: string): number {
  return label === '' ? 0 : 2 + Buffer.byteLength(label, 'utf8');
}

export function addLabelHeader(buf: Buffer, label: string): Buffer {
  if (label === '') return buf;
  const l = Buffer.from(label, 'utf8');
  return Buffer.concat([Buffer.of(HAS_LABEL, l.length), l, buf]);
}

/** Split off a label header if present; throws on a malformed one. */
export function removeLabelHeader(buf: Buffer): { label: string; rest: Buffer } {
  if (buf.length === 0 || buf[0] !== HAS_LABEL) return { label: '', rest: buf };
  if (buf.length < 2) throw new Error('label header truncated');
  const len = buf[1]!;
  if (len < 1) throw new Error('label header with empty label');
  if (buf.length < 2 + len) throw new Error('label header truncated');
  return { label: buf.subarray(2, 2 + len).toString('utf8'), rest: buf.subarray(2 + len) };
}
