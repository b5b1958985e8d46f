// Start-up failures: the agent exits non-zero within seconds with one clear log line, holds no port,
// socket or lock afterwards (the next agent starts), and changed nothing in the kernel of its host.
// Also: a SIGKILLed agent's lock never blocks, and two agents with one netns prefix are refused.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcpServerInNetns, udpSocketInNetns } from '../../src/kernel/native.js';
import { Harness, inNs, mustSh, sh, type AgentProcess } from '../helpers/netns.js';
import { agentArgs, runAgentExpectingExit, spawnAgent, type AgentExit } from '../support/agent-exit.js';

const h = new Harness();
let host: string;
let agent: AgentProcess;

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host);
  mkdirSync(join(h.tmp, host), { recursive: true });
  // a fresh host's IPv6 link-local addresses are tentative until DAD is done: let it settle first
  const deadline = Date.now() + 10_000;
  while (inNs(`/run/netns/${host}`, 'ip', ['-o', 'addr', 'show']).stdout.includes('tentative') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
});
afterAll(async () => {
  sh('chattr', ['-i', agent.dataDir]);
  await h.cleanup();
  sh('sh', ['-c', `rm -f /run/vxmesh/prefix-${h.prefix}*.lock`]);
});

/** What the agent could have touched in its host: links, addresses, routes, nft, namespaces. */
function kernelSnapshot(): Record<string, string> {
  const ns = `/run/netns/${host}`;
  return {
    links: inNs(ns, 'ip', ['-o', 'link', 'show']).stdout,
    addrs: inNs(ns, 'ip', ['-o', 'addr', 'show']).stdout,
    routes: inNs(ns, 'ip', ['route', 'show', 'table', 'all']).stdout,
    nft: inNs(ns, 'nft', ['list', 'ruleset']).stdout,
    namespaces: h.namespaces().sort().join(' '),
  };
}

/** Sockets held in the host namespace (listening TCP, bound UDP), as "proto addr:port". */
function heldPorts(): string[] {
  const out = inNs(`/run/netns/${host}`, 'ss', ['-Htuln']).stdout;
  return out.split('\n').filter(Boolean).map((l) => l.split(/\s+/)).map((f) => `${f[0]} ${f[4]}`).sort();
}

function expectCleanFailure(r: AgentExit, message: RegExp | string): void {
  expect(r.code, r.log).not.toBe(0);
  expect(r.code, `had to be killed:\n${r.log}`).not.toBeNull();
  expect(r.ms, r.log).toBeLessThan(5_000);
  expect(r.errorLines.length, r.log).toBe(1);
  expect(r.errorLines[0]!.msg).toMatch(typeof message === 'string' ? new RegExp(message.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')) : message);
  expect(r.errorLines[0]!.msg).toMatch(/^vxmesh agent failed to start \(/);
}

/** The next agent, with the same data dir, socket and prefix, starts and stops cleanly. */
async function nextAgentStarts(): Promise<void> {
  await agent.start();
  await agent.stop();
  expect(agent.proc?.exitCode, agent.log).toBe(0);
}

/** A unix socket something serves (a stand-in for another agent). */
async function serveUnix(path: string): Promise<Server> {
  const s = createServer((c) => c.end());
  await new Promise<void>((res) => s.listen(path, res));
  return s;
}

async function expectFailure(args: string[], message: RegExp | string): Promise<void> {
  const before = kernelSnapshot();
  const portsBefore = heldPorts();
  const r = await runAgentExpectingExit(host, args);
  expectCleanFailure(r, message);
  expect(kernelSnapshot()).toEqual(before);
  expect(heldPorts()).toEqual(portsBefore);
}

describe('a failed start exits and leaves nothing behind', () => {
  it('API socket in use', async () => {
    const blocker = await serveUnix(agent.socket);
    try {
      await expectFailure(agentArgs(agent), `another process is already serving ${agent.socket}`);
    } finally {
      await new Promise((res) => blocker.close(res));
    }
    await nextAgentStarts();
  });

  it('API socket path is a regular file', async () => {
    writeFileSync(agent.socket, 'not a socket');
    try {
      await expectFailure(agentArgs(agent), `${agent.socket} exists and is not a socket`);
    } finally {
      rmSync(agent.socket, { force: true });
    }
    await nextAgentStarts();
  });

  it('plugin socket taken', async () => {
    const pluginDir = join(h.tmp, 'plugins');
    mkdirSync(pluginDir, { recursive: true });
    const blocker = await serveUnix(join(pluginDir, 'vxt.sock'));
    const args = agentArgs(agent, ['--plugin-dir', pluginDir, '--plugin-name', 'vxt'], { plugin: true });
    try {
      await expectFailure(args, `another process already serves the docker plugin socket ${join(pluginDir, 'vxt.sock')}`);
    } finally {
      await new Promise((res) => blocker.close(res));
    }
    await nextAgentStarts();
  });

  it('gossip port taken (TCP, then UDP)', async () => {
    const tcp = await tcpServerInNetns(`/run/netns/${host}`, 'tcp4', '198.51.100.1', 7946);
    try {
      await expectFailure(agentArgs(agent), 'gossip port 198.51.100.1:7946 is already in use');
    } finally {
      await new Promise((res) => tcp.close(res));
    }
    const udp = await udpSocketInNetns(`/run/netns/${host}`, 'udp4', '198.51.100.1', 7946);
    try {
      await expectFailure(agentArgs(agent), 'gossip port 198.51.100.1:7946 is already in use');
    } finally {
      udp.close();
    }
    await nextAgentStarts();
  });

  it('unwritable data dir', async () => {
    mkdirSync(agent.dataDir, { recursive: true });
    mustSh('chattr', ['+i', agent.dataDir]); // root ignores mode bits; the immutable flag stops it too
    try {
      await expectFailure(agentArgs(agent), `cannot open lock file ${join(agent.dataDir, 'agent.lock')}: EPERM`);
    } finally {
      mustSh('chattr', ['-i', agent.dataDir]);
    }
    await nextAgentStarts();
  });

  it('a gossip key file with no key in it', async () => {
    const keyFile = join(h.tmp, 'empty-key');
    writeFileSync(keyFile, '# no key yet\n', { mode: 0o600 });
    await expectFailure(agentArgs(agent, ['--gossip-key-file', keyFile]), `gossip key file ${keyFile} holds no key`);
    await nextAgentStarts();
  });

  it('no --advertise-addr and no default route: refuses, naming --advertise-addr', async () => {
    mustSh('ip', ['-n', host, 'route', 'del', 'default']);
    try {
      await expectFailure(agentArgs(agent), /no default route .*--advertise-addr/);
      await expectFailure(agentArgs(agent, ['--advertise-addr', '198.51.100.99']), /--advertise-addr 198\.51\.100\.99 is not an address of this host/);
    } finally {
      mustSh('ip', ['-n', host, 'route', 'add', 'default', 'via', '198.51.100.254', 'dev', 'ul0']);
    }
  });
});

describe('locks', () => {
  it("a SIGKILLed agent's locks never block the next start", async () => {
    for (let i = 0; i < 3; i++) {
      await agent.start();
      await agent.kill9();
    }
    await nextAgentStarts();
  });

  it('a second agent with the same netns prefix on this machine is refused, naming the first', async () => {
    await agent.start();
    try {
      const other = h.host(2);
      const second = h.agent(other);
      const args = ['--data-dir', second.dataDir, '--socket', second.socket, '--netns-prefix', agent.netnsPrefix, '--no-plugin'];
      const r = await runAgentExpectingExit(other, args);
      expectCleanFailure(r, `--netns-prefix ${agent.netnsPrefix} is in use on this machine by another vxmesh agent (pid ${agent.pid}, data dir ${agent.dataDir}, socket ${agent.socket})`);
      // the first one is untouched and still answers
      expect((await agent.cli('status')).code).toBe(0);
    } finally {
      await agent.stop();
    }
  });

  it('two agents with different prefixes on one machine never touch each other\'s sandboxes', async () => {
    const other = h.agent(h.host(3));
    await agent.start();
    await other.start();
    try {
      await agent.json('network', 'create', 'mine', '--subnet', '10.62.1.0/24');
      await other.json('network', 'create', 'theirs', '--subnet', '10.62.2.0/24');
      const sandboxOf = async (a: AgentProcess, name: string) => (await a.json<{ sandbox: string }[]>('network', 'inspect', name))[0]!.sandbox;
      const sandboxes = [await sandboxOf(agent, 'mine'), await sandboxOf(other, 'theirs')];
      expect(h.namespaces()).toEqual(expect.arrayContaining(sandboxes));
      // each start-up GC runs again: neither removes the other's namespace
      for (const a of [agent, other]) {
        await a.stop();
        await a.start();
      }
      expect(h.namespaces()).toEqual(expect.arrayContaining(sandboxes));
      expect((await agent.json<{ name: string }[]>('network', 'ls')).map((n) => n.name)).toEqual(['mine']);
      expect((await other.json<{ name: string }[]>('network', 'ls')).map((n) => n.name)).toEqual(['theirs']);
    } finally {
      await other.stop();
      await agent.stop();
    }
  });

  it('a second agent on the same data dir is refused, naming the first', async () => {
    await agent.start();
    try {
      const r = await runAgentExpectingExit(host, agentArgs(agent, ['--socket', join(h.tmp, 'other.sock'), '--netns-prefix', `${h.prefix}9`]));
      expectCleanFailure(r, `data dir ${agent.dataDir} is in use by another vxmesh agent (pid ${agent.pid}`);
    } finally {
      await agent.stop();
    }
  });
});

describe('stop', () => {
  it('SIGTERM stops in reverse and exits 0, releasing socket, port and locks', async () => {
    await agent.start();
    expect(heldPorts()).toEqual(expect.arrayContaining(['tcp 198.51.100.1:7946', 'udp 198.51.100.1:7946']));
    await agent.stop();
    expect(agent.proc?.exitCode, agent.log).toBe(0);
    expect(heldPorts().filter((p) => p.endsWith(':7946'))).toEqual([]);
    expect(agent.log).toContain('vxmesh agent stopped');
    await nextAgentStarts();
  });
});

describe('the private mount namespace warning', () => {
  it('fires when the agent runs with a slave copy of /run/netns (as under ip netns exec), not otherwise', async () => {
    // unshare -m --propagation slave is what `ip netns exec` does to the mount namespace
    const slave = spawnAgent(host, agentArgs(agent), ['unshare', '--mount', '--propagation', 'slave', '--']);
    try {
      await slave.ready();
    } finally {
      await slave.stop();
    }
    const log = slave.log();
    expect(log).toContain('vxmesh agent ready');
    const warning = log.split('\n').find((l) => l.includes('private mount namespace'));
    expect(warning, log).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, propagation: expect.stringMatching(/^master:\d+/) });

    await agent.start(); // nsenter only: the host's mount namespace
    await agent.stop();
    expect(agent.log).not.toContain('private mount namespace');
  });
});

describe('files the agent writes', () => {
  interface KeyResult { keys: string[]; primary: string }
  it("never writes the user's --gossip-key-file: the live keyring is 0600 state in the data dir, and a restart starts from it", async () => {
    const [k1, k2] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const keyFile = join(h.tmp, 'user-key');
    writeFileSync(keyFile, `${k1}\n`, { mode: 0o644 });
    const before = statSync(keyFile);
    const keyed = h.agent(host, ['--gossip-key-file', keyFile]);
    await keyed.start();
    try {
      await keyed.json('gossip', 'key', 'install', k2);
      await keyed.json('gossip', 'key', 'use', k2);
      await keyed.json('gossip', 'key', 'remove', k1);
      const state = join(keyed.dataDir, 'gossip-keyring');
      expect(readFileSync(state, 'utf8')).toBe(`${k2}\n`);
      expect(statSync(state).mode & 0o777).toBe(0o600);
      await keyed.stop();
      await keyed.start();
      expect(await keyed.json<KeyResult>('gossip', 'key', 'ls')).toMatchObject({ keys: [k2], primary: k2 });
      expect(keyed.log).toContain('the gossip key file differs from the keyring state in the data dir');
    } finally {
      await keyed.stop();
    }
    const after = statSync(keyFile);
    expect(readFileSync(keyFile, 'utf8')).toBe(`${k1}\n`);
    expect([after.mtimeMs, after.ino, after.mode]).toEqual([before.mtimeMs, before.ino, before.mode]);
    // everything in the data dir is the agent's own: files 0600, directories 0700
    const modes = readdirSync(keyed.dataDir, { recursive: true, encoding: 'utf8' }).map((f) => {
      const st = statSync(join(keyed.dataDir, f));
      return [f, (st.mode & 0o777).toString(8), st.isDirectory()] as const;
    });
    for (const [f, mode, dir] of modes) expect(`${f} ${mode}`).toBe(`${f} ${dir ? '700' : '600'}`);
    expect((statSync(keyed.dataDir).mode & 0o777).toString(8)).toBe('700');
  });

  it('its sockets are 0600 and its run directory 0700', async () => {
    const pluginDir = join(h.tmp, 'plugins-mode');
    const withPlugin = spawnAgent(host, agentArgs(agent, ['--plugin-dir', pluginDir, '--plugin-name', 'vxm'], { plugin: true }));
    try {
      await withPlugin.ready();
      expect((statSync(agent.socket).mode & 0o777).toString(8)).toBe('600');
      expect((statSync(join(pluginDir, 'vxm.sock')).mode & 0o777).toString(8)).toBe('600');
      expect((statSync('/run/vxmesh').mode & 0o777).toString(8)).toBe('700');
      expect((statSync(`/run/vxmesh/prefix-${agent.netnsPrefix}.lock`).mode & 0o777).toString(8)).toBe('600');
    } finally {
      expect(await withPlugin.stop()).toBe(0);
    }
  });
});
