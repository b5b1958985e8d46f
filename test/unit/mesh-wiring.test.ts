// --lb: auto takes IPVS where the kernel has ip_vs, else nftables; ipvs without ip_vs refuses to start.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SelectedLoadBalancer, type LbFactory } from '../../src/agent/mesh-wiring.js';
import type { LbKind, LoadBalancer } from '../../src/ingress/lb/types.js';

const log = pino({ level: 'silent' });

function factory(ipvs: boolean): LbFactory & { made: LbKind[]; calls: string[] } {
  const made: LbKind[] = [];
  const calls: string[] = [];
  return {
    made,
    calls,
    ipvsAvailable: async () => ipvs,
    make: (kind): LoadBalancer => {
      made.push(kind);
      return { kind, sync: async (ns, f) => void calls.push(`sync ${kind} ${JSON.stringify(ns)} ${f.length}`), clear: async () => void calls.push(`clear ${kind}`) };
    },
  };
}

describe('SelectedLoadBalancer', () => {
  it.each([
    ['auto', true, 'ipvs'],
    ['auto', false, 'nftables'],
    ['nftables', true, 'nftables'],
    ['ipvs', true, 'ipvs'],
  ] as const)('--lb %s with ip_vs %s uses %s', async (choice, ipvs, kind) => {
    const f = factory(ipvs);
    const lb = new SelectedLoadBalancer(choice, f, log);
    expect(lb.chosenKind).toBeUndefined();
    await expect(lb.sync({ kind: 'self' }, [])).rejects.toThrow(/not chosen yet/);
    await lb.start();
    expect(lb.kind).toBe(kind);
    expect(f.made).toEqual([kind]);
    await lb.sync({ kind: 'named', name: 'x' }, []);
    await lb.clear({ kind: 'named', name: 'x' });
    expect(f.calls).toEqual([`sync ${kind} {"kind":"named","name":"x"} 0`, `clear ${kind}`]);
  });

  it('--lb ipvs without ip_vs refuses to start, naming the flag and the way out', async () => {
    const f = factory(false);
    const lb = new SelectedLoadBalancer('ipvs', f, log);
    await expect(lb.start()).rejects.toThrow(/--lb ipvs: this kernel has no ip_vs .*--lb nftables or --lb auto/);
    expect(f.made).toEqual([]);
  });
});

describe('backends that leave', () => {
  it("have their conntrack entries dropped after the sync that removed them, per namespace; a clear forgets the namespace", async () => {
    const f = factory(false);
    const forgotten: string[] = [];
    f.forgetFlows = async (kind, ns, backends) => void forgotten.push(`${kind} ${JSON.stringify(ns)} ${backends.join(',')}`);
    const lb = new SelectedLoadBalancer('auto', f, log);
    await lb.start();
    const ns = { kind: 'named', name: 'w1' } as const;
    const fe = (backends: string[]) => [{ id: 's/n', match: { kind: 'vip', vip: '10.0.0.2' } as const, backends, affinity: 'none' as const }];
    await lb.sync(ns, fe(['10.0.0.3', '10.0.0.4', '10.0.0.5']));
    await lb.sync(ns, fe(['10.0.0.3', '10.0.0.5', '10.0.0.6']));
    await lb.sync({ kind: 'named', name: 'w2' }, fe(['10.0.0.3']));
    expect(forgotten).toEqual(['nftables {"kind":"named","name":"w1"} 10.0.0.4']);
    await lb.clear(ns);
    await lb.sync(ns, fe([]));
    expect(forgotten).toHaveLength(1);
  });
});

