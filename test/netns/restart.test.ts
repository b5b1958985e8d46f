// Restarts and crashes: the data plane outlives the agent; a kill -9 mid-work leaves no
// duplicates, leaks or half-made endpoints after the next start.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, ROOT, canPing, inNs, linkNames, sh, type AgentProcess } from '../helpers/netns.js';
import { waitFor } from '../support/wait.js';

const spawnSyncOk = (cmd: string, args: string[]) => sh(cmd, args).code === 0;

interface Ep { id: string; ipv4: string; netns: string }
interface ApiClient {
  attach(req: { network: string; netns: string }): Promise<Ep>;
  listEndpoints(network?: string): Promise<Ep[]>;
  close(): void;
}

const h = new Harness();
let host: string;
let agent: AgentProcess;

async function client(): Promise<ApiClient> {
  const mod = (await import(join(ROOT, 'dist/api/client.js'))) as { connectApi(p: string): ApiClient };
  return mod.connectApi(agent.socket);
}

const ip = (cidr: string) => cidr.split('/')[0]!;

interface Pinging {
  /** Replies so far (live, from ping's per-packet lines). */
  replies(): number;
  /** [sent, received] from ping's summary once it ends. */
  done: Promise<[number, number]>;
}

/** Pings `target` every 50 ms for `ms` from a workload. */
function pingFor(from: string, target: string, ms: number): Pinging {
  const count = Math.floor(ms / 50);
  const p = spawn('nsenter', [`--net=${from}`, 'ping', '-i', '0.05', '-W', '1', '-c', String(count), target]);
  let out = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise<[number, number]>((res) => {
    p.on('close', () => {
      const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
      res(m ? [Number(m[1]), Number(m[2])] : [0, 0]);
    });
  });
  return { replies: () => out.match(/bytes from/g)?.length ?? 0, done };
}

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host);
  await agent.start();
});
afterAll(async () => {
  await h.cleanup();
});

describe('agent restart and crash', () => {
  it('keeps traffic flowing across a graceful restart and a kill -9', async () => {
    const [a, b] = h.workloads(['pa', 'pb']) as [string, string];
    await agent.json('network', 'create', 'steady', '--subnet', '10.41.0.0/24');
    await agent.json('endpoint', 'attach', '--network', 'steady', '--netns', a);
    const eb = await agent.json<Ep>('endpoint', 'attach', '--network', 'steady', '--netns', b);

    for (const how of ['SIGTERM', 'SIGKILL'] as const) {
      const pinging = pingFor(a, ip(eb.ipv4), 4000);
      await waitFor(() => pinging.replies(), { what: 'first ping replies', until: (n) => n >= 5 });
      if (how === 'SIGTERM') await agent.stop();
      else await agent.kill9();
      // With no agent running, traffic keeps flowing: 5 more replies before the agent comes back.
      const atStop = pinging.replies();
      await waitFor(() => pinging.replies(), { what: `ping replies while the agent is down (${how})`, until: (n) => n >= atStop + 5 });
      await agent.start();
      const [sent, received] = await pinging.done;
      // Bound: no packet may be lost; the data plane never depends on the agent process.
      expect(sent).toBeGreaterThan(50);
      expect(sent - received, `${how}: lost ${sent - received} of ${sent}`).toBe(0);
    }
    expect((await agent.json<Ep[]>('endpoint', 'ls', '--network', 'steady')).length).toBe(2);
  });

  it('survives kill -9 in the middle of 200 concurrent attaches: no duplicates, no leaks, every endpoint works', async () => {
    const N = 200;
    const names = Array.from({ length: N }, (_, i) => `c${i}`);
    const nsPaths = h.workloads(names);
    await agent.json('network', 'create', 'crowd', '--subnet', '10.42.0.0/24');
    const api = await client();
    const acknowledged = new Set<string>();
    const calls = nsPaths.map((netns) =>
      api.attach({ network: 'crowd', netns }).then((ep) => acknowledged.add(ep.id), () => undefined),
    );
    // Kill once a good part (but not all) of the attaches were answered.
    await waitFor(() => acknowledged.size, { what: `${N / 4} acknowledged attaches`, until: (n) => n >= N / 4, timeoutMs: 60_000, intervalMs: 5 });
    await agent.kill9();
    const ackedAtKill = acknowledged.size;
    await Promise.all(calls);
    api.close();
    expect(ackedAtKill).toBeGreaterThan(0);
    expect(ackedAtKill).toBeLessThan(N);

    await agent.start();
    const eps = await agent.json<Ep[]>('endpoint', 'ls', '--network', 'crowd');
    const ids = new Set(eps.map((e) => e.id));
    // every endpoint the caller was told about survives
    for (const id of acknowledged) expect(ids.has(id), `acknowledged endpoint ${id} lost`).toBe(true);
    // no duplicate addresses, one endpoint per namespace
    expect(new Set(eps.map((e) => e.ipv4)).size).toBe(eps.length);
    expect(new Set(eps.map((e) => e.netns)).size).toBe(eps.length);

    // kernel objects: exactly the listed endpoints exist, nothing half-made elsewhere
    const [net] = await agent.json<{ sandbox: string }[]>('network', 'inspect', 'crowd');
    const sandboxVeths = linkNames(`/run/netns/${net!.sandbox}`).filter((l) => l.startsWith('ve')).sort();
    expect(sandboxVeths).toEqual(eps.map((e) => `ve${e.id.slice(0, 12)}`).sort());
    const listedNs = new Set(eps.map((e) => e.netns));
    for (const p of nsPaths) {
      const links = linkNames(p);
      if (listedNs.has(p)) expect(links.sort()).toEqual(['eth0', 'eth1', 'lo']);
      else expect(links, `${p} should hold nothing of vxmesh`).toEqual(['lo']);
    }
    const gwLegs = linkNames(`/run/netns/${host}`).filter((l) => /^vg[0-9a-f]{12}$/.test(l));
    const { createHash } = await import('node:crypto');
    const everyEp = await agent.json<Ep[]>('endpoint', 'ls'); // other tests' workloads have legs too
    const wantLegs = everyEp.map((e) => `vg${createHash('sha256').update(e.netns).digest('hex').slice(0, 12)}`).sort();
    expect(gwLegs.sort()).toEqual(wantLegs);

    // every endpoint works: its address answers from the network's gateway side
    const script = eps.map((e) => `ping -c1 -W1 ${ip(e.ipv4)} >/dev/null || echo FAIL ${ip(e.ipv4)}`).join('\n');
    const r = inNs(`/run/netns/${net!.sandbox}`, 'sh', ['-c', script]);
    expect(r.stdout.trim()).toBe('');

    // no leaked addresses: the /24 (253 usable after the gateway) takes exactly 253 - listed more
    const free = 253 - eps.length;
    const extraNs = h.workloads(Array.from({ length: free + 1 }, (_, i) => `x${i}`));
    const api2 = await client();
    const results = await Promise.allSettled(extraNs.map((netns) => api2.attach({ network: 'crowd', netns })));
    api2.close();
    const ok = results.filter((x) => x.status === 'fulfilled').length;
    const failed = results.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
    expect(ok).toBe(free);
    expect(failed).toHaveLength(1);
    expect(String(failed[0]!.reason?.message)).toMatch(/no free|exhausted|full/i);
  }, 240_000);

  it('on start removes vxmesh objects nothing refers to and repairs what is missing', async () => {
    const [a, b, c] = h.workloads(['ga', 'gb', 'gc']) as [string, string, string];
    await agent.json('network', 'create', 'mend', '--subnet', '10.43.0.0/24');
    await agent.json('endpoint', 'attach', '--network', 'mend', '--netns', a);
    await agent.json('endpoint', 'attach', '--network', 'mend', '--netns', c);
    const eb = await agent.json<Ep>('endpoint', 'attach', '--network', 'mend', '--netns', b);
    const [net] = await agent.json<{ sandbox: string }[]>('network', 'inspect', 'mend');
    await agent.stop();

    const hostNs = `/run/netns/${host}`;
    const staleNs = `${agent.netnsPrefix}-n-0123456789ab`;
    expect(inNs(hostNs, 'true', []).code).toBe(0);
    const mk = (args: string[]) => expect(inNs(hostNs, args[0]!, args.slice(1)).code).toBe(0);
    expect(spawnSyncOk('ip', ['netns', 'add', staleNs])).toBe(true);
    mk(['ip', 'link', 'add', 'vg0123456789ab', 'type', 'veth', 'peer', 'name', 'vh0123456789ab']);
    mk(['nft', 'add', 'rule', 'inet', 'vxmesh', 'forward', 'counter', 'comment', '"stale-rule"']);
    // damage: the network's bridge is gone while the agent is down
    expect(inNs(`/run/netns/${net!.sandbox}`, 'ip', ['link', 'del', 'br0']).code).toBe(0);
    expect(canPing(a, ip(eb.ipv4))).toBe(false);
    // a workload namespace that is no namespace any more (unmounted; the path is left behind)
    expect(sh('umount', [c]).code).toBe(0);

    await agent.start();
    expect(agent.log).toMatch(/removing endpoint left half-done or whose namespace is gone/);
    expect((await agent.json<Ep[]>('endpoint', 'ls', '--network', 'mend')).map((e) => e.netns).sort()).toEqual([a, b].sort());
    expect(h.namespaces()).not.toContain(staleNs);
    expect(linkNames(hostNs)).not.toContain('vg0123456789ab');
    expect(inNs(hostNs, 'nft', ['list', 'table', 'inet', 'vxmesh']).stdout).not.toContain('stale-rule');
    expect(canPing(a, ip(eb.ipv4), 2)).toBe(true);
  });
});
