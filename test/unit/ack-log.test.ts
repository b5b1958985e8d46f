import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AckLog } from '../../src/store/ack-log.js';
import { frame } from '../../src/store/frame.js';

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxmesh-acklog-'));
  path = join(dir, 'attach-acks');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('AckLog (host-local acknowledgements)', () => {
  it('keeps what was added across a reopen, and forgets it on clear', async () => {
    const first = await AckLog.open(path);
    expect(first.acked.size).toBe(0);
    await first.log.add(['ep-a', 'gw-a']);
    await first.log.add(['ep-b']);
    expect(first.log.size).toBe(3);
    await first.log.close();

    const second = await AckLog.open(path);
    expect([...second.acked].sort()).toEqual(['ep-a', 'ep-b', 'gw-a']);
    await second.log.clear();
    expect(second.log.size).toBe(0);
    await second.log.add(['ep-c']);
    await second.log.close();

    const third = await AckLog.open(path);
    expect([...third.acked]).toEqual(['ep-c']);
    await third.log.close();
  });

  it('cuts a torn last frame (a crash mid-append) and appends after the last whole one', async () => {
    const { log } = await AckLog.open(path);
    await log.add(['ep-a']);
    await log.close();
    const whole = (await stat(path)).size;
    // A crash part-way through the next append: a header and half a payload.
    await appendFile(path, frame({ ids: ['ep-torn'] }).subarray(0, 12));

    const reopened = await AckLog.open(path);
    expect([...reopened.acked]).toEqual(['ep-a']);
    expect((await stat(path)).size).toBe(whole);
    await reopened.log.add(['ep-b']);
    await reopened.log.close();
    expect([...(await AckLog.open(path).then(async (r) => (await r.log.close(), r.acked)))].sort()).toEqual(['ep-a', 'ep-b']);
  });

  it('stops at a frame that is not an ack list (never reads ids out of damage)', async () => {
    await writeFile(path, Buffer.concat([frame({ ids: ['ep-a'] }), frame({ other: 1 }), frame({ ids: ['ep-after'] })]));
    const { log, acked } = await AckLog.open(path);
    expect([...acked]).toEqual(['ep-a']);
    await log.close();
    expect((await readFile(path)).length).toBe(frame({ ids: ['ep-a'] }).length);
  });

  it('adds in call order when appends overlap', async () => {
    const { log } = await AckLog.open(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.add([`ep-${i}`])));
    await log.close();
    const { log: again, acked } = await AckLog.open(path);
    expect([...acked]).toEqual(Array.from({ length: 50 }, (_, i) => `ep-${i}`));
    await again.close();
  });
});
