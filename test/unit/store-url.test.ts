import { describe, expect, it } from 'vitest';
import { parseEtcdStoreUrl } from '../../src/store/index.js';

describe('--store etcd:// URLs', () => {
  it('parses hosts, ports, IPv6 and lists; defaults the port to 2379', () => {
    expect(parseEtcdStoreUrl('etcd://198.51.100.1:2379')).toEqual(['http://198.51.100.1:2379']);
    expect(parseEtcdStoreUrl('etcd://a,b:1234,[2001:db8::1]:23,[2001:db8::2]')).toEqual([
      'http://a:2379',
      'http://b:1234',
      'http://[2001:db8::1]:23',
      'http://[2001:db8::2]:2379',
    ]);
    expect(parseEtcdStoreUrl('etcd://h:1', { tls: true })).toEqual(['https://h:1']);
  });

  it.each([
    ['http://h:2379', /not an etcd:\/\/ URL/],
    ['etcd://', /not an etcd:\/\/ URL/],
    ['etcd://h:2379,', /an empty host/],
    ['etcd://h:0', /port 0 .* is not 1-65535/],
    ['etcd://h:70000', /port 70000/],
    ['etcd://h:x', /"h:x" is not HOST or HOST:PORT/],
    ['etcd://[nope]:1', /"\[nope\]:1" is not HOST/],
    ['etcd://h/path', /is not HOST/],
  ])('%s is refused with a clear message', (url, why) => {
    expect(() => parseEtcdStoreUrl(url)).toThrow(why);
    expect(() => parseEtcdStoreUrl(url)).toThrow(/--store .*expected etcd:\/\/HOST\[:PORT\]/);
  });
});
