// LinkReconciler, reconcileNamespaces and NftReconciler against real network namespaces (root).
// Every namespace here carries a random prefix and is deleted by name in afterAll, also on failure.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KernelError,
  LinkReconciler,
  NftReconciler,
  listNamespaces,
  namedNs,
  readNs,
  reconcileNamespaces,
  type NsDesired,
} from '../../src/kernel/index.js';

const canRun = process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0;

function sh(args: string[], input?: string): string {
  const r = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

describe.skipIf(!canRun)('kernel reconcilers in real namespaces', () => {
  const prefix = `vxt${randomBytes(4).toString('hex')}-`;
  const A = `${prefix}a`;
  const B = `${prefix}b`;
  const outsider = `vxto${randomBytes(4).toString('hex')}`; // not carrying the prefix
  const nsA = namedNs(A);
  const nsB = namedNs(B);

  const desiredA = (extra: Partial<NsDesired> = {}): NsDesired => ({
    links: [
      { name: 'br0', kind: 'bridge', mtu: 1450, up: true },
      { name: 'vx0', kind: 'vxlan', vni: 42, dstPort: 4789, local: '198.51.100.1', mtu: 1450, master: 'br0', up: true },
      // Created here; its peer is born in B under a temporary name that B's reconcile adopts.
      { name: 'v0', kind: 'veth', mtu: 1450, master: 'br0', up: true, peer: { name: 'v0tmp', ns: nsB } },
    ],
    addrs: [
      { dev: 'br0', cidr: '10.77.0.1/24' },
      { dev: 'br0', cidr: 'fd00:77::1/64' },
    ],
    routes: [
      { dst: '10.78.0.0/16', via: '10.77.0.254', dev: 'br0', family: 4 },
      { dst: 'fd00:78::/64', via: 'fd00:77::fe', dev: 'br0', family: 6 },
    ],
    neigh: [{ dev: 'br0', ip: '10.77.0.9', mac: '02:00:00:00:00:09' }],
    fdb: [{ dev: 'vx0', mac: '02:00:00:00:00:09', dst: '203.0.113.9' }],
    owns: (n) => n !== 'lo',
    ...extra,
  });

  const desiredB = (): NsDesired => ({
    links: [{ name: 'eth0', kind: 'veth', mtu: 1450, up: true, adoptFrom: 'v0tmp' }],
    addrs: [
      { dev: 'eth0', cidr: '10.77.0.2/24' },
      { dev: 'eth0', cidr: 'fd00:77::2/64' },
    ],
    routes: [
      { dst: 'default', via: '10.77.0.1', dev: 'eth0', family: 4 },
      { dst: 'default', via: 'fd00:77::1', dev: 'eth0', family: 6 },
    ],
    neigh: [],
    fdb: [],
    owns: (n) => n === 'eth0' || n === 'v0tmp',
  });

  beforeAll(async () => {
    const r = await reconcileNamespaces(prefix, [A, B]);
    expect(r).toEqual({ created: [A, B], deleted: [] });
    sh(['ip', 'netns', 'add', outsider]);
  });

  afterAll(() => {
    // By name: everything this file created, whatever state a failure left it in.
    let names: string[] = [];
    try {
      names = readdirSync('/run/netns').filter((n) => n.startsWith(prefix) || n === outsider);
    } catch {
      /* no /run/netns */
    }
    for (const n of names) spawnSync('ip', ['netns', 'del', n]);
  });

  const links = new LinkReconciler();

  it('builds bridge + vxlan + veth into a second namespace with addresses, routes, neighbours and fdb', async () => {
    // B first: its link does not exist yet anywhere, so it is reported, not invented.
    expect(await links.reconcile(nsB, desiredB())).toEqual({ applied: 0, missing: ['eth0'], arrived: [], clsactFailed: [] });

    const a = await links.reconcile(nsA, desiredA());
    expect(a.missing).toEqual([]);
    expect(a.applied).toBeGreaterThan(10);
    const b = await links.reconcile(nsB, desiredB(), { fresh: true });
    expect(b.missing).toEqual([]);

    // What the kernel now holds, read back independently of the reconciler's cache.
    const ra = await readNs(nsA, true);
    expect(ra.links.get('br0')).toMatchObject({ kind: 'bridge', mtu: 1450, up: true });
    expect(ra.links.get('vx0')).toMatchObject({ kind: 'vxlan', mtu: 1450, master: 'br0', up: true });
    expect(ra.links.get('v0')).toMatchObject({ kind: 'veth', mtu: 1450, master: 'br0', up: true });
    expect(ra.addrs).toEqual(expect.arrayContaining([{ dev: 'br0', cidr: '10.77.0.1/24' }, { dev: 'br0', cidr: 'fd00:77::1/64' }]));
    expect(ra.routes).toEqual(
      expect.arrayContaining([
        { dst: '10.78.0.0/16', via: '10.77.0.254', dev: 'br0', family: 4 },
        { dst: 'fd00:78::/64', via: 'fd00:77::fe', dev: 'br0', family: 6 },
      ]),
    );
    expect(ra.neigh).toContainEqual({ dev: 'br0', ip: '10.77.0.9', mac: '02:00:00:00:00:09' });
    expect(ra.fdb).toEqual([{ dev: 'vx0', mac: '02:00:00:00:00:09', dst: '203.0.113.9' }]);

    const rb = await readNs(nsB, false);
    expect([...rb.links.keys()].sort()).toEqual(['eth0', 'lo']);
    expect(rb.links.get('eth0')).toMatchObject({ mtu: 1450, up: true });
    expect(rb.routes).toEqual(
      expect.arrayContaining([
        { dst: 'default', via: '10.77.0.1', dev: 'eth0', family: 4 },
        { dst: 'default', via: 'fd00:77::1', dev: 'eth0', family: 6 },
      ]),
    );

    // And it forwards: B reaches A's bridge address over the veth.
    sh(['ip', 'netns', 'exec', B, 'ping', '-c', '1', '-W', '2', '10.77.0.1']);
  });

  it('a second reconcile applies nothing, from the cache and from a fresh read', async () => {
    expect(await links.reconcile(nsA, desiredA())).toEqual({ applied: 0, missing: [], arrived: [], clsactFailed: [] });
    expect(await links.reconcile(nsB, desiredB())).toEqual({ applied: 0, missing: [], arrived: [], clsactFailed: [] });
    expect(await links.reconcile(nsA, desiredA(), { fresh: true })).toEqual({ applied: 0, missing: [], arrived: [], clsactFailed: [] });
    expect(await links.reconcile(nsB, desiredB(), { fresh: true })).toEqual({ applied: 0, missing: [], arrived: [], clsactFailed: [] });
  });

  it('repairs drift behind its back when asked to read fresh', async () => {
    sh(['ip', '-n', A, 'link', 'del', 'vx0']);
    sh(['ip', '-n', A, 'addr', 'del', '10.77.0.1/24', 'dev', 'br0']);
    sh(['ip', '-n', B, 'route', 'del', 'default', 'via', '10.77.0.1']);
    // A link appears in A that the reconciler owns (everything but lo) and does not want: it must go.
    sh(['ip', '-n', A, 'link', 'add', 'stray0', 'type', 'bridge']);

    const a = await links.reconcile(nsA, desiredA(), { fresh: true });
    expect(a.applied).toBeGreaterThan(0);
    const b = await links.reconcile(nsB, desiredB(), { fresh: true });
    expect(b.applied).toBe(1);

    const ra = await readNs(nsA, true);
    expect(ra.links.has('stray0')).toBe(false);
    expect(ra.links.get('vx0')).toMatchObject({ kind: 'vxlan', master: 'br0', up: true, mtu: 1450 });
    expect(ra.addrs).toContainEqual({ dev: 'br0', cidr: '10.77.0.1/24' });
    expect(ra.fdb).toEqual([{ dev: 'vx0', mac: '02:00:00:00:00:09', dst: '203.0.113.9' }]);
    expect((await readNs(nsB, false)).routes).toContainEqual({ dst: 'default', via: '10.77.0.1', dev: 'eth0', family: 4 });
    expect(await links.reconcile(nsA, desiredA(), { fresh: true })).toEqual({ applied: 0, missing: [], arrived: [], clsactFailed: [] });
    // A bridge without a fixed MAC takes its lowest port's, so recreating vx0 may have changed
    // br0's MAC; B's ARP entry can be stale for seconds. Forget it, then check forwarding again.
    sh(['ip', '-n', B, 'neigh', 'flush', 'dev', 'eth0']);
    sh(['ip', 'netns', 'exec', B, 'ping', '-c', '1', '-W', '2', '10.77.0.1']);
  });

  it('a failing batch throws KernelError with the kernel message, and the next reconcile re-reads', async () => {
    // 10.200.0.1 is not on any connected subnet: the kernel refuses the route.
    const bad = desiredA({ routes: [...desiredA().routes, { dst: '10.90.0.0/16', via: '10.200.0.1', dev: 'br0', family: 4 }] });
    const err = await links.reconcile(nsA, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    const ke = err as KernelError;
    expect(ke.message).toMatch(/gateway|unreachable/i);
    expect(ke.stderr).toMatch(/gateway|unreachable/i);
    expect(ke.command).toContain('ip');

    // Changed behind its back after the failure: without a re-read the reconciler would not see it.
    sh(['ip', '-n', A, 'addr', 'del', 'fd00:77::1/64', 'dev', 'br0']);
    const r = await links.reconcile(nsA, desiredA()); // no `fresh`: the failure dropped the cache
    expect(r.applied).toBe(1);
    expect((await readNs(nsA, false)).addrs).toContainEqual({ dev: 'br0', cidr: 'fd00:77::1/64' });
    expect(await links.reconcile(nsA, desiredA(), { fresh: true })).toEqual({ applied: 0, missing: [], arrived: [], clsactFailed: [] });
  });

  it('removes owned links it no longer wants and leaves the rest alone', async () => {
    sh(['ip', '-n', A, 'link', 'add', 'keepme', 'type', 'bridge']);
    const only = desiredA();
    only.links = only.links.filter((l) => l.name !== 'v0');
    only.owns = (n) => n !== 'lo' && n !== 'keepme';
    const r = await links.reconcile(nsA, only, { fresh: true });
    expect(r.applied).toBe(1); // `link del dev v0`, which takes B's eth0 with it
    const ra = await readNs(nsA, false);
    expect(ra.links.has('v0')).toBe(false);
    expect(ra.links.has('keepme')).toBe(true);
    expect((await readNs(nsB, false)).links.has('eth0')).toBe(false);
    expect(await links.reconcile(nsB, desiredB(), { fresh: true })).toEqual({ applied: 0, missing: ['eth0'], arrived: [], clsactFailed: [] });
  });

  it('makes a vxlan in another namespace (its underlay), moves it in and renames it, in one reconcile', async () => {
    const U = `${prefix}u`; // stands in for the host namespace that holds the underlay
    const S = `${prefix}s`;
    await reconcileNamespaces(prefix, [A, B, U, S]);
    sh(['ip', '-n', U, 'addr', 'add', '198.51.100.9/24', 'dev', 'lo']);
    const sandbox = (vni: number): NsDesired => ({
      links: [
        { name: 'br0', kind: 'bridge', mtu: 1450, up: true },
        { name: 'vxlan0', kind: 'vxlan', vni, dstPort: 4789, local: '198.51.100.9', mtu: 1450, master: 'br0', up: true, createIn: { ns: namedNs(U), tempName: `vxt${vni}` } },
      ],
      addrs: [],
      routes: [],
      neigh: [],
      fdb: [{ dev: 'vxlan0', mac: '02:00:00:00:00:0a', dst: '198.51.100.10' }],
      owns: (n) => n !== 'lo',
    });
    const r = await links.reconcile(namedNs(S), sandbox(4242));
    expect(r.missing).toEqual([]);
    const rs = await readNs(namedNs(S), true);
    expect(rs.links.get('vxlan0')).toMatchObject({ kind: 'vxlan', master: 'br0', up: true, mtu: 1450, vxlan: { vni: 4242, dstPort: 4789, local: '198.51.100.9' } });
    expect(rs.fdb).toEqual([{ dev: 'vxlan0', mac: '02:00:00:00:00:0a', dst: '198.51.100.10' }]);
    expect((await readNs(namedNs(U), false)).links.has('vxt4242')).toBe(false); // moved away
    // Its UDP socket stays in U, where it was created: U listens on 4789, S does not.
    expect(sh(['ip', 'netns', 'exec', U, 'ss', '-uln'])).toMatch(/:4789\b/);
    expect(sh(['ip', 'netns', 'exec', S, 'ss', '-uln'])).not.toMatch(/:4789\b/);
    expect(await links.reconcile(namedNs(S), sandbox(4242), { fresh: true })).toEqual({ applied: 0, missing: [], arrived: [], clsactFailed: [] });

    // A leftover temporary device in U (a crash between create and move) does not block it.
    sh(['ip', '-n', S, 'link', 'del', 'vxlan0']);
    sh(['ip', '-n', U, 'link', 'add', 'vxt4242', 'type', 'vxlan', 'id', '4242', 'dstport', '4789', 'local', '198.51.100.9', 'nolearning']);
    expect((await links.reconcile(namedNs(S), sandbox(4242), { fresh: true })).missing).toEqual([]);
    expect((await readNs(namedNs(S), false)).links.get('vxlan0')).toMatchObject({ kind: 'vxlan', vxlan: { vni: 4242 } });

    // Another VNI for the same device: it is made again.
    await links.reconcile(namedNs(S), sandbox(4243));
    expect((await readNs(namedNs(S), false)).links.get('vxlan0')).toMatchObject({ vxlan: { vni: 4243 }, master: 'br0' });
    await reconcileNamespaces(prefix, [A, B]);
  });

  it('reconcileNamespaces creates and deletes only names with its prefix', async () => {
    const C = `${prefix}c`;
    expect(await reconcileNamespaces(prefix, [A, B, C])).toEqual({ created: [C], deleted: [] });
    expect(await listNamespaces(prefix)).toEqual([A, B, C]);
    expect(await reconcileNamespaces(prefix, [A, B])).toEqual({ created: [], deleted: [C] });
    expect(await listNamespaces(prefix)).toEqual([A, B]);
    expect(readdirSync('/run/netns')).toContain(outsider); // never touched
    expect(await reconcileNamespaces(prefix, [A, B])).toEqual({ created: [], deleted: [] });
    await expect(reconcileNamespaces(prefix, [A, outsider])).rejects.toThrow(/prefix/);
    expect(readdirSync('/run/netns')).toContain(outsider);
  });

  describe('NftReconciler', () => {
    const nft = new NftReconciler(`vxt${randomBytes(3).toString('hex')}`);
    const good1 = 'chain input {\n type filter hook input priority 0; policy accept;\n ip saddr 10.77.0.0/24 counter accept\n}';
    const good2 = 'chain input {\n type filter hook input priority 0; policy accept;\n ip saddr 10.66.0.0/24 counter drop\n}';

    it('applies a table, skips an identical body, replaces atomically', async () => {
      expect(await nft.list(nsA)).toBeUndefined();
      expect(await nft.apply(nsA, good1)).toBe(true);
      expect(await nft.list(nsA)).toContain('10.77.0.0/24');
      expect(await nft.apply(nsA, good1)).toBe(false); // nothing to do
      expect(await nft.apply(nsA, good2)).toBe(true);
      const listed = (await nft.list(nsA))!;
      expect(listed).toContain('10.66.0.0/24');
      expect(listed).not.toContain('10.77.0.0/24'); // replaced, not appended
      // The other namespace is untouched.
      expect(await nft.list(nsB)).toBeUndefined();
    });

    it('a bad body fails with the nft message and leaves the previous table intact', async () => {
      const before = await nft.list(nsA);
      const bad = 'chain input {\n type filter hook input priority 0;\n ip saddr 10.1.0.0/24 frobnicate\n}';
      const err = await nft.apply(nsA, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KernelError);
      expect((err as KernelError).message).toMatch(/syntax|error/i);
      expect(await nft.list(nsA)).toBe(before);
      // The failure forgot what was applied, so the same good body is applied again.
      expect(await nft.apply(nsA, good2)).toBe(true);
    });

    it('remove() leaves no table, and is harmless when there is none', async () => {
      await nft.remove(nsA);
      expect(await nft.list(nsA)).toBeUndefined();
      await nft.remove(nsA);
      expect(await nft.list(nsA)).toBeUndefined();
      expect(await nft.apply(nsA, good1)).toBe(true); // remove() forgot it: applies again
      await nft.remove(nsA);
    });
  });
});
