// src/api/generated holds the TypeScript types proto-loader-gen-types makes from proto/vxmesh.proto; the
// client and server are typed by them. This test regenerates them and fails when the committed copy is
// stale, printing the command that refreshes it.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GENERATOR = join(ROOT, 'node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js');
/** Must match LOADER_OPTIONS in src/api/proto.ts. */
const OPTIONS = ['--longs=Number', '--enums=String', '--defaults', '--arrays', '--objects', '--grpcLib=@grpc/grpc-js', '--importFileExtension=.js'];
const COMMITTED = join(ROOT, 'src/api/generated');
const REFRESH = `node ${relative(ROOT, GENERATOR)} ${OPTIONS.join(' ')} --outDir=src/api/generated proto/vxmesh.proto`;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

describe('generated gRPC types', () => {
  let fresh: string;
  beforeAll(async () => {
    fresh = await mkdtemp(join(tmpdir(), 'vxmesh-gen-'));
    await promisify(execFile)(process.execPath, [GENERATOR, ...OPTIONS, `--outDir=${fresh}`, 'proto/vxmesh.proto'], { cwd: ROOT });
  });
  afterAll(async () => {
    await rm(fresh, { recursive: true, force: true });
  });

  it(`are up to date with proto/vxmesh.proto (refresh: ${REFRESH})`, async () => {
    const names = await filesUnder(fresh);
    expect(names).toContain('vxmesh/v1/Vxmesh.ts');
    expect(await filesUnder(COMMITTED)).toEqual(names);
    for (const name of names) {
      expect(await readFile(join(COMMITTED, name), 'utf8'), name).toBe(await readFile(join(fresh, name), 'utf8'));
    }
  });
});
