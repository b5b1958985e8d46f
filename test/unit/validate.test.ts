// The one validation module: its rules, and that the CLI, the API edge and the agent give the same
// verdict on the same value (one set of limits), only naming the field their own way.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAttachRequest, checkCreateNetworkRequest, checkLabels, checkMac, checkMtu, checkName } from '../../src/agent/validate.js';
import { validateAttach, validateCreateNetwork } from '../../src/api/validate.js';
import { VxError } from '../../src/errors.js';
import { LABEL_KEY_MAX, LABEL_VALUE_MAX, LABELS_MAX, MTU_MAX, MTU_MIN, NAME_MAX } from '../../src/model/limits.js';
import {
  attachProblem, cidrProblem, createNetworkProblem, decodeGossipKey, fieldFlagName, gossipKeyProblem, ipOrCidrProblem, ipProblem,
  joinAddressProblem, labelsProblem, macProblem, nameProblem, netnsPathProblem,
} from '../../src/model/validate.js';
import { runCli } from '../../src/cli/main.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function verdict(run: () => unknown): 'ok' | 'invalid' {
  try {
    run();
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(VxError);
    expect((error as VxError).code).toBe('INVALID_ARGUMENT');
    return 'invalid';
  }
}

/** The CLI's verdict without an agent: exit 2 means refused locally, anything else got past validation. */
async function cliVerdict(argv: string[]): Promise<'ok' | 'invalid'> {
  const io = { stdout: { write: () => true }, stderr: { write: () => true } };
  // An absent socket: a request that passes validation fails to connect (exit 1), never reaching an agent.
  const code = await runCli(argv, { VXMESH_SOCKET: '/nonexistent/vxmesh-validate-test.sock' }, io);
  return code === 2 ? 'invalid' : 'ok';
}

const nameChars = fc.constantFrom(...'aZ09_.-@ '.split(''), 'é', '\n');
const names = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,70}$/),
  fc.array(nameChars, { maxLength: 70 }).map((chars) => chars.join('')),
);

describe('names', () => {
  it('accept exactly 1-63 letters, digits, _ . - starting with a letter or digit', () => {
    fc.assert(fc.property(names, (name) => (nameProblem('name', name) === undefined) === NAME_RE.test(name)), { numRuns: 2000 });
    expect(nameProblem('name', 'a'.repeat(NAME_MAX))).toBeUndefined();
    expect(nameProblem('name', 'a'.repeat(NAME_MAX + 1))).toMatch(/^invalid name "a{64}": use 1 to 63/);
    expect(nameProblem('network name', '-web')).toBe(`invalid network name "-web": use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit`);
    expect(nameProblem('name', 'a\nb')).toBe(`invalid name "a\\nb": use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  });

  it('get the same verdict from the API edge and the agent', () => {
    fc.assert(
      fc.property(names, (name) => {
        const api = verdict(() => validateCreateNetwork({ name }));
        const agent = verdict(() => checkName('network', name));
        const alias = verdict(() => validateAttach({ network: 'web', netns: '/run/netns/c1', aliases: [name] }));
        return name === '' ? agent === 'invalid' && api === 'invalid' : api === agent && alias === agent;
      }),
      { numRuns: 1000 },
    );
  });

  it('get the same verdict from the CLI', async () => {
    for (const name of ['web', 'a'.repeat(63), 'a'.repeat(64), '-web', 'has space', 'b@d', '_x', 'x_.-y']) {
      expect(await cliVerdict(['network', 'create', name]), name).toBe(verdict(() => checkName('network', name)));
      expect(await cliVerdict(['network', 'create', '--', name]), name).toBe(verdict(() => checkName('network', name)));
    }
  });
});

describe('MTU', () => {
  it.each([[MTU_MIN - 1], [MTU_MIN], [1450], [MTU_MAX], [MTU_MAX + 1], [0], [65535]])('%i gets one verdict everywhere', async (mtu) => {
    const expected = mtu >= MTU_MIN && mtu <= MTU_MAX ? 'ok' : 'invalid';
    expect(verdict(() => checkMtu(mtu))).toBe(expected);
    expect(verdict(() => validateCreateNetwork({ name: 'web', mtu }))).toBe(expected);
    expect(await cliVerdict(['network', 'create', 'web', '--mtu', String(mtu)])).toBe(expected);
  });

  it('refuses fractions', () => {
    expect(verdict(() => checkMtu(1400.5))).toBe('invalid');
  });
});

describe('labels', () => {
  const many = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
  it.each<[string, Record<string, string>, 'ok' | 'invalid']>([
    ['the most labels', many(LABELS_MAX), 'ok'],
    ['one label too many', many(LABELS_MAX + 1), 'invalid'],
    ['the longest key', { ['k'.repeat(LABEL_KEY_MAX)]: 'v' }, 'ok'],
    ['a key too long', { ['k'.repeat(LABEL_KEY_MAX + 1)]: 'v' }, 'invalid'],
    ['an empty key', { '': 'v' }, 'invalid'],
    ['the longest value', { k: 'v'.repeat(LABEL_VALUE_MAX) }, 'ok'],
    ['a value too long', { k: 'v'.repeat(LABEL_VALUE_MAX + 1) }, 'invalid'],
    ['an empty value', { k: '' }, 'ok'],
  ])('%s: one verdict from API and agent', (_case, labels, expected) => {
    expect(labelsProblem('label', labels) === undefined ? 'ok' : 'invalid').toBe(expected);
    expect(verdict(() => checkLabels(labels))).toBe(expected);
    expect(verdict(() => validateCreateNetwork({ name: 'web', labels }))).toBe(expected);
    expect(verdict(() => validateAttach({ network: 'web', netns: '/x', labels }))).toBe(expected);
  });
});

describe('addresses', () => {
  it.each<[string, 4 | 6 | undefined, boolean]>([
    ['10.1.0.5', 4, true],
    ['10.1.0.256', 4, false],
    ['010.1.0.5', 4, false],
    ['fd00::5', 6, true],
    ['fd00::5', 4, false],
    ['::ffff:10.0.0.1', 6, true],
    ['fe80::1%eth0', 6, false],
    ['10.1.0.5/24', undefined, false],
    [' 10.1.0.5', undefined, false],
  ])('IP %j (IPv%s): %s', (value, family, ok) => {
    expect(ipProblem('ip', value, family) === undefined).toBe(ok);
  });

  it.each<[string, 4 | 6 | undefined, string | undefined]>([
    ['10.1.0.0/24', 4, undefined],
    ['10.1.0.5/24', 4, '--subnet 10.1.0.5/24 has host bits set; did you mean 10.1.0.0/24?'],
    ['10.1.0.0/33', 4, '--subnet "10.1.0.0/33" is not an IPv4 CIDR (e.g. 10.1.0.0/24): the prefix length must be a number from 0 to 32'],
    ['10.1.0.0', 4, '--subnet "10.1.0.0" is not an IPv4 CIDR (e.g. 10.1.0.0/24): it has no /prefix length'],
    ['banana', 4, '--subnet "banana" is not an IPv4 CIDR (e.g. 10.1.0.0/24): it has no /prefix length'],
    ['banana/24', undefined, '--subnet "banana/24" is not a CIDR (e.g. 10.1.0.0/24): "banana" is not a valid IP address: expected IPv4 (10.0.1.5) or IPv6 (fd00::5) form'],
    ['fd00::/129', 6, '--subnet "fd00::/129" is not an IPv6 CIDR (e.g. fd00:1::/64): the prefix length must be a number from 0 to 128'],
    ['fd00:1::/64', 4, '--subnet "fd00:1::/64" is not an IPv4 CIDR (e.g. 10.1.0.0/24)'],
    ['fd00:1::/64', 6, undefined],
    ['', 4, '--subnet "" is not an IPv4 CIDR (e.g. 10.1.0.0/24): it has no /prefix length'],
  ])('CIDR %j (IPv%s)', (value, family, message) => {
    expect(cidrProblem('--subnet', value, family)).toBe(message);
  });

  it('takes an address with or without a prefix where docker IPAM sends either', () => {
    expect(ipOrCidrProblem('address', '10.1.0.5/24')).toBeUndefined();
    expect(ipOrCidrProblem('address', 'fd00::5/64')).toBeUndefined();
    expect(ipOrCidrProblem('address', '10.1.0.5/40')).toMatch(/invalid prefix length/);
  });

  it('checks MACs the same in the agent', () => {
    for (const [mac, ok] of [['02:42:0a:00:01:02', true], ['02:42:0A:00:01:02', true], ['01:00:5e:00:00:01', false], ['00:00:00:00:00:00', false], ['02:42', false]] as const) {
      expect(macProblem('mac', mac) === undefined).toBe(ok);
      expect(verdict(() => checkMac(mac))).toBe(ok ? 'ok' : 'invalid');
    }
    expect(checkMac('02:42:0A:00:01:02')).toBe('02:42:0a:00:01:02');
  });

  it('checks gossip peers', () => {
    for (const peer of ['198.51.100.2', '198.51.100.2:7946', 'fd00::2', '[fd00::2]:7946']) expect(joinAddressProblem('--join', peer)).toBeUndefined();
    for (const peer of ['198.51.100.2:0', '198.51.100.2:65536', 'fd00::2:7946x', '[198.51.100.2]:7946', 'host:7946', '']) {
      expect(joinAddressProblem('--join', peer)).toMatch(/is not IP\[:PORT\]/);
    }
  });

  it('wants absolute netns paths', () => {
    expect(netnsPathProblem('--netns', '/run/netns/c1')).toBeUndefined();
    expect(netnsPathProblem('--netns', 'c1')).toBe('--netns "c1" is not an absolute path: e.g. /run/netns/c1 or /proc/PID/ns/net');
    expect(netnsPathProblem('--netns', '')).toMatch(/^--netns must not be empty/);
  });

  it('wants an absolute file path for resolv-conf, and none in docker mode', () => {
    const req = { network: 'web', netns: '/run/netns/c1' };
    expect(attachProblem({ ...req, resolvConf: '/var/lib/c1/resolv.conf' })).toBeUndefined();
    expect(attachProblem({ ...req, resolvConf: 'resolv.conf' })).toBe('resolv-conf "resolv.conf" must be an absolute file path, e.g. /var/lib/c1/resolv.conf');
    expect(attachProblem({ ...req, resolvConf: '/etc/' })).toMatch(/^resolv-conf "\/etc\/" must be an absolute file path/);
    expect(attachProblem({ ...req, resolvConf: '' })).toMatch(/^resolv-conf must not be empty/);
    expect(attachProblem({ network: 'web', leaveInHost: true, resolvConf: '/x' })).toMatch(/^resolv-conf is not for docker-mode endpoints/);
    expect(() => validateAttach({ ...req, resolvConf: 7 })).toThrow(/resolvConf|resolv-conf/);
  });
});

describe('gossip keys', () => {
  it('are canonical padded base64 of 16, 24 or 32 bytes, and the message never holds the key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), (bytes) => {
        const key = Buffer.from(bytes).toString('base64');
        const problem = gossipKeyProblem(key);
        const ok = [16, 24, 32].includes(bytes.length);
        if (ok) return problem === undefined && decodeGossipKey(key).equals(Buffer.from(bytes));
        return problem !== undefined && (key === '' || !problem.includes(key));
      }),
      { numRuns: 500 },
    );
    expect(gossipKeyProblem(Buffer.alloc(32).toString('base64url'))).toMatch(/not valid base64/);
    expect(() => decodeGossipKey('AAAA', '/etc/vxmesh/key line 2')).toThrow(/^\/etc\/vxmesh\/key line 2 decodes to 3 bytes/);
  });
});

describe('whole requests, named per layer', () => {
  it('name fields as flags: --subnet-v6 in the CLI, subnet-v6 in the API, never subnetV6', () => {
    expect(fieldFlagName('subnetV6')).toBe('subnet-v6');
    expect(fieldFlagName('ipRangeV6')).toBe('ip-range-v6');
    expect(fieldFlagName('auxAddresses')).toBe('aux-address');
    const request = { name: 'web', subnetV6: 'fd00::/64' };
    expect(createNetworkProblem(request)).toBe('subnet-v6 needs ipv6');
    expect(createNetworkProblem(request, (field) => `--${fieldFlagName(field)}`)).toBe('--subnet-v6 needs --ipv6');
    expect(attachProblem({ network: 'web', netns: '/x', ip: 'fd00::1' })).toBe('ip "fd00::1" is not an IPv4 address');
  });

  it('are judged the same by the API edge and the agent', () => {
    const networks = fc.record(
      {
        name: fc.constantFrom('web', '-web', 'a'.repeat(64)),
        subnet: fc.constantFrom('10.1.0.0/24', '10.1.0.5/24', 'fd00::/64'),
        gateway: fc.constantFrom('10.1.0.1', 'x'),
        ipv6: fc.boolean(),
        subnetV6: fc.constantFrom('fd00:1::/64', '10.0.0.0/8'),
        mtu: fc.constantFrom(1279, 1400, 9001),
      },
      { requiredKeys: ['name'] },
    );
    fc.assert(
      fc.property(networks, (req) => verdict(() => validateCreateNetwork(req)) === verdict(() => checkCreateNetworkRequest(req))),
      { numRuns: 300 },
    );
    const attaches = fc.record(
      {
        network: fc.constant('web'),
        netns: fc.constantFrom('/run/netns/c1', 'c1'),
        name: fc.constantFrom('api', '-api'),
        ip: fc.constantFrom('10.1.0.5', 'fd00::5'),
        mac: fc.constantFrom('02:42:0a:00:01:02', '01:00:5e:00:00:01'),
        leaveInHost: fc.boolean(),
      },
      { requiredKeys: ['network'] },
    );
    fc.assert(fc.property(attaches, (req) => verdict(() => validateAttach(req)) === verdict(() => checkAttachRequest(req))), { numRuns: 300 });
  });

  it('never mention a camelCase field name in any API message', () => {
    const requests: unknown[] = [
      { name: 'x', subnetV6: 'nope' }, { name: 'x', ipv6: true, subnetV6: 'fd00::/64', gatewayV6: '10.0.0.1' },
      { name: 'x', ipRange: '10.0.0.0/24' }, { name: 'x', ipRangeV6: 'fd00::/64' }, { name: 'x', auxAddresses: { a: 'b' } },
      { name: 'x', ipv6: true, ipRangeV6: 'fd00::/80' }, { name: 'x', ipv4PoolId: '' },
    ];
    for (const request of requests) {
      let message = '';
      try {
        validateCreateNetwork(request);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toMatch(/[a-z][A-Z]/);
    }
  });
});
