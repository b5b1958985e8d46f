// The native addon: flock semantics, and UDP/TCP sockets made inside a network namespace the test
// creates (an address that exists only there), usable by dgram and net, with the thread back home.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addClsactQdisc, attachFlowHashTcx, flock, flowHashTcxAttached, socketInNetns, tcpServerInNetns, udpSocketInNetns } from '../../src/kernel/native.js';
import { mustSh, sh } from '../helpers/netns.js';

const ns = `vn${randomBytes(3).toString('hex')}`;
const nsPath = `/run/netns/${ns}`;
const ADDR = '203.0.113.77';
const myNetns = () => readlinkSync('/proc/thread-self/ns/net');

beforeAll(() => {
  mustSh('ip', ['netns', 'add', ns]);
  mustSh('ip', ['-n', ns, '-batch', '-'], `link set lo up\naddr add ${ADDR}/32 dev lo\n`);
});
afterAll(() => {
  sh('ip', ['netns', 'del', ns]);
});

/** Runs a node client inside the namespace (nsenter), returning its stdout. */
function clientInNs(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('nsenter', [`--net=${nsPath}`, process.execPath, '--input-type=module', '-e', script]);
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`client failed (${code}): ${err}`))));
  });
}

describe('native addon', () => {
  it('flock: an exclusive lock refuses a second open file until the first is closed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vxmesh-flock-'));
    try {
      const a = openSync(join(dir, 'lock'), 'w');
      const b = openSync(join(dir, 'lock'), 'r');
      expect(flock(a, true, true)).toBe(true);
      expect(flock(b, true, true)).toBe(false);
      expect(flock(b, false, true)).toBe(false);
      closeSync(a);
      expect(flock(b, true, true)).toBe(true);
      closeSync(b);
      expect(() => flock(b, true, true)).toThrow(/EBADF|Bad file descriptor/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('UDP: a socket bound inside the netns echoes a client there; the thread is back home', async () => {
    const before = myNetns();
    const sock = await udpSocketInNetns(nsPath, 'udp4', ADDR, 0);
    expect(myNetns()).toBe(before);
    sock.on('message', (msg, rinfo) => sock.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address));
    const { port } = sock.address();
    const out = await clientInNs(`
      import { createSocket } from 'node:dgram';
      const s = createSocket('udp4');
      s.on('message', (m) => { process.stdout.write(m.toString()); s.close(); });
      const t = setInterval(() => s.send('ping', ${port}, '${ADDR}'), 100); t.unref();
      s.send('ping', ${port}, '${ADDR}');`);
    sock.close();
    expect(out).toBe('echo:ping');
  });

  it('TCP: a listening socket inside the netns echoes a client there', async () => {
    const before = myNetns();
    const server = await tcpServerInNetns(nsPath, 'tcp4', ADDR, 0);
    expect(myNetns()).toBe(before);
    server.on('connection', (c) => c.on('data', (d) => c.end(Buffer.concat([Buffer.from('echo:'), d]))));
    const { port } = server.address() as AddressInfo;
    const listening = sh('nsenter', [`--net=${nsPath}`, 'ss', '-Hltn', `sport = :${port}`]).stdout;
    expect(listening).toContain(`${ADDR}:${port}`);
    const out = await clientInNs(`
      import { connect } from 'node:net';
      const c = connect(${port}, '${ADDR}', () => c.write('hello'));
      c.on('data', (d) => process.stdout.write(d.toString()));`);
    await new Promise((r) => server.close(r));
    expect(out).toBe('echo:hello');
  });

  it('errors name the step and errno, and leave the thread in its own namespace', () => {
    const before = myNetns();
    expect(() => socketInNetns(`/run/netns/${ns}-missing`, 'udp4', ADDR, 0)).toThrow(/open .*-missing: No such file/);
    let err: NodeJS.ErrnoException | undefined;
    try {
      socketInNetns(nsPath, 'tcp4', '198.51.100.250', 0);
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    expect(err?.code).toBe('EADDRNOTAVAIL');
    expect(err?.message).toMatch(/bind tcp4 198\.51\.100\.250:0 in \/run\/netns\//);
    expect(() => socketInNetns(nsPath, 'udp4', 'not-an-ip', 0)).toThrow(/parse address/);
    expect(() => socketInNetns(nsPath, 'sctp' as 'udp4', ADDR, 0)).toThrow(/kind must be/);
    expect(myNetns()).toBe(before);
    // the fds are CLOEXEC
    const fd = socketInNetns(nsPath, 'udp6', '::1', 0);
    const flags = sh('sh', ['-c', `grep flags /proc/${process.pid}/fdinfo/${fd}`]).stdout;
    closeSync(fd);
    expect(parseInt(flags.split(/\s+/)[1]!, 8) & 0o2000000).not.toBe(0);
  });

  it('addClsactQdisc: a clsact qdisc on an interface in the netns (false when it has one), clear errors, the thread back home', () => {
    const home = myNetns();
    mustSh('ip', ['-n', ns, 'link', 'add', 'qd0', 'type', 'veth', 'peer', 'name', 'qd1']);
    try {
      expect(addClsactQdisc(nsPath, 'qd0')).toBe(true);
      expect(sh('nsenter', [`--net=${nsPath}`, 'tc', 'qdisc', 'show', 'dev', 'qd0']).stdout).toMatch(/^qdisc clsact ffff: parent ffff:fff1/m);
      expect(addClsactQdisc(nsPath, 'qd0')).toBe(false);
      expect(() => addClsactQdisc(nsPath, 'nosuch0')).toThrow(expect.objectContaining({ code: 'ENODEV', message: `find interface nosuch0 in ${nsPath}: No such device` }));
      expect(() => addClsactQdisc('/run/netns/vxmesh-no-such-ns', 'qd0')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(() => addClsactQdisc(nsPath, 'a-name-longer-than-15')).toThrow(/at most 15 characters/);
      expect(myNetns()).toBe(home);
    } finally {
      sh('ip', ['-n', ns, 'link', 'del', 'qd0']);
    }
  });

  it('attachFlowHashTcx: the flow-hash program on tcx egress (once), still there after the interface moves to another netns and is renamed', async () => {
    const other = `${ns}m`;
    mustSh('ip', ['netns', 'add', other]);
    mustSh('ip', ['-n', ns, 'link', 'add', 'tx0', 'type', 'veth', 'peer', 'name', 'tx1']);
    try {
      expect(await flowHashTcxAttached(nsPath, 'tx0')).toBe(false);
      expect(await attachFlowHashTcx(nsPath, 'tx0')).toBe(true);
      expect(await attachFlowHashTcx(nsPath, 'tx0')).toBe(false); // not a second copy
      mustSh('ip', ['-n', ns, 'link', 'set', 'tx0', 'netns', other, 'name', 'eth0']);
      expect(await flowHashTcxAttached(`/run/netns/${other}`, 'eth0')).toBe(true);
      await expect(attachFlowHashTcx(nsPath, 'tx0')).rejects.toMatchObject({ code: 'ENODEV', message: `find interface tx0 in ${nsPath}: No such device` });
      await expect(attachFlowHashTcx('/run/netns/vxmesh-no-such-ns', 'tx0')).rejects.toMatchObject({ code: 'ENOENT' });
      // The work ran on libuv pool threads: every thread of this process is back in its own namespace.
      const home = myNetns();
      const tasks = readdirSync(`/proc/${process.pid}/task`);
      expect(tasks.filter((t) => readlinkSync(`/proc/${process.pid}/task/${t}/ns/net`) !== home)).toEqual([]);
    } finally {
      sh('ip', ['netns', 'del', other]);
      sh('ip', ['-n', ns, 'link', 'del', 'tx1']);
    }
  });
});
