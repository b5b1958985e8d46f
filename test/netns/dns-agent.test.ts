// The embedded resolver wired into a real agent: a netns host runs the agent (nsenter), workloads get
// 127.0.0.11 served by it, dig runs inside them, and the only upstream is dnsmasq in a namespace of the
// test's own (passed with --dns), logging every query it sees.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addrOf as ip, dig, startVethUpstream, type DnsUpstream } from '../helpers/dns.js';
import { Harness, mustSh, type AgentProcess } from '../helpers/netns.js';
import { waitFor } from '../support/wait.js';

interface Ep { id: string; ipv4: string; ipv6?: string; netns: string; name: string }

const h = new Harness();
let agent: AgentProcess;
let upstream: DnsUpstream | undefined;
let apiNs: string;
let dbNs: string;
let onlyBNs: string;
const eps: Record<string, Ep> = {};

function logLines(): Record<string, unknown>[] {
  return agent.log.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

const upstreamSaw = (name: string): boolean => upstream!.log().includes(` ${name} from`);

async function attach(name: string, network: string, ns: string, ...extra: string[]): Promise<Ep> {
  const ep = await agent.json<Ep>('endpoint', 'attach', '--network', network, '--netns', ns, '--name', name, ...extra);
  eps[name] = ep;
  return ep;
}

beforeAll(async () => {
  const host = h.host(1);
  // The upstream: dnsmasq in a namespace of its own, reachable from the agent's host over a veth.
  // Like a real upstream: example.test exists, every other name is NXDOMAIN.
  upstream = await startVethUpstream(h, host, ['--address=/example.test/203.0.113.99']);

  agent = h.agent(host, ['--dns', '203.0.113.53', '--resync-interval', '1']);
  await agent.start();
  [apiNs, dbNs, onlyBNs] = h.workloads(['api', 'db', 'onlyb']) as [string, string, string];
  expect((await agent.cli('network', 'create', 'neta', '--subnet', '10.41.1.0/24', '--ipv6', '--subnet-v6', 'fd41:1::/64')).code).toBe(0);
  expect((await agent.cli('network', 'create', 'netb', '--subnet', '10.41.2.0/24')).code).toBe(0);
}, 60_000);

afterAll(async () => {
  upstream?.proc.kill('SIGKILL');
  await h.cleanup();
});

describe('the agent serves 127.0.0.11 in the workloads it attaches', () => {
  it('writes the resolv.conf asked for, and rolls the attach back when it cannot', async () => {
    const path = join(h.tmp, 'api-resolv.conf');
    await attach('api', 'neta', apiNs, '--alias', 'web', '--resolv-conf', path);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^nameserver 127\.0\.0\.11$/m);
    expect(text).toMatch(/^options ndots:0$/m);
    expect(text.match(/^nameserver/gm)).toHaveLength(1);
    expect(statSync(path).mode & 0o777).toBe(0o644); // readable by a non-root workload despite the agent's umask

    const bad = await agent.cli('endpoint', 'attach', '--network', 'neta', '--netns', dbNs, '--name', 'db', '--resolv-conf', join(h.tmp, 'missing-dir', 'resolv.conf'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/resolv-conf: cannot write .*missing-dir.*detached again \(nothing kept\)/);
    const left = await agent.json<Ep[]>('endpoint', 'ls');
    expect(left.map((e) => e.netns)).not.toContain(dbNs);

    await attach('db', 'neta', dbNs);
    await attach('bonly', 'netb', onlyBNs);
  });

  it('answers names, aliases, A and AAAA on a dual-stack network, PTR; other networks are NXDOMAIN', async () => {
    const db = eps.db!;
    const api = eps.api!;
    expect((await dig(apiNs, 'db')).answers).toEqual([`A ${ip(db.ipv4)}`]);
    expect((await dig(apiNs, 'DB', 'AAAA')).answers).toEqual([`AAAA ${ip(db.ipv6)}`]);
    expect((await dig(apiNs, 'web')).answers).toEqual([`A ${ip(api.ipv4)}`]);
    expect((await dig(dbNs, '+tcp', 'web', 'AAAA')).answers).toEqual([`AAAA ${ip(api.ipv6)}`]);
    expect((await dig(apiNs, '-x', ip(db.ipv4))).answers).toEqual(['PTR db.']);
    expect((await dig(apiNs, '-x', ip(db.ipv6))).answers).toEqual(['PTR db.']);
    expect((await dig(apiNs, 'bonly')).status).toBe('NXDOMAIN'); // only on netb, which api is not on
    expect((await dig(onlyBNs, 'db')).status).toBe('NXDOMAIN');
    expect((await dig(onlyBNs, 'bonly')).answers).toEqual([`A ${ip(eps.bonly!.ipv4)}`]);
  });

  it('answers AAAA of an IPv4-only name NODATA with an SOA, never asking the upstream; forwards the rest', async () => {
    const nodata = await dig(onlyBNs, 'bonly', 'AAAA');
    expect([nodata.status, nodata.answers, nodata.authority[0]?.split(' ')[0]]).toEqual(['NOERROR', [], 'SOA']);
    const external = await dig(apiNs, 'www.example.test');
    expect(external.answers).toEqual(['A 203.0.113.99']);
    await waitFor(() => upstreamSaw('www.example.test'), { what: 'the upstream to log the forwarded query' });
    // dnsmasq logs in order: had any owned name been forwarded before www.example.test, it would be in the log.
    for (const name of ['bonly', 'db', 'web', 'api', '1.41.10.in-addr.arpa']) expect(upstream!.log().includes(name), name).toBe(false);
  });

  it('drops a detached endpoint from the answers at once', async () => {
    expect((await dig(apiNs, 'db')).answers).toEqual([`A ${ip(eps.db!.ipv4)}`]);
    expect((await agent.cli('endpoint', 'detach', eps.db!.id)).code).toBe(0);
    // The very first query after the detach returned already misses it (the store watch updated the
    // resolver inside the detach); no longer owned, it is asked upstream, which (like a real one) says NXDOMAIN.
    const r = await dig(apiNs, 'db');
    expect(r.status).toBe('NXDOMAIN');
    expect(r.queryMs).toBeLessThan(200);
    expect((await dig(apiNs, '-x', ip(eps.db!.ipv4))).status).toBe('NXDOMAIN');
  });

  it('stops serving a namespace when its last endpoint detaches', async () => {
    expect((await dig(dbNs, 'web')).status).toMatch(/^no answer: .*(connection refused|timed out)/); // db was its only endpoint
    expect((await agent.cli('endpoint', 'detach', eps.bonly!.id)).code).toBe(0);
    for (const tcp of [[], ['+tcp']]) expect((await dig(onlyBNs, ...tcp, 'bonly')).status).toMatch(/^no answer: .*(connection refused|timed out)/);
  });

  it('stops serving (and so stops holding) a namespace that was deleted', async () => {
    const goneNs = h.workload('gone');
    const ep = await attach('gone', 'netb', goneNs);
    expect((await dig(goneNs, 'gone')).answers).toEqual([`A ${ip(ep.ipv4)}`]);
    mustSh('ip', ['netns', 'del', goneNs.split('/').pop()!]);
    // The resync detaches the endpoint of a vanished namespace; the resolver closes its sockets with it.
    // (Either may come first: the resolver checks the namespace at each resync itself.)
    await waitFor(() => logLines().some((l) => l.msg === 'dns: stopped serving' && l.netns === goneNs), { what: 'the resolver to let go of the deleted namespace', timeoutMs: 10_000 });
    await waitFor(async () => !(await agent.json<Ep[]>('endpoint', 'ls')).some((e) => e.netns === goneNs), { what: 'the endpoint of the deleted namespace detached', timeoutMs: 10_000 });
  });

  it('serves again after an agent restart', async () => {
    await agent.stop();
    expect((await dig(apiNs, 'web')).status).toMatch(/^no answer/);
    await agent.start();
    expect((await dig(apiNs, 'web')).answers).toEqual([`A ${ip(eps.api!.ipv4)}`]);
    expect((await dig(apiNs, 'db')).status).toBe('NXDOMAIN');
    // A crash leaves nothing bound behind (the sockets are CLOEXEC: no child kept them), so the next start serves.
    await agent.kill9();
    await agent.start();
    expect((await dig(apiNs, '+tcp', 'web')).answers).toEqual([`A ${ip(eps.api!.ipv4)}`]);
    expect(logLines().some((l) => typeof l.msg === 'string' && l.msg.startsWith('dns: cannot serve'))).toBe(false);
  });

  it('answers SERVFAIL within the attempt timeout when the upstream is gone', async () => {
    const dnsmasq = upstream!.proc;
    dnsmasq.kill('SIGKILL');
    await waitFor(() => dnsmasq.exitCode !== null || dnsmasq.signalCode !== null, { what: 'dnsmasq gone' });
    const r = await dig(apiNs, 'gone.example.test');
    expect(r.status).toBe('SERVFAIL');
    expect(r.queryMs).toBeLessThan(2000); // 1 s per attempt, one upstream (dig's own timeout is 4 s)
    expect((await dig(apiNs, 'web')).answers).toEqual([`A ${ip(eps.api!.ipv4)}`]); // owned names are unaffected
  });
});
