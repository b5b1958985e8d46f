// Attaches the store refuses under concurrency (here: the network's addresses run out while 16
// attach at once, so the refusals come from the reserve transaction) leave nothing: no veth in the
// sandbox, no gateway leg, nothing in the workload; the acknowledged ones work, and a refused
// namespace attaches once an address is free again.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT, canPing, linkNames, type AgentProcess } from '../helpers/netns.js';

interface Ep { id: string; ipv4: string; netns: string }
interface ApiClient {
  attach(req: { network: string; netns: string }): Promise<Ep>;
  listEndpoints(network?: string): Promise<Ep[]>;
  close(): void;
}

const h = new Harness();
let host: string;
let agent: AgentProcess;

const legOf = (netns: string) => `vg${createHash('sha256').update(netns).digest('hex').slice(0, 12)}`;
const ip = (cidr: string) => cidr.split('/')[0]!;

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host);
  await agent.start();
});
afterAll(async () => {
  await h.cleanup();
});

describe('attaches the store refuses', () => {
  it('16 attaches at once to a network with room for 5: the 11 refused leave nothing; the acknowledged endpoints work', async () => {
    // A /29: 6 usable addresses, one the gateway's, so 5 endpoints fit; 16 attach at once.
    await agent.json('network', 'create', 'tiny', '--subnet', '10.63.0.0/29');
    const [net] = await agent.json<{ sandbox: string }[]>('network', 'inspect', 'tiny');
    const sandbox = `/run/netns/${net!.sandbox}`;
    const nsPaths = h.workloads(Array.from({ length: 16 }, (_, i) => `t${i}`));
    const mod = (await import(join(ROOT, 'dist/api/client.js'))) as { connectApi(p: string): ApiClient };
    const api = mod.connectApi(agent.socket);
    const results = await Promise.allSettled(nsPaths.map((netns) => api.attach({ network: 'tiny', netns })));
    api.close();

    const acked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [{ netns: nsPaths[i]!, err: String((r.reason as Error).message) }] : []));
    expect(acked).toHaveLength(5);
    expect(refused).toHaveLength(11);
    for (const r of refused) expect(r.err).toMatch(/exhausted/);

    const listed = await agent.json<Ep[]>('endpoint', 'ls', '--network', 'tiny');
    expect(listed.map((e) => e.id).sort()).toEqual(acked.map((e) => e.id).sort());
    // Kernel: exactly the acknowledged endpoints' veths and legs, and nothing in the refused namespaces.
    expect(linkNames(sandbox).filter((l) => l.startsWith('ve')).sort()).toEqual(acked.map((e) => `ve${e.id.slice(0, 12)}`).sort());
    const legs = linkNames(`/run/netns/${host}`).filter((l) => /^vg[0-9a-f]{12}$/.test(l)).sort();
    expect(legs).toEqual(acked.map((e) => legOf(e.netns)).sort());
    for (const r of refused) expect(linkNames(r.netns), r.netns).toEqual(['lo']);
    for (const e of acked) expect(linkNames(e.netns).sort(), e.netns).toEqual(['eth0', 'eth1', 'lo']);
    // The acknowledged endpoints reach each other.
    expect(canPing(acked[0]!.netns, ip(acked[4]!.ipv4))).toBe(true);
    expect(canPing(acked[4]!.netns, ip(acked[0]!.ipv4))).toBe(true);

    // A detach frees an address: a refused namespace attaches now (its earlier refusal left nothing in the way).
    await agent.json('endpoint', 'detach', acked[0]!.id);
    const again = await agent.json<Ep>('endpoint', 'attach', '--network', 'tiny', '--netns', refused[0]!.netns);
    expect(linkNames(refused[0]!.netns).sort()).toEqual(['eth0', 'eth1', 'lo']);
    expect(canPing(refused[0]!.netns, ip(acked[1]!.ipv4))).toBe(true);
    expect(ip(again.ipv4)).toBe(ip(acked[0]!.ipv4));
  }, 120_000);
});
