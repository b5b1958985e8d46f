import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MessageType,
  NetworkDB,
  ProtoDecodeError,
  decodeBulkSyncMessage,
  decodeCompoundMessage,
  decodeGossipMessage,
  decodeNetworkEntry,
  decodeNetworkEvent,
  decodeNetworkPushPull,
  decodeNodeEvent,
  decodeTableEvent,
  encodeBulkSyncMessage,
  encodeCompoundMessage,
  encodeGossipMessage,
  encodeNetworkEvent,
  encodeNetworkPushPull,
  encodeNodeEvent,
  encodeTableEvent,
  type TableEvent,
} from '../../src/gossip/networkdb/index.js';

const hex = (b: Buffer): string => b.toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('networkdb protobuf golden bytes (hand-derived from networkdb.proto field numbers)', () => {
  it('GossipMessage', () => {
    expect(hex(encodeGossipMessage({ type: MessageType.TABLE_EVENT, data: bytes('aa') }))).toBe('080212' + '01aa');
  });

  it('TableEvent create', () => {
    const ev: TableEvent = {
      type: 1,
      lTime: 5n,
      nodeName: 'n1',
      networkId: 'net',
      tableName: 't',
      key: 'k',
      value: bytes('0102'),
      residualReapTime: 0,
    };
    expect(hex(encodeTableEvent(ev))).toBe('0801' + '1005' + '1a026e31' + '22036e6574' + '2a0174' + '32016b' + '3a020102');
  });

  it('TableEvent delete with residual reap time, and negative int32 sign-extended to 10 bytes', () => {
    const base: TableEvent = {
      type: 3,
      lTime: 1n,
      nodeName: '',
      networkId: '',
      tableName: '',
      key: '',
      value: Buffer.alloc(0),
      residualReapTime: 1800,
    };
    expect(hex(encodeTableEvent(base))).toBe('0803' + '1001' + '40880e');
    expect(hex(encodeTableEvent({ ...base, residualReapTime: -1 }))).toBe('0803' + '1001' + '40ffffffffffffffffff01');
    expect(decodeTableEvent(encodeTableEvent({ ...base, residualReapTime: -1 })).residualReapTime).toBe(-1);
  });

  it('NetworkEvent and NodeEvent', () => {
    expect(hex(encodeNetworkEvent({ type: 1, lTime: 300n, nodeName: 'a', networkId: 'n' }))).toBe('0801' + '10ac02' + '1a0161' + '22016e');
    expect(hex(encodeNodeEvent({ type: 2, lTime: 1n, nodeName: 'a' }))).toBe('0802' + '1001' + '1a0161');
  });

  it('NetworkPushPull with a nested NetworkEntry', () => {
    const pp = encodeNetworkPushPull({
      lTime: 7n,
      networks: [{ networkId: 'x', lTime: 1n, nodeName: 'a', leaving: true }],
      nodeName: 'b',
    });
    expect(hex(pp)).toBe('0807' + '120a' + '0a0178' + '1001' + '1a0161' + '2001' + '1a0162');
  });

  it('BulkSyncMessage with repeated networks', () => {
    const b = encodeBulkSyncMessage({ lTime: 9n, unsolicited: true, nodeName: 'a', networks: ['x', 'y'], payload: bytes('01') });
    expect(hex(b)).toBe('0809' + '1001' + '1a0161' + '220178' + '220179' + '2a0101');
  });

  it('CompoundMessage of SimpleMessages', () => {
    expect(hex(encodeCompoundMessage({ messages: [bytes('aa'), bytes('bbcc')] }))).toBe('0a030a01aa' + '0a040a02bbcc');
  });

  it('proto3 defaults are omitted; uint64 max round-trips', () => {
    expect(encodeNodeEvent({ type: 0, lTime: 0n, nodeName: '' }).length).toBe(0);
    const max = (1n << 64n) - 1n;
    const b = encodeNodeEvent({ type: 1, lTime: max, nodeName: '' });
    expect(hex(b)).toBe('0801' + '10ffffffffffffffffff01');
    expect(decodeNodeEvent(b).lTime).toBe(max);
  });
});

describe('networkdb protobuf decoding rules', () => {
  it('skips unknown fields of every scalar wire type', () => {
    // field 15 varint, field 14 fixed64, field 13 fixed32, field 12 bytes, then node_name
    const buf = bytes('7801' + '71' + '0102030405060708' + '6d' + '01020304' + '6202abcd' + '1a0161');
    expect(decodeNodeEvent(buf)).toEqual({ type: 0, lTime: 0n, nodeName: 'a' });
  });

  it('rejects malformed input with ProtoDecodeError and a clear message', () => {
    const cases: [string, RegExp][] = [
      ['1a05616263', /length 5 exceeds remaining 3/],
      ['10ff', /truncated varint/],
      ['10ffffffffffffffffffff01', /longer than 10 bytes/],
      ['10ffffffffffffffffff7f', /overflows uint64/],
      ['0001', /field number 0/],
      ['7b', /unsupported wire type 3/],
      ['0a0161', /NodeEvent field 1: wire type 2, expected 0/],
      ['71010203', /truncated fixed-width/],
    ];
    for (const [h, re] of cases) {
      let caught: unknown;
      try {
        decodeNodeEvent(bytes(h));
      } catch (e) {
        caught = e;
      }
      expect(caught, h).toBeInstanceOf(ProtoDecodeError);
      expect((caught as Error).message, h).toMatch(re);
    }
  });

  it('a 32-bit field (enum, bool, int32) in a 6..9-byte varint is rejected, not misread', () => {
    // Encoders write 1-5 bytes (10 for a negative int32); protobufjs would skip 5 bytes blindly.
    expect(() => decodeNodeEvent(bytes('08f8db84d68fda26' + '1a0161'))).toThrow(/NodeEvent field 1: 7-byte varint for a 32-bit value/);
    expect(() => decodeBulkSyncMessage(bytes('10f89192b7c7e268'))).toThrow(ProtoDecodeError);
    expect(decodeNodeEvent(bytes('08ffffffffffffffffff01' + '1a0161'))).toEqual({ type: -1, lTime: 0n, nodeName: 'a' });
  });

  it('last value wins for repeated scalar fields; repeated strings accumulate', () => {
    expect(decodeNodeEvent(bytes('1001' + '1002')).lTime).toBe(2n);
    expect(decodeBulkSyncMessage(bytes('220161' + '220162')).networks).toEqual(['a', 'b']);
  });
});

const name = fc.string({ maxLength: 12 });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const buf = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const tableEvent = fc.record({
  type: fc.integer({ min: 0, max: 3 }),
  lTime: u64,
  nodeName: name,
  networkId: name,
  tableName: name,
  key: name,
  value: buf,
  residualReapTime: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
});
const networkEntry = fc.record({ networkId: name, lTime: u64, nodeName: name, leaving: fc.boolean() });

describe('networkdb protobuf round-trips', () => {
  it('TableEvent', () => {
    fc.assert(fc.property(tableEvent, (ev) => {
      expect(decodeTableEvent(encodeTableEvent(ev))).toEqual(ev);
    }));
  });
  it('NetworkEvent / NodeEvent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), u64, name, name, (type, lTime, nodeName, networkId) => {
        expect(decodeNetworkEvent(encodeNetworkEvent({ type, lTime, nodeName, networkId }))).toEqual({ type, lTime, nodeName, networkId });
        expect(decodeNodeEvent(encodeNodeEvent({ type, lTime, nodeName }))).toEqual({ type, lTime, nodeName });
      }),
    );
  });
  it('NetworkPushPull', () => {
    fc.assert(
      fc.property(u64, fc.array(networkEntry, { maxLength: 5 }), name, (lTime, networks, nodeName) => {
        expect(decodeNetworkPushPull(encodeNetworkPushPull({ lTime, networks, nodeName }))).toEqual({ lTime, networks, nodeName });
      }),
    );
  });
  it('BulkSyncMessage and CompoundMessage', () => {
    fc.assert(
      fc.property(u64, fc.boolean(), name, fc.array(name, { maxLength: 4 }), fc.array(buf, { maxLength: 4 }), (lTime, unsolicited, nodeName, networks, parts) => {
        const payload = encodeCompoundMessage({ messages: parts });
        const m = { lTime, unsolicited, nodeName, networks, payload };
        expect(decodeBulkSyncMessage(encodeBulkSyncMessage(m))).toEqual(m);
        expect(decodeCompoundMessage(payload).messages).toEqual(parts);
      }),
    );
  });
});

describe('networkdb protobuf fuzz', () => {
  const decoders = [
    decodeGossipMessage,
    decodeNodeEvent,
    decodeNetworkEvent,
    decodeTableEvent,
    decodeNetworkEntry,
    decodeNetworkPushPull,
    decodeBulkSyncMessage,
    decodeCompoundMessage,
  ];

  // Deterministic xorshift so a failure is reproducible.
  function rng(seed: number): () => number {
    let s = seed >>> 0 || 1;
    return () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 0x100000000;
    };
  }

  function seeds(): Buffer[] {
    const te = encodeTableEvent({ type: 3, lTime: 99n, nodeName: 'node-a', networkId: 'net1', tableName: 'overlay_peer_table', key: 'k', value: bytes('0a0b0c'), residualReapTime: 1799 });
    const pp = encodeNetworkPushPull({ lTime: 4n, networks: [{ networkId: 'n', lTime: 3n, nodeName: 'a', leaving: false }], nodeName: 'a' });
    const comp = encodeCompoundMessage({ messages: [encodeGossipMessage({ type: 2, data: te }), encodeGossipMessage({ type: 3, data: pp })] });
    const bsm = encodeBulkSyncMessage({ lTime: 5n, unsolicited: true, nodeName: 'a', networks: ['n'], payload: encodeGossipMessage({ type: 5, data: comp }) });
    return [te, pp, comp, bsm, encodeGossipMessage({ type: 4, data: bsm })];
  }

  it('1e5 random and mutated buffers: every decoder either succeeds or throws ProtoDecodeError', () => {
    const rand = rng(0xc0ffee);
    const base = seeds();
    let rejected = 0;
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      let input: Buffer;
      if (i % 2 === 0) {
        input = Buffer.alloc(Math.floor(rand() * 48));
        for (let j = 0; j < input.length; j++) input[j] = Math.floor(rand() * 256);
      } else {
        const src = base[i % base.length] as Buffer;
        input = Buffer.from(src);
        const mutations = 1 + Math.floor(rand() * 3);
        for (let k = 0; k < mutations; k++) {
          const op = Math.floor(rand() * 3);
          const at = Math.floor(rand() * input.length);
          if (op === 0 && input.length > 0) input[at] = Math.floor(rand() * 256);
          else if (op === 1) input = input.subarray(0, at);
          else input = Buffer.concat([input.subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), input.subarray(at)]);
        }
      }
      const decode = decoders[i % decoders.length] as (b: Uint8Array) => unknown;
      try {
        decode(input);
        accepted++;
      } catch (e) {
        if (!(e instanceof ProtoDecodeError)) throw new Error(`unclean error for ${input.toString('hex')}: ${String(e)}`);
        rejected++;
      }
    }
    // Both outcomes must actually occur, or the fuzzer is not exercising anything.
    expect(rejected).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThan(1000);
  });

  it('NetworkDB.notifyMsg and mergeRemoteState never throw on garbage and count decode errors', () => {
    const db = new NetworkDB({ nodeName: 'fuzz' });
    const rand = rng(7);
    for (let i = 0; i < 5_000; i++) {
      const b = Buffer.alloc(1 + Math.floor(rand() * 40));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
      expect(() => db.notifyMsg(b)).not.toThrow();
      expect(() => db.mergeRemoteState(b, false)).not.toThrow();
    }
    expect(db.stats.decodeErrors).toBeGreaterThan(100);
    db.close();
  });
});

describe('networkdb schema', () => {
  it('networkdb-schema.ts is what networkdb.proto generates (node test/support/gen-networkdb-schema.mjs)', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['test/support/gen-networkdb-schema.mjs', '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
