// The nftables load balancer's pure parts (slots, validation, chains) and its diffing, with the
// kernel replaced by the reconciler's own planner (what `nft -f` would be given).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planNftTable, type NftActualTable, type NftReconcileResult, type NftTable, type NftTableReconciler } from '../../src/kernel/index.js';
import { NftLoadBalancer } from '../../src/ingress/lb/nft-lb.js';
import { assignSlots, baseChains, checkFrontend, pickChain, slotSeedKey, slotsFromKernel, snatMark, validateFrontends } from '../../src/ingress/lb/nft-lb-desired.js';
import type { LbFrontend } from '../../src/ingress/lb/types.js';
import { VxError } from '../../src/errors.js';

const vip = (id: string, v: string, backends: string[], extra: Partial<LbFrontend> = {}): LbFrontend => ({ id, match: { kind: 'vip', vip: v }, backends, affinity: 'none', ...extra });

/** A load balancer whose "kernel" is the planner: each call returns the commands nft would get. */
function planningLb(): NftLoadBalancer {
  let actual: NftActualTable | undefined;
  const fake = {
    reconcile: (_ns: unknown, t: NftTable): Promise<NftReconcileResult> => {
      const p = planNftTable(t, actual, () => undefined);
      actual = p.next;
      return Promise.resolve({ commands: p.commands, summary: p.summary });
    },
  };
  return new NftLoadBalancer(fake as unknown as NftTableReconciler, () => Promise.resolve(undefined));
}
const NS = { kind: 'named', name: 'unit' } as const;

describe('assignSlots', () => {
  it('keeps staying backends in their slot; a leaving one is replaced by the last; new ones are appended', () => {
    expect(assignSlots(undefined, ['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(assignSlots(['a', 'b', 'c'], ['a', 'c'])).toEqual(['a', 'c']);
    expect(assignSlots(['a', 'b', 'c'], ['b', 'c'])).toEqual(['c', 'b']);
    expect(assignSlots(['a', 'b', 'c'], ['a', 'b', 'c', 'd'])).toEqual(['a', 'b', 'c', 'd']);
    expect(assignSlots(['a', 'b'], [])).toEqual([]);
  });

  it('property: the slots hold exactly the backends, and one backend more or less moves at most 2 slots', () => {
    const addr = fc.integer({ min: 1, max: 40 }).map((n) => `10.0.0.${n}`);
    fc.assert(
      fc.property(fc.uniqueArray(addr, { maxLength: 20 }), fc.uniqueArray(addr, { maxLength: 20 }), (before, after) => {
        const prev = assignSlots(undefined, before);
        const next = assignSlots(prev, after);
        expect([...next].sort()).toEqual([...after].sort());
        const moved = next.filter((b, i) => prev[i] !== b).length + Math.max(0, prev.length - next.length);
        const churn = before.filter((b) => !after.includes(b)).length + after.filter((b) => !before.includes(b)).length;
        expect(moved).toBeLessThanOrEqual(2 * churn);
      }),
    );
  });
});

describe('slotsFromKernel', () => {
  it('reads each frontend\'s backend per slot back from the kernel\'s maps; gaps are left out', () => {
    const set = (name: string, elements: [string, string][]) => [name, { name, type: [], flags: [], elements: new Map(elements) }] as const;
    const table = {
      family: 'inet',
      name: 'vxmesh_lb',
      chains: new Map(),
      sets: new Map([
        set('vipbe4', [['10.96.0.1 . 1', '10.0.0.2'], ['10.96.0.1 . 0', '10.0.0.9'], ['10.96.0.2 . 1', '10.0.0.3']]),
        set('portbe6udp', [['53 . 0', 'fd00::7 . 5353']]),
      ]),
    } as unknown as NftActualTable;
    const seeds = slotsFromKernel(table);
    expect(seeds.get(slotSeedKey(vip('a', '10.96.0.1', [])))).toEqual(['10.0.0.9', '10.0.0.2']);
    expect(seeds.has(slotSeedKey(vip('b', '10.96.0.2', [])))).toBe(false); // slot 0 missing
    const dns: LbFrontend = { id: 'd', match: { kind: 'port', protocol: 'udp', port: 53, family: 6 }, targetPort: 5353, backends: [], affinity: 'none' };
    expect(seeds.get(slotSeedKey(dns))).toEqual(['fd00::7']);
    expect(slotSeedKey(vip('c', 'FD00:0::1', []))).toBe('vipbe6 fd00::1');
  });
});

describe('validateFrontends', () => {
  const ok = vip('a', '10.96.0.1', ['10.0.0.1']);
  const cases: [string, LbFrontend[], RegExp][] = [
    ['bad vip', [vip('a', '10.96.0', [])], /"a": match.vip "10.96.0" is not an IP address/],
    ['backend of the other family', [vip('a', '10.96.0.1', ['fd00::1'])], /backend "fd00::1" is not an IPv4 address/],
    ['backend twice', [vip('a', '10.96.0.1', ['10.0.0.1', '10.0.0.1'])], /backend 10.0.0.1 is listed twice/],
    ['id twice', [ok, { ...ok, match: { kind: 'vip', vip: '10.96.0.2' } }], /"a": id is given twice/],
    ['same VIP twice', [ok, { ...ok, id: 'b' }], /"b": matches the same traffic as frontend "a"/],
    ['port 0', [{ id: 'p', match: { kind: 'port', protocol: 'tcp', port: 0, family: 4 }, targetPort: 80, backends: [], affinity: 'none' }], /match.port must be 1-65535/],
    ['port without targetPort', [{ id: 'p', match: { kind: 'port', protocol: 'tcp', port: 80, family: 4 }, backends: [], affinity: 'none' }], /needs targetPort/],
    ['bad protocol', [{ id: 'p', match: { kind: 'port', protocol: 'sctp' as 'tcp', port: 80, family: 4 }, targetPort: 80, backends: [], affinity: 'none' }], /protocol must be tcp or udp/],
    ['snat of the other family', [vip('a', '10.96.0.1', [], { snatTo: 'fd00::5' })], /snatTo "fd00::5" is not an IPv4 address/],
    ['bad affinity', [vip('a', '10.96.0.1', [], { affinity: 'sticky' as 'none' })], /affinity must be none or client-ip/],
  ];
  for (const [what, fes, msg] of cases) {
    it(`refuses ${what}`, () => {
      const err = (() => {
        try {
          validateFrontends(fes);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(VxError);
      expect((err as Error).message).toMatch(msg);
    });
  }

  it('two spellings of one IPv6 VIP are the same match', () => {
    expect(checkFrontend(vip('a', 'fd00::1', [])).matchKey).toBe(checkFrontend(vip('b', 'fd00:0:0::0001', [])).matchKey);
  });
});

describe('pick chains', () => {
  it('share a chain per kind, family, affinity, count (and vip target port, snat mark)', () => {
    expect(pickChain(vip('a', '10.96.0.1', []), 3, undefined)).toEqual({ name: 'pick_vip4_rr_n3', rules: [{ match: 'dnat ip to ip daddr . numgen random mod 3 map @vipbe4' }] });
    expect(pickChain(vip('a', 'fd00::1', [], { affinity: 'client-ip' }), 2, undefined).rules[0]!.match).toBe('dnat ip6 to ip6 daddr . jhash ip6 saddr mod 2 map @vipbe6');
    expect(pickChain(vip('a', '10.96.0.1', [], { targetPort: 8080 }), 1, undefined)).toEqual({
      name: 'pick_vip4_rr_n1_p8080',
      rules: [{ match: 'meta l4proto { tcp, udp } dnat ip to ip daddr . numgen random mod 1 map @vipbe4 : 8080' }],
    });
    const port: LbFrontend = { id: 'p', match: { kind: 'port', protocol: 'udp', port: 53, family: 4 }, targetPort: 5353, backends: [], affinity: 'none' };
    expect(pickChain(port, 4, snatMark(2))).toEqual({
      name: 'pick_udp4_rr_n4_m2',
      rules: [{ match: 'ct mark set ct mark & 0xff00ffff | 0x00020000 meta l4proto udp dnat ip to udp dport . numgen random mod 4 map @portbe4udp' }],
    });
  });

  it('source NAT in postrouting by mark, one rule per snat address', () => {
    const post = baseChains(new Map([['10.255.0.2', snatMark(1)], ['fd00::2', snatMark(2)]])).find((c) => c.name === 'postrouting')!;
    expect(post.rules.map((r) => r.match)).toEqual(['ct mark & 0x00ff0000 == 0x00010000 snat ip to 10.255.0.2', 'ct mark & 0x00ff0000 == 0x00020000 snat ip6 to fd00::2']);
  });
});

describe('NftLoadBalancer diffing (planned, no kernel)', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => vip(`s${i}`, `10.96.${i >> 8}.${i & 255}`, [`10.1.${i >> 8}.${i & 255}`, `10.2.${i >> 8}.${i & 255}`, `10.3.${i >> 8}.${i & 255}`]));

  it('sync and patch give the same one-service transaction; a repeated call gives none', async () => {
    const a = planningLb();
    const b = planningLb();
    const fes = many(300);
    await a.syncWithResult(NS, fes);
    await b.syncWithResult(NS, fes);
    const changed = { ...fes[7]!, backends: fes[7]!.backends.slice(0, 2) };
    const viaSync = await a.syncWithResult(NS, fes.map((f, i) => (i === 7 ? changed : f)));
    const viaPatch = await b.patch(NS, { upsert: [changed] });
    expect(viaPatch.commands).toEqual(viaSync.commands);
    expect(viaSync.commands.sort()).toEqual([
      'add element inet vxmesh_lb vips4 { 10.96.0.7 : goto pick_vip4_rr_n2 }',
      'add rule inet vxmesh_lb pick_vip4_rr_n2 dnat ip to ip daddr . numgen random mod 2 map @vipbe4',
      'add chain inet vxmesh_lb pick_vip4_rr_n2',
      'delete element inet vxmesh_lb vipbe4 { 10.96.0.7 . 2 }',
      'delete element inet vxmesh_lb vips4 { 10.96.0.7 }',
    ].sort());
    expect((await b.patch(NS, { upsert: [changed] })).commands).toEqual([]);
    // Removing the service, then its chain once nobody uses it.
    const gone = await b.patch(NS, { remove: ['s7'] });
    expect(gone.commands.sort()).toEqual([
      'delete chain inet vxmesh_lb pick_vip4_rr_n2',
      'delete element inet vxmesh_lb vipbe4 { 10.96.0.7 . 1, 10.96.0.7 . 0 }',
      'delete element inet vxmesh_lb vips4 { 10.96.0.7 }',
      'flush chain inet vxmesh_lb pick_vip4_rr_n2',
    ].sort());
  });

  it('bad input changes nothing: the next good call applies only its own change', async () => {
    const lb = planningLb();
    const fes = many(3);
    await lb.syncWithResult(NS, fes);
    await expect(lb.syncWithResult(NS, [...fes, vip('dup', '10.96.0.1', [])])).rejects.toThrow(/"dup": matches the same traffic as frontend "s1"/);
    await expect(lb.patch(NS, { upsert: [vip('s0', '10.96.0.2', [])] })).rejects.toThrow(/"s0": matches the same traffic as frontend "s2"/);
    await expect(lb.syncWithResult(NS, [fes[0]!, fes[0]!])).rejects.toThrow(/id is given twice/);
    // Listing the owner unchanged in the same patch does not make room for it.
    await expect(lb.patch(NS, { upsert: [fes[1]!, vip('s0', '10.96.0.1', [])] })).rejects.toThrow(/"s0": matches the same traffic as frontend "s1"/);
    await expect(lb.patch(NS, { upsert: [fes[1]!], remove: ['s1'] })).rejects.toThrow(/both upserted and removed/);
    expect((await lb.syncWithResult(NS, fes)).commands).toEqual([]); // nothing of the above was applied
    // Removing the owner in the same patch does.
    expect((await lb.patch(NS, { upsert: [vip('s0', '10.96.0.1', ['10.1.0.0'])], remove: ['s1'] })).commands.length).toBeGreaterThan(0);
    await lb.syncWithResult(NS, []);
    expect((await lb.syncWithResult(NS, fes)).commands.length).toBeGreaterThan(0);
    expect((await lb.syncWithResult(NS, fes)).commands).toEqual([]);
  });

  it('frontends may swap VIPs in one call', async () => {
    const lb = planningLb();
    await lb.syncWithResult(NS, [vip('a', '10.96.0.1', ['10.0.0.1']), vip('b', '10.96.0.2', ['10.0.0.2'])]);
    const r = await lb.syncWithResult(NS, [vip('a', '10.96.0.2', ['10.0.0.1']), vip('b', '10.96.0.1', ['10.0.0.2'])]);
    expect(r.commands.filter((c) => c.startsWith('add element')).sort()).toEqual([
      'add element inet vxmesh_lb vipbe4 { 10.96.0.1 . 0 : 10.0.0.2, 10.96.0.2 . 0 : 10.0.0.1 }',
    ]);
  });

  it('no backends: the match moves to the refused set and back', async () => {
    const lb = planningLb();
    await lb.syncWithResult(NS, [vip('a', '10.96.0.1', ['10.0.0.1'])]);
    const empty = await lb.syncWithResult(NS, [vip('a', '10.96.0.1', [])]);
    expect(empty.commands).toContain('add element inet vxmesh_lb novips4 { 10.96.0.1 }');
    expect(empty.commands).toContain('delete chain inet vxmesh_lb pick_vip4_rr_n1');
    const back = await lb.syncWithResult(NS, [vip('a', '10.96.0.1', ['10.0.0.1'])]);
    expect(back.commands).toContain('delete element inet vxmesh_lb novips4 { 10.96.0.1 }');
  });

  it('a new snat address leaves the chains of the others alone (marks are kept while used)', async () => {
    const lb = planningLb();
    const port = (id: string, p: number, snatTo: string): LbFrontend => ({ id, match: { kind: 'port', protocol: 'tcp', port: p, family: 4 }, targetPort: 80, backends: ['10.0.0.1'], affinity: 'none', snatTo });
    await lb.syncWithResult(NS, [port('a', 30001, '10.255.0.9')]);
    const r = await lb.syncWithResult(NS, [port('a', 30001, '10.255.0.9'), port('b', 30002, '10.255.0.3')]);
    expect(r.summary.chainsRewritten).toEqual(['postrouting']);
    expect(r.summary.chainsCreated).toEqual(['pick_tcp4_rr_n1_m2']);
  });
});
