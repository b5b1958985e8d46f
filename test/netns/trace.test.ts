// vxmesh endpoint trace on a real host: the hops come from the records and the kernel (nothing is sent):
// a local endpoint by name or alias, an unknown address, a remote one through a (hand-made) FDB entry to a
// VTEP, the way out through the gateway leg, and a hop that is broken.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, inNs, type AgentProcess } from '../helpers/netns.js';

interface Hop { at: string; detail: string; ok: boolean }
interface Trace { endpoint: string; network: string; to: string; port?: number; resolved?: string; hops: Hop[]; ok: boolean }
interface Net { sandbox: string; vni: number }
interface Ep { id: string; ipv4: string; netns: string }

const h = new Harness();
let agent: AgentProcess;
let host: string;
let net: Net;
let a: Ep;
let b: Ep;

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host, ['--resync-interval', '3600']);
  await agent.start();
  net = await agent.json<Net>('network', 'create', 'tr', '--subnet', '10.43.1.0/24');
  const [wa, wb] = h.workloads(['ta', 'tb']) as [string, string];
  a = await agent.json<Ep>('endpoint', 'attach', '--network', 'tr', '--netns', wa, '--name', 'a');
  b = await agent.json<Ep>('endpoint', 'attach', '--network', 'tr', '--netns', wb, '--name', 'b', '--alias', 'api');
}, 60_000);
afterAll(async () => {
  await h.cleanup();
});

async function trace(...args: string[]): Promise<{ code: number; t: Trace }> {
  const r = await agent.cli('endpoint', 'trace', ...args, '--json');
  if (r.stdout === '') throw new Error(`trace ${args.join(' ')} printed nothing (${r.code}): ${r.stderr}`);
  return { code: r.code, t: JSON.parse(r.stdout) as Trace };
}
const ip = (cidr: string) => cidr.split('/')[0]!;

describe('vxmesh endpoint trace', () => {
  it('follows a packet to a local endpoint named by its name or alias', async () => {
    const { code, t } = await trace('a', '--to', 'api:80');
    expect(code).toBe(0);
    expect(t).toMatchObject({ endpoint: a.id, network: 'tr', to: ip(b.ipv4), port: 80, ok: true });
    expect(t.resolved).toMatch(/alias api of endpoint b in network tr/);
    expect(t.hops.map((hop) => hop.at)).toEqual(['workload', 'workload', 'sandbox', 'bridge', 'bridge']);
    expect(t.hops[1]!.detail).toMatch(/^eth0 in /);
    expect(t.hops[2]!.detail).toContain(`sandbox ${net.sandbox}`);
    expect(t.hops[3]!.detail).toContain(`ve${a.id.slice(0, 12)} in ${net.sandbox} (port of br0)`);
    expect(t.hops[4]!.detail).toMatch(new RegExp(`delivered on this host to endpoint b .*ve${b.id.slice(0, 12)}`));
    const text = await agent.cli('endpoint', 'trace', a.id.slice(0, 8), '--to', 'b');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/the packet would get there/);
  });

  it('stops at the VXLAN device for an address nobody has, and names the VTEP from the FDB when one is known', async () => {
    const unknown = await trace('a', '--to', '10.43.1.200');
    expect(unknown.code).toBe(1);
    expect(unknown.t.hops.at(-1)).toMatchObject({ at: 'vxlan', ok: false });
    expect(unknown.t.hops.at(-1)!.detail).toMatch(/no remote endpoint with this address is known/);

    const mac = '02:42:0a:2b:01:c9';
    expect(inNs(`/run/netns/${host}`, 'ip', ['-n', net.sandbox, 'neigh', 'add', '10.43.1.201', 'lladdr', mac, 'dev', 'vxlan0', 'nud', 'permanent']).code).toBe(0);
    expect(inNs(`/run/netns/${host}`, 'bridge', ['-n', net.sandbox, 'fdb', 'add', mac, 'dev', 'vxlan0', 'dst', '198.51.100.9', 'self', 'permanent']).code).toBe(0);
    const remote = await trace('a', '--to', '10.43.1.201');
    expect(remote.code).toBe(0);
    expect(remote.t.hops.at(-1)!.detail).toBe(`10.43.1.201 is ${mac}: FDB entry ${mac} -> VTEP 198.51.100.9 over vxlan0 (vni ${net.vni}, udp 4789)`);
  });

  it('leaves through the gateway leg for an address outside the network', async () => {
    const { code, t } = await trace('a', '--to', '203.0.113.5');
    expect(code).toBe(0);
    expect(t.hops.at(-1)!.detail).toMatch(/outside 10\.43\.1\.0\/24: leaves by eth1 .* onto vxmesh_gwbridge/);
  });

  it('names the hop that is broken', async () => {
    expect(inNs(`/run/netns/${host}`, 'ip', ['-n', net.sandbox, 'link', 'set', `ve${a.id.slice(0, 12)}`, 'down']).code).toBe(0);
    const { code, t } = await trace('a', '--to', 'b');
    expect(code).toBe(1);
    expect(t.hops.at(-1)).toEqual({ at: 'bridge', ok: false, detail: `ve${a.id.slice(0, 12)} in ${net.sandbox} is down` });
  });

  it('refuses an unknown endpoint or name with a clear error', async () => {
    const r = await agent.cli('endpoint', 'trace', 'nosuch', '--to', 'b');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no endpoint nosuch/);
    const n = await agent.cli('endpoint', 'trace', 'a', '--to', 'nobody');
    expect(n.stderr).toMatch(/no endpoint or alias named nobody in network tr/);
  });
});
