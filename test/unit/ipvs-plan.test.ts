// IPVS load balancer, pure parts: `ipvsadm -S -n` / `-L -n` parsing, the restore plan (adds,
// drains, deletes, owned marks only), frontend checks, mark allocation and the mark table.
import { describe, expect, it } from 'vitest';
import { VxError } from '../../src/errors.js';
import { fwmarkKey, parseIpvsConns, parseIpvsSave, planIpvs, planIpvsClear, type IpvsFwmarkSpec, type IpvsService } from '../../src/kernel/ipvs-model.js';
import { planNftTable } from '../../src/kernel/nft-plan.js';
import { allocateMarks, checkFrontends, ipvsMarkTable, ipvsServices, MARK_BASE, marksFromTable, ownsMark, slotId } from '../../src/ingress/lb/ipvs-plan.js';
import type { LbFrontend } from '../../src/ingress/lb/types.js';

// Captured from `ipvsadm -S -n` / `ipvsadm -L -n` on Debian's 6.1 kernel (run-in-vm.sh).
const SAVE = `-A -t 1.2.3.4:80 -s rr
-A -f 5 -s sh -p 300
-A -f 7 -6 -s rr
-a -f 7 -6 -r [fd00::2]:80 -m -w 1
-A -f 1476395009 -s rr
-a -f 1476395009 -r 10.0.0.2:0 -m -w 1
-a -f 1476395009 -r 10.0.0.3:8080 -m -w 0
`;
const LIST = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  1.2.3.4:80 rr
  -> 10.9.9.9:80                  Masq    1      7          0
FWM  5 sh persistent 300
FWM  7 IPv6 rr
  -> [fd00::2]:80                 Masq    1      0          3
FWM  1476395009 rr
  -> 10.0.0.2:0                   Masq    1      4          1
  -> 10.0.0.3:8080                Masq    0      2          0
`;
const M1 = MARK_BASE + 1; // 1476395009

describe('parseIpvsSave / parseIpvsConns', () => {
  it('reads services of every kind, families, schedulers, persistence and destinations', () => {
    const s = parseIpvsSave(SAVE);
    expect(s.map((x) => [x.kind, x.id, x.family, x.scheduler, x.persistent])).toEqual([
      ['tcp', '1.2.3.4:80', 4, 'rr', undefined],
      ['fwmark', '5', 4, 'sh', 300],
      ['fwmark', '7', 6, 'rr', undefined],
      ['fwmark', String(M1), 4, 'rr', undefined],
    ]);
    expect(s[2]!.dests).toEqual([{ addr: 'fd00::2', port: 80, forward: 'masq', weight: 1 }]);
    expect(s[3]!.dests).toEqual([
      { addr: '10.0.0.2', port: 0, forward: 'masq', weight: 1 },
      { addr: '10.0.0.3', port: 8080, forward: 'masq', weight: 0 },
    ]);
    expect(parseIpvsSave('')).toEqual([]);
  });

  it('refuses lines it cannot read instead of guessing', () => {
    expect(() => parseIpvsSave('-X nonsense')).toThrow(/unexpected ipvsadm -S line/);
    expect(() => parseIpvsSave('-a -f 9 -r 10.0.0.1:0 -m -w 1')).toThrow(/before its service/);
  });

  it('reads ActiveConn/InActConn of fwmark destinations only', () => {
    const c = parseIpvsConns(LIST);
    expect(c.get(`${fwmarkKey(M1, 4)} 10.0.0.3:8080`)).toEqual({ active: 2, inactive: 0 });
    expect(c.get(`${fwmarkKey(M1, 4)} 10.0.0.2:0`)).toEqual({ active: 4, inactive: 1 });
    expect(c.get(`${fwmarkKey(7, 6)} [fd00::2]:80`)).toEqual({ active: 0, inactive: 3 });
    expect(c.size).toBe(3); // the TCP service's destination is not ours to count
  });
});

const spec = (fwmark: number, addrs: string[], port = 0, scheduler: 'rr' | 'sh' = 'rr'): IpvsFwmarkSpec => ({
  fwmark,
  family: 4,
  scheduler,
  dests: addrs.map((addr) => ({ addr, port })),
});
const plan = (desired: IpvsFwmarkSpec[], actual: IpvsService[], extra: Partial<Parameters<typeof planIpvs>[0]> = {}) =>
  planIpvs({ desired, actual, owns: ownsMark, quiescing: new Map(), now: 1000, quiesceMs: 5000, ...extra });

describe('planIpvs', () => {
  it('creates a service with its destinations, then converges to nothing', () => {
    const p = plan([spec(M1, ['10.1.0.2', '10.1.0.3'])], []);
    expect(p.lines).toEqual([`-A -f ${M1} -s rr`, `-a -f ${M1} -r 10.1.0.2:0 -m -w 1`, `-a -f ${M1} -r 10.1.0.3:0 -m -w 1`]);
    const after = parseIpvsSave(p.lines.join('\n'));
    expect(plan([spec(M1, ['10.1.0.2', '10.1.0.3'])], after).lines).toEqual([]);
  });

  it('never touches services outside the owned marks, and deletes owned ones that are not wanted', () => {
    const p = plan([], parseIpvsSave(SAVE));
    expect(p.lines).toEqual([`-D -f ${M1}`]);
    expect(planIpvsClear(parseIpvsSave(SAVE), ownsMark)).toEqual([`-D -f ${M1}`]);
  });

  it('drains a leaving destination (weight 0) and deletes it once it has no established connection', () => {
    const actual = parseIpvsSave(plan([spec(M1, ['10.1.0.2', '10.1.0.3'])], []).lines.join('\n'));
    const first = plan([spec(M1, ['10.1.0.2'])], actual);
    expect(first.lines).toEqual([`-e -f ${M1} -r 10.1.0.3:0 -m -w 0`]);
    const qkey = `${fwmarkKey(M1, 4)} 10.1.0.3:0`;
    expect([...first.quiescing]).toEqual([[qkey, 1000]]);
    const drained = parseIpvsSave(`-A -f ${M1} -s rr\n-a -f ${M1} -r 10.1.0.2:0 -m -w 1\n-a -f ${M1} -r 10.1.0.3:0 -m -w 0`);
    // Without counters the planner asks for them; with an open connection it waits.
    const ask = plan([spec(M1, ['10.1.0.2'])], drained, { quiescing: first.quiescing, now: 2000 });
    expect(ask).toMatchObject({ lines: [], needsConns: true });
    const busy = plan([spec(M1, ['10.1.0.2'])], drained, { quiescing: first.quiescing, now: 2000, conns: new Map([[qkey, { active: 1, inactive: 0 }]]) });
    expect(busy.lines).toEqual([]);
    expect(busy.quiescing.get(qkey)).toBe(1000);
    const idle = plan([spec(M1, ['10.1.0.2'])], drained, { quiescing: first.quiescing, now: 2000, conns: new Map([[qkey, { active: 0, inactive: 4 }]]) });
    expect(idle.lines).toEqual([`-d -f ${M1} -r 10.1.0.3:0`]);
    expect(idle.quiescing.size).toBe(0);
    // Grace period over: deleted even with connections open.
    const late = plan([spec(M1, ['10.1.0.2'])], drained, { quiescing: first.quiescing, now: 6000, conns: new Map([[qkey, { active: 3, inactive: 0 }]]) });
    expect(late.lines).toEqual([`-d -f ${M1} -r 10.1.0.3:0`]);
  });

  it('a draining destination that comes back gets weight 1 again; a changed scheduler is edited in place', () => {
    const drained = parseIpvsSave(`-A -f ${M1} -s rr\n-a -f ${M1} -r 10.1.0.3:0 -m -w 0`);
    expect(plan([spec(M1, ['10.1.0.3'], 0, 'sh')], drained).lines).toEqual([`-E -f ${M1} -s sh`, `-e -f ${M1} -r 10.1.0.3:0 -m -w 1`]);
  });

  it('a weight-0 leftover found after a restart starts its grace period now', () => {
    const drained = parseIpvsSave(`-A -f ${M1} -s rr\n-a -f ${M1} -r 10.1.0.3:0 -m -w 0`);
    const p = plan([spec(M1, [])], drained, { now: 50_000, conns: new Map([[`${fwmarkKey(M1, 4)} 10.1.0.3:0`, { active: 1, inactive: 0 }]]) });
    expect(p.lines).toEqual([]);
    expect(p.quiescing.get(`${fwmarkKey(M1, 4)} 10.1.0.3:0`)).toBe(50_000);
  });

  it('IPv6 services and destinations', () => {
    const p = planIpvs({ desired: [{ fwmark: M1, family: 6, scheduler: 'rr', dests: [{ addr: 'fd00::5', port: 8080 }] }], actual: [], owns: ownsMark, quiescing: new Map(), now: 0, quiesceMs: 1 });
    expect(p.lines).toEqual([`-A -f ${M1} -6 -s rr`, `-a -f ${M1} -6 -r [fd00::5]:8080 -m -w 1`]);
    expect(planIpvs({ desired: [{ fwmark: M1, family: 6, scheduler: 'rr', dests: [{ addr: 'fd00::5', port: 8080 }] }], actual: parseIpvsSave(p.lines.join('\n')), owns: ownsMark, quiescing: new Map(), now: 0, quiesceMs: 1 }).lines).toEqual([]);
  });
});

const vipFe = (id: string, vip: string, backends: string[], extra: Partial<LbFrontend> = {}): LbFrontend => ({ id, match: { kind: 'vip', vip }, backends, affinity: 'none', ...extra });
const portFe = (id: string, port: number, backends: string[], extra: Partial<LbFrontend> = {}): LbFrontend => ({
  id,
  match: { kind: 'port', protocol: 'tcp', port, family: 4 },
  backends,
  affinity: 'none',
  ...extra,
});

describe('checkFrontends', () => {
  it('canonicalises and sorts backends, and says what is wrong with a bad frontend', () => {
    const [c] = checkFrontends([vipFe('a', '10.0.0.5', ['10.1.0.3', '10.1.0.2', '10.1.0.3'])]);
    expect(c!.backends).toEqual(['10.1.0.2', '10.1.0.3']);
    expect(slotId(c!.slot)).toBe('vip4 10.0.0.5');
    const bad = (fs: LbFrontend[], re: RegExp) => {
      expect(() => checkFrontends(fs)).toThrow(VxError);
      expect(() => checkFrontends(fs)).toThrow(re);
    };
    bad([vipFe('a', '10.0.0.5', []), vipFe('a', '10.0.0.6', [])], /"a" is given twice/);
    bad([vipFe('a', '10.0.0.5', []), vipFe('b', '10.0.0.5', [])], /"b" matches the same traffic as "a"/);
    bad([vipFe('a', 'nope', [])], /vip: "nope" is not an IP address/);
    bad([vipFe('a', '10.0.0.5', ['fd00::1'])], /backend fd00::1 is IPv6, the match is IPv4/);
    bad([portFe('p', 0, [])], /port 0 is not in 1-65535/);
    bad([portFe('p', 80, [], { targetPort: 70000 })], /targetPort 70000/);
    bad([portFe('p', 80, [], { snatTo: 'fd00::1' })], /snatTo fd00::1 is IPv6/);
  });
});

describe('allocateMarks', () => {
  it('keeps marks, gives new slots the lowest free one, and does not reuse a mark freed in the same change', () => {
    const existing = new Map([
      ['vip4 10.0.0.5', MARK_BASE + 1],
      ['vip4 10.0.0.6', MARK_BASE + 2],
    ]);
    const m = allocateMarks(['vip4 10.0.0.6', 'port4 tcp 80', 'port4 tcp 81'], existing);
    expect([...m]).toEqual([
      ['vip4 10.0.0.6', MARK_BASE + 2],
      ['port4 tcp 80', MARK_BASE + 3],
      ['port4 tcp 81', MARK_BASE + 4],
    ]);
    expect(allocateMarks(['port4 tcp 82'], m).get('port4 tcp 82')).toBe(MARK_BASE + 1);
  });

  it('owns only its range', () => {
    expect(ownsMark(MARK_BASE + 1)).toBe(true);
    expect(ownsMark(MARK_BASE + 0xffffff)).toBe(true);
    expect(ownsMark(MARK_BASE)).toBe(false);
    expect(ownsMark(0x101)).toBe(false);
    expect(ownsMark(0x5900_0001)).toBe(false);
  });
});

describe('mark table and services', () => {
  it('holds match -> mark and mark -> snat address; a new instance reads the marks back', () => {
    const checked = checkFrontends([
      vipFe('v', '10.0.0.5', ['10.1.0.2', '10.1.0.3'], { affinity: 'client-ip' }),
      portFe('p', 8080, ['10.1.0.2'], { targetPort: 80, snatTo: '10.77.0.1' }),
    ]);
    const marks = allocateMarks(checked.map((c) => slotId(c.slot)), new Map());
    expect(ipvsServices(checked, marks)).toEqual([
      { fwmark: MARK_BASE + 1, family: 4, scheduler: 'sh', dests: [{ addr: '10.1.0.2', port: 0 }, { addr: '10.1.0.3', port: 0 }] },
      { fwmark: MARK_BASE + 2, family: 4, scheduler: 'rr', dests: [{ addr: '10.1.0.2', port: 80 }] },
    ]);
    const t = ipvsMarkTable(checked, marks);
    const els = (n: string) => t.sets.find((s) => s.name === n)!.elements;
    expect(els('vip4')).toEqual([{ key: ['10.0.0.5'], value: [String(MARK_BASE + 1)] }]);
    expect(els('port4')).toEqual([{ key: ['tcp', '8080'], value: [String(MARK_BASE + 2)] }]);
    expect(els('snat4')).toEqual([{ key: [String(MARK_BASE + 2)], value: ['10.77.0.1'] }]);
    // What the kernel would hold after the transaction, read as a new instance would.
    const next = planNftTable(t, undefined, () => undefined).next;
    const sets = new Map([...next.sets].map(([name, s]) => [name, { elements: s.elements }]));
    expect(marksFromTable(sets)).toEqual(marks);
  });
});
