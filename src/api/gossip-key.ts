// Gossip keyring operations as the API and CLI name them; the key itself is checked by src/model/validate.ts.
import type { KeyOp } from '../model/api.js';
import { GOSSIP_KEY_SIZES } from '../model/limits.js';
import { gossipKeyProblem } from '../model/validate.js';

export { GOSSIP_KEY_SIZES, gossipKeyProblem };

export const KEY_OPS: readonly KeyOp[] = ['list', 'install', 'use', 'remove'];

export function isKeyOp(value: string): value is KeyOp {
  return (KEY_OPS as readonly string[]).includes(value);
}
