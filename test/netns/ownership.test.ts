// Two agents on one machine (each in its own netns host, with its own --netns-prefix and data dir)
// share /run/netns. Restarting them, gracefully and with kill -9, neither touches the other's
// namespaces, links or nftables; each one's start-up GC removes only its own unaccounted objects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, canPing, inNs, linkNames, sh, type AgentProcess } from '../helpers/netns.js';

interface Ep { id: string; ipv4: string; netns: string }
interface Net { sandbox: string }

const h = new Harness();
let a1: AgentProcess;
let a2: AgentProcess;

beforeAll(async () => {
  a1 = h.agent(h.host(1));
  a2 = h.agent(h.host(2));
  await Promise.all([a1.start(), a2.start()]);
});
afterAll(async () => {
  await h.cleanup();
});

/** Everything vxmesh made that a user could see, per agent: namespaces, links, addresses, nftables. */
function world(): Record<string, string> {
  const out: Record<string, string> = { namespaces: h.namespaces().sort().join(' ') };
  for (const ns of h.namespaces()) {
    const path = `/run/netns/${ns}`;
    out[`${ns} links`] = linkNames(path).sort().join(' ');
    const addrs = JSON.parse(inNs(path, 'ip', ['-j', '-4', 'addr', 'show']).stdout || '[]') as { ifname: string; addr_info: { local: string; prefixlen: number }[] }[];
    out[`${ns} addrs`] = addrs.flatMap((l) => l.addr_info.map((a) => `${l.ifname}:${a.local}/${a.prefixlen}`)).sort().join(' ');
    out[`${ns} routes`] = inNs(path, 'ip', ['-4', 'route', 'show']).stdout;
  }
  // Tables by name (a table the agent re-created lists after the others; the order means nothing).
  for (const a of [a1, a2]) out[`${a.host} nft`] = inNs(`/run/netns/${a.host}`, 'nft', ['list', 'ruleset']).stdout.split(/^(?=table )/m).sort().join('');
  return out;
}

async function populate(a: AgentProcess, tag: string, subnet: string): Promise<Ep[]> {
  await a.json('network', 'create', `own${tag}`, '--subnet', subnet);
  const [w1, w2] = h.workloads([`${tag}a`, `${tag}b`]) as [string, string];
  return [
    await a.json<Ep>('endpoint', 'attach', '--network', `own${tag}`, '--netns', w1),
    await a.json<Ep>('endpoint', 'attach', '--network', `own${tag}`, '--netns', w2),
  ];
}

const ip = (cidr: string) => cidr.split('/')[0]!;

describe('two agents on one machine', () => {
  it('restarts (SIGTERM and kill -9) leave the other agent\'s namespaces, links and nftables untouched', async () => {
    expect(a1.netnsPrefix).not.toBe(a2.netnsPrefix);
    const eps1 = await populate(a1, 'x', '10.71.0.0/24');
    const eps2 = await populate(a2, 'y', '10.72.0.0/24');
    const [n1] = await a1.json<Net[]>('network', 'inspect', 'ownx');
    const [n2] = await a2.json<Net[]>('network', 'inspect', 'owny');
    expect(n1!.sandbox.startsWith(`${a1.netnsPrefix}-n-`)).toBe(true);
    expect(n2!.sandbox.startsWith(`${a2.netnsPrefix}-n-`)).toBe(true);
    const before = world();

    for (const how of ['stop', 'kill9'] as const) {
      // Each agent leaves a stale sandbox of its own behind: its own GC removes it, the other's must not care.
      await Promise.all([a1[how](), a2[how]()]);
      const stale1 = `${a1.netnsPrefix}-n-0123456789ab`;
      const stale2 = `${a2.netnsPrefix}-n-0123456789ab`;
      expect(sh('ip', ['-batch', '-'], `netns add ${stale1}\nnetns add ${stale2}\n`).code).toBe(0);
      await Promise.all([a1.start(), a2.start()]);
      expect(h.namespaces()).not.toContain(stale1);
      expect(h.namespaces()).not.toContain(stale2);
      expect(world(), `after ${how}`).toEqual(before);
      // One line for the objects it removed, naming them.
      expect(a1.log).toMatch(new RegExp(`"count":1,"names":\\["${stale1}"\\].*removed sandbox namespaces of this agent`));
      expect(a2.log).not.toContain(stale1);
      expect(a1.log).not.toContain(stale2);
    }

    expect((await a1.json<Ep[]>('endpoint', 'ls')).map((e) => e.id).sort()).toEqual(eps1.map((e) => e.id).sort());
    expect((await a2.json<Ep[]>('endpoint', 'ls')).map((e) => e.id).sort()).toEqual(eps2.map((e) => e.id).sort());
    expect(canPing(eps1[0]!.netns, ip(eps1[1]!.ipv4), 2)).toBe(true);
    expect(canPing(eps2[0]!.netns, ip(eps2[1]!.ipv4), 2)).toBe(true);
  }, 120_000);
});
