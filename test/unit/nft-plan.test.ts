// The nft diff (pure): what one transaction contains for a given desired and actual table.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NftActualTable, NftChain, NftElement, NftRule, NftSet, NftTable } from '../../src/kernel/nft-model.js';
import { planNftTable, rulesToCanonicalize } from '../../src/kernel/nft-plan.js';
import { parseNftTable, ruleCounters } from '../../src/kernel/nft-read.js';
import { canonComponent } from '../../src/kernel/nft-values.js';

const noCanon = () => undefined;

function table(sets: NftSet[], chains: NftChain[]): NftTable {
  return { family: 'inet', name: 'vxt', sets, chains };
}

const members = (ips: string[]): NftSet => ({ name: 'members', type: ['ipv4_addr'], elements: ips.map((ip) => ({ key: [ip] })) });
const backends = (n: number, extra: [string, string][] = []): NftSet => ({
  name: 'backends',
  type: ['ipv4_addr', 'inet_service'],
  value: ['ipv4_addr', 'inet_service'],
  elements: [
    ...Array.from({ length: n }, (_, i) => ({ key: [`10.96.${i >> 8}.${i & 255}`, '80'], value: [`10.0.${i >> 8}.${i & 255}`, '8080'] })),
    ...extra.map(([k, v]) => ({ key: [k, '80'], value: [v, '8080'] })),
  ],
});
const input = (rules: NftRule[] = [{ match: 'udp dport 4789 ip saddr != @members counter drop', comment: 'vxmesh: vxlan from members only' }]): NftChain => ({
  name: 'input',
  base: { type: 'filter', hook: 'input', priority: { name: 'filter', offset: -10 }, policy: 'accept' },
  rules,
});
const svc: NftChain = { name: 'svc-web', rules: [{ match: 'counter' }] };

/** Plans from nothing, then again against what the first plan promised. */
function converge(d: NftTable) {
  const first = planNftTable(d, undefined, noCanon);
  return { first, again: planNftTable(d, first.next, noCanon) };
}

describe('planNftTable', () => {
  it('creates a missing table in dependency order and then plans nothing', () => {
    const d = table([members(['198.51.100.1', '198.51.100.2']), backends(2)], [input(), svc]);
    const { first, again } = converge(d);
    expect(first.commands).toEqual([
      'add table inet vxt',
      'add chain inet vxt input { type filter hook input priority filter - 10; policy accept; }',
      'add chain inet vxt svc-web',
      'add set inet vxt members { type ipv4_addr; }',
      'add map inet vxt backends { type ipv4_addr . inet_service : ipv4_addr . inet_service; }',
      'add element inet vxt members { 198.51.100.1, 198.51.100.2 }',
      'add element inet vxt backends { 10.96.0.0 . 80 : 10.0.0.0 . 8080, 10.96.0.1 . 80 : 10.0.0.1 . 8080 }',
      'add rule inet vxt input udp dport 4789 ip saddr != @members counter drop comment "vxmesh: vxlan from members only"',
      'add rule inet vxt svc-web counter',
    ]);
    expect(first.summary).toMatchObject({ tableCreated: true, elementsAdded: 4 });
    expect(again.commands).toEqual([]);
  });

  it('one element added or removed is one element command, whatever the map size', () => {
    const big = converge(table([members([]), backends(10_000)], [input()])).first.next;
    const add = planNftTable(table([members([]), backends(10_000, [['10.97.0.1', '10.1.0.1']])], [input()]), big, noCanon);
    expect(add.commands).toEqual(['add element inet vxt backends { 10.97.0.1 . 80 : 10.1.0.1 . 8080 }']);
    const smaller = backends(10_000);
    smaller.elements = (smaller.elements as NftElement[]).filter((e) => e.key[0] !== '10.96.0.7');
    const del = planNftTable(table([members([]), smaller], [input()]), big, noCanon);
    expect(del.commands).toEqual(['delete element inet vxt backends { 10.96.0.7 . 80 }']);
    expect(del.summary).toMatchObject({ elementsDeleted: 1, elementsAdded: 0, chainsRewritten: [] });
  });

  it('writes a named priority as its number on hooks where nft does not take the name', () => {
    const nat = (hook: 'prerouting' | 'output'): NftChain => ({ name: hook, base: { type: 'nat', hook, priority: { name: 'dstnat', offset: -5 } }, rules: [] });
    expect(planNftTable(table([], [nat('prerouting'), nat('output')]), undefined, noCanon).commands.filter((c) => c.startsWith('add chain'))).toEqual([
      'add chain inet vxt prerouting { type nat hook prerouting priority dstnat - 5; policy accept; }',
      'add chain inet vxt output { type nat hook output priority -105; policy accept; }',
    ]);
  });

  it('declares a numgen map by typeof, and spells its integer keys', () => {
    const m: NftSet = { name: 'be', type: ['integer'], value: ['ipv4_addr', 'inet_service'], typeof: { key: 'numgen random mod 2', value: 'ip daddr . tcp dport' }, elements: [{ key: ['0x1'], value: ['10.0.0.1', '80'] }] };
    expect(planNftTable(table([m], []), undefined, noCanon).commands.slice(1)).toEqual([
      'add map inet vxt be { typeof numgen random mod 2 : ip daddr . tcp dport; }',
      'add element inet vxt be { 1 : 10.0.0.1 . 80 }',
    ]);
    expect(() => planNftTable(table([{ ...m, typeof: { key: 'numgen random mod 2' } }], []), undefined, noCanon)).toThrow(/typeof.value/);
  });

  it('writes large element lists in lines of at most 5000 elements', () => {
    const p = planNftTable(table([backends(12_000)], []), undefined, noCanon);
    const lines = p.commands.filter((c) => c.startsWith('add element'));
    expect(lines.map((l) => l.split(' : ').length - 1)).toEqual([5000, 5000, 2000]);
  });

  it('a changed map value is deleted and re-added in the same transaction', () => {
    const before = converge(table([backends(1)], [])).first.next;
    const d = table([{ ...backends(0), elements: [{ key: ['10.96.0.0', '80'], value: ['10.0.9.9', '8080'] }] }], []);
    expect(planNftTable(d, before, noCanon).commands).toEqual([
      'delete element inet vxt backends { 10.96.0.0 . 80 }',
      'add element inet vxt backends { 10.96.0.0 . 80 : 10.0.9.9 . 8080 }',
    ]);
  });

  it('rewrites only the chain whose rules differ, and updates a policy in place', () => {
    const before = converge(table([members([])], [input(), svc])).first.next;
    const changed = input([{ match: 'udp dport 4789 ip saddr != @members counter drop', comment: 'vxmesh: vxlan from members only' }, { match: 'tcp dport 22 accept' }]);
    const p = planNftTable(table([members([])], [changed, svc]), before, noCanon);
    expect(p.commands).toEqual([
      'flush chain inet vxt input',
      'add rule inet vxt input udp dport 4789 ip saddr != @members counter drop comment "vxmesh: vxlan from members only"',
      'add rule inet vxt input tcp dport 22 accept',
    ]);
    expect(p.summary.chainsRewritten).toEqual(['input']);

    const drop = input();
    drop.base = { ...drop.base!, policy: 'drop' };
    expect(planNftTable(table([members([])], [drop, svc]), before, noCanon).commands).toEqual([
      'add chain inet vxt input { type filter hook input priority filter - 10; policy drop; }',
    ]);
    // A priority (or hook/type) change needs the chain made again.
    const moved = input();
    moved.base = { ...moved.base!, priority: { name: 'filter' } };
    expect(planNftTable(table([members([])], [moved, svc]), before, noCanon).commands).toEqual([
      'flush chain inet vxt input',
      'delete chain inet vxt input',
      'add chain inet vxt input { type filter hook input priority filter; policy accept; }',
      'add rule inet vxt input udp dport 4789 ip saddr != @members counter drop comment "vxmesh: vxlan from members only"',
    ]);
  });

  it('deletes what is not desired: elements before maps, maps before chains, chains flushed first', () => {
    const before = converge(
      table(
        [members(['198.51.100.1']), { name: 'vmap', type: ['mark'], value: 'verdict', elements: [{ key: ['1'], value: ['goto svc-web'] }] }],
        [input(), svc],
      ),
    ).first.next;
    const p = planNftTable(table([members([])], [input()]), before, noCanon);
    expect(p.commands).toEqual([
      'flush chain inet vxt svc-web',
      'delete element inet vxt members { 198.51.100.1 }',
      'delete map inet vxt vmap',
      'delete chain inet vxt svc-web',
    ]);
    expect(p.commands.some((c) => c.includes('delete table'))).toBe(false);
  });

  it('a set whose type changes is made again, and chains that use it are refilled', () => {
    const before = converge(table([members(['198.51.100.1'])], [input(), svc])).first.next;
    const v6: NftSet = { name: 'members', type: ['ipv6_addr'], elements: [{ key: ['2001:DB8:0:0::1'] }] };
    const p = planNftTable(table([v6], [input(), svc]), before, noCanon);
    expect(p.commands).toEqual([
      'flush chain inet vxt input',
      'delete set inet vxt members',
      'add set inet vxt members { type ipv6_addr; }',
      'add element inet vxt members { 2001:db8::1 }',
      'add rule inet vxt input udp dport 4789 ip saddr != @members counter drop comment "vxmesh: vxlan from members only"',
    ]);
  });

  it('a set the packet path fills (no elements given) is never read or written element-wise', () => {
    const dyn: NftSet = { name: 'seen', type: ['ipv4_addr'], flags: ['dynamic', 'timeout'] };
    const before = converge(table([dyn], [])).first.next;
    before.sets.get('seen')!.elements.set('10.0.0.9', '');
    expect(planNftTable(table([dyn], []), before, noCanon).commands).toEqual([]);
  });

  it('compares rules read from the kernel by their kernel form', () => {
    const d = table([members([])], [input()]);
    const kernel: NftActualTable = converge(d).first.next;
    const rule = kernel.chains.get('input')!.rules[0]!;
    delete rule.text; // as read from the kernel: only the kernel's JSON is known
    rule.canon = '[{"kernel":"form"}]';
    expect(rulesToCanonicalize(d, kernel, noCanon)).toEqual([d.chains[0]!.rules[0]!.match]);
    // Unknown form: rewritten, to be safe. Known and equal: nothing. Known and different: rewritten.
    expect(planNftTable(d, kernel, noCanon).summary.chainsRewritten).toEqual(['input']);
    expect(planNftTable(d, kernel, () => '[{"kernel":"form"}]').commands).toEqual([]);
    expect(planNftTable(d, kernel, () => '[{"other":"form"}]').summary.chainsRewritten).toEqual(['input']);
    // A chain whose rule count or comments differ needs no kernel form to be rewritten.
    rule.comment = 'edited by hand';
    expect(rulesToCanonicalize(d, kernel, noCanon)).toEqual([]);
  });

  it('rejects bad input naming the table and the object', () => {
    const bad = (t: NftTable) => () => planNftTable(t, undefined, noCanon);
    expect(bad(table([], [{ name: 'in put', rules: [] }]))).toThrow(/inet vxt: bad chain name "in put"/);
    expect(bad(table([], [{ name: 'c', rules: [{ match: 'accept', comment: 'say "hi"' }] }]))).toThrow(/comment/);
    expect(bad(table([], [{ name: 'c', rules: [{ match: 'accept; drop' }] }]))).toThrow(/one non-empty statement/);
    expect(bad(table([{ name: 's', type: ['ipv4_addr', 'inet_service'], elements: [{ key: ['10.0.0.1'] }] }], []))).toThrow(/1 part\(s\), its type has 2/);
    expect(bad(table([{ name: 's', type: ['ipv4_addr'], elements: [{ key: ['10.0.0.300'] }] }], []))).toThrow(/not an IPv4 address/);
    expect(bad(table([{ ...backends(0), elements: [{ key: ['10.0.0.1', '80'], value: ['10.1.0.1', '80'] }, { key: ['10.0.0.1', '80'], value: ['10.1.0.2', '80'] }] }], []))).toThrow(/two values/);
    expect(bad({ family: 'bridge', name: 'vxt', sets: [], chains: [{ name: 'c', base: { type: 'filter', hook: 'forward', priority: { name: 'mangle' } }, rules: [] }] })).toThrow(/mangle.*bridge/);
  });
});

describe('element values in the kernel spelling', () => {
  it('canonicalises addresses, prefixes, ranges, numbers and protocols', () => {
    expect(canonComponent('ipv6_addr', 'FD00:0:0:0::1')).toBe('fd00::1');
    expect(canonComponent('ipv6_addr', '2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonComponent('ipv6_addr', 'fd00:1:2:3::/48')).toBe('fd00:1:2::/48');
    expect(canonComponent('ipv4_addr', '10.1.0.5/24')).toBe('10.1.0.0/24');
    expect(canonComponent('ipv4_addr', '10.0.0.1-10.0.0.9')).toBe('10.0.0.1-10.0.0.9');
    expect(canonComponent('mark', '0x101')).toBe('257');
    expect(canonComponent('inet_proto', '6')).toBe('tcp');
    expect(canonComponent('ether_addr', '02:AA:00:00:00:01')).toBe('02:aa:00:00:00:01');
    expect(canonComponent('ifname', '"ETH0"')).toBe('ETH0');
    expect(() => canonComponent('inet_service', 'http')).toThrow(/not a number/);
  });
});

describe('parseNftTable on nft 1.0.6 output captured on this machine', () => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6', json_schema_version: 1 } },
      { table: { family: 'inet', name: 'vxt', handle: 4 } },
      { table: { family: 'inet', name: 'other', handle: 5 } },
      { set: { family: 'inet', name: 'overlay4', table: 'vxt', type: 'ipv4_addr', handle: 1, flags: ['interval'], elem: [{ prefix: { addr: '10.1.0.0', len: 24 } }, '10.2.0.5', { range: ['10.3.0.1', '10.3.0.9'] }] } },
      { map: { family: 'inet', name: 'svc', table: 'vxt', type: ['ipv4_addr', 'inet_proto', 'inet_service'], handle: 3, map: 'verdict', elem: [[{ concat: ['10.0.0.1', 'tcp', 80] }, { goto: { target: 'svc-a' } }]] } },
      { map: { family: 'inet', name: 'be', table: 'vxt', type: 'mark', handle: 4, map: 'ipv4_addr . inet_service', elem: [[257, { concat: ['10.1.0.2', 8080] }]] } },
      { set: { family: 'inet', name: 'x', table: 'other', type: 'ipv4_addr', handle: 1 } },
      { chain: { family: 'inet', table: 'vxt', name: 'svc-a', handle: 2 } },
      { chain: { family: 'inet', table: 'vxt', name: 'forward', handle: 9, type: 'filter', hook: 'forward', prio: -10, policy: 'accept' } },
      { rule: { family: 'inet', table: 'vxt', chain: 'svc-a', handle: 6, expr: [{ counter: { packets: 7, bytes: 420 } }] } },
      { rule: { family: 'inet', table: 'vxt', chain: 'forward', handle: 10, comment: 'x', expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'br0' } }, { counter: { packets: 3, bytes: 180 } }, { drop: null }] } },
    ],
  });

  it('reads chains, base chain attributes, rules, counters, sets and maps of this table only', () => {
    const t = parseNftTable(json, 'inet', 'vxt')!;
    expect([...t.chains.keys()]).toEqual(['svc-a', 'forward']);
    expect(t.chains.get('forward')!.base).toEqual({ type: 'filter', hook: 'forward', priority: -10, policy: 'accept' });
    expect(t.chains.get('svc-a')!.base).toBeUndefined();
    expect(t.chains.get('svc-a')!.rules[0]).toMatchObject({ canon: '[{"counter":{"packets":0,"bytes":0}}]', counter: { packets: 7, bytes: 420 } });
    expect(ruleCounters(t).get('x')).toEqual({ packets: 3, bytes: 180 });
    expect([...t.sets.keys()]).toEqual(['overlay4', 'svc', 'be']);
    expect([...t.sets.get('overlay4')!.elements.keys()]).toEqual(['10.1.0.0/24', '10.2.0.5', '10.3.0.1-10.3.0.9']);
    expect([...t.sets.get('svc')!.elements]).toEqual([['10.0.0.1 . tcp . 80', 'goto svc-a']]);
    expect(t.sets.get('be')).toMatchObject({ type: ['mark'], value: ['ipv4_addr', 'inet_service'] });
    expect([...t.sets.get('be')!.elements]).toEqual([['257', '10.1.0.2 . 8080']]);
    expect(parseNftTable(json, 'inet', 'absent')).toBeUndefined();
  });

  it('what was read plans nothing against the same desired elements', () => {
    const actual = parseNftTable(json, 'inet', 'vxt')!;
    const d = table(
      [
        { name: 'overlay4', type: ['ipv4_addr'], flags: ['interval'], elements: [{ key: ['10.1.0.7/24'] }, { key: ['10.2.0.5'] }, { key: ['10.3.0.1-10.3.0.9'] }] },
        { name: 'svc', type: ['ipv4_addr', 'inet_proto', 'inet_service'], value: 'verdict', elements: [{ key: ['10.0.0.1', '6', '80'], value: ['goto svc-a'] }] },
        { name: 'be', type: ['mark'], value: ['ipv4_addr', 'inet_service'], elements: [{ key: ['0x101'], value: ['10.1.0.2', '8080'] }] },
      ],
      [],
    );
    const p = planNftTable(d, actual, noCanon);
    expect(p.commands).toEqual(['flush chain inet vxt svc-a', 'flush chain inet vxt forward', 'delete chain inet vxt svc-a', 'delete chain inet vxt forward']);
  });
});

describe('planNftTable properties', () => {
  const ip = fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.1.0/24', 'fd00::1');
  const rule = fc.record({ match: fc.constantFrom('counter', 'accept', 'ip saddr @m drop', 'tcp dport 80 accept'), comment: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }) });
  const chain = fc.record({
    name: fc.constantFrom('c1', 'c2', 'c3'),
    base: fc.option(fc.record({ type: fc.constant('filter' as const), hook: fc.constantFrom('input' as const, 'forward' as const), priority: fc.constantFrom(0, -10), policy: fc.constantFrom('accept' as const, 'drop' as const) }), { nil: undefined }),
    rules: fc.array(rule, { maxLength: 3 }),
  });
  const set = fc.record({
    name: fc.constantFrom('m', 'n'),
    type: fc.constant(['ipv4_addr'] as NftSet['type']),
    flags: fc.constantFrom(undefined, ['interval'] as NftSet['flags']),
    elements: fc.uniqueArray(ip.filter((x) => !x.includes(':')), { maxLength: 4 }).map((xs) => xs.map((x) => ({ key: [x] }))),
  });
  const tableArb = fc
    .record({ chains: fc.uniqueArray(chain, { selector: (c) => c.name, maxLength: 3 }), sets: fc.uniqueArray(set, { selector: (s) => s.name, maxLength: 2 }) })
    .map((t): NftTable => ({ family: 'inet', name: 'vxt', ...t }));

  it('from any earlier table: converges in one plan, never deletes the table, touches only differing chains', () => {
    fc.assert(
      fc.property(tableArb, tableArb, (before, after) => {
        const actual = planNftTable(before, undefined, noCanon).next;
        const p = planNftTable(after, actual, noCanon);
        expect(planNftTable(after, p.next, noCanon).commands).toEqual([]);
        expect(p.commands.some((c) => /delete table|flush table|flush ruleset/.test(c))).toBe(false);
        for (const c of after.chains) {
          const b = before.chains.find((x) => x.name === c.name);
          const same = b && JSON.stringify(b) === JSON.stringify(c) && JSON.stringify(before.sets.map((s) => [s.name, s.flags])) === JSON.stringify(after.sets.map((s) => [s.name, s.flags]));
          if (same) expect(p.commands.filter((x) => x.includes(` ${c.name}`) && !x.startsWith('add element'))).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
