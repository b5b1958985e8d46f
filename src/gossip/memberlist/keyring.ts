// A keyring of AES keys (16, 24 or 32 bytes). The primary key encrypts; every key is tried
// to decrypt, so keys can be rotated without a flag day (Go memberlist.Keyring). Keys are checked
// by src/model's one gossip-key rule (sizes, canonical base64), not a rule of our own.
import { VxError } from '../../errors.js';
import { GOSSIP_KEY_SIZES } from '../../model/limits.js';
import { decodeGossipKey } from '../../model/validate.js';

export class Keyring {
  private keys: Buffer[] = [];

  /** `primary` first; `others` are accepted for decryption only. */
  constructor(primary: Buffer, others: Buffer[] = []) {
    Keyring.validate(primary);
    this.keys = [Buffer.from(primary)];
    for (const k of others) this.addKey(k);
  }

  static validate(key: Buffer): void {
    if (!GOSSIP_KEY_SIZES.includes(key.length)) {
      throw new VxError('INVALID_ARGUMENT', `keyring: a gossip key must be 16, 24 or 32 bytes (AES-128, AES-192 or AES-256), got ${key.length}`);
    }
  }

  /**
   * Parse base64 keys (the form operators pass around); the first becomes primary. `what(i)` names
   * key i in errors (default "gossip key N"); a bad key is a VxError that never repeats the key.
   */
  static fromBase64(keys: string[], what: (i: number) => string = (i) => `gossip key ${i + 1}`): Keyring {
    if (keys.length === 0) throw new VxError('INVALID_ARGUMENT', 'keyring: at least one gossip key is required (vxmesh gossip keygen makes one)');
    const bufs = keys.map((k, i) => decodeGossipKey(k, what(i)));
    return new Keyring(bufs[0]!, bufs.slice(1));
  }

  addKey(key: Buffer): void {
    Keyring.validate(key);
    if (!this.keys.some((k) => k.equals(key))) this.keys.push(Buffer.from(key));
  }

  useKey(key: Buffer): void {
    const idx = this.keys.findIndex((k) => k.equals(key));
    if (idx < 0) throw new Error('keyring: requested key is not in the keyring');
    const [k] = this.keys.splice(idx, 1);
    this.keys.unshift(k!);
  }

  removeKey(key: Buffer): void {
    if (this.keys[0]!.equals(key)) throw new Error('keyring: removing the primary key is not allowed');
    this.keys = this.keys.filter((k) => !k.equals(key));
  }

  primaryKey(): Buffer {
    return this.keys[0]!;
  }

  getKeys(): readonly Buffer[] {
    return this.keys;
  }
}
