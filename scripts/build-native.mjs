#!/usr/bin/env node
// Builds native/ (build/Release/vxmesh_native.node) with node-gyp: npm's own copy when run from an
// npm script, else the one on PATH. Uses the running Node's installed headers when it has them
// (distribution packages ship /usr/include/node), so the build needs no download from nodejs.org.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const prefix = resolve(dirname(process.execPath), '..');
const args = ['rebuild'];
if (existsSync(join(prefix, 'include/node/node_api.h')) && existsSync(join(prefix, 'include/node/common.gypi'))) {
  args.push(`--nodedir=${prefix}`);
}
const gyp = process.env.npm_config_node_gyp;
const [cmd, cmdArgs] = gyp && existsSync(gyp) ? [process.execPath, [gyp, ...args]] : ['node-gyp', args];
const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
if (r.error) {
  console.error(`vxmesh: cannot run node-gyp (${r.error.message}): install a C compiler, make, python3 and node-gyp`);
  process.exit(1);
}
process.exit(r.status ?? 1);
