// Pure parts of doctor and trace: MTU against the underlay, kernel features, trace targets.
import { describe, expect, it } from 'vitest';
import { featureFindings, gossipFindings, runDoctor } from '../../src/agent/doctor.js';
import type { NetworkRecord } from '../../src/overlay/model.js';
import { dataPathFindings, mtuFindings } from '../../src/overlay/doctor-checks.js';
import type { GossipNode } from '../../src/model/api.js';
import { parseTraceTarget } from '../../src/overlay/trace.js';

const net = (name: string, mtu: number) => ({ name, mtu }) as NetworkRecord;

describe('doctor checks', () => {
  it('fails a network whose MTU plus VXLAN overhead exceeds the underlay, naming both fixes', () => {
    expect(mtuFindings([net('a', 1450)], 1500)).toEqual([{ check: 'mtu', ok: true, detail: expect.stringMatching(/1 network\(s\) fit the underlay MTU 1500/) }]);
    const [bad, ...rest] = mtuFindings([net('a', 1450), net('big', 1480)], 1500);
    expect(rest).toEqual([]);
    expect(bad).toMatchObject({ check: 'mtu', subject: 'big', ok: false });
    expect(bad!.detail).toBe("network big has MTU 1480: with VXLAN's 50 bytes that exceeds the underlay MTU 1500");
    expect(bad!.fix).toBe('raise the underlay MTU to 1530, or make the network again with --mtu 1450');
  });

  it('requires vxlan and nftables; ip_vs passes until a plane needs it', () => {
    const f = featureFindings({ vxlan: false, nftables: true, ipvs: false });
    expect(f.find((r) => r.check === 'kernel.vxlan')).toMatchObject({ ok: false, fix: expect.stringMatching(/^modprobe vxlan/) });
    expect(f.find((r) => r.check === 'kernel.ipvs')!.ok).toBe(true);
    expect(featureFindings({ vxlan: true, nftables: true, ipvs: false }, ['ipvs']).find((r) => r.check === 'kernel.ipvs')!.ok).toBe(false);
  });

  it('a check that throws is a failed finding, and the report fails', async () => {
    const report = await runDoctor([
      { name: 'fine', run: async () => [{ check: 'fine', ok: true, detail: 'ok' }] },
      { name: 'broken', run: () => Promise.reject(new Error('boom')) },
    ]);
    expect(report.ok).toBe(false);
    expect(report.checks[1]).toMatchObject({ check: 'broken', ok: false, detail: 'the check itself failed: boom' });
  });
});

describe('doctor: members and the data path', () => {
  const node = (name: string, addr: string, state: GossipNode['state'], self = false): GossipNode => ({ name, addr, port: 7946, state, self });
  const nodes = [node('a', '198.51.100.1', 'alive', true), node('b', '198.51.100.2', 'alive'), node('c', '198.51.100.3', 'suspect'), node('d', '198.51.100.4', 'dead')];

  it('datapath: a live member outside the filter set fails with the element to add; dead members and self are not asked', () => {
    const got = dataPathFindings(nodes, { port: 4789, filtered: true, admitted: new Set(['198.51.100.1', '198.51.100.2']) });
    expect(got.map((f) => [f.subject, f.ok])).toEqual([['b 198.51.100.2:4789', true], ['c 198.51.100.3:4789', false]]);
    expect(got[1]!.fix).toBe("nft add element inet vxmesh members4 '{ 198.51.100.3 }'");
    // no filter: everything is admitted (the missing table is nft.table's finding)
    expect(dataPathFindings(nodes, { port: 4789, filtered: false, admitted: new Set() }).every((f) => f.ok)).toBe(true);
  });

  it('gossip: a dead member fails without probing; a member without a UDP ack fails naming UDP', async () => {
    const pinged: string[] = [];
    const got = await gossipFindings([nodes[0]!, nodes[3]!, { ...node('e', '127.0.0.1', 'alive'), port: 1 }], async (name) => {
      pinged.push(name);
      return undefined;
    }, 200);
    expect(pinged).toEqual(['e']);
    expect(got.map((f) => f.ok)).toEqual([false, false]);
    expect(got[0]!.detail).toBe('member d (198.51.100.4) is dead');
    expect(got[1]!.detail).toMatch(/does not answer on TCP 127\.0\.0\.1:1: ECONNREFUSED; does not answer on UDP 127\.0\.0\.1:1: no ack to a UDP ping within 200 ms/);
  });
});

describe('trace targets', () => {
  it('splits IP, IP:PORT, [V6]:PORT, NAME and NAME:PORT', () => {
    expect(parseTraceTarget('10.0.0.3')).toEqual({ host: '10.0.0.3' });
    expect(parseTraceTarget('10.0.0.3:80')).toEqual({ host: '10.0.0.3', port: 80 });
    expect(parseTraceTarget('fd00::3')).toEqual({ host: 'fd00::3' });
    expect(parseTraceTarget('[fd00::3]:443')).toEqual({ host: 'fd00::3', port: 443 });
    expect(parseTraceTarget('api:8080')).toEqual({ host: 'api', port: 8080 });
  });

  it('refuses what is none of them, naming --to', () => {
    for (const bad of ['api:0', 'api:70000', ':80', 'a:b:c:', '[fd00::1']) expect(() => parseTraceTarget(bad)).toThrow(/--to .* is not IP, IP:PORT, NAME or NAME:PORT/);
  });
});
