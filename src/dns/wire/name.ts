// Domain names in wire form. Inside vxmesh a name's identity is its "key": the lowercased wire
// bytes as a latin1 string ("\x03api\x00"), so a query's name is looked up without decoding it.
import { VxError } from '../../errors.js';
import { MAX_LABEL_LEN, MAX_NAME_LEN } from './constants.js';

/** Lowercases ASCII letters only (DNS case-insensitivity is ASCII-only, RFC 4343). */
export function lowerAscii(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}

/** The key of a presentation name ("Tasks.API." or "tasks.api"); throws for names DNS cannot carry. */
export function nameKey(name: string): string {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return '\x00';
  let key = '';
  for (const label of trimmed.split('.')) key += labelKey(label, name);
  key += '\x00';
  if (key.length > MAX_NAME_LEN) throw new VxError('INVALID_ARGUMENT', `DNS name "${name}" is longer than 255 bytes`);
  return key;
}

/** One label as length byte + lowercased bytes (latin1 string). ASCII labels skip the Buffer round trip. */
function labelKey(label: string, name: string): string {
  let ascii = true;
  for (let i = 0; i < label.length && ascii; i++) ascii = label.charCodeAt(i) < 0x80;
  let bytes: string;
  if (ascii) bytes = label.toLowerCase();
  else {
    const b = Buffer.from(label, 'utf8');
    for (let i = 0; i < b.length; i++) b[i] = lowerAscii(b[i]!);
    bytes = b.toString('latin1');
  }
  if (bytes.length === 0 || bytes.length > MAX_LABEL_LEN) {
    throw new VxError('INVALID_ARGUMENT', `DNS name "${name}": each label must be 1-63 bytes`);
  }
  return String.fromCharCode(bytes.length) + bytes;
}

/** The presentation form of a key, with a trailing dot ("api." for "\x03api\x00"). */
export function keyToName(key: string): string {
  if (key === '\x00') return '.';
  const labels: string[] = [];
  let i = 0;
  while (i < key.length) {
    const len = key.charCodeAt(i);
    if (len === 0) break;
    labels.push(Buffer.from(key.slice(i + 1, i + 1 + len), 'latin1').toString('utf8'));
    i += 1 + len;
  }
  return labels.join('.') + '.';
}

/** The key of the parent name ("\x03api\x00" for "\x05tasks\x03api\x00"); undefined for the root. */
export function parentKey(key: string): string | undefined {
  const len = key.charCodeAt(0);
  return len === 0 ? undefined : key.slice(1 + len);
}

/** The first label of a key as text ("tasks" for "\x05tasks\x03api\x00"). */
export function firstLabel(key: string): string {
  return key.slice(1, 1 + key.charCodeAt(0));
}

/** Prepends labels to a key: childKey("_tcp", k) is "_tcp.<k>". */
export function childKey(label: string, key: string): string {
  return nameKey(label).slice(0, -1) + key;
}

/**
 * Reads a (possibly compressed) name at `off`, for decoding responses. Pointers must point strictly
 * backwards, which rules out loops. Returns the key (lowercased) and the offset after the name in
 * place, or undefined when the name is malformed.
 */
export function readName(msg: Buffer, off: number): { key: string; end: number } | undefined {
  let key = '';
  let end = -1;
  let pos = off;
  let floor = off;
  for (;;) {
    if (pos >= msg.length) return undefined;
    const len = msg[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) return undefined;
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (target >= floor) return undefined;
      floor = target;
      pos = target;
      continue;
    }
    if (len & 0xc0) return undefined;
    if (len === 0) {
      key += '\x00';
      if (end < 0) end = pos + 1;
      return key.length > MAX_NAME_LEN ? undefined : { key, end };
    }
    if (pos + 1 + len > msg.length) return undefined;
    key += String.fromCharCode(len);
    for (let i = pos + 1; i <= pos + len; i++) key += String.fromCharCode(lowerAscii(msg[i]!));
    if (key.length > MAX_NAME_LEN) return undefined;
    pos += 1 + len;
  }
}
