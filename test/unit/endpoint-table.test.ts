// Docker's endpoint_table entry (libnetwork agent.proto EndpointRecord): golden bytes worked out by
// hand from the field tags, round trips, the checks at the edge, and fuzz (random and mutated bytes
// give an EndpointRecordError or a checked entry, never anything else).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EndpointRecordError,
  decodeEndpointRecordWire,
  emptyEndpointRecord,
  encodeEndpointRecord,
  parseEndpointRecord,
  tryParseEndpointRecord,
  type EndpointRecordWire,
} from '../../src/ingress/endpoint-table.js';
import { prng } from '../support/prng.js';

const FULL: EndpointRecordWire = {
  name: 't1',
  serviceName: 'web',
  serviceId: 's1',
  virtualIp: '10.0.0.2',
  endpointIp: '10.0.0.5',
  ingressPorts: [{ name: '', protocol: 'udp', targetPort: 80, publishedPort: 8080 }],
  aliases: ['a'],
  taskAliases: ['b'],
  serviceDisabled: true,
  endpointIpv6: 'fd00::5',
};

const ascii = (s: string) => [...Buffer.from(s)];

describe('EndpointRecord wire format (Docker agent.proto)', () => {
  it('encodes every field with the tag Docker uses, in field order', () => {
    const golden = Buffer.from([
      0x0a, 2, ...ascii('t1'), // 1 name (1<<3|2)
      0x12, 3, ...ascii('web'), // 2 service_name
      0x1a, 2, ...ascii('s1'), // 3 service_id
      0x22, 8, ...ascii('10.0.0.2'), // 4 virtual_ip
      0x2a, 8, ...ascii('10.0.0.5'), // 5 endpoint_ip
      // 6 ingress_ports: PortConfig{protocol=UDP(1) (2<<3|0), target_port=80 (3<<3|0), published_port=8080 (4<<3|0) = varint 90 3f}
      0x32, 7, 0x10, 0x01, 0x18, 80, 0x20, 0x90, 0x3f,
      0x3a, 1, ...ascii('a'), // 7 aliases
      0x42, 1, ...ascii('b'), // 8 task_aliases
      0x48, 0x01, // 9 service_disabled (9<<3|0)
      0xca, 0x3e, 7, ...ascii('fd00::5'), // 1001 endpoint_ipv6: tag 1001<<3|2 = 8010 = varint ca 3e
    ]);
    expect(encodeEndpointRecord(FULL).toString('hex')).toBe(golden.toString('hex'));
    expect(decodeEndpointRecordWire(golden)).toEqual(FULL);
  });

  it('leaves defaults out as gogo does (TCP=0, port 0, empty strings and lists, false)', () => {
    const r = { ...emptyEndpointRecord(), name: 'x', endpointIp: '10.0.0.9', ingressPorts: [{ name: '', protocol: 'tcp' as const, targetPort: 53, publishedPort: 0 }] };
    expect(encodeEndpointRecord(r)).toEqual(Buffer.from([0x0a, 1, ...ascii('x'), 0x2a, 8, ...ascii('10.0.0.9'), 0x32, 2, 0x18, 53]));
    expect(encodeEndpointRecord(emptyEndpointRecord()).length).toBe(0);
    expect(decodeEndpointRecordWire(Buffer.alloc(0))).toEqual(emptyEndpointRecord());
  });

  it("reads what Docker writes for a dnsrr task (virtual_ip \"<nil>\") and skips fields it does not know", () => {
    const docker = Buffer.concat([
      Buffer.from([0x0a, 5, ...ascii('web.1'), 0x12, 3, ...ascii('web'), 0x1a, 25, ...ascii('x'.repeat(25))]),
      Buffer.from([0x22, 5, ...ascii('<nil>'), 0x2a, 8, ...ascii('10.0.1.7')]),
      Buffer.from([0x50, 0x07]), // field 10 varint: a newer Docker's field
    ]);
    expect(parseEndpointRecord(docker)).toEqual({
      name: 'web.1', serviceName: 'web', serviceId: 'x'.repeat(25), ipv4: '10.0.1.7', ingressPorts: [], aliases: [], taskAliases: [], disabled: false,
    });
  });

  it('is loaded from a schema generated from endpoint-record.proto (refresh: node test/support/gen-endpoint-record-schema.mjs)', () => {
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../support/gen-endpoint-record-schema.mjs', import.meta.url)), '--check'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('parseEndpointRecord: what another host sends is checked', () => {
  const rec = (patch: Partial<EndpointRecordWire>) => () => parseEndpointRecord(encodeEndpointRecord({ ...FULL, ...patch }));

  it('gives canonical addresses', () => {
    expect(parseEndpointRecord(encodeEndpointRecord({ ...FULL, endpointIpv6: 'FD00:0:0::5', virtualIp: '10.0.0.2' }))).toEqual({
      name: 't1', serviceName: 'web', serviceId: 's1', virtualIp: '10.0.0.2', ipv4: '10.0.0.5', ipv6: 'fd00::5',
      ingressPorts: [{ name: '', protocol: 'udp', targetPort: 80, publishedPort: 8080 }], aliases: ['a'], taskAliases: ['b'], disabled: true,
    });
    // An IPv6-only network: Docker's one endpoint_ip is the IPv6 address.
    expect(parseEndpointRecord(encodeEndpointRecord({ ...FULL, endpointIp: 'fd00::7', endpointIpv6: '' }))).toMatchObject({ ipv6: 'fd00::7' });
  });

  it('refuses each bad field with an EndpointRecordError naming it', () => {
    expect(rec({ name: '' })).toThrow(/name is empty/);
    expect(rec({ name: 'a b' })).toThrow(/name "a b" has characters/);
    expect(rec({ name: 'x'.repeat(256) })).toThrow(/name is 256 characters/);
    expect(rec({ serviceId: 'id\n' })).toThrow(/service_id/);
    expect(rec({ endpointIp: '', endpointIpv6: '' })).toThrow(/endpoint_ip is empty/);
    expect(rec({ endpointIp: '10.0.0.5/24' })).toThrow(/endpoint_ip "10.0.0.5\/24" is not an IP/);
    expect(rec({ endpointIp: '0.0.0.0' })).toThrow(/unspecified/);
    expect(rec({ endpointIpv6: '10.0.0.6' })).toThrow(/endpoint_ipv6 "10.0.0.6" is not an IPv6/);
    expect(rec({ virtualIp: 'vip' })).toThrow(/virtual_ip/);
    expect(rec({ ingressPorts: [{ name: '', protocol: 'tcp', targetPort: 0, publishedPort: 80 }] })).toThrow(/ingress_ports\[0\].target_port 0/);
    expect(rec({ ingressPorts: [{ name: '', protocol: 'tcp', targetPort: 80, publishedPort: 70000 }] })).toThrow(/published_port 70000/);
    expect(rec({ taskAliases: ['ok', ''] })).toThrow(/task_aliases\[1\] is empty/);
    expect(() => parseEndpointRecord(Buffer.from([0x32, 2, 0x10, 9]))).toThrow(/protocol 9 is not/);
    expect(() => parseEndpointRecord(Buffer.from([0x0a, 0x50, 1]))).toThrow(EndpointRecordError);
    expect(() => encodeEndpointRecord({ ...FULL, ingressPorts: [{ name: '', protocol: 'icmp' as 'tcp', targetPort: 1, publishedPort: 0 }] })).toThrow(/icmp/);
    const bad = tryParseEndpointRecord(Buffer.from([0xff]));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toBeInstanceOf(EndpointRecordError);
  });
});

describe('fuzz: random and mutated bytes', () => {
  const outcome = (buf: Uint8Array): 'ok' | 'refused' => {
    const r = tryParseEndpointRecord(buf);
    if (r.ok) return 'ok';
    expect(r.error).toBeInstanceOf(EndpointRecordError);
    expect(r.error.code).toBe('INVALID_ARGUMENT');
    return 'refused';
  };

  it('never throws, and what parses round-trips (fast-check records)', () => {
    const name = fc.stringMatching(/^[a-z0-9._-]{1,20}$/);
    const ip4 = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((p) => p.join('.'));
    const port = fc.record({ name: fc.constant(''), protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const), targetPort: fc.integer({ min: 1, max: 65535 }), publishedPort: fc.integer({ min: 0, max: 65535 }) });
    const record = fc.record({
      name, serviceName: name, serviceId: name, virtualIp: fc.oneof(fc.constant(''), ip4), endpointIp: ip4, ingressPorts: fc.array(port, { maxLength: 4 }),
      aliases: fc.array(name, { maxLength: 3 }), taskAliases: fc.array(name, { maxLength: 3 }), serviceDisabled: fc.boolean(), endpointIpv6: fc.constantFrom('', 'fd00::1', '2001:db8::42'),
    });
    fc.assert(
      fc.property(record, (r) => {
        const buf = encodeEndpointRecord(r);
        expect(decodeEndpointRecordWire(buf)).toEqual(r);
        const e = parseEndpointRecord(buf);
        expect(e.ipv4).toBe(r.endpointIp);
        expect(e.taskAliases).toEqual(r.taskAliases);
      }),
      { numRuns: 500 },
    );
  });

  it('20,000 random and mutated inputs give an entry or an EndpointRecordError', () => {
    const rnd = prng(0x5e7_7ab1e);
    const seed = encodeEndpointRecord(FULL);
    const counts = { ok: 0, refused: 0 };
    for (let i = 0; i < 20_000; i++) {
      let buf: Buffer;
      if (i % 2 === 0) buf = rnd.bytes(rnd.int(64));
      else {
        buf = Buffer.from(seed);
        for (let k = 0, n = 1 + rnd.int(4); k < n; k++) buf[rnd.int(buf.length)] = rnd.int(256);
        if (rnd.int(4) === 0) buf = buf.subarray(0, rnd.int(buf.length));
      }
      counts[outcome(buf)]++;
    }
    // Both outcomes happen: the mutations keep many records valid, the random bytes almost never are.
    expect(counts.ok).toBeGreaterThan(100);
    expect(counts.refused).toBeGreaterThan(10_000);
  });
});
