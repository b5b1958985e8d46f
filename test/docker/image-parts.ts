// Builds, without any registry, the two images the Dockerfile's test passes as build args:
//  - a base: this machine's Node binary, busybox, ip/bridge/nft/nsenter/setpriv and every shared library
//    they load (from ldd), `docker import`ed;
//  - an app: /opt/vxmesh as the Dockerfile's build stage leaves it (dist, bin, proto, the native addon,
//    production node_modules), made from this checkout's already built tree.
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runOk } from './harness.js';

const TOOLS = ['ip', 'bridge', 'nft', 'nsenter', 'setpriv'];
const BUSYBOX_APPLETS = ['sh', 'ln', 'mkdir', 'rm', 'test', 'echo', 'cat', 'ls', 'true', 'env'];

async function which(tool: string): Promise<string> {
  return (await runOk('sh', ['-c', `command -v ${tool}`])).trim();
}

/** The binary and every library it loads (ldd), including the dynamic loader. */
async function withLibraries(binary: string): Promise<string[]> {
  const out = await runOk('sh', ['-c', `ldd ${binary} || true`]);
  const libs = [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!).concat([...out.matchAll(/=> (\/\S+)/g)].map((m) => m[1]!));
  return [binary, ...new Set(libs)];
}

function copyInto(root: string, path: string): void {
  // usrmerge: /bin, /sbin, /lib, /lib64 are links into /usr in the image, so files go under /usr
  const target = join(root, /^\/(bin|sbin|lib|lib64)\//.test(path) ? `/usr${path}` : path);
  mkdirSync(dirname(target), { recursive: true });
  if (!existsSync(target)) cpSync(realpathSync(path), target);
}

/** A rootfs directory for the runtime base image. */
export async function makeBaseRootfs(root: string): Promise<void> {
  const binaries = [process.execPath, '/bin/busybox', ...(await Promise.all(TOOLS.map(which)))];
  for (const b of binaries) for (const f of await withLibraries(b)) copyInto(root, f);
  // Debian's usrmerge: /bin, /sbin and /lib are links into /usr
  for (const [link, to] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']] as const) {
    if (!existsSync(join(root, link)) && existsSync(join(root, to))) symlinkSync(to, join(root, link));
  }
  for (const applet of BUSYBOX_APPLETS) if (!existsSync(join(root, 'usr/bin', applet))) symlinkSync('busybox', join(root, 'usr/bin', applet));
  for (const d of ['tmp', 'run', 'var/lib', 'etc', 'proc', 'sys', 'dev', 'usr/local/bin']) mkdirSync(join(root, d), { recursive: true });
}

/** Production dependencies of the package at `root`, as top-level node_modules entries. */
function productionPackages(root: string): string[] {
  const modules = join(root, 'node_modules');
  const seen = new Set<string>();
  const queue = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
  while (queue.length) {
    const name = queue.shift()!;
    if (seen.has(name) || !existsSync(join(modules, name, 'package.json'))) continue; // nested-only copies come with their parent
    seen.add(name);
    const pkg = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    queue.push(...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }));
  }
  return [...seen];
}

/** /opt/vxmesh as the Dockerfile's build stage makes it, from this checkout (dist/ must be built). */
export function makeAppTree(repo: string, root: string): void {
  const app = join(root, 'opt/vxmesh');
  mkdirSync(app, { recursive: true });
  for (const p of ['dist', 'bin', 'proto', 'package.json']) cpSync(join(repo, p), join(app, p), { recursive: true, dereference: true });
  mkdirSync(join(app, 'build/Release'), { recursive: true });
  cpSync(realpathSync(join(repo, 'build/Release/vxmesh_native.node')), join(app, 'build/Release/vxmesh_native.node'));
  const modules = realpathSync(join(repo, 'node_modules'));
  for (const name of productionPackages(dirname(modules))) {
    cpSync(join(modules, name), join(app, 'node_modules', name), { recursive: true, dereference: true });
  }
}

/** `docker import`s a directory as an image. */
export async function importDir(docker: (args: string[], o?: { timeoutMs?: number; input?: string }) => Promise<{ code: number; stderr: string }>, dir: string, image: string): Promise<void> {
  const tar = `${dir}.tar`;
  await runOk('tar', ['-C', dir, '-cf', tar, '.'], { timeoutMs: 120_000 });
  const r = await docker(['import', tar, image], { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`docker import ${image} failed: ${r.stderr}`);
}
