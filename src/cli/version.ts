// The CLI's version: the one constant the agent reports too (src/model/version.ts).
import { VERSION } from '../model/version.js';

export function cliVersion(): string {
  return VERSION;
}
