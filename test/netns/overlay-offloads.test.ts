// Data-path settings the agent programs on its own devices: RPS on each sandbox's veth ends (every
// online CPU; not on vxlan0) and the flow-hash program on each workload's overlay interface (tc
// egress), set when they are made and put back after a restart; --no-rps leaves the devices at the
// kernel's settings.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Harness, canPing, inNs, linkNames, mustSh, type AgentProcess } from '../helpers/netns.js';
import { waitFor } from '../support/wait.js';

interface Ep { id: string; ipv4: string }
interface Net { sandbox: string }

const h = new Harness();
let agent: AgentProcess;

/** All online CPUs as a number (what the agent should write). */
function onlineMask(): bigint {
  let m = 0n;
  for (const part of readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')) {
    const [lo, hi = lo] = part.split('-').map(Number) as [number, number?];
    for (let c = lo; c <= hi!; c++) m |= 1n << BigInt(c);
  }
  return m;
}
const ALL = onlineMask();
const maskOf = (text: string) => BigInt(`0x${text.trim().replace(/,/g, '')}`);

/** rps_cpus of the sandbox's vxlan0 and veth ends, read through a sysfs mounted in the sandbox (ip netns exec). */
function sandboxMasks(sandbox: string): Map<string, bigint> {
  const devs = linkNames(`/run/netns/${sandbox}`).filter((n) => n === 'vxlan0' || n.startsWith('ve'));
  const out = mustSh('ip', ['netns', 'exec', sandbox, 'sh', '-c', 'for d in "$@"; do echo "$d $(cat /sys/class/net/$d/queues/rx-0/rps_cpus)"; done', 'sh', ...devs]);
  return new Map(out.trim().split('\n').map((l) => l.split(' ') as [string, string]).map(([d, m]) => [d, maskOf(m)]));
}
/** The program names on a workload interface's tc egress (the agent's is vxmesh_symhash). */
const egressPrograms = (netns: string, dev = 'eth0') =>
  [...inNs(netns, 'tc', ['filter', 'show', 'dev', dev, 'egress']).stdout.matchAll(/ name (\S+) /g)].map((m) => m[1]);
/** The qdisc kinds on a workload interface. */
const qdiscs = (netns: string, dev = 'eth0') => [...inNs(netns, 'tc', ['qdisc', 'show', 'dev', dev]).stdout.matchAll(/^qdisc (\S+)/gm)].map((m) => m[1]);
/** A flood ping of 400000 echoes (5 s or more here) from a workload, running in the background. */
function spawnPing(netns: string, ip: string): { done: () => boolean; result: Promise<string>; kill: () => void } {
  const p = spawn('nsenter', [`--net=${netns}`, 'ping', '-f', '-q', '-c', '400000', ip], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let finished = false;
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const result = new Promise<string>((resolve) => p.on('close', () => ((finished = true), resolve(out))));
  return { done: () => finished, result, kill: () => void (finished || p.kill()) };
}
const clearMask = (sandbox: string, dev: string) =>
  mustSh('ip', ['netns', 'exec', sandbox, 'sh', '-c', `echo 0 > /sys/class/net/${dev}/queues/rx-0/rps_cpus`]);

beforeAll(async () => {
  agent = h.agent(h.host(1));
  await agent.start();
});
afterAll(async () => {
  await h.cleanup();
});

describe.skipIf(ALL === 1n)('overlay data-path settings', () => {
  it('sets RPS on the sandbox veths it makes (not vxlan0) and the flow hash on the workloads, and puts both back after a restart', async () => {
    const [a, b] = h.workloads(['ra', 'rb']) as [string, string];
    await agent.json('network', 'create', 'rps', '--subnet', '10.43.0.0/24');
    const ea = await agent.json<Ep>('endpoint', 'attach', '--network', 'rps', '--netns', a);
    const eb = await agent.json<Ep>('endpoint', 'attach', '--network', 'rps', '--netns', b);
    const [net] = await agent.json<Net[]>('network', 'inspect', 'rps');
    const sandbox = net!.sandbox;
    const want = [`ve${ea.id.slice(0, 12)}`, `ve${eb.id.slice(0, 12)}`].sort();
    // Set right after the attach (off its path); vxlan0 keeps the kernel's 0.
    const masks = await waitFor(() => sandboxMasks(sandbox), { what: 'RPS masks after the attaches', until: (ms) => want.every((d) => ms.get(d) === ALL) });
    expect([...masks.keys()].sort()).toEqual([...want, 'vxlan0'].sort());
    for (const dev of want) expect(masks.get(dev), `${dev} rps_cpus`).toBe(ALL);
    expect(masks.get('vxlan0')).toBe(0n);
    // The flow-hash program on each workload's eth0 egress (never on the gateway leg).
    await waitFor(() => [a, b].map((w) => egressPrograms(w)), { what: 'flow-hash program on the workloads', until: (ps) => ps.every((p) => p.includes('vxmesh_symhash')) });
    for (const w of [a, b]) expect(egressPrograms(w)).toEqual(['vxmesh_symhash']);
    expect(canPing(a, eb.ipv4.split('/')[0]!)).toBe(true);

    // Undone by hand while the agent is down: the start-up resync puts it back.
    await agent.stop();
    for (const dev of want) clearMask(sandbox, dev);
    expect([...sandboxMasks(sandbox).values()].every((m) => m === 0n)).toBe(true);
    for (const w of [a, b]) mustSh('nsenter', [`--net=${w}`, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'clsact']);
    expect(egressPrograms(a)).toEqual([]);
    await agent.start();
    await waitFor(() => want.map((d) => sandboxMasks(sandbox).get(d)), { what: 'RPS masks back after restart', until: (ms) => ms.every((m) => m === ALL) });
    // The start-up resync waits for its writes before "ready": the programs are back already.
    for (const w of [a, b]) expect(egressPrograms(w)).toEqual(['vxmesh_symhash']);
    expect(canPing(b, ea.ipv4.split('/')[0]!)).toBe(true);
  });

  it('puts the flow-hash program on without dropping a packet: the qdisc comes with the interface, added while it is down', async () => {
    // Adding a clsact qdisc to an up device stops its transmit for an RCU grace period (CI lost a
    // ping to a new endpoint that way). The qdisc must come with the attach, so the program's later
    // write only adds a filter.
    await agent.json('network', 'create', 'flood', '--subnet', '10.45.0.0/24');
    const ws = h.workloads(['fa', 'fb', 'fc', 'fd']);
    const eps = [];
    for (const w of ws) eps.push(await agent.json<Ep>('endpoint', 'attach', '--network', 'flood', '--netns', w));
    for (const w of ws) expect(qdiscs(w), 'clsact right after the attach').toContain('clsact');
    const ip = (e: Ep) => e.ipv4.split('/')[0]!;
    // Flood pings in two pairs while the program goes on (1 s after the attaches); none may be lost.
    const floods = [spawnPing(ws[0]!, ip(eps[1]!)), spawnPing(ws[2]!, ip(eps[3]!))];
    onTestFinished(() => floods.forEach((f) => f.kill()));
    await waitFor(() => ws.map((w) => egressPrograms(w)), { what: 'flow-hash programs on the new workloads', until: (ps) => ps.every((p) => p.includes('vxmesh_symhash')), timeoutMs: 15_000 });
    expect(floods.map((f) => f.done()), 'the pings outlast the program writes').toEqual([false, false]);
    for (const f of floods) {
      const r = await f.result;
      const m = /(\d+) packets transmitted, (\d+) received/.exec(r);
      expect(m, r).not.toBeNull();
      expect(Number(m![2]), `pings received of ${m![1]}: ${r}`).toBe(Number(m![1]));
    }
  }, 60_000);

  it('leaves the devices alone with --no-rps', async () => {
    const other = h.agent(h.host(2), ['--no-rps']);
    await other.start();
    const [w] = h.workloads(['rc']) as [string];
    await other.json('network', 'create', 'norps', '--subnet', '10.44.0.0/24');
    await other.json<Ep>('endpoint', 'attach', '--network', 'norps', '--netns', w);
    const [net] = await other.json<Net[]>('network', 'inspect', 'norps');
    // A start runs a full resync that waits for its RPS writes before "ready": after it, any write is done.
    await other.stop();
    await other.start();
    const masks = sandboxMasks(net!.sandbox);
    expect(masks.size).toBe(2);
    for (const [dev, m] of masks) expect(m, `${dev} rps_cpus`).toBe(0n);
    expect(egressPrograms(w)).toEqual([]);
  });
});
