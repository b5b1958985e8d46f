import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore, StoreConflict, type Store } from '../../src/store/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const COMPILED_STORE = join(ROOT, 'dist/store/index.js');
const WRITER = join(ROOT, 'test/fixtures/store-writer.mjs');

let dir: string;
const opened: Store[] = [];

async function openStore(): Promise<FileStore> {
  const s = await FileStore.open(dir);
  opened.push(s);
  return s;
}

/** Closes a store once, so afterEach only closes what the test left open. */
async function closeStore(s: Store): Promise<void> {
  const i = opened.indexOf(s);
  if (i >= 0) opened.splice(i, 1);
  await s.close();
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxmesh-store-test-'));
});

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('FileStore CAS transactions', () => {
  it('expectRevision 0 means the key must not exist', async () => {
    const s = await openStore();
    const r1 = await s.txn([{ op: 'put', key: 'a', value: 1, expectRevision: 0 }]);
    expect(r1).toBeGreaterThan(0);
    await expect(s.txn([{ op: 'put', key: 'a', value: 2, expectRevision: 0 }])).rejects.toBeInstanceOf(StoreConflict);
    expect(await s.get('a')).toEqual({ key: 'a', value: 1, revision: r1 });
  });

  it('a matching revision applies, a stale one conflicts and names the key', async () => {
    const s = await openStore();
    const r1 = await s.txn([{ op: 'put', key: 'k', value: 'v1' }]);
    const r2 = await s.txn([{ op: 'put', key: 'k', value: 'v2', expectRevision: r1 }]);
    expect(r2).toBeGreaterThan(r1);
    const err = await s.txn([{ op: 'put', key: 'k', value: 'v3', expectRevision: r1 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreConflict);
    expect((err as StoreConflict).key).toBe('k');
    expect((await s.get('k'))?.value).toBe('v2');
    // Delete with CAS too.
    await expect(s.txn([{ op: 'delete', key: 'k', expectRevision: r1 }])).rejects.toBeInstanceOf(StoreConflict);
    await s.txn([{ op: 'delete', key: 'k', expectRevision: r2 }]);
    expect(await s.get('k')).toBeUndefined();
  });

  it('multi-op txns are all-or-nothing: one failed compare applies nothing', async () => {
    const s = await openStore();
    const base = await s.txn([
      { op: 'put', key: 'x', value: 'x0' },
      { op: 'put', key: 'y', value: 'y0' },
    ]);
    const before = await s.list('');
    // The first two ops would pass; the third compares against a stale revision.
    await expect(
      s.txn([
        { op: 'put', key: 'x', value: 'x1', expectRevision: base },
        { op: 'delete', key: 'y', expectRevision: base },
        { op: 'put', key: 'z', value: 'z1', expectRevision: base }, // z does not exist: must be 0
      ]),
    ).rejects.toBeInstanceOf(StoreConflict);
    expect(await s.list('')).toEqual(before);
    // The revision did not move either: the next txn gets base + 1.
    expect(await s.txn([{ op: 'put', key: 'w', value: 1 }])).toBe(base + 1);
    // And nothing of the failed txn comes back after a reopen.
    await closeStore(s);
    const again = await openStore();
    expect((await again.list('')).filter((kv) => kv.key !== 'w')).toEqual(before);
  });

  it('rejects a put without a value and applies nothing', async () => {
    const s = await openStore();
    await expect(
      s.txn([
        { op: 'put', key: 'good', value: 1 },
        { op: 'put', key: 'bad', value: undefined },
      ]),
    ).rejects.toThrow(/bad/);
    // null is not a value either (it would read back as a delete).
    await expect(s.txn([{ op: 'put', key: 'nil', value: null }])).rejects.toThrow(/nil/);
    expect(await s.list('')).toEqual([]);
    expect(await s.txn([{ op: 'put', key: 'ok', value: 0 }])).toBe(1); // no revision was spent
  });

  it('lists by prefix, sorted by key', async () => {
    const s = await openStore();
    await s.txn(['net/b', 'net/a', 'ep/1', 'net/c/x', 'netz', 'net/'].map((key) => ({ op: 'put' as const, key, value: key })));
    expect((await s.list('net/')).map((kv) => kv.key)).toEqual(['net/', 'net/a', 'net/b', 'net/c/x']);
    expect((await s.list('')).map((kv) => kv.key)).toEqual(['ep/1', 'net/', 'net/a', 'net/b', 'net/c/x', 'netz']);
    expect(await s.list('nothing/')).toEqual([]);
  });

  it('values are copies: mutating what went in or came out does not change the store', async () => {
    const s = await openStore();
    const value = { list: [1, 2], nested: { n: 1 } };
    await s.txn([{ op: 'put', key: 'obj', value }]);
    value.list.push(3);
    value.nested.n = 99;
    const got = await s.get<typeof value>('obj');
    expect(got?.value).toEqual({ list: [1, 2], nested: { n: 1 } });
    got!.value.list.push(4);
    const listed = await s.list<typeof value>('o');
    listed[0]!.value.nested.n = 7;
    expect((await s.get('obj'))?.value).toEqual({ list: [1, 2], nested: { n: 1 } });
  });

  it('1000 concurrent txns are all acknowledged with distinct, increasing revisions and survive reopen', async () => {
    const s = await openStore();
    const revs = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => s.txn([{ op: 'put', key: `k/${String(i).padStart(4, '0')}`, value: i }])),
    );
    // Issued in order, so revisions follow issue order strictly.
    for (let i = 1; i < revs.length; i++) expect(revs[i]!).toBeGreaterThan(revs[i - 1]!);
    expect(new Set(revs).size).toBe(1000);
    await closeStore(s);
    const again = await openStore();
    const all = await again.list<number>('k/');
    expect(all).toHaveLength(1000);
    all.forEach((kv, i) => {
      expect(kv.value).toBe(i);
      expect(kv.revision).toBe(revs[i]);
    });
    // Group commit: 1000 records cost far fewer fsyncs, but all are in the log.
    expect((await stat(join(dir, 'store.log'))).size).toBeGreaterThan(1000 * 8);
  });

  it('concurrent CAS increments of one counter: exactly one winner per revision', async () => {
    const s = await openStore();
    await s.txn([{ op: 'put', key: 'ctr', value: 0 }]);
    let conflicts = 0;
    const incr = async () => {
      for (;;) {
        const cur = (await s.get<number>('ctr'))!;
        try {
          await s.txn([{ op: 'put', key: 'ctr', value: cur.value + 1, expectRevision: cur.revision }]);
          return;
        } catch (e) {
          if (!(e instanceof StoreConflict)) throw e;
          conflicts++;
          await new Promise((r) => setImmediate(r));
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, incr));
    expect((await s.get('ctr'))?.value).toBe(50);
    expect(conflicts).toBeGreaterThan(0); // they really raced
  });
});

describe('FileStore persistence', () => {
  it('reopen restores keys, values, revisions and the revision counter', async () => {
    const s = await openStore();
    await s.txn([{ op: 'put', key: 'a', value: { n: 1 } }]);
    const r2 = await s.txn([
      { op: 'put', key: 'b', value: [1, 'two', null, true] },
      { op: 'put', key: 'c', value: 'gone soon' },
    ]);
    const r3 = await s.txn([{ op: 'delete', key: 'c' }]);
    const before = await s.list('');
    await closeStore(s);

    const again = await openStore();
    expect(await again.list('')).toEqual(before);
    expect(await again.get('b')).toEqual({ key: 'b', value: [1, 'two', null, true], revision: r2 });
    expect(await again.get('c')).toBeUndefined();
    expect(await again.txn([{ op: 'put', key: 'd', value: 1 }])).toBe(r3 + 1);
  });

  it('compact() keeps the state across reopen and empties the log; later txns go on top', async () => {
    const s = await openStore();
    for (let i = 0; i < 20; i++) await s.txn([{ op: 'put', key: `k${i % 7}`, value: i }]);
    await s.txn([{ op: 'delete', key: 'k3' }]);
    const compactedState = await s.list('');
    await s.compact();
    expect((await stat(join(dir, 'store.log'))).size).toBe(0);
    const after = await s.txn([{ op: 'put', key: 'later', value: 'x' }]);
    await closeStore(s);

    const again = await openStore();
    expect((await again.list('')).filter((kv) => kv.key !== 'later')).toEqual(compactedState);
    expect(await again.get('later')).toEqual({ key: 'later', value: 'x', revision: after });
    expect(await again.get('k3')).toBeUndefined();
    expect(await again.txn([{ op: 'put', key: 'next', value: 1 }])).toBe(after + 1);
  });

  it('compact() while txns are in flight loses none of them', async () => {
    const s = await openStore();
    const writes: Promise<number>[] = [];
    const compactions: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      writes.push(s.txn([{ op: 'put', key: `w/${String(i).padStart(3, '0')}`, value: i }]));
      if (i % 50 === 25) compactions.push(s.compact());
      if (i % 10 === 0) await new Promise((r) => setImmediate(r)); // let writes and compactions interleave
    }
    const revs = await Promise.all(writes);
    await Promise.all(compactions);
    await closeStore(s);
    const again = await openStore();
    const all = await again.list<number>('w/');
    expect(all.map((kv) => kv.value)).toEqual(revs.map((_, i) => i));
    expect(all.map((kv) => kv.revision)).toEqual(revs);
  });

  it('automatic compaction after many txns keeps the state across reopen', async () => {
    const s = await openStore();
    const n = 5000; // more records than the compaction threshold
    let last = 0;
    for (let batch = 0; batch < n / 500; batch++) {
      const revs = await Promise.all(
        Array.from({ length: 500 }, (_, j) => {
          const i = batch * 500 + j;
          return s.txn([{ op: 'put', key: `n/${i % 300}`, value: i }]);
        }),
      );
      last = revs[revs.length - 1]!;
    }
    await closeStore(s); // waits for an in-flight compaction
    expect(existsSync(join(dir, 'store.snap'))).toBe(true);
    const logSize = (await stat(join(dir, 'store.log'))).size;
    const again = await openStore();
    const all = await again.list<number>('n/');
    expect(all).toHaveLength(300);
    for (const kv of all) {
      const k = Number(kv.key.slice(2));
      expect(kv.value).toBe(n - 1 - ((n - 1 - k) % 300)); // the last write of each key wins
    }
    expect(await again.txn([{ op: 'put', key: 'after', value: 1 }])).toBe(last + 1);
    // The log was emptied by the compaction: far smaller than 5000 records.
    expect(logSize).toBeLessThan(1000 * 40);
  });

  it('a torn tail (garbage appended) is cut and the prior state loads', async () => {
    const s = await openStore();
    await s.txn([{ op: 'put', key: 'a', value: 1 }]);
    const r2 = await s.txn([{ op: 'put', key: 'b', value: 2 }]);
    await closeStore(s);
    const logPath = join(dir, 'store.log');
    const clean = (await stat(logPath)).size;
    // A half-written frame: a length header promising more than is there, then junk.
    const junk = Buffer.alloc(13);
    junk.writeUInt32BE(500, 0);
    junk.write('garbage', 8);
    await appendFile(logPath, junk);

    const again = await openStore();
    expect((await again.list('')).map((kv) => [kv.key, kv.value])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect((await stat(logPath)).size).toBe(clean); // cut on open
    // New records land right after the clean part, so a further reopen sees them.
    const r3 = await again.txn([{ op: 'put', key: 'c', value: 3 }]);
    expect(r3).toBe(r2 + 1);
    await closeStore(again);
    const third = await openStore();
    expect((await third.get('c'))?.value).toBe(3);
  });

  it('a log truncated mid-record loses only that last record', async () => {
    const s = await openStore();
    await s.txn([{ op: 'put', key: 'a', value: 'first' }]);
    const logPath = join(dir, 'store.log');
    const afterFirst = (await stat(logPath)).size;
    await s.txn([{ op: 'put', key: 'a', value: 'second' }, { op: 'put', key: 'b', value: 'second' }]);
    await closeStore(s);
    const full = (await stat(logPath)).size;
    for (const cut of [afterFirst + 3, afterFirst + 8, full - 1]) {
      const bytes = await readFile(logPath);
      await writeFile(logPath, bytes.subarray(0, cut));
      const again = await openStore();
      expect(await again.get('a')).toMatchObject({ value: 'first' });
      expect(await again.get('b')).toBeUndefined();
      await closeStore(again);
      expect((await stat(logPath)).size).toBe(afterFirst);
      // Restore the full log for the next cut position.
      await writeFile(logPath, bytes);
    }
  });

  it('a record with a flipped byte (bad checksum) ends the log there', async () => {
    const s = await openStore();
    await s.txn([{ op: 'put', key: 'a', value: 'kept' }]);
    const logPath = join(dir, 'store.log');
    const afterFirst = (await stat(logPath)).size;
    await s.txn([{ op: 'put', key: 'a', value: 'corrupt' }]);
    await closeStore(s);
    const bytes = await readFile(logPath);
    bytes[bytes.length - 3]! ^= 0xff;
    await writeFile(logPath, bytes);
    const again = await openStore();
    expect((await again.get('a'))?.value).toBe('kept');
    expect((await stat(logPath)).size).toBe(afterFirst);
  });

  it('refuses to open over a damaged snapshot instead of starting empty', async () => {
    const s = await openStore();
    await s.txn([{ op: 'put', key: 'a', value: 1 }]);
    await s.compact();
    await closeStore(s);
    const snapPath = join(dir, 'store.snap');
    const bytes = await readFile(snapPath);
    bytes[bytes.length - 2]! ^= 0xff;
    await writeFile(snapPath, bytes);
    await expect(FileStore.open(dir)).rejects.toThrow(/snapshot/);
  });
});

/** Output of one writer run: acknowledged (revision, audit key) pairs, in ack order. */
interface WriterRun {
  acks: { rev: number; key: string }[];
  initRev?: number;
  ready: boolean;
  stderr: string;
  exit: { code: number | null; signal: NodeJS.Signals | null };
}

/** Starts the writer, kills it `killAfterMs` after it reported ready, collects its acks. */
function runWriterUntilKilled(dataDir: string, killAfterMs: number): Promise<WriterRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [WRITER, COMPILED_STORE, dataDir, String(ACCOUNTS), String(INITIAL), '4', '40'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: WriterRun = { acks: [], ready: false, stderr: '', exit: { code: null, signal: null } };
    let buf = '';
    let timer: NodeJS.Timeout | undefined;
    const safety = setTimeout(() => child.kill('SIGKILL'), 10_000); // never leave it running
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [what, a, b2] = line.split(' ');
        if (what === 'ack') run.acks.push({ rev: Number(a), key: b2! });
        else if (what === 'init') run.initRev = Number(a);
        else if (what === 'ready' && !run.ready) {
          run.ready = true;
          timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      }
    });
    child.stderr.on('data', (b: Buffer) => (run.stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(safety);
      run.exit = { code, signal };
      resolveRun(run);
    });
  });
}

const ACCOUNTS = 6;
const INITIAL = 1000;

describe('FileStore crash safety (kill -9 of a real writer process)', () => {
  const haveDist = existsSync(COMPILED_STORE);
  if (!haveDist) {
    it.skip(`needs the compiled store at ${COMPILED_STORE}: run \`npx tsc -p tsconfig.json\` first`, () => undefined);
    return;
  }

  it('after every SIGKILL: the invariant holds, acked txns are durable, revisions never go back', async () => {
    const acked = new Map<string, number>(); // audit key -> acknowledged revision
    let highestSeen = 0;
    let totalAcks = 0;
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      const killAfter = 20 + Math.floor(Math.random() * 180);
      const run = await runWriterUntilKilled(dir, killAfter);
      expect(run.exit.signal, `writer died on its own (round ${round}): ${run.stderr}`).toBe('SIGKILL');
      expect(run.ready, `writer never got ready (round ${round}): ${run.stderr}`).toBe(true);
      for (const a of run.acks) acked.set(a.key, a.rev);
      totalAcks += run.acks.length;

      const s = await openStore();
      const balances = await s.list<{ amount: number }>('balance/');
      expect(balances).toHaveLength(ACCOUNTS);
      const sum = balances.reduce((t, kv) => t + kv.value.amount, 0);
      expect(sum, `money created or destroyed after round ${round}`).toBe(ACCOUNTS * INITIAL);
      for (const kv of balances) expect(kv.value.amount).toBeGreaterThanOrEqual(0);

      // Every acknowledged txn of every round so far is there, at the revision it was acked with.
      const audit = new Map((await s.list('audit/')).map((kv) => [kv.key, kv.revision]));
      for (const [key, rev] of acked) expect(audit.get(key), `acked ${key}@${rev} lost`).toBe(rev);
      // Nothing beyond acked ones was invented: each audit entry left a matching balance move.
      const storeRev = Math.max(...balances.map((kv) => kv.revision), ...audit.values());
      expect(storeRev).toBeGreaterThanOrEqual(highestSeen);
      for (const a of run.acks) expect(storeRev).toBeGreaterThanOrEqual(a.rev);
      highestSeen = storeRev;

      // The store keeps working after the crash: a new txn gets the next revision.
      if (round === rounds - 1) {
        const next = await s.txn([{ op: 'put', key: 'after-crash', value: true, expectRevision: 0 }]);
        expect(next).toBe(storeRev + 1);
      }
      await closeStore(s);
    }
    expect(totalAcks, 'the writer should have acknowledged some txns before being killed').toBeGreaterThan(rounds);
    expect(existsSync(join(dir, 'store.snap')), 'the writer compacted at least once').toBe(true);
    console.log(`store crash test: ${rounds} kills, ${totalAcks} acknowledged txns checked`);
  }, 60_000);
});
