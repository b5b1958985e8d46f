// Attach never plumbs a workload into a namespace that carries the host's connectivity (the agent's
// own, the initial one, one holding the advertise address, a sandbox), and detach removes exactly
// what attach added. Every refusal is checked against the host namespace's routes and addresses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, inNs, linkNames, sh, type AgentProcess } from '../helpers/netns.js';

const h = new Harness();
let host: string;
let agent: AgentProcess;

interface Net { sandbox: string }

/** Addresses, links and routes (all tables, both families) of a namespace, as `ip -j` prints them. */
function netState(nsPath: string | undefined): string {
  const ip = (args: string[]) => {
    const r = nsPath ? inNs(nsPath, 'ip', ['-j', ...args]) : sh('ip', ['-j', ...args]);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return [ip(['addr', 'show']), ip(['-4', 'route', 'show', 'table', 'all']), ip(['-6', 'route', 'show', 'table', 'all'])].join('\n');
}

beforeAll(async () => {
  host = h.host(1);
  agent = h.agent(host);
  await agent.start();
  expect((await agent.cli('network', 'create', 'guard', '--subnet', '10.51.0.0/24')).code).toBe(0);
  expect((await agent.cli('network', 'create', 'guardint', '--subnet', '10.51.1.0/24', '--internal')).code).toBe(0);
});
afterAll(async () => {
  await h.cleanup();
});

async function refused(netns: string, network: string, why: RegExp): Promise<void> {
  const r = await agent.cli('endpoint', 'attach', '--network', network, '--netns', netns);
  expect(r.code, `attach into ${netns} must be refused:\n${r.stdout}${r.stderr}`).not.toBe(0);
  expect(r.stderr).toMatch(why);
  expect(r.stderr).toMatch(/refusing to attach/);
}

describe('self-protection', () => {
  it('refuses the host namespace (by name and by /proc path), a sandbox and a namespace holding the advertise address; nothing changes', async () => {
    const hostNs = `/run/netns/${host}`;
    const [net] = await agent.json<Net[]>('network', 'inspect', 'guard');
    const before = netState(hostNs);
    const linksBefore = linkNames(hostNs).sort();

    await refused(hostNs, 'guard', /agent's own network namespace/);
    // The same namespace by another path: compared by nsfs identity, not by name.
    await refused(`/proc/${agent.pid}/ns/net`, 'guard', /agent's own network namespace/);
    await refused(`/run/netns/${net!.sandbox}`, 'guard', /sandbox namespace/);
    // Any namespace holding the advertise address is a host namespace.
    const twin = h.workload('twin');
    expect(inNs(twin, 'ip', ['addr', 'add', '198.51.100.1/32', 'dev', 'lo']).code).toBe(0);
    const twinBefore = netState(twin);
    await refused(twin, 'guard', /advertise address 198\.51\.100\.1/);
    expect(netState(twin)).toBe(twinBefore);

    expect(netState(hostNs)).toBe(before);
    expect(linkNames(hostNs).sort()).toEqual(linksBefore);
    expect(await agent.json<unknown[]>('endpoint', 'ls')).toEqual([]);
  });

  it('refuses the initial namespace (/proc/1/ns/net) and leaves it unchanged', async () => {
    // Only after the refusals above were seen to work, and on an internal network (no gateway leg,
    // no default route): even a broken agent would add no route to the machine's namespace.
    const rootBefore = netState(undefined);
    const hostBefore = netState(`/run/netns/${host}`);
    // Where even root may not read /proc/1/ns/net (no CAP_SYS_PTRACE here), it cannot be identified: refused too.
    await refused('/proc/1/ns/net', 'guardint', /initial network namespace|cannot be identified/);
    expect(netState(undefined)).toBe(rootBefore);
    expect(netState(`/run/netns/${host}`)).toBe(hostBefore);
  });

  it('detach removes exactly what attach added: a namespace keeps its own default route, address and links', async () => {
    const w = h.workload('own');
    // Its own uplink (a veth pair inside it: no dummy module here) with an address and the default route.
    // No IPv6 link-local addresses on them: DAD would change their flags while the test compares.
    const setup = ['link add up0 type veth peer name up1', 'link set up0 addrgenmode none', 'link set up1 addrgenmode none', 'link set up0 up', 'link set up1 up', 'link set lo up', 'addr add 203.0.113.5/24 dev up0', 'route add default via 203.0.113.1 dev up0'];
    expect(sh('ip', ['-n', w.split('/').pop()!, '-batch', '-'], setup.join('\n') + '\n').code).toBe(0);
    const before = netState(w);
    const ep = await agent.json<{ id: string }>('endpoint', 'attach', '--network', 'guard', '--netns', w);
    expect(linkNames(w).sort()).toEqual(['eth0', 'eth1', 'lo', 'up0', 'up1']);
    // Its own default route stays the default: attach does not replace it.
    const routes = JSON.parse(inNs(w, 'ip', ['-j', 'route', 'show', 'default']).stdout) as { dev: string }[];
    expect(routes).toEqual([expect.objectContaining({ dev: 'up0', gateway: '203.0.113.1' })]);
    expect((await agent.cli('endpoint', 'detach', ep.id)).code).toBe(0);
    expect(netState(w)).toBe(before);
  });
});
