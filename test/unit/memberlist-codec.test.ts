import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MsgpackWriter, decodeValue, MsgpackTruncated } from '../../src/gossip/memberlist/msgpack.js';
import {
  decodeBody,
  decodeCompound,
  encodeAlive,
  encodeCompound,
  encodeIndirectPing,
  encodePing,
  encodePushPull,
  encodeStreamUserMsg,
  readAlive,
  readIndirectPing,
  readPing,
  readPushNodeState,
  readPushPullHeader,
  readSuspect,
  encodeSuspect,
  encodeAck,
  readAck,
  readUserMsgHeader,
} from '../../src/gossip/memberlist/messages.js';
import { decodeStruct } from '../../src/gossip/memberlist/msgpack.js';
import { lzwCompress, lzwDecompress } from '../../src/gossip/memberlist/lzw.js';
import { crc32 } from '../../src/util/crc32.js';
import { decryptPayload, encryptPayload, encryptedLength } from '../../src/gossip/memberlist/security.js';
import { addLabelHeader, removeLabelHeader } from '../../src/gossip/memberlist/label.js';
import { Keyring } from '../../src/gossip/memberlist/keyring.js';
import { suspicionTimeoutAfter, suspicionTimeoutMs } from '../../src/gossip/memberlist/suspicion.js';
import { TransmitLimitedQueue, retransmitLimit } from '../../src/gossip/memberlist/broadcast-queue.js';
import { ipFromBytes, ipToBytes } from '../../src/gossip/memberlist/addr.js';

const hex = (b: Buffer): string => b.toString('hex');
const s = (text: string): string => Buffer.from(text).toString('hex');

describe('msgpack (go-msgpack dialect) golden bytes', () => {
  it('encodes integers in the smallest form, non-negative as unsigned', () => {
    const enc = (v: number): string => hex(new MsgpackWriter().int(v).finish());
    expect(enc(0)).toBe('00');
    expect(enc(127)).toBe('7f');
    expect(enc(128)).toBe('cc80');
    expect(enc(255)).toBe('ccff');
    expect(enc(256)).toBe('cd0100');
    expect(enc(65535)).toBe('cdffff');
    expect(enc(65536)).toBe('ce00010000');
    expect(enc(0xffffffff)).toBe('ceffffffff');
    expect(enc(2 ** 32)).toBe('cf0000000100000000');
    expect(enc(-1)).toBe('ff');
    expect(enc(-32)).toBe('e0');
    expect(enc(-33)).toBe('d0df');
    expect(enc(-129)).toBe('d1ff7f');
  });

  it('writes strings and []byte in the str family only (never str8/bin), nil for nil', () => {
    const str = (n: number): string => hex(new MsgpackWriter().str('x'.repeat(n)).finish()).slice(0, 6);
    expect(str(0)).toBe('a0');
    expect(str(31).slice(0, 2)).toBe('bf');
    expect(str(32)).toBe('da0020'); // not d9 (str8)
    expect(str(255)).toBe('da00ff');
    expect(hex(new MsgpackWriter().str('x'.repeat(70000)).finish()).slice(0, 10)).toBe('db00011170');
    expect(hex(new MsgpackWriter().bytes(Buffer.from([1, 2])).finish())).toBe('a20102');
    expect(hex(new MsgpackWriter().bytes(Buffer.alloc(0)).finish())).toBe('a0');
    expect(hex(new MsgpackWriter().bytes(null).finish())).toBe('c0');
    expect(hex(new MsgpackWriter().bool(true).bool(false).finish())).toBe('c3c2');
  });

  it('encodes a ping as a map keyed by Go field names, omitting empty omitempty fields', () => {
    const bare = encodePing({ seqNo: 1, node: 'a', sourceAddr: null, sourcePort: 0, sourceNode: '' });
    expect(hex(bare)).toBe('00' + '82' + 'a5' + s('SeqNo') + '01' + 'a4' + s('Node') + 'a1' + s('a'));
    const full = encodePing({ seqNo: 300, node: 'b', sourceAddr: Buffer.from([127, 0, 0, 1]), sourcePort: 7946, sourceNode: 'me' });
    expect(hex(full)).toBe(
      '00' + '85' + 'a5' + s('SeqNo') + 'cd012c' + 'a4' + s('Node') + 'a1' + s('b') +
        'aa' + s('SourceAddr') + 'a47f000001' + 'aa' + s('SourcePort') + 'cd1f0a' + 'aa' + s('SourceNode') + 'a2' + s('me'),
    );
  });

  it('encodes alive with Addr/Meta/Vsn as raw strings and nil Meta as nil', () => {
    const a = encodeAlive({
      incarnation: 2,
      node: 'n1',
      addr: Buffer.from([10, 0, 0, 1]),
      port: 7946,
      meta: null,
      vsn: Buffer.from([1, 5, 2, 0, 0, 0]),
    });
    expect(hex(a)).toBe(
      '04' + '86' + 'ab' + s('Incarnation') + '02' + 'a4' + s('Node') + 'a2' + s('n1') + 'a4' + s('Addr') + 'a40a000001' +
        'a4' + s('Port') + 'cd1f0a' + 'a4' + s('Meta') + 'c0' + 'a3' + s('Vsn') + 'a6010502000000',
    );
  });

  it('decodes str8 and bin forms too, and skips unknown keys', () => {
    // {"Node": str8 "zz", "Extra": [1,2], "SeqNo": 5, "SourceAddr": bin8 [1,2,3,4]}
    const body = Buffer.from(
      '84' + 'a4' + s('Node') + 'd902' + s('zz') + 'a5' + s('Extra') + '920102' + 'a5' + s('SeqNo') + '05' +
        'aa' + s('SourceAddr') + 'c40401020304',
      'hex',
    );
    const p = decodeBody('ping', readPing, body);
    expect(p).toEqual({ seqNo: 5, node: 'zz', sourceAddr: Buffer.from([1, 2, 3, 4]), sourcePort: 0, sourceNode: '' });
  });

  it('rejects wrong field types, out-of-range ints and truncated input', () => {
    const wrongType = Buffer.from('81' + 'a4' + s('Node') + '05', 'hex');
    expect(() => decodeBody('ping', readPing, wrongType)).toThrow(/Node/);
    const tooBig = Buffer.from('81' + 'a4' + s('Port') + 'ce00010000', 'hex');
    expect(() => decodeBody('alive', readAlive, tooBig)).toThrow(/Port/);
    const negativeCount = Buffer.from('81' + 'a5' + s('Nodes') + 'ff', 'hex');
    expect(() => decodeBody('pushPullHeader', readPushPullHeader, negativeCount)).toThrow(/Nodes/);
    expect(() => decodeValue(Buffer.from('82a1', 'hex'), 0)).toThrow(MsgpackTruncated);
    expect(() => decodeValue(Buffer.from('c1', 'hex'), 0)).toThrow(/unsupported/);
  });
});

describe('message round trips', () => {
  const ip = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })).map((a) => Buffer.from(a));
  const name = fc.string({ minLength: 1, maxLength: 40 });
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const u16 = fc.integer({ min: 0, max: 0xffff });
  const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), { nil: null });

  it('alive, suspect, ping, indirect ping and ack survive encode/decode', () => {
    fc.assert(
      fc.property(u32, name, ip, u16, bytesOrNull, (inc, node, addr, port, meta) => {
        const alive = { incarnation: inc, node, addr, port, meta, vsn: Buffer.from([1, 5, 2, 0, 0, 0]) };
        expect(decodeBody('alive', readAlive, encodeAlive(alive).subarray(1))).toEqual(alive);
        const sus = { incarnation: inc, node, from: node + 'x' };
        expect(decodeBody('suspect', readSuspect, encodeSuspect(sus).subarray(1))).toEqual(sus);
        const ping = { seqNo: inc, node, sourceAddr: addr, sourcePort: port || 1, sourceNode: 'src' };
        expect(decodeBody('ping', readPing, encodePing(ping).subarray(1))).toEqual(ping);
        const ind = { seqNo: inc, target: addr, port, node, nack: inc % 2 === 0, sourceAddr: addr, sourcePort: port || 1, sourceNode: 's' };
        expect(decodeBody('ind', readIndirectPing, encodeIndirectPing(ind).subarray(1))).toEqual(ind);
        const ack = { seqNo: inc, payload: meta };
        expect(decodeBody('ack', readAck, encodeAck(ack).subarray(1))).toEqual(ack);
      }),
      { numRuns: 300 },
    );
  });

  it('push/pull stream: header, node states, then raw user state right after', () => {
    const nodes = [
      { name: 'a', addr: Buffer.from([1, 2, 3, 4]), port: 7946, meta: Buffer.from('m'), incarnation: 7, state: 0, vsn: Buffer.from([1, 5, 2, 0, 0, 0]) },
      { name: 'b', addr: Buffer.alloc(16, 9), port: 1, meta: null, incarnation: 1, state: 3, vsn: Buffer.from([1, 5, 2, 0, 0, 0]) },
    ];
    const user = Buffer.from('USERSTATE');
    const buf = encodePushPull(nodes, user, true);
    expect(buf[0]).toBe(6);
    let [f, pos] = decodeStruct('h', buf, 1);
    expect(readPushPullHeader(f)).toEqual({ nodes: 2, userStateLen: 9, join: true });
    const decoded = [];
    for (let i = 0; i < 2; i++) {
      [f, pos] = decodeStruct('n', buf, pos);
      decoded.push(readPushNodeState(f));
    }
    expect(decoded).toEqual(nodes);
    expect(buf.subarray(pos).toString()).toBe('USERSTATE');

    const um = encodeStreamUserMsg(Buffer.from('hi'));
    const [uf, upos] = decodeStruct('u', um, 1);
    expect(readUserMsgHeader(uf)).toEqual({ userMsgLen: 2 });
    expect(um.subarray(upos).toString()).toBe('hi');
  });

  it('compound: count, BE lengths, parts; truncated parts are reported', () => {
    const c = encodeCompound([Buffer.from('ab'), Buffer.from('c')]);
    expect(hex(c)).toBe('07' + '02' + '0002' + '0001' + s('abc'));
    expect(decodeCompound(c.subarray(1))).toEqual({ parts: [Buffer.from('ab'), Buffer.from('c')], truncated: 0 });
    expect(decodeCompound(c.subarray(1, c.length - 1)).truncated).toBe(1);
    expect(() => decodeCompound(Buffer.from([5, 0]))).toThrow();
  });
});

describe('LZW (Go compress/lzw, LSB, width 8)', () => {
  it('matches bytes produced by Go for a short text and for empty input', () => {
    const text = Buffer.from('hello hello hello hello memberlist memberlist');
    const goBytes = '00d19461c3e60d0881040d222c787020c33665da882923874d9a397440409448d122c680';
    expect(hex(lzwCompress(text))).toBe(goBytes);
    expect(lzwDecompress(Buffer.from(goBytes, 'hex')).toString()).toBe(text.toString());
    expect(hex(lzwCompress(Buffer.alloc(0)))).toBe('000302');
    expect(lzwDecompress(Buffer.from('000302', 'hex')).length).toBe(0);
  });

  it('matches Go on 20000 bytes that cross every code width and a table reset', () => {
    const big = Buffer.alloc(20000);
    for (let i = 0; i < big.length; i++) big[i] = (i * i + Math.floor(i / 7)) % 251;
    const out = lzwCompress(big);
    expect(out.length).toBe(17773);
    expect(createHash('sha256').update(out).digest('hex')).toBe('a73e55639df0c08da264b723186cabcd3478e4ad43d9ffd63ed155b93b0164b1');
    expect(lzwDecompress(out).equals(big)).toBe(true);
  });

  it('round-trips arbitrary data and rejects garbage and output bombs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), (a) => {
        const b = Buffer.from(a);
        expect(lzwDecompress(lzwCompress(b)).equals(b)).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(() => lzwDecompress(Buffer.from([0xff, 0xff, 0xff]))).toThrow(/lzw/);
    expect(() => lzwDecompress(lzwCompress(Buffer.alloc(100000)), 1000)).toThrow(/exceeds/);
  });
});

describe('crc32, labels, addresses', () => {
  it('crc32 is IEEE', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
  it('label header is 244 | len | label', () => {
    expect(hex(addLabelHeader(Buffer.from([1]), 'ab'))).toBe('f402616201');
    expect(addLabelHeader(Buffer.from([1]), '').equals(Buffer.from([1]))).toBe(true);
    expect(removeLabelHeader(Buffer.from('f40261620102', 'hex'))).toEqual({ label: 'ab', rest: Buffer.from([1, 2]) });
    expect(() => removeLabelHeader(Buffer.from('f40561', 'hex'))).toThrow();
    expect(() => removeLabelHeader(Buffer.from('f400', 'hex'))).toThrow();
  });
  it('IP bytes follow Go net.IP', () => {
    expect(ipToBytes('10.1.2.3').equals(Buffer.from([10, 1, 2, 3]))).toBe(true);
    expect(ipFromBytes(Buffer.from('00000000000000000000ffff0a010203', 'hex'))).toBe('10.1.2.3');
    expect(ipFromBytes(ipToBytes('fe80::1'))).toBe('fe80::1');
    expect(ipToBytes('::1').length).toBe(16);
  });
});

describe('encryption (AES-GCM, versions 0 and 1)', () => {
  const key = Buffer.alloc(16, 1);
  const msg = Buffer.from('gossip payload');

  for (const vsn of [0, 1] as const) {
    for (const aad of [Buffer.alloc(0), Buffer.from('label')]) {
      it(`version ${vsn} ${aad.length ? 'with' : 'without'} AAD round-trips and has the documented length`, () => {
        const blob = encryptPayload(vsn, key, msg, aad);
        expect(blob[0]).toBe(vsn);
        expect(blob.length).toBe(encryptedLength(vsn, msg.length));
        expect(blob.length - msg.length).toBe(vsn === 0 ? 13 + 16 + (16 - (msg.length % 16)) : 29);
        expect(decryptPayload([key], blob, aad).equals(msg)).toBe(true);
        expect(() => decryptPayload([key], blob, Buffer.from('other'))).toThrow(/no installed keys/);
        const tampered = Buffer.from(blob);
        tampered[tampered.length - 1]! ^= 1;
        expect(() => decryptPayload([key], tampered, aad)).toThrow();
      });
    }
  }

  it('tries every key in the keyring; rejects unknown keys and bad versions', () => {
    const other = Buffer.alloc(32, 2);
    const ring = new Keyring(key, [other]);
    const blob = encryptPayload(1, other, msg, Buffer.alloc(0));
    expect(decryptPayload(ring.getKeys(), blob, Buffer.alloc(0)).equals(msg)).toBe(true);
    expect(() => decryptPayload([key], blob, Buffer.alloc(0))).toThrow();
    const v2 = Buffer.from(blob);
    v2[0] = 2;
    expect(() => decryptPayload(ring.getKeys(), v2, Buffer.alloc(0))).toThrow(/version/);
    expect(() => new Keyring(Buffer.alloc(15))).toThrow(/16, 24 or 32/);
    ring.useKey(other);
    expect(ring.primaryKey().equals(other)).toBe(true);
  });
});

describe('Lifeguard suspicion timeout', () => {
  it('follows memberlist suspicionTimeout', () => {
    expect(suspicionTimeoutMs(4, 3, 1000)).toBe(4000);
    expect(suspicionTimeoutMs(4, 1, 1000)).toBe(4000);
    expect(suspicionTimeoutMs(4, 100, 1000)).toBe(8000);
    expect(suspicionTimeoutMs(4, 1000, 200)).toBe(2400);
    expect(suspicionTimeoutMs(4, 50, 1000)).toBe(6792); // log10(50)=1.69897 -> 1698 * 4
  });
  it('confirmations drive the timeout from max to min', () => {
    const min = 4000;
    const max = 24000;
    expect(suspicionTimeoutAfter(0, 2, min, max)).toBe(max);
    expect(suspicionTimeoutAfter(1, 2, min, max)).toBe(Math.floor(1000 * (24 - (Math.log(2) / Math.log(3)) * 20)));
    expect(suspicionTimeoutAfter(2, 2, min, max)).toBe(min);
    expect(suspicionTimeoutAfter(5, 2, min, max)).toBe(min);
  });
});

describe('TransmitLimitedQueue', () => {
  it('retransmit limit is RetransmitMult * ceil(log10(N+1))', () => {
    expect(retransmitLimit(4, 1)).toBe(4);
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 99)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
  });

  it('one clamping rule: a broadcast goes out at least once, even with no peers counted', () => {
    expect(retransmitLimit(4, 0)).toBe(1);
    expect(retransmitLimit(4, -3)).toBe(1);
    const q = new TransmitLimitedQueue(() => 0, 4);
    q.queueBroadcast({ message: Buffer.from('x') });
    expect(q.getBroadcasts(0, 100)).toHaveLength(1);
    expect(q.numQueued()).toBe(0);
  });

  it('maxCount takes at most that many (an oversized event goes out alone)', () => {
    const q = new TransmitLimitedQueue(() => 3, 4);
    for (const t of ['a', 'b', 'c']) q.queueBroadcast({ message: Buffer.alloc(2000, t) });
    expect(q.getBroadcasts(6, 1400)).toHaveLength(0);
    expect(q.getBroadcasts(6, Number.MAX_SAFE_INTEGER, 1)).toHaveLength(1);
    expect(q.numQueued()).toBe(3);
  });

  it('sends each broadcast exactly limit times, fewer-transmitted first, within the byte budget', () => {
    const q = new TransmitLimitedQueue(() => 9, 4);
    let finished = 0;
    q.queueBroadcast({ message: Buffer.alloc(10, 1), finished: () => finished++ });
    const counts = new Map<number, number>();
    for (let round = 0; round < 10; round++) {
      if (round === 2) q.queueBroadcast({ message: Buffer.alloc(10, 2), finished: () => finished++ });
      // room for exactly one 10-byte message with overhead 2
      const got = q.getBroadcasts(2, 13);
      expect(got.length).toBeLessThanOrEqual(1);
      for (const m of got) counts.set(m[0]!, (counts.get(m[0]!) ?? 0) + 1);
      if (round === 2) expect(got[0]![0]).toBe(2); // the fresh one goes first
    }
    expect(counts.get(1)).toBe(4);
    expect(counts.get(2)).toBe(4);
    expect(finished).toBe(2);
    expect(q.numQueued()).toBe(0);
  });

  it('a named broadcast replaces the queued one of the same name', () => {
    const q = new TransmitLimitedQueue(() => 3, 4);
    let replaced = 0;
    q.queueBroadcast({ name: 'n1', message: Buffer.from('old'), finished: () => replaced++ });
    q.queueBroadcast({ name: 'n1', message: Buffer.from('new') });
    q.queueBroadcast({ name: 'n2', message: Buffer.from('other') });
    expect(replaced).toBe(1);
    expect(q.getBroadcasts(0, 1000).map((b) => b.toString()).sort()).toEqual(['new', 'other']);
  });

  it('larger messages first within a tier; skips what does not fit', () => {
    const q = new TransmitLimitedQueue(() => 3, 4);
    q.queueBroadcast({ message: Buffer.alloc(5, 5), unique: true });
    q.queueBroadcast({ message: Buffer.alloc(50, 50), unique: true });
    q.queueBroadcast({ message: Buffer.alloc(20, 20), unique: true });
    expect(q.getBroadcasts(0, 30).map((b) => b.length)).toEqual([20, 5]);
  });
});

describe('Keyring key checks (src/model gossip-key rule)', () => {
  it('rejects junk base64 and wrong sizes with a VxError that names the key and never repeats it', () => {
    const good = Buffer.alloc(16, 7).toString('base64');
    expect(Keyring.fromBase64([good]).primaryKey().length).toBe(16);
    const junk = 'not*base64';
    expect(() => Keyring.fromBase64([good, junk], (i) => `key file line ${i + 1}`)).toThrow(/key file line 2 is not valid base64/);
    try {
      Keyring.fromBase64([junk]);
    } catch (e) {
      expect((e as Error).message).not.toContain(junk);
      expect((e as { code?: string }).code).toBe('INVALID_ARGUMENT');
    }
    expect(() => Keyring.fromBase64([Buffer.alloc(20).toString('base64')])).toThrow(/20 bytes; a gossip key must be 16, 24 or 32 bytes/);
    expect(() => new Keyring(Buffer.alloc(8))).toThrow(/16, 24 or 32 bytes/);
    expect(() => Keyring.fromBase64([])).toThrow(/at least one gossip key/);
  });
});
