import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore, StoreCorruptError } from '../../src/store/index.js';

// Torn tail (cut, open) versus corruption (refuse, change nothing) versus salvage (keep what verifies).

let dir: string;
const opened: FileStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxmesh-store-corrupt-'));
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function openStore(options?: { salvage?: boolean }): Promise<FileStore> {
  const s = await FileStore.open(dir, options);
  opened.push(s);
  return s;
}
async function closeStore(s: FileStore): Promise<void> {
  opened.splice(opened.indexOf(s), 1);
  await s.close();
}

const logPath = () => join(dir, 'store.log');
const snapPath = () => join(dir, 'store.snap');

/** Writes `n` txns (key k/<i> = i) and returns where each record starts in store.log, plus its end. */
async function writeRecords(n: number, compactAfter?: number): Promise<{ starts: number[]; end: number }> {
  const s = await openStore();
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    starts.push((await stat(logPath())).size);
    await s.txn([{ op: 'put', key: `k/${String(i).padStart(2, '0')}`, value: { i, pad: 'x'.repeat(i % 5) } }]);
    if (compactAfter !== undefined && i === compactAfter) await s.compact();
    if (compactAfter !== undefined && i === compactAfter) starts.length = 0;
  }
  await closeStore(s);
  return { starts, end: (await stat(logPath())).size };
}

async function dirState(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = (await readFile(join(dir, f))).toString('base64');
  return out;
}

async function flip(path: string, offset: number, mask = 0xff): Promise<void> {
  const b = await readFile(path);
  b[offset]! ^= mask;
  await writeFile(path, b);
}

describe('FileStore open: torn tail or corruption', () => {
  it('a flipped byte anywhere before the last record refuses to open, names file and record, changes nothing', async () => {
    const { starts, end } = await writeRecords(4);
    const last = starts[starts.length - 1]!;
    const pristine = await readFile(logPath());
    for (let off = 0; off < end; off++) {
      await writeFile(logPath(), pristine);
      await flip(logPath(), off);
      const before = await dirState();
      const err = await FileStore.open(dir).then(
        (s) => {
          opened.push(s);
          return s;
        },
        (e: unknown) => e,
      );
      if (off < last) {
        expect(err, `flip at ${off}`).toBeInstanceOf(StoreCorruptError);
        const c = err as StoreCorruptError;
        const recordStart = starts.filter((s) => s <= off).pop()!;
        expect(c.file).toBe(logPath());
        expect(c.offset, `flip at ${off}`).toBe(recordStart);
        expect(c.message).toContain(logPath());
        expect(c.message).toContain(`byte ${recordStart}`);
        expect(c.message).toContain('nothing was changed');
        expect(c.message).toContain('vxmesh agent --salvage');
        expect(await dirState(), `flip at ${off} changed the data dir`).toEqual(before);
      } else {
        // Damage inside the last record is what a torn append looks like: it is cut, the rest loads.
        expect(err, `flip at ${off}`).toBeInstanceOf(FileStore);
        const s = err as FileStore;
        expect((await s.list('k/')).map((kv) => kv.key)).toEqual(['k/00', 'k/01', 'k/02']);
        await closeStore(s);
        expect((await stat(logPath())).size).toBe(last);
      }
    }
  });

  it('bytes flipped at several offsets in the middle: refused at the first damaged record', async () => {
    const { starts } = await writeRecords(20);
    await flip(logPath(), starts[4]! + 12);
    await flip(logPath(), starts[9]! + 1);
    await flip(logPath(), starts[15]! + 20);
    const before = await dirState();
    const err = (await FileStore.open(dir).catch((e: unknown) => e)) as StoreCorruptError;
    expect(err).toBeInstanceOf(StoreCorruptError);
    expect(err.offset).toBe(starts[4]);
    expect(err.detail).toMatch(/checksum mismatch; a valid record follows at byte \d+/);
    expect(await dirState()).toEqual(before);
  });

  it('a log truncated at every byte of its last record opens with the records before it', async () => {
    const { starts, end } = await writeRecords(4);
    const last = starts[3]!;
    const pristine = await readFile(logPath());
    for (let cut = last; cut < end; cut++) {
      await writeFile(logPath(), pristine.subarray(0, cut));
      const s = await openStore();
      expect((await s.list('k/')).length).toBe(3);
      await closeStore(s);
      expect((await stat(logPath())).size).toBe(last);
    }
  });

  it('zeros or random garbage after the last record are a torn tail', async () => {
    const { end } = await writeRecords(3);
    const pristine = await readFile(logPath());
    for (const tail of [Buffer.alloc(4096), Buffer.from('\x00\x00\x01\x00garbage that never finished'), Buffer.from([0, 0, 0, 2, 0, 0, 0, 0, 0x7b, 0x22])]) {
      await writeFile(logPath(), Buffer.concat([pristine, tail]));
      const s = await openStore();
      expect((await s.list('k/')).length).toBe(3);
      await closeStore(s);
      expect((await stat(logPath())).size).toBe(end);
    }
  });

  it('a damaged snapshot refuses to open and changes nothing; so do extra bytes after it', async () => {
    await writeRecords(5, 2);
    const pristine = await readFile(snapPath());
    await flip(snapPath(), 10);
    let before = await dirState();
    let err = (await FileStore.open(dir).catch((e: unknown) => e)) as StoreCorruptError;
    expect(err).toBeInstanceOf(StoreCorruptError);
    expect(err.file).toBe(snapPath());
    expect(err.offset).toBe(0);
    expect(err.message).toMatch(/snapshot: checksum mismatch/);
    expect(await dirState()).toEqual(before);

    await writeFile(snapPath(), Buffer.concat([pristine, Buffer.from('junk')]));
    before = await dirState();
    err = (await FileStore.open(dir).catch((e: unknown) => e)) as StoreCorruptError;
    expect(err).toBeInstanceOf(StoreCorruptError);
    expect(err.offset).toBe(pristine.length);
    expect(await dirState()).toEqual(before);
  });
});

describe('FileStore open: records lost without a damaged byte', () => {
  it('a deleted store.snap (the log starts after it) refuses to open instead of starting with part of the state', async () => {
    await writeRecords(6, 2); // snapshot at revision 3, the log holds revisions 4..6
    await rm(snapPath());
    const before = await dirState();
    const err = (await FileStore.open(dir).catch((e: unknown) => e)) as StoreCorruptError;
    expect(err).toBeInstanceOf(StoreCorruptError);
    expect(err.file).toBe(logPath());
    expect(err.offset).toBe(0);
    expect(err.detail).toMatch(/revision 4 but the snapshot ends at revision 0 \(no store.snap\)/);
    expect(await dirState()).toEqual(before);
    // Salvage keeps what is there, and says so.
    const s = await openStore({ salvage: true });
    expect(s.salvageReport).toMatchObject({ file: logPath(), offset: 0, kept: 3, dropped: 1 });
    expect((await s.list('k/')).map((kv) => kv.key)).toEqual(['k/03', 'k/04', 'k/05']);
    expect(await s.txn([{ op: 'put', key: 'next', value: 1 }])).toBe(7);
  });
});

describe('FileStore salvage', () => {
  it('keeps every record that verifies, moves the damaged log aside byte for byte, and stays consistent', async () => {
    const { starts } = await writeRecords(10);
    await flip(logPath(), starts[3]! + 10);
    await flip(logPath(), starts[6]! + 2);
    const damagedBytes = await readFile(logPath());
    const s = await openStore({ salvage: true });
    const report = s.salvageReport!;
    expect(report).toMatchObject({ file: logPath(), offset: starts[3], kept: 8, dropped: 2 });
    expect(report.movedTo).toMatch(/store\.log\.damaged-\d{8}T\d{6}Z$/);
    expect(await readFile(report.movedTo)).toEqual(damagedBytes);
    const keys = (await s.list('k/')).map((kv) => kv.key);
    expect(keys).toEqual(['k/00', 'k/01', 'k/02', 'k/04', 'k/05', 'k/07', 'k/08', 'k/09']);
    const rev = await s.txn([{ op: 'put', key: 'after', value: 1 }]);
    expect(rev).toBe(11); // revisions never go back
    await closeStore(s);
    // A plain open now works and sees the same.
    const again = await openStore();
    expect(again.salvageReport).toBeUndefined();
    expect((await again.list('k/')).map((kv) => kv.key)).toEqual(keys);
    expect((await again.get('after'))?.revision).toBe(11);
  });

  it('a damaged snapshot is moved aside and the log records that verify are kept', async () => {
    await writeRecords(6, 2); // snapshot holds k/00..k/02, the log k/03..k/05
    await flip(snapPath(), 12);
    const damagedSnap = await readFile(snapPath());
    const s = await openStore({ salvage: true });
    expect(s.salvageReport).toMatchObject({ file: snapPath(), offset: 0, kept: 3, dropped: 1 });
    expect(await readFile(s.salvageReport!.movedTo)).toEqual(damagedSnap);
    expect((await s.list('k/')).map((kv) => kv.key)).toEqual(['k/03', 'k/04', 'k/05']);
  });

  it('both files damaged: both are moved aside and listed', async () => {
    const { starts } = await writeRecords(6, 1);
    await flip(snapPath(), 12);
    await flip(logPath(), starts[1]! + 9);
    const s = await openStore({ salvage: true });
    expect(s.salvageReport!.damaged.map((d) => d.file)).toEqual([snapPath(), logPath()]);
    const files = await readdir(dir);
    expect(files.filter((f) => f.includes('.damaged-')).length).toBe(2);
  });

  it('without damage salvage is a normal open that moves nothing', async () => {
    await writeRecords(3);
    const before = await dirState();
    const s = await openStore({ salvage: true });
    expect(s.salvageReport).toBeUndefined();
    expect((await s.list('k/')).length).toBe(3);
    await closeStore(s);
    expect(await dirState()).toEqual(before);
  });
});
