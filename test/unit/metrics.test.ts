// src/metrics on its own: one registry per instance (no global state), Prometheus names, the kernel
// observer, and --metrics-addr checked like every other agent option.
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseAgentCommandLine } from '../../src/cli/agent-flags.js';
import { SelectedLoadBalancer, meshCounts } from '../../src/agent/mesh-wiring.js';
import type { LoadBalancer } from '../../src/ingress/lb/types.js';
import type { ServiceRecord, ServiceTask, ServiceView } from '../../src/ingress/model.js';
import { VxMetrics } from '../../src/metrics/metrics.js';
import { parsePromText, sampleValue } from '../support/prom-text.js';

describe('VxMetrics', () => {
  it('keeps its metrics in the registry it is given, and two agents never share counts', async () => {
    const a = new VxMetrics(new Registry());
    const b = new VxMetrics(new Registry());
    a.kernel.batch('ip', 0.02, true);
    a.kernel.batch('nft', 0.01, false);
    a.kernel.driftRepaired('links', 3);
    await a.timed(a.attaches, a.attachDuration, async () => 1);
    await expect(a.timed(a.attaches, a.attachDuration, () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    const fa = parsePromText(await a.text());
    const fb = parsePromText(await b.text());
    expect(sampleValue(fa, 'vxmesh_kernel_batches_total', { tool: 'ip' })).toBe(1);
    expect(sampleValue(fa, 'vxmesh_kernel_batch_errors_total', { tool: 'nft' })).toBe(1);
    expect(sampleValue(fa, 'vxmesh_reconcile_drift_repaired_total', { kind: 'links' })).toBe(3);
    expect(sampleValue(fa, 'vxmesh_attaches_total', { result: 'ok' })).toBe(1);
    expect(sampleValue(fa, 'vxmesh_attaches_total', { result: 'error' })).toBe(1);
    expect(sampleValue(fb, 'vxmesh_kernel_batches_total', { tool: 'ip' })).toBe(0);
    for (const f of fa.values()) {
      expect(f.name).toMatch(/^vxmesh_[a-z_]+$/);
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
      if (f.type === 'histogram') expect(f.name).toMatch(/_seconds$/);
      expect(f.help).not.toBe('');
    }
  });

  it('reads gossip gauges from the source it watches', async () => {
    const m = new VxMetrics();
    m.watchGossip({ memberStates: () => ['alive', 'alive', 'dead'], tableEntries: () => [{ table: 'endpoint_table', network: 'n1', entries: 4 }] });
    const f = parsePromText(await m.text());
    expect(sampleValue(f, 'vxmesh_gossip_members', { state: 'alive' })).toBe(2);
    expect(sampleValue(f, 'vxmesh_gossip_members', { state: 'dead' })).toBe(1);
    expect(sampleValue(f, 'vxmesh_networkdb_entries', { table: 'endpoint_table', network: 'n1' })).toBe(4);
  });

  it('services: counts read when scraped, load balancer syncs and failures by kind fed by the selected LB', async () => {
    const m = new VxMetrics();
    let f = parsePromText(await m.text());
    expect(sampleValue(f, 'vxmesh_services')).toBe(0);
    m.watchPlanes({ dns: () => undefined, vxlanDropped: async () => 0, peerEntries: () => [], services: () => ({ services: 3, tasks: 7 }) });
    const fail = { value: false };
    const impl: LoadBalancer = {
      kind: 'nftables',
      sync: async () => {
        if (fail.value) throw new Error('nft: no');
      },
      clear: async () => undefined,
    };
    const lb = new SelectedLoadBalancer('nftables', { make: () => impl, ipvsAvailable: async () => false }, pino({ level: 'silent' }), m.lb);
    await lb.start();
    await lb.sync({ kind: 'named', name: 'w1' }, []);
    await lb.sync({ kind: 'named', name: 'w2' }, []);
    fail.value = true;
    await expect(lb.sync({ kind: 'named', name: 'w1' }, [])).rejects.toThrow('nft: no');
    f = parsePromText(await m.text());
    expect(sampleValue(f, 'vxmesh_services')).toBe(3);
    expect(sampleValue(f, 'vxmesh_service_tasks')).toBe(7);
    expect(sampleValue(f, 'vxmesh_lb_syncs_total', { kind: 'nftables' })).toBe(3);
    expect(sampleValue(f, 'vxmesh_lb_sync_errors_total', { kind: 'nftables' })).toBe(1);
    expect(sampleValue(f, 'vxmesh_lb_syncs_total', { kind: 'ipvs' })).toBe(0);
  });

  it('counts each live task once whatever its networks (meshCounts)', () => {
    const svc = (id: string, networks: string[]) => ({ id, networks }) as ServiceRecord;
    const task = (endpointId: string) => ({ endpointId }) as ServiceTask;
    const view = {
      services: () => [svc('s1', ['n1', 'n2']), svc('s2', ['n1'])],
      tasks: (s: string, n: string) => (s === 's1' ? (n === 'n1' ? [task('e1'), task('e2')] : [task('e1')]) : []),
    } as unknown as ServiceView;
    expect(meshCounts(view)).toEqual({ services: 2, tasks: 2 });
  });

  it('the strict parser refuses what is not Prometheus text', () => {
    expect(() => parsePromText('x 1\n')).toThrow(/undeclared family/);
    expect(() => parsePromText('# TYPE x counter\nx{a="1" } 1\n')).toThrow(/bad labels/);
    expect(() => parsePromText('# TYPE x counter\nx one\n')).toThrow(/bad value/);
  });
});

describe('--metrics-addr', () => {
  it('is off by default, and taken from the flag, VXMESH_METRICS_ADDR or the config file', () => {
    expect(parseAgentCommandLine([], {}).config.metricsAddr).toBeUndefined();
    expect(parseAgentCommandLine(['--metrics-addr', '198.51.100.1:9469'], {}).config.metricsAddr).toBe('198.51.100.1:9469');
    expect(parseAgentCommandLine([], { VXMESH_METRICS_ADDR: '[fd00::1]:9469' }).config.metricsAddr).toBe('[fd00::1]:9469');
    const file = parseAgentCommandLine(['--config', 'f.json'], {}, () => '{"metrics-addr": "127.0.0.1:9469"}');
    expect(file.config.metricsAddr).toBe('127.0.0.1:9469');
  });

  it('refuses an address without a port, naming the flag', () => {
    for (const bad of ['198.51.100.1', 'fd00::1', 'host:99999', ':9469']) {
      expect(() => parseAgentCommandLine(['--metrics-addr', bad], {})).toThrow(/--metrics-addr .* is not HOST:PORT|--metrics-addr must not be empty/);
    }
  });
});
