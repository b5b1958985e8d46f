// The --publish parser and the service request checks: pure, shared by the CLI, the API edge and the agent.
import { describe, expect, it } from 'vitest';
import { parsePublishSpec } from '../../src/ingress/publish-spec.js';
import { createServiceProblem, publishProblem, updateServiceProblem } from '../../src/ingress/service-validate.js';

describe('parsePublishSpec', () => {
  it.each([
    ['8080:80', { publishedPort: 8080, targetPort: 80 }],
    ['8080:80/udp', { publishedPort: 8080, targetPort: 80, protocol: 'udp' }],
    [':80', { targetPort: 80 }],
    ['80', { targetPort: 80 }],
    [':53/udp', { targetPort: 53, protocol: 'udp' }],
    ['mode=host,8080:80', { publishedPort: 8080, targetPort: 80, mode: 'host' }],
    ['mode=ingress,:80/tcp', { targetPort: 80, protocol: 'tcp', mode: 'ingress' }],
    ['published=8080,target=80,protocol=udp,mode=host', { publishedPort: 8080, targetPort: 80, protocol: 'udp', mode: 'host' }],
    ['target=80,published=', { targetPort: 80 }],
    ['65535:1', { publishedPort: 65535, targetPort: 1 }],
  ])('%s', (text, want) => {
    expect(parsePublishSpec(text)).toEqual(want);
  });

  it.each([
    ['', /empty/],
    ['8080:0', /the target port must be a port from 1 to 65535, got "0"/],
    ['0:80', /the published port must be a port from 1 to 65535, got "0"/],
    ['65536:80', /the published port must be a port from 1 to 65535, got "65536"/],
    ['8080:', /the target port must be a port from 1 to 65535, got ""/],
    ['a:80', /the published port must be a port/],
    ['80:80/sctp', /protocol must be tcp or udp, got "sctp"/],
    ['mode=local,80:80', /mode must be ingress or host, got "local"/],
    ['color=red,80:80', /unknown field "color"/],
    ['80:80,81:81', /PUBLISHED:TARGET given twice/],
    ['published=80', /the target port is missing/],
    ['1:2:3', /the target port must be a port/],
  ])('refuses %j', (text, why) => {
    const got = parsePublishSpec(text, '--publish');
    expect(got).toHaveProperty('problem');
    const { problem } = got as { problem: string };
    expect(problem.startsWith(`--publish ${JSON.stringify(text)}: `)).toBe(true);
    expect(problem).toMatch(why);
  });
});

describe('service request checks', () => {
  const ok = { name: 'api', networks: ['web'] };

  it('accepts a plain service and every option', () => {
    expect(createServiceProblem(ok)).toBeUndefined();
    expect(createServiceProblem({ ...ok, endpointMode: 'dnsrr', affinity: 'client-ip', publish: [{ targetPort: 80, publishedPort: 8080, mode: 'host' }], labels: { a: 'b' } })).toBeUndefined();
  });

  it('names the field of each problem', () => {
    expect(createServiceProblem({ ...ok, name: 'bad name' })).toMatch(/^invalid name "bad name"/);
    expect(createServiceProblem({ ...ok, networks: [] })).toMatch(/^network is required/);
    expect(createServiceProblem({ ...ok, networks: ['web', 'web'] })).toBe('network: a network is given twice');
    expect(createServiceProblem({ ...ok, endpointMode: 'x' as 'vip' })).toBe('endpoint-mode must be vip or dnsrr, got "x"');
    expect(createServiceProblem({ ...ok, publish: [{ targetPort: 0 }] })).toBe('publish :0/tcp: the target port must be a port from 1 to 65535, got 0');
    expect(createServiceProblem({ ...ok, publish: [{ targetPort: 80, publishedPort: 70000 }] })).toMatch(/the published port must be a port from 1 to 65535, got 70000/);
    expect(createServiceProblem({ ...ok, publish: [{ targetPort: 80, protocol: 'sctp' as 'tcp' }] })).toMatch(/the protocol must be tcp or udp/);
    expect(createServiceProblem({ ...ok, endpointMode: 'dnsrr', publish: [{ targetPort: 80 }] })).toMatch(/a dnsrr service has no VIP.*mode=host/);
    expect(updateServiceProblem({ service: '' })).toBe('service must not be empty');
  });

  it('refuses a port published twice, but not one port over tcp and udp', () => {
    expect(publishProblem('publish', [{ targetPort: 80, publishedPort: 8080 }, { targetPort: 81, publishedPort: 8080 }])).toMatch(/port tcp\/8080 is published twice/);
    expect(publishProblem('publish', [{ targetPort: 53, publishedPort: 53 }, { targetPort: 53, publishedPort: 53, protocol: 'udp' }])).toBeUndefined();
    expect(publishProblem('publish', [{ targetPort: 80 }, { targetPort: 80 }])).toBeUndefined(); // two auto-assigned ports
  });

  it('host mode needs a published port', () => {
    expect(publishProblem('--publish', [{ targetPort: 80, mode: 'host' }])).toMatch(/host mode needs a published port \(e.g. mode=host,8080:80\)/);
  });
});
