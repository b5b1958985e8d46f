// vxmesh's version, read once from package.json (the same relative path from src/model and dist/model).
// The agent's status and `vxmesh --version` both report this constant, so they cannot disagree.
import { readFileSync } from 'node:fs';

function readPackageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION: string = readPackageVersion();
