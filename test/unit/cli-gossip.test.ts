// `vxmesh node ls` and the `vxmesh gossip` commands against the fake agent over a real unix socket.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultFakeNodes } from './api-fake-agent.js';
import { useCliHarness } from './cli-harness.js';

describe('vxmesh CLI: node and gossip', () => {
  const h = useCliHarness();
  const run = h.run;

  describe('node', () => {
    it('lists members as a table sorted by name, self marked, IPv6 bracketed', async () => {
      const result = await run(['node', 'ls']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines[0]?.split(/\s+/)).toEqual(['NAME', 'ADDRESS', 'STATE', 'SELF']);
      expect(lines.slice(1).map((line) => line.split(/\s+/))).toEqual([
        ['node-a', '198.51.100.1:7946', 'alive', '*'],
        ['node-b', '[2001:db8::2]:7947', 'alive'],
        ['node-c', '203.0.113.3:7946', 'suspect'],
      ]);
      const selfColumn = lines[0]?.indexOf('SELF');
      expect(lines[1]?.indexOf('*')).toBe(selfColumn);
    });

    it('prints the member names with -q, sorted like the table', async () => {
      expect(await run(['node', 'ls', '-q'])).toEqual({ code: 0, stdout: 'node-a\nnode-b\nnode-c\n', stderr: '' });
    });

    it('prints the members as JSON with --json, and only headers without members', async () => {
      const json = await run(['node', 'ls', '--json']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(defaultFakeNodes());
      h.agent.nodes = [];
      const empty = await run(['node', 'ls']);
      expect(empty.stdout).toBe('NAME   ADDRESS   STATE   SELF\n');
    });

    it('shows help and fails with exit 1 when the agent is unreachable', async () => {
      const help = await run(['node', 'ls', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^usage: vxmesh node ls \[options\]\n/);
      expect(help.stdout).toContain('--json');
      const absent = await run(['node', 'ls'], { VXMESH_SOCKET: join(h.dir, 'absent.sock') });
      expect(absent.code).toBe(1);
      expect(absent.stderr).toMatch(/^error: cannot reach the vxmesh agent/);
    });
  });

  describe('gossip', () => {
    it('keygen prints a fresh base64 32-byte key each time, without an agent', async () => {
      const env = { VXMESH_SOCKET: join(h.dir, 'absent.sock') };
      const first = await run(['gossip', 'keygen'], env);
      const second = await run(['gossip', 'keygen'], env);
      for (const result of [first, second]) {
        expect(result).toMatchObject({ code: 0, stderr: '' });
        expect(result.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
        expect(Buffer.from(result.stdout.trim(), 'base64')).toHaveLength(32);
      }
      expect(first.stdout).not.toBe(second.stdout);
      expect(h.agent.calls).toEqual([]);
    });

    it('keygen prints {"key": ...} under --json', async () => {
      const result = await run(['--json', 'gossip', 'keygen'], {});
      expect(result.code).toBe(0);
      const { key } = JSON.parse(result.stdout) as { key: string };
      expect(Buffer.from(key, 'base64')).toHaveLength(32);
    });

    it('keygen output is accepted by key install', async () => {
      const key = (await run(['gossip', 'keygen'])).stdout.trim();
      const result = await run(['gossip', 'key', 'install', key]);
      expect(result.code).toBe(0);
      expect(h.agent.keyring).toEqual([key]);
    });

    it('rotates a key: install, use, remove the old one, with the keyring and node count each time', async () => {
      const oldKey = randomBytes(32).toString('base64');
      const newKey = randomBytes(32).toString('base64');
      h.agent.keyring = [oldKey];

      const installed = await run(['gossip', 'key', 'install', newKey]);
      expect(installed).toMatchObject({ code: 0, stderr: '' });
      expect(h.agent.calls.at(-1)).toEqual({ method: 'gossipKey', args: ['install', newKey] });
      expect(installed.stdout.trimEnd().split('\n').map((line) => line.split(/\s+/))).toEqual([
        ['KEY', 'PRIMARY'],
        [oldKey, '*'],
        [newKey],
        ['applied', 'on', '2', 'node(s)'],
      ]);

      const used = await run(['gossip', 'key', 'use', newKey]);
      expect(used.code).toBe(0);
      expect(used.stdout.trimEnd().split('\n').map((line) => line.split(/\s+/))).toEqual([
        ['KEY', 'PRIMARY'],
        [newKey, '*'],
        [oldKey],
        ['applied', 'on', '2', 'node(s)'],
      ]);

      const removed = await run(['gossip', 'key', 'remove', oldKey]);
      expect(removed.code).toBe(0);
      expect(removed.stdout).toContain(newKey);
      expect(removed.stdout).not.toContain(oldKey);
      expect(h.agent.keyring).toEqual([newKey]);
    });

    it('lists the keyring without a node count, and says when gossip is not encrypted', async () => {
      const empty = await run(['gossip', 'key', 'ls']);
      expect(empty).toEqual({ code: 0, stdout: 'no gossip keys: gossip traffic is not encrypted\n', stderr: '' });
      expect(h.agent.calls.at(-1)).toEqual({ method: 'gossipKey', args: ['list', undefined] });
      const [a, b] = [randomBytes(16).toString('base64'), randomBytes(24).toString('base64')];
      h.agent.keyring = [a, b];
      const listed = await run(['gossip', 'key', 'ls']);
      expect(listed.stdout.trimEnd().split('\n').map((line) => line.split(/\s+/))).toEqual([['KEY', 'PRIMARY'], [a, '*'], [b]]);
      expect(await run(['gossip', 'key', 'ls', '-q'])).toEqual({ code: 0, stdout: `${a}\n${b}\n`, stderr: '' });
      const json = await run(['gossip', 'key', 'ls', '--json']);
      expect(JSON.parse(json.stdout)).toEqual({ keys: [a, b], primary: a, nodes: 1, failed: [] });
    });

    it('lists failed nodes on stderr and exits 1, as text and as JSON', async () => {
      const key = randomBytes(32).toString('base64');
      h.agent.keyFailures = [
        { node: 'node-b', error: 'no ack within 5s' },
        { node: 'node-c', error: 'node is suspect' },
      ];
      const text = await run(['gossip', 'key', 'install', key]);
      expect(text.code).toBe(1);
      expect(text.stdout.trimEnd().split('\n').at(-1)).toBe('applied on 0 of 2 node(s)');
      expect(text.stderr).toBe('error: node node-b: no ack within 5s\nerror: node node-c: node is suspect\n');

      h.agent.keyFailures = [{ node: 'node-b', error: 'no ack within 5s' }];
      const json = await run(['gossip', 'key', 'install', key, '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual({ keys: [key], primary: key, nodes: 2, failed: [{ node: 'node-b', error: 'no ack within 5s' }] });
      expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'FAILED_PRECONDITION', message: 'node node-b: no ack within 5s', node: 'node-b' } });
    });

    it('exits 1 with the agent message when the agent refuses the operation', async () => {
      const key = randomBytes(32).toString('base64');
      h.agent.keyring = [key];
      const result = await run(['gossip', 'key', 'remove', key]);
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: cannot remove the primary key: use another key first\n' });
    });

    it('prints help for the groups and each key command', async () => {
      const group = await run(['gossip', '--help']);
      expect(group.code).toBe(0);
      for (const command of ['gossip keygen', 'gossip key ls', 'gossip key install', 'gossip key use', 'gossip key remove']) {
        expect(group.stdout).toContain(`vxmesh ${command} `);
      }
      const keyGroup = await run(['gossip', 'key', '-h']);
      expect(keyGroup.code).toBe(0);
      expect(keyGroup.stdout).toMatch(/^usage: vxmesh gossip key COMMAND\n/);
      expect(keyGroup.stdout).not.toContain('keygen');
      const install = await run(['gossip', 'key', 'install', '--help']);
      expect(install.code).toBe(0);
      expect(install.stdout).toMatch(/^usage: vxmesh gossip key install \[options\] KEY\n/);
      expect(install.stdout).toContain('16, 24 or 32 bytes');
      expect(h.agent.calls).toEqual([]);
    });
  });

});
