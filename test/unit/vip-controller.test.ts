// The VIP plane's controller over fakes: one LB call per namespace whose frontends changed, none for
// unchanged ones, a clear when a namespace's last VIP or endpoint goes, nothing before the view caught up.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { LbFrontend, LoadBalancer } from '../../src/ingress/lb/types.js';
import type { ServiceRecord, ServiceTask, ServiceView } from '../../src/ingress/model.js';
import { VipController } from '../../src/ingress/vip-controller.js';
import type { NsRef } from '../../src/kernel/index.js';
import type { EndpointRecord } from '../../src/overlay/model.js';
import type { OverlayRecords } from '../../src/overlay/records.js';

const NET = 'a'.repeat(64);
const SVC = '1'.repeat(64);

function world() {
  let eps: EndpointRecord[] = [];
  let tasks: ServiceTask[] = [];
  let caught = false;
  const listeners: Array<() => void> = [];
  const calls: string[] = [];
  const svc: ServiceRecord = { id: SVC, name: 'web', endpointMode: 'vip', affinity: 'none', networks: [NET], vips: [{ networkId: NET, ipv4: '10.1.0.2' }], ports: [], labels: {}, createdAt: '', version: 1 };
  const view: ServiceView = {
    services: () => [svc],
    service: (id) => (id === SVC ? svc : undefined),
    tasks: () => tasks,
    onChange: (fn) => (listeners.push(fn), () => undefined),
    caughtUp: () => caught,
  };
  const records = { localEndpoints: () => eps, endpoints: { onChange: () => () => undefined } } as unknown as OverlayRecords;
  const name = (ns: NsRef) => (ns.kind === 'named' ? ns.name : ns.kind);
  const lb: LoadBalancer = {
    kind: 'nftables',
    sync: async (ns: NsRef, f: LbFrontend[], opts?: { fresh?: boolean }) => void calls.push(`sync ${name(ns)} ${f.map((x) => x.backends.join('+')).join(',')}${opts?.fresh ? ' fresh' : ''}`),
    clear: async (ns: NsRef) => void calls.push(`clear ${name(ns)}`),
  };
  const ep = (id: string, netns: string): EndpointRecord => ({ id, networkId: NET, name: id, aliases: [], netns, ifName: 'eth0', ipv4: '10.1.0.9', mac: '', leaveInHost: false, preallocated: false, labels: {}, state: 'ready', createdAt: '' });
  const task = (ip: string): ServiceTask => ({ endpointId: ip, serviceId: SVC, networkId: NET, name: ip, ipv4: ip, aliases: [], node: 'n' });
  const ctl = new VipController(records, view, lb, {}, pino({ level: 'silent' }));
  return {
    ctl, calls, ep, task,
    set: (e: EndpointRecord[], t: ServiceTask[]) => ((eps = e), (tasks = t)),
    catchUp: () => (caught = true),
  };
}

describe('VipController', () => {
  it('waits for the view to catch up, then syncs each namespace once and again only when its frontends change', async () => {
    const w = world();
    w.set([w.ep('e1', '/run/netns/w1'), w.ep('e2', '/run/netns/w2')], [w.task('10.1.0.3')]);
    await w.ctl.start();
    expect(w.calls).toEqual([]);
    w.catchUp();
    await w.ctl.sync();
    expect(w.calls.sort()).toEqual(['sync w1 10.1.0.3', 'sync w2 10.1.0.3']);
    w.calls.length = 0;
    await w.ctl.sync();
    expect(w.calls).toEqual([]);
    w.set([w.ep('e1', '/run/netns/w1'), w.ep('e2', '/run/netns/w2')], [w.task('10.1.0.3'), w.task('10.1.0.4')]);
    await w.ctl.sync();
    expect(w.calls.sort()).toEqual(['sync w1 10.1.0.3+10.1.0.4', 'sync w2 10.1.0.3+10.1.0.4']);
    w.calls.length = 0;
    // w2's last endpoint goes: its LB state is cleared; w1 is unchanged.
    w.set([w.ep('e1', '/run/netns/w1')], [w.task('10.1.0.3'), w.task('10.1.0.4')]);
    await w.ctl.sync();
    expect(w.calls).toEqual(['clear w2']);
    await w.ctl.stop();
  });

  it('the periodic resync syncs every namespace with VIPs again, reading the kernel (a table deleted by hand is made again)', async () => {
    const w = world();
    w.set([w.ep('e1', '/run/netns/w1')], [w.task('10.1.0.3')]);
    w.catchUp();
    await w.ctl.start();
    expect(w.calls).toEqual(['sync w1 10.1.0.3']);
    w.calls.length = 0;
    await w.ctl.reconcile();
    expect(w.calls).toEqual(['sync w1 10.1.0.3 fresh']);
    w.calls.length = 0;
    w.set([w.ep('e1', '/run/netns/w1')], [w.task('10.1.0.4')]);
    await w.ctl.sync();
    expect(w.calls).toEqual(['sync w1 10.1.0.4']);
    expect(w.ctl.desiredFrontends().get('/run/netns/w1')?.map((f) => f.backends)).toEqual([['10.1.0.4']]);
    await w.ctl.stop();
  });
});
