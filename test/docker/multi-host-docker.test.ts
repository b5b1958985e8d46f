// Issue 9 section 5, docker across hosts: two netns hosts on an underlay switch, each with its own
// private dockerd (harness.ts) and its own vxmesh agent; one etcd on the switch holds the cluster
// state. `docker network create` of one name on both hosts makes one vxmesh network; containers on
// different hosts ping each other; the same name with another subnet is refused; `docker network rm`
// on one host leaves the other host's containers working.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkInfo } from '../../src/model/api.js';
import { EtcdServer } from '../support/etcd-server.js';
import { waitFor } from '../support/wait.js';
import { dockerUnavailableReason, run, runOk, startDockerHost, uniqueName, type DockerHost, type NetnsProcess } from './harness.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli', 'main.js');
const skip = dockerUnavailableReason() ?? (existsSync(CLI) ? undefined : 'dist/cli/main.js missing: run npx tsc first');

const SWITCH_ADDR = '198.51.100.1';
const SUBNET = '10.30.0.0/24';

interface Side {
  key: 'a' | 'b';
  host: DockerHost;
  plugin: string;
  apiSocket: string;
  node: string;
  agent?: NetnsProcess;
}

describe.skipIf(skip !== undefined)('docker across hosts: two dockerds, two vxmesh agents, one etcd', () => {
  const prefix = uniqueName('m').slice(0, 5); // + host letter = --netns-prefix's 6 characters
  const switchNs = `${prefix}sw`;
  const pluginBase = uniqueName('vxmh');
  const tmp = mkdtempSync(join(tmpdir(), 'vxmesh-mhd-'));
  let etcd: EtcdServer | undefined;
  const sides: Side[] = [];
  const timings: Record<string, number> = {};

  const vx = async (s: Side, ...args: string[]) => runOk(process.execPath, [CLI, '--socket', s.apiSocket, ...args]);
  const vxNetworks = async (s: Side) => JSON.parse(await vx(s, 'network', 'ls', '--json')) as NetworkInfo[];
  const net1On = async (s: Side) => (await vxNetworks(s)).filter((n) => n.name === 'net1');
  const ipOf = async (s: Side, container: string) =>
    s.host.dockerOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "net1").IPAddress}}', container]);
  const ping = (s: Side, from: string, ip: string) => s.host.docker(['exec', from, 'ping', '-c', '1', '-W', '1', ip], { timeoutMs: 10_000 });
  /** Waits until `from` on side `s` reaches `ip` (the peer table needs a moment to reach the other host). */
  const pingsSoon = async (s: Side, from: string, ip: string) => {
    const t0 = Date.now();
    let last = '';
    await waitFor(async () => {
      const r = await ping(s, from, ip);
      last = r.stdout + r.stderr;
      return r.code === 0;
    }, { what: `${from} on host ${s.key} to ping ${ip}`, timeoutMs: 15_000, intervalMs: 100 }).catch((e: unknown) => {
      throw new Error(`${String(e)}; last ping: ${last}\nagent a: ${agentLog(sides[0]!)}\nagent b: ${agentLog(sides[1]!)}`);
    });
    return Date.now() - t0;
  };
  const agentLog = (s: Side) => (s.agent ? readFileSync(s.agent.logFile, 'utf8').slice(-2500) : '(no agent)');
  const createNet1 = (s: Side, subnet = SUBNET, extra: string[] = []) =>
    s.host.docker(['network', 'create', '-d', s.plugin, '--ipam-driver', s.plugin, '--subnet', subnet, ...extra, 'net1']);

  const startAgent = async (s: Side, keyFile: string, joinArgs: string[]) => {
    const pluginSocket = `/run/docker/plugins/${s.plugin}.sock`;
    s.agent = s.host.spawnInNetns('agent', [
      process.execPath, CLI, 'agent',
      '--socket', s.apiSocket,
      '--data-dir', join(s.host.dir, 'vxmesh-data'),
      '--netns-prefix', `${prefix}${s.key}`,
      '--node-name', s.node,
      '--plugin-name', s.plugin,
      '--advertise-addr', s.host.underlayAddr,
      '--docker-host', `unix://${s.host.socket}`,
      '--store', etcd!.storeUrl,
      '--store-prefix', `/vxt-${prefix}/`,
      '--gossip-key-file', keyFile,
      ...joinArgs,
    ]);
    const proc = s.agent;
    const serving = () => existsSync(pluginSocket) && existsSync(s.apiSocket);
    await waitFor(() => serving() || proc.exited(), { what: `agent ${s.key}'s sockets`, timeoutMs: 40_000, intervalMs: 100 }).catch(() => undefined);
    if (!serving() || proc.exited()) throw new Error(`agent ${s.key} did not serve ${pluginSocket}; its log:\n${agentLog(s)}`);
  };

  beforeAll(async () => {
    const t0 = Date.now();
    // The underlay switch (a bridge in a namespace of its own) with etcd on it.
    await runOk('ip', ['netns', 'add', switchNs]);
    await runOk('ip', ['-n', switchNs, '-batch', '-'], {
      input: `link set lo up\nlink add sw0 type bridge\nlink set sw0 up\naddr add ${SWITCH_ADDR}/24 dev sw0\n`,
    });
    etcd = await EtcdServer.start({ netns: switchNs, host: SWITCH_ADDR });
    // Two docker hosts (started together: most of their time is dockerd and the image import).
    const started = await Promise.allSettled([
      startDockerHost({ prefix: 'vxmha', underlayAddr: '198.51.100.11' }),
      startDockerHost({ prefix: 'vxmhb', underlayAddr: '198.51.100.12' }),
    ]);
    for (const [i, r] of started.entries()) {
      if (r.status === 'fulfilled') {
        const key = i === 0 ? 'a' : 'b';
        sides.push({ key, host: r.value, plugin: `${pluginBase}${key}`, apiSocket: join(r.value.dir, 'vxmesh.sock'), node: `${prefix}-${key}` });
      }
    }
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    // Each harness host's underlay is a veth pair inside it: its far end goes onto the switch.
    for (const s of sides) {
      const port = `${prefix}${s.key}`;
      await runOk('ip', ['-n', s.host.ns, 'link', 'set', 'vxul1', 'down']);
      await runOk('ip', ['-n', s.host.ns, 'link', 'set', 'vxul1', 'name', port]);
      await runOk('ip', ['-n', s.host.ns, 'link', 'set', port, 'netns', switchNs]);
      await runOk('ip', ['-n', switchNs, '-batch', '-'], { input: `link set ${port} master sw0\nlink set ${port} up\n` });
    }
    timings.hostsUpMs = Date.now() - t0;
    const keyFile = join(tmp, 'gossip.key');
    writeFileSync(keyFile, randomBytes(16).toString('base64') + '\n', { mode: 0o600 });
    const [a, b] = sides as [Side, Side];
    await Promise.all([startAgent(a, keyFile, []), startAgent(b, keyFile, ['--join', a.host.underlayAddr])]);
    const alive = async (s: Side) => (JSON.parse(await vx(s, 'status', '--json')) as { gossip?: { alive?: number } }).gossip?.alive ?? 0;
    await waitFor(async () => (await alive(a)) === 2 && (await alive(b)) === 2, { what: 'both agents to see 2 alive members', timeoutMs: 20_000, intervalMs: 200 });
    timings.readyMs = Date.now() - t0;
  }, 200_000);

  afterAll(async () => {
    // containers, then docker's networks (the plugins are still up), then hosts (agents, dockerd), etcd, switch
    for (const s of sides) {
      const ids = (await s.host.docker(['ps', '-aq'])).stdout.split(/\s+/).filter(Boolean);
      if (ids.length > 0) await s.host.docker(['rm', '-f', ...ids], { timeoutMs: 60_000 });
    }
    for (const s of sides) {
      const nets = (await s.host.docker(['network', 'ls', '-q', '--filter', `driver=${s.plugin}`])).stdout.split(/\s+/).filter(Boolean);
      for (const n of nets) await s.host.docker(['network', 'rm', n]);
    }
    for (const s of sides) await s.host.close();
    await etcd?.stop();
    await run('ip', ['netns', 'del', switchNs]);
    for (const ns of (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
      if (ns.startsWith(prefix)) await run('ip', ['netns', 'del', ns]);
    }
    for (const s of sides) rmSync(`/run/docker/plugins/${s.plugin}.sock`, { force: true });
    rmSync(tmp, { recursive: true, force: true });
    console.log(`multi-host docker timings (ms): ${JSON.stringify(timings)}`);
  }, 180_000);

  it('docker network create of one name and subnet on both hosts makes ONE vxmesh network', async () => {
    const [a, b] = sides as [Side, Side];
    expect((await createNet1(a)).code).toBe(0);
    // host b's agent hears of it through etcd
    const made = await waitFor(async () => (await net1On(b))[0], { what: 'net1 listed on host b', timeoutMs: 10_000, intervalMs: 100, until: (n) => n !== undefined });
    // same name, another subnet, plain: dockerd shows a network's name only after CreateNetwork
    // returned, so the refusal comes at its first use (docker run), with vxmesh's reason
    const plain = await createNet1(b, '10.31.0.0/24');
    expect(plain.code, plain.stderr).toBe(0);
    const use = await b.host.docker(['run', '--rm', '--network', 'net1', b.host.image, 'true'], { timeoutMs: 30_000 });
    expect(use.code).not.toBe(0);
    expect(use.stderr).toContain('vxmesh network "net1" already exists in the cluster with subnet 10.30.0.0/24 (this request: 10.31.0.0/24)');
    expect((await b.host.docker(['network', 'rm', 'net1'])).code).toBe(0);
    // with the vxmesh name given (-o vxmesh.network), the refusal is docker network create's own error
    const clash = await createNet1(b, '10.31.0.0/24', ['-o', 'vxmesh.network=net1']);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toContain('vxmesh network "net1" already exists in the cluster with subnet 10.30.0.0/24 (this request: 10.31.0.0/24)');
    expect((await b.host.docker(['network', 'inspect', 'net1'])).code).not.toBe(0); // dockerd kept nothing
    // same name, same subnet: joins the one network
    const created = await createNet1(b);
    expect(created.code, created.stderr).toBe(0);
    const onA = await net1On(a);
    const onB = await net1On(b);
    expect(onA.map((n) => n.id)).toEqual([made!.id]);
    expect(onB.map((n) => n.id)).toEqual([made!.id]);
    // the two dockerds agree on the subnet (the gateway: see the containers' below)
    for (const s of sides) expect(await s.host.dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'net1'])).toBe(SUBNET);
    // another name with net1's subnet is an overlap on either host (each dockerd already uses it)
    for (const s of sides) {
      const dup = await s.host.docker(['network', 'create', '-d', s.plugin, '--ipam-driver', s.plugin, '--subnet', SUBNET, 'net3']);
      expect(dup.code).not.toBe(0);
      expect(dup.stderr).toContain(`subnet ${SUBNET} overlaps`);
    }
    // the refused 10.31.0.0/24 left no pool behind: another network may take it
    const other = await b.host.docker(['network', 'create', '-d', b.plugin, '--ipam-driver', b.plugin, '--subnet', '10.31.0.0/24', 'net2']);
    expect(other.code, other.stderr).toBe(0);
    expect((await b.host.docker(['network', 'rm', 'net2'])).code).toBe(0);
  }, 60_000);

  it('containers on different hosts ping each other by IP; network ls on both hosts shows both hosts', async () => {
    const [a, b] = sides as [Side, Side];
    for (const [s, name] of [[a, 'a1'], [a, 'a2'], [b, 'b1']] as const) {
      await s.host.dockerOk(['run', '-d', '--name', name, '--network', 'net1', s.host.image, 'sleep', '600']);
    }
    const ipA1 = await ipOf(a, 'a1');
    const ipA2 = await ipOf(a, 'a2');
    const ipB1 = await ipOf(b, 'b1');
    expect(new Set([ipA1, ipA2, ipB1]).size).toBe(3);
    for (const ip of [ipA1, ipA2, ipB1]) expect(ip).toMatch(/^10\.30\.0\./);
    // one gateway address for the network on every host (each host's sandbox carries it)
    const [net] = await net1On(a);
    const gatewayOf = (s: Side, c: string) => s.host.dockerOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "net1").Gateway}}', c]);
    expect(await gatewayOf(a, 'a1')).toBe(net!.ipv4.gateway.split('/')[0]);
    expect(await gatewayOf(b, 'b1')).toBe(net!.ipv4.gateway.split('/')[0]);
    timings.firstCrossPingMs = await pingsSoon(a, 'a1', ipB1);
    await pingsSoon(b, 'b1', ipA1);
    await pingsSoon(b, 'b1', ipA2);
    await pingsSoon(a, 'a1', ipA2);
    for (const s of sides) {
      const [net] = await net1On(s);
      expect(net?.hosts).toEqual([a.node, b.node].sort());
    }
  }, 90_000);

  it('docker network rm on one host (its containers gone) leaves the other host\'s containers working', async () => {
    const [a, b] = sides as [Side, Side];
    const ipA1 = await ipOf(a, 'a1');
    const ipA2 = await ipOf(a, 'a2');
    await b.host.dockerOk(['rm', '-f', 'b1']);
    const rm = await b.host.docker(['network', 'rm', 'net1']);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await b.host.docker(['network', 'inspect', 'net1'])).code).not.toBe(0);
    // the vxmesh network stays, now used by host a only, and a's containers still talk
    for (const s of sides) {
      const net = await waitFor(async () => (await net1On(s))[0], { what: `net1 on host ${s.key} with host a only`, timeoutMs: 10_000, intervalMs: 100, until: (n) => n?.hosts?.join() === a.node });
      expect(net?.ipv4.subnet).toBe(SUBNET);
    }
    expect((await ping(a, 'a1', ipA2)).code).toBe(0);
    expect((await ping(a, 'a2', ipA1)).code).toBe(0);
    // host b can take the network up again: its new container reaches host a's
    expect((await createNet1(b)).code).toBe(0);
    await b.host.dockerOk(['run', '-d', '--name', 'b2', '--network', 'net1', b.host.image, 'sleep', '600']);
    const ipB2 = await ipOf(b, 'b2');
    expect([ipA1, ipA2]).not.toContain(ipB2);
    await pingsSoon(b, 'b2', ipA1);
    await pingsSoon(a, 'a2', ipB2);
  }, 90_000);

  it('the creating host may leave first; the last docker network rm removes the vxmesh network everywhere', async () => {
    const [a, b] = sides as [Side, Side];
    await a.host.dockerOk(['rm', '-f', 'a1', 'a2']);
    const rm = await a.host.docker(['network', 'rm', 'net1']);
    expect(rm.code, rm.stderr).toBe(0);
    const net = await waitFor(async () => (await net1On(a))[0], { what: 'net1 used by host b only', timeoutMs: 10_000, intervalMs: 100, until: (n) => n?.hosts?.join() === b.node });
    expect(net?.ipv4.subnet).toBe(SUBNET);
    await b.host.dockerOk(['run', '-d', '--name', 'b3', '--network', 'net1', b.host.image, 'sleep', '600']);
    await pingsSoon(b, 'b3', await ipOf(b, 'b2'));
    await b.host.dockerOk(['rm', '-f', 'b2', 'b3']);
    expect((await b.host.docker(['network', 'rm', 'net1'])).code).toBe(0);
    for (const s of sides) await waitFor(async () => (await net1On(s)).length === 0, { what: `net1 gone on host ${s.key}`, timeoutMs: 10_000, intervalMs: 100 });
    // and its pool with it: the subnet is free for a new network
    const again = await createNet1(a);
    expect(again.code, again.stderr).toBe(0);
    expect((await a.host.docker(['network', 'rm', 'net1'])).code).toBe(0);
  }, 60_000);
});
