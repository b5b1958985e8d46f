// The container image, for real: build the Dockerfile (bases made locally: no registry here), run the
// agent as a host-network container in a netns host next to a real dockerd, `docker network create -d
// vxmesh` + two containers that ping; stop and start the vxmesh container: they still ping, during the
// stop too (the data plane does not depend on the agent).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { dockerUnavailableReason, run, runOk, startDockerHost, uniqueName, type DockerHost } from './harness.js';
import { importDir, makeAppTree, makeBaseRootfs } from './image-parts.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'dist/cli/main.js');
// What docs/ops.md documents as the agent's privileges (not --privileged: that also asks for capabilities
// the agent never uses, and fails where the machine lacks one, e.g. CAP_SYS_RESOURCE here).
const PRIVILEGES = ['--cap-add', 'NET_ADMIN', '--cap-add', 'SYS_ADMIN', '--cap-add', 'SYS_PTRACE', '--security-opt', 'apparmor=unconfined'];
const skip = dockerUnavailableReason() ?? (existsSync(CLI) ? undefined : 'dist/ not built (npx tsc -p tsconfig.json)');

describe.skipIf(skip !== undefined)('vxmesh container image (real dockerd)', () => {
  let host: DockerHost;
  const plugin = uniqueName('vxmeshimg');
  const prefix = uniqueName('vi').slice(0, 6);
  const pluginSocket = `/run/docker/plugins/${plugin}.sock`;
  let apiSocket = '';

  const ping = (from: string, ip: string) => host.docker(['exec', from, 'ping', '-c', '1', '-W', '2', ip], { timeoutMs: 15_000 });
  const ipOf = (c: string) => host.dockerOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "inet1").IPAddress}}', c]);
  const readyCount = async () => ((await host.docker(['logs', 'vxmesh'])).stdout.match(/vxmesh agent ready/g) ?? []).length;
  const agentLog = async () => {
    const r = await host.docker(['logs', '--tail', '40', 'vxmesh']);
    return r.stdout + r.stderr;
  };

  beforeAll(async () => {
    host = await startDockerHost({ prefix: 'vxim' });
    apiSocket = join(host.dir, 'vxrun', 'vxmesh.sock');
    mkdirSync(join(host.dir, 'vxrun'), { recursive: true });
    mkdirSync(join(host.dir, 'vxdata'), { recursive: true });
    // /run/netns must be a shared mount in dockerd's mount namespace for `-v /run/netns:/run/netns:shared`
    // (on a real host iproute2 makes it one; the harness's dockerd has a private, slave copy)
    const dockerdPid = readFileSync(join(host.dir, 'docker.pid'), 'utf8').trim();
    await runOk('nsenter', ['-t', dockerdPid, '-m', 'sh', '-c', 'mountpoint -q /run/netns || mount --bind /run/netns /run/netns; mount --make-shared /run/netns']);
    const base = join(host.dir, 'base-rootfs');
    const app = join(host.dir, 'app-tree');
    await makeBaseRootfs(base);
    makeAppTree(REPO, app);
    await importDir(host.docker, base, 'vxtest/node20-base');
    await importDir(host.docker, app, 'vxtest/vxmesh-app');
  }, 300_000);

  afterAll(async () => {
    if (!host) return;
    const ids = (await host.docker(['ps', '-aq'])).stdout.split(/\s+/).filter(Boolean);
    const workloads = ids.length ? (await host.docker(['ps', '-aq', '--filter', 'name=^/c[12]$'])).stdout.split(/\s+/).filter(Boolean) : [];
    if (workloads.length) await host.docker(['rm', '-f', ...workloads]);
    await host.docker(['network', 'rm', 'inet1']);
    await host.close();
    await run('rm', ['-f', pluginSocket]);
  }, 180_000);

  it('builds from the Dockerfile with local bases', async () => {
    process.env.DOCKER_BUILDKIT = '1'; // skips the unused npm build stage (no registry here)
    const r = await host.docker(['build', '-q', '-t', 'vxtest/vxmesh',
      '--build-arg', 'BASE=vxtest/node20-base', '--build-arg', 'BUILDER=vxtest/node20-base', '--build-arg', 'APP=vxtest/vxmesh-app', REPO], { timeoutMs: 300_000 });
    expect(r.code, r.stderr.slice(-2500)).toBe(0);
    const version = await host.docker(['run', '--rm', 'vxtest/vxmesh', 'version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/\d+\.\d+\.\d+/);
  }, 320_000);

  it('runs as a host-network container; docker containers on a vxmesh network ping, also across its restart', async () => {
    await host.dockerOk(['run', '-d', '--name', 'vxmesh', '--network', 'host', '--pid', 'host', ...PRIVILEGES,
      '-v', '/run/netns:/run/netns:shared', '-v', '/run/docker/plugins:/run/docker/plugins',
      '-v', `${join(host.dir, 'vxdata')}:/var/lib/vxmesh`, '-v', `${join(host.dir, 'vxrun')}:/run/vxmesh`,
      'vxtest/vxmesh', 'agent', '--netns-prefix', prefix, '--plugin-name', plugin, '--advertise-addr', host.underlayAddr, '--log-level', 'debug']);
    await waitFor(async () => (await readyCount()) === 1 && existsSync(pluginSocket) && existsSync(apiSocket), { what: 'the containerized agent ready', timeoutMs: 30_000, intervalMs: 200 })
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await agentLog()}`);
      });
    await host.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, 'inet1']);
    await host.dockerOk(['run', '-d', '--name', 'c1', '--network', 'inet1', host.image, 'sleep', '600']);
    await host.dockerOk(['run', '-d', '--name', 'c2', '--network', 'inet1', host.image, 'sleep', '600']);
    const [ip1, ip2] = [await ipOf('c1'), await ipOf('c2')];
    expect((await ping('c1', ip2)).code).toBe(0);
    expect((await ping('c2', ip1)).code).toBe(0);
    // the CLI on the host reaches the agent in the container through the /run/vxmesh volume
    const eps = JSON.parse(await runOk(process.execPath, [CLI, '--socket', apiSocket, 'endpoint', 'ls', '--json'])) as { ipv4: string }[];
    expect(eps.map((e) => e.ipv4.split('/')[0]).sort()).toEqual([ip1, ip2].sort());

    await host.dockerOk(['stop', 'vxmesh'], { timeoutMs: 60_000 });
    expect((await ping('c1', ip2)).code).toBe(0); // no agent: sandboxes and links stay
    await host.dockerOk(['start', 'vxmesh']);
    await waitFor(readyCount, { what: 'the agent ready again', until: (n) => n === 2, timeoutMs: 30_000, intervalMs: 200 });
    expect((await ping('c1', ip2)).code).toBe(0);
    expect((await ping('c2', ip1)).code).toBe(0);
    expect(await agentLog()).not.toMatch(/removed sandbox namespaces/);
  }, 180_000);
});
