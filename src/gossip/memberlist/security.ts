// AES-GCM envelope of memberlist (security.go): version(1) | nonce(12) | ciphertext+tag(16).
// Version 0 pads the plaintext PKCS#7 to 16 bytes; version 1 (protocol >= 2) does not.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export type EncryptionVersion = 0 | 1;

const VERSION_SIZE = 1;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const BLOCK_SIZE = 16;

export function encryptOverhead(vsn: EncryptionVersion): number {
  return vsn === 0 ? 45 : 29;
}

export function encryptedLength(vsn: EncryptionVersion, inputLen: number): number {
  if (vsn >= 1) return VERSION_SIZE + NONCE_SIZE + inputLen + TAG_SIZE;
  const padding = BLOCK_SIZE - (inputLen % BLOCK_SIZE);
  return VERSION_SIZE + NONCE_SIZE + inputLen + padding + TAG_SIZE;
}

function algorithm(key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  switch (key.length) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      throw new Error(`security: invalid AES key length ${key.length}`);
  }
}

export function encryptPayload(vsn: EncryptionVersion, key: Buffer, msg: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE_SIZE);
  let plain = msg;
  if (vsn === 0) {
    const more = BLOCK_SIZE - (msg.length % BLOCK_SIZE);
    plain = Buffer.concat([msg, Buffer.alloc(more, more)]);
  }
  const cipher = createCipheriv(algorithm(key), key, nonce);
  if (aad.length > 0) cipher.setAAD(aad);
  const body = cipher.update(plain);
  cipher.final();
  return Buffer.concat([Buffer.of(vsn), nonce, body, cipher.getAuthTag()]);
}

export class DecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptError';
  }
}

function tryDecrypt(key: Buffer, blob: Buffer, aad: Buffer): Buffer | null {
  const nonce = blob.subarray(VERSION_SIZE, VERSION_SIZE + NONCE_SIZE);
  const body = blob.subarray(VERSION_SIZE + NONCE_SIZE, blob.length - TAG_SIZE);
  const tag = blob.subarray(blob.length - TAG_SIZE);
  try {
    const d = createDecipheriv(algorithm(key), key, nonce);
    if (aad.length > 0) d.setAAD(aad);
    d.setAuthTag(tag);
    const out = d.update(body);
    d.final();
    return out;
  } catch {
    return null;
  }
}

/** Try every key; throws DecryptError when none authenticates the blob. */
export function decryptPayload(keys: readonly Buffer[], blob: Buffer, aad: Buffer): Buffer {
  if (blob.length === 0) throw new DecryptError('cannot decrypt empty payload');
  const vsn = blob[0]!;
  if (vsn > 1) throw new DecryptError(`unsupported encryption version ${vsn}`);
  if (blob.length < encryptedLength(vsn as EncryptionVersion, 0)) {
    throw new DecryptError(`payload is too small to decrypt: ${blob.length}`);
  }
  for (const key of keys) {
    const plain = tryDecrypt(key, blob, aad);
    if (plain === null) continue;
    if (vsn === 1) return plain;
    const pad = plain.length > 0 ? plain[plain.length - 1]! : 0;
    if (pad < 1 || pad > BLOCK_SIZE || pad > plain.length) throw new DecryptError('bad PKCS#7 padding');
    return plain.subarray(0, plain.length - pad);
  }
  throw new DecryptError('no installed keys could decrypt the message');
}
