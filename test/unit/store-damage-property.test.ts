import fc from 'fast-check';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame } from '../../src/store/frame.js';
import { FileStore, StoreCorruptError } from '../../src/store/index.js';

// Random damage to a real store.log: a plain open either loads the state after some prefix of the
// transactions (only a torn tail was cut) or refuses with StoreCorruptError and changes nothing;
// salvage always opens and never invents a value.

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vxmesh-store-damage-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

type Op = [string, number | null];
type Damage =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'zero'; at: number; len: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number };

function applyDamage(buf: Buffer, d: Damage): Buffer {
  const at = Math.floor(d.at * buf.length);
  switch (d.kind) {
    case 'flip': {
      const b = Buffer.from(buf);
      if (b.length) b[Math.min(at, b.length - 1)]! ^= d.mask;
      return b;
    }
    case 'zero': {
      const b = Buffer.from(buf);
      b.fill(0, at, Math.min(b.length, at + d.len));
      return b;
    }
    case 'insert':
      return Buffer.concat([buf.subarray(0, at), Buffer.from(d.bytes), buf.subarray(at)]);
    case 'truncate':
      return buf.subarray(0, at);
  }
}

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 0.9999, noNaN: true }), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('zero' as const), at: fc.double({ min: 0, max: 0.9999, noNaN: true }), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 0.9999, noNaN: true }) }),
);

const txnsArb = fc.array(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.option(fc.integer({ min: 0, max: 99 }))), { minLength: 1, maxLength: 3 }), {
  minLength: 1,
  maxLength: 8,
});

describe('FileStore under random damage', () => {
  it('property: refuse-and-change-nothing or a prefix of the txns; salvage never invents a value', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(txnsArb, fc.array(damageArb, { minLength: 1, maxLength: 3 }), async (txns, damages) => {
        const dir = join(root, `r${run++}`);
        await mkdir(dir);
        // The log a store would have written, and the state after each prefix of it.
        const prefixStates: string[] = [];
        const written = new Set<string>(); // "key=value@rev" of every put
        const state = new Map<string, [number, number]>();
        prefixStates.push(JSON.stringify([...state].sort()));
        const records = txns.map((ops: Op[], i) => {
          const rev = i + 1;
          for (const [k, v] of ops) {
            if (v === null) state.delete(k);
            else {
              state.set(k, [v, rev]);
              written.add(`${k}=${v}@${rev}`);
            }
          }
          prefixStates.push(JSON.stringify([...state].sort()));
          return frame({ rev, ops });
        });
        let log: Buffer = Buffer.concat(records);
        for (const d of damages) log = applyDamage(log, d);
        await writeFile(join(dir, 'store.log'), log);

        const opened = await FileStore.open(dir).catch((e: unknown) => e);
        if (opened instanceof FileStore) {
          const got = (await opened.list<number>('')).map((kv) => [kv.key, [kv.value, kv.revision]]).sort();
          await opened.close();
          expect(prefixStates).toContain(JSON.stringify(got));
        } else {
          expect(opened).toBeInstanceOf(StoreCorruptError);
          expect(await readFile(join(dir, 'store.log'))).toEqual(log);
          expect(await readdir(dir)).toEqual(['store.log']);
        }

        const salvaged = await FileStore.open(dir, { salvage: true });
        const kept = await salvaged.list<number>('');
        for (const kv of kept) expect(written).toContain(`${kv.key}=${kv.value}@${kv.revision}`);
        await salvaged.close();
        // After a salvage the store is consistent again: a plain open sees the same.
        const plain = await FileStore.open(dir);
        expect(await plain.list('')).toEqual(kept);
        await plain.close();
        await rm(dir, { recursive: true, force: true });
      }),
      { numRuns: 200 },
    );
  });
});
