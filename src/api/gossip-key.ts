// Syntax of gossip keyring operations, shared by the API's edge validation and the CLI.
import type { KeyOp } from '../model/api.js';

export const KEY_OPS: readonly KeyOp[] = ['list', 'install', 'use', 'remove'];

/** AES-128/192/256, as memberlist accepts. */
export const GOSSIP_KEY_SIZES: readonly number[] = [16, 24, 32];

export function isKeyOp(value: string): value is KeyOp {
  return (KEY_OPS as readonly string[]).includes(value);
}

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Why `key` is not a usable gossip key, or undefined when it is. The message never repeats the
 * key itself: it is a secret and error messages end up in logs.
 */
export function gossipKeyProblem(key: string): string | undefined {
  // Buffer.from(_, 'base64') skips junk silently; demand canonical, padded standard base64.
  if (key === '' || !BASE64_PATTERN.test(key) || Buffer.from(key, 'base64').toString('base64') !== key) {
    return 'key is not valid base64 (standard alphabet, padded; e.g. the output of `vxmesh gossip keygen`)';
  }
  const size = Buffer.from(key, 'base64').length;
  if (!GOSSIP_KEY_SIZES.includes(size)) {
    return `key decodes to ${size} bytes; a gossip key must be 16, 24 or 32 bytes (AES-128, AES-192 or AES-256)`;
  }
  return undefined;
}
