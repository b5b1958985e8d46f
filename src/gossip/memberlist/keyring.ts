// A keyring of AES keys (16, 24 or 32 bytes). The primary key encrypts; every key is tried
// to decrypt, so keys can be rotated without a flag day (Go memberlist.Keyring).

export class Keyring {
  private keys: Buffer[] = [];

  /** `primary` first; `others` are accepted for decryption only. */
  constructor(primary: Buffer, others: Buffer[] = []) {
    Keyring.validate(primary);
    this.keys = [Buffer.from(primary)];
    for (const k of others) this.addKey(k);
  }

  static validate(key: Buffer): void {
    if (![16, 24, 32].includes(key.length)) {
      throw new Error(`keyring: key must be 16, 24 or 32 bytes, got ${key.length}`);
    }
  }

  /** Parse base64 keys (the form operators pass around); the first becomes primary. */
  static fromBase64(keys: string[]): Keyring {
    if (keys.length === 0) throw new Error('keyring: at least one key is required');
    const bufs = keys.map((k) => Buffer.from(k, 'base64'));
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
