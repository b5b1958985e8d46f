// vxmesh as a docker network + IPAM plugin, against a real dockerd 20.10 running in a netns "host"
// (test/docker/harness.ts), with the real agent (`vxmesh agent`) serving the plugin socket.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowHashTcxAttached } from '../../src/kernel/native.js';
import type { EndpointInfo, NetworkInfo } from '../../src/model/api.js';
import { waitFor } from '../support/wait.js';
import { dockerUnavailableReason, run, runOk, startDockerHost, uniqueName, type DockerHost } from './harness.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli', 'main.js');
// VXMESH_TEST_AGENT_ENTRY lets a developer point at another entry point taking the same flags.
const AGENT_ENTRY = process.env.VXMESH_TEST_AGENT_ENTRY ?? CLI;
const skip = dockerUnavailableReason() ?? (existsSync(CLI) ? undefined : 'dist/cli/main.js missing: run npx tsc first');

/** The value once `fn` gives one (not undefined); a throwing `fn` counts as "not yet". */
const eventually = <T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> =>
  waitFor(fn, { what, timeoutMs: ms, intervalMs: 100, until: (v) => v !== undefined }) as Promise<T>;

describe.skipIf(skip !== undefined)('docker remote network + IPAM driver (real dockerd)', () => {
  let host: DockerHost;
  const plugin = uniqueName('vxmeshtest');
  const prefix = uniqueName('vt').slice(0, 6); // short: netns and link names are built from it
  const pluginSocket = `/run/docker/plugins/${plugin}.sock`;
  let apiSocket = '';

  const vx = async (...args: string[]) => runOk(process.execPath, [CLI, '--socket', apiSocket, ...args]);
  const vxNetworks = async () => JSON.parse(await vx('network', 'ls', '--json')) as NetworkInfo[];
  const vxEndpoints = async () => JSON.parse(await vx('endpoint', 'ls', '--json')) as EndpointInfo[];
  const dockerNet = async (name: string) => host.dockerOk(['network', 'inspect', '-f', '{{.Id}}', name]);
  const ipOf = async (container: string, network: string) =>
    host.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]);
  const ping = (from: string, ip: string) => host.docker(['exec', from, 'ping', '-c', '1', '-W', '2', ip], { timeoutMs: 15_000 });
  /** Kernel objects the agent may have made: its namespaces, and links in dockerd's namespace. */
  const kernelObjects = async () => {
    const netns = (await runOk('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix));
    const links = JSON.parse(await runOk('ip', ['-n', host.ns, '-j', 'link', 'show'])) as Array<{ ifname: string }>;
    return { netns, links: links.map((l) => l.ifname).filter((n) => !/^(lo|docker0|vxul[01]|veth[0-9a-f]+)$/.test(n)) };
  };

  const startAgent = async () => {
    // The harness stops it (with dockerd) in close().
    const proc = host.spawnInNetns('agent', [
      process.execPath, AGENT_ENTRY, 'agent',
      '--socket', apiSocket,
      '--data-dir', join(host.dir, 'vxmesh-data'),
      '--netns-prefix', prefix,
      '--plugin-name', plugin,
      '--advertise-addr', host.underlayAddr,
      '--log-level', 'debug',
      '--docker-host', `unix://${host.socket}`,
    ]);
    const serving = () => existsSync(pluginSocket) && existsSync(apiSocket);
    await waitFor(() => serving() || proc.exited(), { what: 'the agent\'s sockets', timeoutMs: 30_000, intervalMs: 100 }).catch(() => undefined);
    if (!serving() || proc.exited()) {
      throw new Error(`the agent did not serve ${pluginSocket}; its log:\n${readFileSync(proc.logFile, 'utf8').slice(-3000)}`);
    }
  };

  beforeAll(async () => {
    host = await startDockerHost({ prefix: 'vxdp' });
    apiSocket = join(host.dir, 'vxmesh.sock');
    try {
      await startAgent();
    } catch (err) {
      await host.close();
      throw err;
    }
  }, 180_000);

  afterAll(async () => {
    if (!host) return;
    // containers first, then docker's networks (so the plugin removes its objects), then the rest
    const ids = (await host.docker(['ps', '-aq'])).stdout.split(/\s+/).filter(Boolean);
    if (ids.length > 0) await host.docker(['rm', '-f', ...ids]);
    const nets = (await host.docker(['network', 'ls', '-q', '--filter', `driver=${plugin}`])).stdout.split(/\s+/).filter(Boolean);
    for (const n of nets) await host.docker(['network', 'rm', n]);
    await host.close();
    for (const ns of (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
      if (ns.startsWith(prefix)) await run('ip', ['netns', 'del', ns]);
    }
    await run('rm', ['-f', pluginSocket]);
  }, 180_000);

  it('creates a vxmesh network from docker network create, named like the docker network and labelled with its id', async () => {
    const id = await host.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, 'net1']);
    const net = await eventually('net1 in vxmesh', async () => (await vxNetworks()).find((n) => n.name === 'net1'));
    expect(net.labels['docker.network.id']).toBe(id);
    // docker's view of the subnet is vxmesh's
    const subnet = await host.dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'net1']);
    expect(subnet).toBe(net.ipv4.subnet);
    expect(await vx('network', 'ls')).toMatch(/net1/);
  });

  it('connects two containers that ping each other by IP, shown in vxmesh endpoint ls', async () => {
    await host.dockerOk(['run', '-d', '--name', 'c1', '--network', 'net1', host.image, 'sleep', '600']);
    await host.dockerOk(['run', '-d', '--name', 'c2', '--network', 'net1', host.image, 'sleep', '600']);
    const ip1 = await ipOf('c1', 'net1');
    const ip2 = await ipOf('c2', 'net1');
    expect(ip1).not.toBe(ip2);
    const r12 = await ping('c1', ip2);
    expect(r12.code, r12.stdout + r12.stderr).toBe(0);
    expect((await ping('c2', ip1)).code).toBe(0);
    // The flow-hash program (for RPS at the sandbox end) came along into each container on tcx
    // egress: docker moved the veth after the attach, which would have dropped a qdisc's filter.
    for (const c of ['c1', 'c2']) {
      const pid = await host.dockerOk(['inspect', '-f', '{{.State.Pid}}', c]);
      expect(await flowHashTcxAttached(`/proc/${pid}/ns/net`, 'eth0'), `flow-hash program on ${c}'s eth0`).toBe(true);
    }
    const eps = (await vxEndpoints()).filter((e) => e.network === 'net1');
    expect(eps.map((e) => e.ipv4.split('/')[0]).sort()).toEqual([ip1, ip2].sort());
    const c1Endpoint = await host.dockerOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "net1").EndpointID}}', 'c1']);
    expect(eps.some((e) => e.labels['docker.endpoint.id'] === c1Endpoint)).toBe(true);
    // a 3rd container with an address that is not up must not answer
    const net = (await vxNetworks()).find((n) => n.name === 'net1')!;
    const unused = net.ipv4.subnet.replace(/\.0\/\d+$/, '.250');
    expect((await ping('c1', unused)).code).not.toBe(0);
  });

  it('honours --subnet, --gateway, --aux-address, --ip-range and --ip', async () => {
    await host.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '--subnet', '10.231.0.0/24', '--gateway', '10.231.0.254',
      '--ip-range', '10.231.0.128/28', '--aux-address', 'printer=10.231.0.5', 'net2']);
    const net = (await vxNetworks()).find((n) => n.name === 'net2')!;
    expect(net.ipv4.subnet).toBe('10.231.0.0/24');
    expect(net.ipv4.gateway.split('/')[0]).toBe('10.231.0.254');
    await host.dockerOk(['run', '-d', '--name', 'r1', '--network', 'net2', host.image, 'sleep', '600']);
    const ip = await ipOf('r1', 'net2');
    const last = Number(ip.split('.')[3]);
    expect(last).toBeGreaterThanOrEqual(128);
    expect(last).toBeLessThan(144);
    await host.dockerOk(['run', '-d', '--name', 'fixed', '--network', 'net2', '--ip', '10.231.0.77', host.image, 'sleep', '600']);
    expect(await ipOf('fixed', 'net2')).toBe('10.231.0.77');
    expect((await ping('r1', '10.231.0.77')).code).toBe(0);
    // the aux address is reserved
    const taken = await host.docker(['run', '--rm', '--network', 'net2', '--ip', '10.231.0.5', host.image, 'true']);
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toMatch(/10\.231\.0\.5/);
  });

  it('docker network connect / disconnect adds and removes a vxmesh endpoint', async () => {
    await host.dockerOk(['network', 'connect', 'net2', 'c1']);
    const ip = await ipOf('c1', 'net2');
    expect(ip).toMatch(/^10\.231\.0\./);
    expect((await host.docker(['exec', 'c1', 'ping', '-c', '1', '-W', '2', '10.231.0.77'])).code).toBe(0);
    expect((await vxEndpoints()).some((e) => e.network === 'net2' && e.ipv4.startsWith(`${ip}/`))).toBe(true);
    await host.dockerOk(['network', 'disconnect', 'net2', 'c1']);
    expect((await vxEndpoints()).some((e) => e.network === 'net2' && e.ipv4.startsWith(`${ip}/`))).toBe(false);
    const links = await host.dockerOk(['exec', 'c1', 'ip', '-o', 'addr']);
    expect(links).not.toContain(ip);
  });

  it('an --internal network gives its containers no default route', async () => {
    await host.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '--internal', 'neti']);
    expect((await vxNetworks()).find((n) => n.name === 'neti')?.internal).toBe(true);
    await host.dockerOk(['run', '-d', '--name', 'i1', '--network', 'neti', host.image, 'sleep', '600']);
    await host.dockerOk(['run', '-d', '--name', 'i2', '--network', 'neti', host.image, 'sleep', '600']);
    const routes = await host.dockerOk(['exec', 'i1', 'ip', 'route']);
    expect(routes).not.toMatch(/^default/m);
    expect((await ping('i1', await ipOf('i2', 'neti'))).code).toBe(0);
  });

  describe('bad input: dockerd shows vxmesh\'s error and nothing leaks', () => {
    const snapshot = async () => ({
      networks: (await vxNetworks()).map((n) => `${n.name} ${n.ipv4.subnet}`).sort(),
      endpoints: (await vxEndpoints()).map((e) => e.id).sort(),
      docker: (await host.dockerOk(['network', 'ls', '--format', '{{.Name}}'])).split('\n').sort(),
      kernel: await kernelObjects(),
    });

    it('unknown options', async () => {
      const before = await snapshot();
      const r = await host.docker(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '-o', 'colour=blue', 'badopt']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/unknown network option -o colour.*vxmesh\.network=NAME/);
      const ipamOpt = await host.docker(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '--ipam-opt', 'x=1', 'badipam']);
      expect(ipamOpt.stderr).toMatch(/unknown option --ipam-opt x/);
      expect(await snapshot()).toEqual(before);
    });

    it('a subnet that overlaps another vxmesh network', async () => {
      const before = await snapshot();
      const r = await host.docker(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '--subnet', '10.231.0.0/16', 'overlap']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/overlap/i);
      expect(r.stderr).toMatch(/subnet 10\.231\.0\.0\/16 overlaps 10\.231\.0\.0\/24/);
      // with docker's own IPAM the plugin checks the subnet before answering CreateNetwork
      const own = await host.docker(['network', 'create', '-d', plugin, '--subnet', '10.231.0.0/25', 'overlap2']);
      expect(own.code).not.toBe(0);
      expect(own.stderr).toMatch(/NetworkDriver\.CreateNetwork: subnet 10\.231\.0\.0\/25 overlaps 10\.231\.0\.0\/24/);
      expect(await snapshot()).toEqual(before);
    });

    it('an exhausted --ip-range', async () => {
      await host.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '--subnet', '10.232.0.0/24', '--ip-range', '10.232.0.8/30', 'tiny']);
      const before = await snapshot();
      const started: string[] = [];
      let failure = '';
      for (let i = 0; i < 6 && !failure; i++) {
        const r = await host.docker(['run', '-d', '--name', `t${i}`, '--network', 'tiny', host.image, 'sleep', '600']);
        if (r.code === 0) started.push(`t${i}`);
        else failure = r.stderr;
      }
      expect(started.length).toBeGreaterThan(0);
      expect(started.length).toBeLessThanOrEqual(4);
      expect(failure).toMatch(/no free|exhausted|available/i);
      // the failed container left nothing: only the started ones have endpoints
      const after = await snapshot();
      expect(after.endpoints.length).toBe(before.endpoints.length + started.length);
      await host.dockerOk(['rm', '-f', ...(await host.dockerOk(['ps', '-aq', '--filter', 'name=^t[0-9]$'])).split('\n')]);
      await host.dockerOk(['network', 'rm', 'tiny']);
    });

    it('IPv6 without a pool', async () => {
      const before = await snapshot();
      // docker's own IPAM has no IPv6 default pool: dockerd refuses before asking the driver
      const r = await host.docker(['network', 'create', '-d', plugin, '--ipv6', 'nov6']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/IPv6 address pool/);
      // a v6 subnet that another vxmesh network holds: vxmesh's IPAM says so
      await host.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '--ipv6', '--subnet', 'fd00:5c:1::/64', 'v6a']);
      const mid = await snapshot();
      const clash = await host.docker(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '--ipv6', '--subnet', 'fd00:5c:1::/80', 'v6b']);
      expect(clash.code).not.toBe(0);
      expect(clash.stderr).toMatch(/IpamDriver\.RequestPool: subnet fd00:5c:1::\/80 overlaps fd00:5c:1::\/64/);
      expect(await snapshot()).toEqual(mid);
      await host.dockerOk(['network', 'rm', 'v6a']);
      expect(await snapshot()).toEqual(before);
    });
  });

  it('--ipv6 with vxmesh IPAM gives containers addresses from vxmesh\'s IPv6 pool', async () => {
    await host.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '--ipv6', 'net6']);
    const net = (await vxNetworks()).find((n) => n.name === 'net6')!;
    expect(net.ipv6?.subnet).toMatch(/:/);
    await host.dockerOk(['run', '-d', '--name', 's1', '--network', 'net6', host.image, 'sleep', '600']);
    await host.dockerOk(['run', '-d', '--name', 's2', '--network', 'net6', host.image, 'sleep', '600']);
    const v6 = await host.dockerOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "net6").GlobalIPv6Address}}', 's2']);
    expect((await vxEndpoints()).some((e) => e.network === 'net6' && e.ipv6?.split('/')[0] === v6)).toBe(true);
    const r = await eventually('ping6 (DAD done)', async () => {
      const p = await host.docker(['exec', 's1', 'ping', '-6', '-c', '1', '-W', '2', v6], { timeoutMs: 15_000 });
      return p.code === 0 ? p : undefined;
    });
    expect(r.code).toBe(0);
    await host.dockerOk(['rm', '-f', 's1', 's2']);
    await host.dockerOk(['network', 'rm', 'net6']);
  });

  it('docker network rm releases every address and kernel object', async () => {
    const net = (await vxNetworks()).find((n) => n.name === 'net2')!;
    const objectsBefore = await kernelObjects();
    expect(objectsBefore.netns).toContain(net.sandbox);
    await host.dockerOk(['rm', '-f', 'r1', 'fixed']);
    await host.dockerOk(['network', 'rm', 'net2']);
    expect((await vxNetworks()).some((n) => n.name === 'net2')).toBe(false);
    expect((await vxEndpoints()).some((e) => e.network === 'net2')).toBe(false);
    const objects = await kernelObjects();
    expect(objects.netns).not.toContain(net.sandbox);
    // the released subnet, gateway, aux address and --ip address can all be had again
    await host.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, '--subnet', '10.231.0.0/24', '--gateway', '10.231.0.254',
      '--aux-address', 'printer=10.231.0.5', 'net2b']);
    await host.dockerOk(['run', '--rm', '--network', 'net2b', '--ip', '10.231.0.77', host.image, 'true']);
    await host.dockerOk(['network', 'rm', 'net2b']);
    expect(await kernelObjects()).toEqual(objects);
  });

  it('a --restart always container comes back on the same network after a dockerd restart', async () => {
    await host.dockerOk(['run', '-d', '--name', 'keep', '--restart', 'always', '--network', 'net1', host.image, 'sleep', '600']);
    await host.dockerOk(['run', '-d', '--name', 'peer', '--restart', 'always', '--network', 'net1', host.image, 'sleep', '600']);
    const netId = await dockerNet('net1');
    await host.restartDockerd();
    const running = await eventually('keep running again', async () =>
      (await host.dockerOk(['inspect', '-f', '{{.State.Running}}', 'keep'])) === 'true' ? true : undefined, 60_000);
    expect(running).toBe(true);
    expect(await dockerNet('net1')).toBe(netId); // no new CreateNetwork: the same network
    const ip = await ipOf('keep', 'net1');
    expect(ip).not.toBe('');
    await eventually('peer running again', async () =>
      (await host.dockerOk(['inspect', '-f', '{{.State.Running}}', 'peer'])) === 'true' ? true : undefined, 60_000);
    const r = await ping('peer', ip);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const eps = (await vxEndpoints()).filter((e) => e.network === 'net1');
    expect(eps.some((e) => e.ipv4.startsWith(`${ip}/`))).toBe(true);
    expect((await vxNetworks()).filter((n) => n.labels['docker.network.id'] === netId)).toHaveLength(1);
  });
});
