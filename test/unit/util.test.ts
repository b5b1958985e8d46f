import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/util/coalescer.js';
import { Mutex } from '../../src/util/mutex.js';
import { deferred, nextTurn as tick } from '../support/deferred.js';
import { sleep } from '../support/wait.js';

describe('Mutex', () => {
  it('runs sections one at a time in the order they were requested', async () => {
    const m = new Mutex();
    const events: string[] = [];
    let inside = 0;
    let maxInside = 0;
    const section = (name: string, delayMs: number) =>
      m.run(async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        events.push(`start ${name}`);
        await sleep(delayMs); // simulated work of a given length: the ordering under test depends on it
        events.push(`end ${name}`);
        inside--;
        return name;
      });
    // Later sections are shorter, so any overlap or reordering would show in the event list.
    const results = await Promise.all([section('a', 30), section('b', 10), section('c', 1), section('d', 0)]);
    expect(results).toEqual(['a', 'b', 'c', 'd']);
    expect(maxInside).toBe(1);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c', 'start d', 'end d']);
  });

  it('keeps order and exclusion after a section rejects or throws synchronously', async () => {
    const m = new Mutex();
    const events: string[] = [];
    const gate = deferred();
    const first = m.run(async () => {
      events.push('first');
      await gate.promise;
      throw new Error('first failed');
    });
    const second = m.run(() => {
      events.push('second');
      throw new Error('second failed synchronously');
    });
    const third = m.run(async () => {
      events.push('third');
      return 3;
    });
    await tick();
    expect(events).toEqual(['first']); // the others wait behind the held section
    gate.resolve();
    await expect(first).rejects.toThrow('first failed');
    await expect(second).rejects.toThrow('second failed synchronously');
    await expect(third).resolves.toBe(3);
    expect(events).toEqual(['first', 'second', 'third']);
  });
});

describe('Coalescer', () => {
  it('N requests while a run is in flight cause exactly one follow-up run', async () => {
    const c = new Coalescer();
    const gates = [deferred(), deferred(), deferred()];
    let runs = 0;
    const job = async () => {
      const n = runs++;
      await gates[n]!.promise;
    };
    const first = c.request('ns1', job);
    await tick();
    expect(runs).toBe(1);
    const followers = Array.from({ length: 10 }, () => c.request('ns1', job));
    await tick();
    expect(runs).toBe(1); // nothing new starts while the first run is in flight
    gates[0]!.resolve();
    await first;
    await tick();
    expect(runs).toBe(2); // one shared follow-up
    gates[1]!.resolve();
    await Promise.all(followers);
    await tick();
    expect(runs).toBe(2);
  });

  it('every caller resolves only after a run that started after its request has finished', async () => {
    const c = new Coalescer();
    const runLog: { start: number; end?: number }[] = [];
    let clock = 0;
    const job = async () => {
      const run: { start: number; end?: number } = { start: ++clock };
      runLog.push(run);
      await sleep(5); // simulated work, so requests arrive while a run is in progress
      run.end = ++clock;
    };
    const checks: Promise<void>[] = [];
    for (let i = 0; i < 25; i++) {
      const requestedAt = ++clock;
      checks.push(
        c.request('k', job).then(() => {
          const resolvedAt = ++clock;
          const covering = runLog.filter((r) => r.start > requestedAt && r.end !== undefined && r.end < resolvedAt);
          expect(covering.length, `request at ${requestedAt} resolved at ${resolvedAt}`).toBeGreaterThan(0);
        }),
      );
      if (i % 5 === 4) await sleep(7); // requests spread over several runs
    }
    await Promise.all(checks);
    expect(runLog.length).toBeLessThan(25); // coalesced
    expect(runLog.length).toBeGreaterThan(1);
  });

  it('keys are independent', async () => {
    const c = new Coalescer();
    const gate = deferred();
    const ran: string[] = [];
    const a = c.request('a', async () => {
      ran.push('a');
      await gate.promise;
    });
    const b = c.request('b', async () => {
      ran.push('b');
    });
    await b; // 'b' does not wait for 'a'
    expect(ran).toEqual(['a', 'b']);
    gate.resolve();
    await a;
  });

  it('propagates errors to the callers of that run, and the next run still happens', async () => {
    const c = new Coalescer();
    const gate = deferred();
    let n = 0;
    const job = async () => {
      const mine = ++n;
      if (mine === 1) {
        await gate.promise;
        throw new Error('run 1 failed');
      }
      if (mine === 2) throw new Error('run 2 failed');
    };
    const first = c.request('x', job);
    const follower1 = c.request('x', job);
    const follower2 = c.request('x', job);
    gate.resolve();
    await expect(first).rejects.toThrow('run 1 failed');
    await expect(follower1).rejects.toThrow('run 2 failed');
    await expect(follower2).rejects.toThrow('run 2 failed');
    // After failures the key is free again: a new request runs at once and succeeds.
    await expect(c.request('x', job)).resolves.toBeUndefined();
    expect(n).toBe(3);
  });
});
