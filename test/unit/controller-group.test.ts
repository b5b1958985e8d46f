import { describe, expect, it } from 'vitest';
import { ControllerGroup } from '../../src/agent/controller-group.js';
import type { Controller } from '../../src/model/controller.js';

function recorder(log: string[], failOn: Partial<Record<string, 'start' | 'stop'>> = {}) {
  return (name: string): Controller => ({
    name,
    start: async () => {
      log.push(`start ${name}`);
      if (failOn[name] === 'start') throw new Error(`${name} cannot start`);
    },
    stop: async () => {
      log.push(`stop ${name}`);
      if (failOn[name] === 'stop') throw new Error(`${name} cannot stop`);
    },
    reconcile: async () => void log.push(`reconcile ${name}`),
  });
}

const quiet = { error: () => undefined };

describe('ControllerGroup', () => {
  it('starts in order, reconciles in order, stops in reverse', async () => {
    const log: string[] = [];
    const mk = recorder(log);
    const g = new ControllerGroup('g', [mk('records'), mk('ipam'), mk('networks')], quiet);
    await g.start();
    await g.reconcile();
    await g.stop();
    expect(log).toEqual([
      'start records', 'start ipam', 'start networks',
      'reconcile records', 'reconcile ipam', 'reconcile networks',
      'stop networks', 'stop ipam', 'stop records',
    ]);
  });

  it('a failed start stops only the started ones, in reverse, and rethrows', async () => {
    const log: string[] = [];
    const errors: string[] = [];
    const mk = recorder(log, { networks: 'start' });
    const g = new ControllerGroup('g', [mk('records'), mk('ipam'), mk('networks'), mk('endpoints')], { error: (_o: object, m: string) => void errors.push(m) });
    await expect(g.start()).rejects.toThrow('networks cannot start');
    expect(log).toEqual(['start records', 'start ipam', 'start networks', 'stop ipam', 'stop records']);
    expect(errors).toEqual(['networks: start failed; stopping what was started']);
    // stopping again afterwards stops nothing twice
    await g.stop();
    expect(log).toHaveLength(5);
  });

  it('a failing stop does not keep the others from stopping', async () => {
    const log: string[] = [];
    const mk = recorder(log, { ipam: 'stop' });
    const g = new ControllerGroup('g', [mk('records'), mk('ipam'), mk('networks')], quiet);
    await g.start();
    await g.stop();
    expect(log.slice(3)).toEqual(['stop networks', 'stop ipam', 'stop records']);
  });
});
