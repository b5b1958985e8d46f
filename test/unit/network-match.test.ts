// The second `network create` of one name on a shared store: which options must match the network
// that won, and how the error names the first that differs.
import { describe, expect, it } from 'vitest';
import type { NetworkInfo } from '../../src/model/api.js';
import { createOptionsMismatch } from '../../src/overlay/network-match.js';

const have: NetworkInfo = {
  id: 'a'.repeat(64), name: 'web', vni: 4096, mtu: 1450, internal: false, labels: { team: 'x' },
  ipv4: { subnet: '10.30.0.0/24', gateway: '10.30.0.1', auxAddresses: {} }, sandbox: 'vx-n-aaaaaaaaaaaa', endpointCount: 0, createdAt: '',
};

describe('createOptionsMismatch', () => {
  it('matches when the request leaves options out or repeats them (in any spelling of the same CIDR)', () => {
    expect(createOptionsMismatch({ name: 'web' }, have)).toBeUndefined();
    expect(createOptionsMismatch({ name: 'web', subnet: '10.30.0.0/24', gateway: '10.30.0.1', mtu: 1450, labels: { team: 'x' } }, have)).toBeUndefined();
    expect(createOptionsMismatch({ name: 'web', labels: {} }, have)).toBeUndefined();
  });

  it.each([
    [{ subnet: '10.31.0.0/24' }, 'subnet 10.30.0.0/24 (this request: 10.31.0.0/24)'],
    [{ gateway: '10.30.0.254' }, 'gateway 10.30.0.1 (this request: 10.30.0.254)'],
    [{ ipv6: true }, 'ipv6 off (this request: on)'],
    [{ mtu: 1400 }, 'mtu 1450 (this request: 1400)'],
    [{ internal: true }, 'internal false (this request: true)'],
    [{ labels: { team: 'y' } }, 'labels'],
    [{ ipRange: '10.30.0.128/25' }, 'ip-range none (this request: 10.30.0.128/25)'],
  ])('names the option that differs: %o', (over, text) => {
    expect(createOptionsMismatch({ name: 'web', ...over }, have)).toContain(text);
  });
});
