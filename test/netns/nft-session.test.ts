// NftSessions (kept `nft -i` per namespace) against the real kernel, in a namespace this file
// creates and deletes by name (root only).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelError, NftSessionLost, NftSessions, NftTableReconciler, namedNs } from '../../src/kernel/index.js';
import { waitFor } from '../support/wait.js';

const canRun = process.getuid?.() === 0 && spawnSync('nft', ['--version']).status === 0;

function sh(args: string[], input?: string): string {
  const r = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

describe.skipIf(!canRun)('NftSessions in a real namespace', () => {
  const NS = `vxtses${randomBytes(4).toString('hex')}`;
  const ns = namedNs(NS);
  const nft = (...args: string[]) => sh(['nsenter', `--net=/run/netns/${NS}`, 'nft', ...args]);
  const elements = () => nft('-j', 'list', 'set', 'inet', 'vxt', 's').match(/"\d+\.\d+\.\d+\.\d+"/g)?.map((s) => s.slice(1, -1)).sort() ?? [];
  const pidsIn = () => sh(['ip', 'netns', 'pids', NS]).split('\n').filter(Boolean);
  const sessions = new NftSessions({ idleMs: 300 });

  beforeAll(() => {
    sh(['ip', 'netns', 'add', NS]);
    sh(['nsenter', `--net=/run/netns/${NS}`, 'nft', '-f', '-'], 'table inet vxt {\n set s {\n  type ipv4_addr\n }\n}\n');
  });
  afterAll(() => {
    sessions.closeAll();
    spawnSync('ip', ['netns', 'del', NS]);
  });

  it('applies one-line transactions through one kept process, in order', async () => {
    await sessions.apply(ns, ['add element inet vxt s { 10.0.0.1 }', 'add element inet vxt s { 10.0.0.2 }']);
    expect(elements()).toEqual(['10.0.0.1', '10.0.0.2']);
    const pids = pidsIn();
    expect(pids).toHaveLength(1);
    // Concurrent calls queue on the one session and are applied in call order.
    await Promise.all([
      sessions.apply(ns, ['delete element inet vxt s { 10.0.0.1 }']),
      sessions.apply(ns, ['add element inet vxt s { 10.0.0.1 }', 'add element inet vxt s { 10.0.0.3 }']),
      sessions.apply(ns, ['delete element inet vxt s { 10.0.0.2 }']),
    ]);
    expect(elements()).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(pidsIn()).toEqual(pids);
  });

  it("a failing transaction rejects with nft's message and applies none of its commands; the session goes on", async () => {
    const err = await sessions.apply(ns, ['add element inet vxt s { 10.0.0.9 }', 'delete element inet vxt s { 10.0.0.77 }']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect((err as Error).message).toMatch(/No such file or directory/);
    expect((err as Error).message).toContain('10.0.0.77');
    expect(elements()).toEqual(['10.0.0.1', '10.0.0.3']);
    await sessions.apply(ns, ['delete element inet vxt s { 10.0.0.3 }']);
    expect(elements()).toEqual(['10.0.0.1']);
  });

  it('commands that are not one line (a chain body) go through nft -f, still as one transaction', async () => {
    await sessions.apply(ns, ['add chain inet vxt c {\n type filter hook input priority 0; policy accept;\n}', 'add element inet vxt s { 10.0.0.4 }']);
    expect(nft('list', 'chain', 'inet', 'vxt', 'c')).toContain('hook input');
    expect(elements()).toEqual(['10.0.0.1', '10.0.0.4']);
  });

  it('an idle session ends (the namespace is not held open); a killed one is replaced on the next call', async () => {
    await sessions.apply(ns, ['add element inet vxt s { 10.0.0.5 }']);
    await waitFor(() => pidsIn().length === 0, { what: 'the idle session to end', timeoutMs: 5000 });
    await sessions.apply(ns, ['add element inet vxt s { 10.0.0.6 }']);
    const [pid] = pidsIn();
    expect(pid).toBeDefined();
    process.kill(Number(pid), 'SIGKILL');
    await waitFor(() => !pidsIn().includes(pid!), { what: 'the killed session to be gone', timeoutMs: 5000 });
    // Sent before the agent saw the exit, a transaction fails as "lost" (applied or not is unknown).
    const first = await sessions.apply(ns, ['delete element inet vxt s { 10.0.0.5 }']).catch((e: unknown) => e);
    if (first !== undefined) expect(first).toBeInstanceOf(NftSessionLost);
    if (first !== undefined) await sessions.apply(ns, ['delete element inet vxt s { 10.0.0.5 }']);
    expect(elements()).toEqual(['10.0.0.1', '10.0.0.4', '10.0.0.6']);
    sessions.release(ns);
    await waitFor(() => pidsIn().length === 0, { what: 'the released session to end', timeoutMs: 5000 });
  });

  it('NftTableReconciler: a session killed between two reconciles costs nothing (the lost transaction is planned again from the kernel)', async () => {
    const reconciler = new NftTableReconciler(undefined, { sessions: { idleMs: 60_000 } });
    const table = (ips: string[]) => ({ family: 'inet' as const, name: 'vxr', chains: [], sets: [{ name: 's', type: ['ipv4_addr' as const], elements: ips.map((ip) => ({ key: [ip] })) }] });
    try {
      await reconciler.reconcile(ns, table(['10.1.0.1']));
      await reconciler.reconcile(ns, table(['10.1.0.1', '10.1.0.2']));
      for (const pid of pidsIn()) process.kill(Number(pid), 'SIGKILL');
      const r = await reconciler.reconcile(ns, table(['10.1.0.2', '10.1.0.3']));
      expect(r.commands.join('\n')).toMatch(/10\.1\.0\.3/);
      expect(nft('list', 'set', 'inet', 'vxr', 's')).toMatch(/elements = \{ 10\.1\.0\.2, 10\.1\.0\.3 \}/);
    } finally {
      reconciler.close();
    }
  });
});
