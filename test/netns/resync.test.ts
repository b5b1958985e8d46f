// The periodic resync (--resync-interval): a workload namespace deleted behind the agent's back
// loses its endpoint (record, address, sandbox veth, gateway leg), in one log line for all of them;
// drift made by hand in a sandbox is repaired.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, canPing, inNs, linkNames, sh, type AgentProcess } from '../helpers/netns.js';
import { waitFor } from '../support/wait.js';

interface Ep { id: string; ipv4: string; netns: string }

const h = new Harness();
let host: string;
let agent: AgentProcess;

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host, ['--resync-interval', '1']);
  await agent.start();
});
afterAll(async () => {
  await h.cleanup();
});

const legOf = (netns: string) => `vg${createHash('sha256').update(netns).digest('hex').slice(0, 12)}`;

describe('periodic resync', () => {
  it('detaches endpoints whose namespace is gone (one line) and repairs hand-made drift', async () => {
    await agent.json('network', 'create', 'tidy', '--subnet', '10.91.0.0/24');
    const [a, b, c] = h.workloads(['ra', 'rb', 'rc']) as [string, string, string];
    const ea = await agent.json<Ep>('endpoint', 'attach', '--network', 'tidy', '--netns', a);
    await agent.json<Ep>('endpoint', 'attach', '--network', 'tidy', '--netns', b);
    await agent.json<Ep>('endpoint', 'attach', '--network', 'tidy', '--netns', c);
    const [net] = await agent.json<{ sandbox: string }[]>('network', 'inspect', 'tidy');
    const sandbox = `/run/netns/${net!.sandbox}`;

    expect(sh('ip', ['-batch', '-'], `netns del ${b.split('/').pop()}\nnetns del ${c.split('/').pop()}\n`).code).toBe(0);
    await waitFor(async () => (await agent.json<Ep[]>('endpoint', 'ls')).length === 1, { timeoutMs: 15_000, intervalMs: 200, what: 'the orphans to be detached' });
    expect((await agent.json<Ep[]>('endpoint', 'ls')).map((e) => e.id)).toEqual([ea.id]);
    const gone = agent.log.split('\n').filter((l) => l.includes('workload namespaces are gone'));
    // one line per resync pass naming all it found (both, unless a pass ran between the two deletions)
    const counts = gone.map((l) => (JSON.parse(l) as { count: number; names: string[] }).count);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(2);
    expect(gone.length).toBeLessThanOrEqual(2);
    expect(linkNames(sandbox).filter((l) => l.startsWith('ve'))).toEqual([`ve${ea.id.slice(0, 12)}`]);
    const legs = linkNames(`/run/netns/${host}`);
    expect(legs).toContain(legOf(a));
    for (const ns of [b, c]) expect(legs).not.toContain(legOf(ns));

    // drift: the network's bridge address removed by hand comes back at the next resync
    expect(inNs(sandbox, 'ip', ['addr', 'flush', 'dev', 'br0']).code).toBe(0);
    await waitFor(() => canPing(a, '10.91.0.1'), { timeoutMs: 15_000, intervalMs: 200, what: 'the gateway address to be repaired' });
  }, 60_000);
});
