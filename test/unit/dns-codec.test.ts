// The codec: golden bytes (captured from vxmesh's answers to dig 9.18's queries, with what dig
// printed for each), and properties over random and mutated input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DnsServer } from '../../src/dns/server/dns-server.js';
import { RecordStore, type DnsView } from '../../src/dns/records/record-store.js';
import { QueryParser } from '../../src/dns/wire/query.js';
import { decodeMessage } from '../../src/dns/wire/decode.js';
import { keyToName, nameKey, readName } from '../../src/dns/wire/name.js';
import { parseIPv6 } from '../../src/dns/records/ip.js';
import { query } from './dns-helpers.js';

function fixture(): { server: DnsServer; view: DnsView; store: RecordStore } {
  const store = new RecordStore();
  store.upsertEndpoint({ id: 'e1', network: 'n1', name: 'web1', aliases: ['api-alias'], ipv4: '10.0.0.5', ipv6: 'fd00::5' });
  store.upsertService({
    id: 's1', name: 'api', mode: 'vip', vips: [{ network: 'n1', ipv4: '10.0.0.2', ipv6: 'fd00::2' }],
    tasks: [{ network: 'n1', ipv4: '10.0.0.5' }, { network: 'n1', ipv4: '10.0.0.6' }],
    ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080 }],
  });
  return { server: new DnsServer({}), view: store.view(['n1']), store };
}

/** Runs one message through the server; undefined when it stays silent. */
function ask(server: DnsServer, view: DnsView, msg: Buffer, transport: 'udp' | 'tcp' = 'udp'): Buffer | undefined {
  let out: Buffer | undefined;
  server.handle(msg, view, transport, (b) => (out = b));
  return out;
}

const GOLDEN = [
  {
    dig: 'api A',
    query: '31cf0120000100000000000103617069000001000100002904d000000000000c000a0008802141ee499342ef',
    response: '31cf85800001000100000001036170690000010001c00c000100010000000500040a00000200002904d0000000000000',
    digSays: ['api.   5 IN A 10.0.0.2'],
  },
  {
    dig: 'API AAAA +noedns',
    query: '5083012000010000000000000341504900001c0001',
    response: '5083858000010001000000000341504900001c0001c00c001c0001000000050010fd000000000000000000000000000002',
    digSays: ['API.   5 IN AAAA fd00::2'],
  },
  {
    dig: '-x 10.0.0.2',
    query: '9dde0120000100000000000101320130013002313007696e2d61646472046172706100000c000100002904d000000000000c000a00089d7a670388bec2b1',
    response: '9dde8580000100010000000101320130013002313007696e2d61646472046172706100000c0001c00c000c0001000000050005036170690000002904d0000000000000',
    digSays: ['2.0.0.10.in-addr.arpa. 5 IN PTR api.'],
  },
  {
    dig: '-x fd00::5',
    query: '48cd012000010000000000010135013001300130013001300130013001300130013001300130013001300130013001300130013001300130013001300130013001300130013001300164016603697036046172706100000c000100002904d000000000000c000a0008d8f1977e0d5675d6',
    response: '48cd858000010001000000010135013001300130013001300130013001300130013001300130013001300130013001300130013001300130013001300130013001300130013001300164016603697036046172706100000c0001c00c000c000100000005000604776562310000002904d0000000000000',
    digSays: ['5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR web1.'],
  },
  {
    dig: '_8080._tcp.api SRV',
    query: '2e4601200001000000000001055f38303830045f74637003617069000021000100002904d000000000000c000a0008a60216dd6a5cbac0',
    response: '2e4685800001000100000003055f38303830045f746370036170690000210001c00c0021000100000005000b0000000000500361706900c017000100010000000500040a000002c017001c0001000000050010fd00000000000000000000000000000200002904d0000000000000',
    digSays: ['_8080._tcp.api.  5 IN SRV 0 0 80 api.', 'api.   5 IN A 10.0.0.2', 'api.   5 IN AAAA fd00::2'],
  },
  {
    dig: 'foo.api A',
    query: '6c950120000100000000000103666f6f03617069000001000100002904d000000000000c000a00080c42d0bd67e31fd2',
    response: '6c958583000100000001000103666f6f036170690000010001c0100006000100000001002c026e730676786d657368000a686f73746d6173746572c0280000000300000e1000000258000151800000000100002904d0000000000000',
    digSays: ['api.   1 IN SOA ns.vxmesh. hostmaster.vxmesh. 3 3600 600 86400 1'],
  },
  {
    dig: 'web1 AAAA',
    query: '73dc01200001000000000001047765623100001c000100002904d000000000000c000a0008734580fbb7228ab2',
    response: '73dc85800001000100000001047765623100001c0001c00c001c0001000000050010fd00000000000000000000000000000500002904d0000000000000',
    digSays: ['web1.   5 IN AAAA fd00::5'],
  },
  {
    dig: '_tcp.api A +noedns',
    query: '540f01200001000000000000045f746370036170690000010001',
    response: '540f85800001000000010000045f746370036170690000010001c0110006000100000001002c026e730676786d657368000a686f73746d6173746572c0290000000300000e10000002580001518000000001',
    digSays: ['api.   1 IN SOA ns.vxmesh. hostmaster.vxmesh. 3 3600 600 86400 1'],
  },
  {
    dig: 'Api-Alias A +norecurse +noedns',
    query: 'a5e900200001000000000000094170692d416c6961730000010001',
    response: 'a5e984800001000100000000094170692d416c6961730000010001c00c000100010000000500040a000005',
    digSays: ['Api-Alias.  5 IN A 10.0.0.5'],
  },
  {
    dig: 'web1 MX',
    query: 'dc4201200001000000000001047765623100000f000100002904d000000000000c000a000849fe307330e05186',
    response: 'dc4285800001000000010001047765623100000f0001c00c0006000100000001002c026e730676786d657368000a686f73746d6173746572c0250000000300000e1000000258000151800000000100002904d0000000000000',
    digSays: ['web1.   1 IN SOA ns.vxmesh. hostmaster.vxmesh. 3 3600 600 86400 1'],
  },];

describe('dns codec: golden answers checked with dig', () => {
  for (const g of GOLDEN) {
    it(`dig ${g.dig}`, () => {
      const { server, view } = fixture();
      const out = ask(server, view, Buffer.from(g.query, 'hex'));
      expect(out?.toString('hex')).toBe(g.response);
      // What dig printed for these bytes, re-derived by our decoder (names lowercased by it).
      const m = decodeMessage(out!);
      const records = [...m.answer, ...m.authority, ...m.additional.filter((r) => r.type !== 41)];
      expect(records.map((r) => `${r.name} ${r.ttl}`)).toEqual(g.digSays.map((l) => l.split(/\s+/).slice(0, 2).join(' ').toLowerCase()));
    });
  }
});

describe('dns codec: error handling per RFC', () => {
  const { server, view } = fixture();
  it('stays silent for fewer than 12 bytes and for responses (QR set)', () => {
    expect(ask(server, view, Buffer.alloc(11))).toBeUndefined();
    const resp = query('api', 1);
    resp[2]! |= 0x80;
    expect(ask(server, view, resp)).toBeUndefined();
  });
  it('answers FORMERR (header only, same ID) to a broken question', () => {
    const q = query('api', 1, { id: 0xbeef }).subarray(0, 17);
    const out = ask(server, view, q)!;
    expect(out.readUInt16BE(0)).toBe(0xbeef);
    expect(out[3]! & 0xf).toBe(1);
    expect(out.length).toBe(12);
  });
  it('answers FORMERR to two questions, answers in a query, a pointer in the question, two OPTs', () => {
    const two = query('api', 1);
    two.writeUInt16BE(2, 4);
    const withAnswer = query('api', 1);
    withAnswer.writeUInt16BE(1, 6);
    const pointer = Buffer.concat([query('api', 1).subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    const twoOpts = Buffer.concat([query('api', 1, { edns: 1232 }), Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0])]);
    twoOpts.writeUInt16BE(2, 10);
    for (const q of [two, withAnswer, pointer, twoOpts]) expect(ask(server, view, q)![3]! & 0xf).toBe(1);
  });
  it('answers NOTIMP to other opcodes, REFUSED to AXFR and CHAOS, BADVERS to EDNS version 1', () => {
    const notify = query('api', 6);
    notify[2] = (4 << 3) | 1;
    expect(ask(server, view, notify)![3]! & 0xf).toBe(4);
    expect(ask(server, view, query('api', 252))![3]! & 0xf).toBe(5);
    const chaos = query('version.bind', 16);
    chaos.writeUInt16BE(3, chaos.length - 2);
    expect(ask(server, view, chaos)![3]! & 0xf).toBe(5);
    const v1 = query('api', 1, { edns: 1232 });
    v1[v1.length - 5] = 1; // OPT TTL byte 2 = version
    expect(decodeMessage(ask(server, view, v1)!).rcode).toBe(16);
  });
  it('sets TC over UDP when the answer does not fit, and answers in full over TCP', () => {
    const store = new RecordStore();
    store.upsertService({
      id: 's', name: 'big', mode: 'dnsrr', vips: [],
      tasks: Array.from({ length: 60 }, (_, i) => ({ network: 'n1', ipv4: `10.1.0.${i + 1}` })),
    });
    const v = store.view(['n1']);
    const udp = decodeMessage(ask(server, v, query('tasks.big', 1))!);
    expect(udp.flags & 0x0200).toBe(0x0200);
    expect(udp.answer).toHaveLength(0);
    const bigEdns = decodeMessage(ask(server, v, query('tasks.big', 1, { edns: 4096 }))!);
    expect(bigEdns.answer).toHaveLength(60); // 60 * 16 bytes fits in 1232
    const tcp = decodeMessage(ask(server, v, query('tasks.big', 1), 'tcp')!);
    expect(tcp.flags & 0x0200).toBe(0);
    expect(tcp.answer.map((r) => r.data).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `10.1.0.${i + 1}`).sort());
  });
});

describe('dns codec: EDNS and ANY', () => {
  it('echoes the DO bit, advertises 1232, and caps its own UDP answers there whatever the client offers', () => {
    const { server, view } = fixture();
    const q = query('api', 1, { edns: 4096 });
    q[q.length - 4] = 0x80; // DO
    const m = decodeMessage(ask(server, view, q)!);
    const opt = m.additional.find((r) => r.type === 41)!;
    expect([opt.class, (opt.ttl >>> 15) & 1]).toEqual([1232, 1]);
    const store = new RecordStore();
    store.upsertService({ id: 's', name: 'many', mode: 'dnsrr', vips: [], tasks: Array.from({ length: 80 }, (_, i) => ({ network: 'n', ipv4: `10.3.0.${i + 1}` })) });
    const big = decodeMessage(ask(server, store.view(['n']), query('many', 1, { edns: 4096 }))!); // 80 x 16 bytes > 1232
    expect([big.flags & 0x0200, big.answer.length]).toEqual([0x0200, 0]);
  });

  it('answers ANY for an owned name with all its records', () => {
    const { server, view } = fixture();
    const m = decodeMessage(ask(server, view, query('api', 255))!);
    expect(m.answer.map((r) => r.type).sort()).toEqual([1, 28]);
  });
});

const label = fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/);

describe('dns codec: properties', () => {
  it('never throws and answers with the same ID, or stays silent, for any bytes', () => {
    const { server, view } = fixture();
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
      const msg = Buffer.from(bytes);
      const out = ask(server, view, msg);
      if (msg.length < 12 || (msg[2]! & 0x80)) return out === undefined;
      return out !== undefined && out.readUInt16BE(0) === msg.readUInt16BE(0) && (out[2]! & 0x80) !== 0;
    }), { numRuns: 3000 });
  });

  it('keeps the asker\'s letter case and ID, and matches names case-insensitively', () => {
    const { server, view } = fixture();
    const mixed = fc.array(fc.boolean(), { minLength: 9, maxLength: 9 });
    fc.assert(fc.property(mixed, fc.integer({ min: 0, max: 0xffff }), (upper, id) => {
      const name = [...'api-alias'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
      const q = query(name, 1, { id });
      const out = ask(server, view, q)!;
      const m = decodeMessage(out);
      return m.id === id && out.subarray(12, q.length).equals(q.subarray(12)) && m.answer[0]?.data === '10.0.0.5';
    }), { numRuns: 300 });
  });

  it('round-trips names through keys, and mutated valid queries never crash the server', () => {
    const { server, view } = fixture();
    fc.assert(fc.property(fc.array(label, { minLength: 1, maxLength: 5 }), fc.nat(), fc.nat(255), (labels, where, value) => {
      const name = labels.join('.');
      const key = nameKey(name);
      expect(keyToName(key)).toBe(name.toLowerCase() + '.');
      const q = query(name, 1, { edns: 1232 });
      expect(readName(q, 12)?.key).toBe(key);
      q[where % q.length] = value;
      ask(server, view, q);
      return true;
    }), { numRuns: 2000 });
  });

  it('parses IPv6 text like the standard forms', () => {
    expect(parseIPv6('::')?.toString('hex')).toBe('0'.repeat(32));
    expect(parseIPv6('fd00::5')?.toString('hex')).toBe('fd00' + '0'.repeat(27) + '5');
    expect(parseIPv6('::ffff:1.2.3.4')?.toString('hex')).toBe('0'.repeat(20) + 'ffff01020304');
    expect(parseIPv6('1:2:3:4:5:6:7:8')?.toString('hex')).toBe('00010002000300040005000600070008');
    for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7', ':::', 'g::1']) expect(parseIPv6(bad)).toBeUndefined();
  });

  it('the parser reports the question end exactly', () => {
    const p = new QueryParser();
    const q = p.parse(query('Tasks.API', 28, { edns: 2000 }));
    expect(q.kind === 'query' && [q.nameKey, q.qtype, q.questionEnd, q.edns?.udpSize]).toEqual(['\x05tasks\x03api\x00', 28, 12 + 11 + 4, 2000]);
  });
});
