// Every command with bad input, against the fake agent over a real unix socket in a temp dir: the exit
// status, the message, and the --json error shape (before and after the command) agree, and a command
// line refused as bad (exit 2) never reaches the agent.
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import type { FakeAgent } from './api-fake-agent.js';
import { runCaptured, useCliHarness, type CliResult } from './cli-harness.js';

interface Row {
  argv: string[];
  exit: 1 | 2;
  code: string;
  /** The whole message (the first stderr line without "error: "), or a pattern for it. */
  message: string | RegExp;
  /** Makes the state the row needs (on the fake agent). */
  setup?: (agent: FakeAgent) => Promise<void>;
}

const KEY = randomBytes(32).toString('base64');
const NAME_RULE = "use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit";

const usage = (argv: string[], message: string | RegExp): Row => ({ argv, exit: 2, code: 'INVALID_ARGUMENT', message });
const failure = (argv: string[], code: string, message: string | RegExp, setup?: Row['setup']): Row => ({
  argv, exit: 1, code, message, ...(setup ? { setup } : {}),
});

const twoEndpointsNamedApi = async (agent: FakeAgent): Promise<void> => {
  await agent.createNetwork({ name: 'web' });
  await agent.createNetwork({ name: 'db' });
  await agent.attach({ network: 'web', netns: '/run/netns/c1', name: 'api' });
  await agent.attach({ network: 'db', netns: '/run/netns/c2', name: 'api' });
};

const ROWS: Row[] = [
  // global
  usage([], 'missing command'),
  usage(['frob'], "unknown command 'frob'"),
  usage(['--bogus', 'status'], "unknown option '--bogus'"),
  usage(['--socket', '', 'status'], "option '--socket' needs a value"),
  usage(['--socket'], "option '--socket' needs a value"),
  usage(['network'], 'missing network command'),
  usage(['network', 'frob'], "unknown network command 'frob'"),
  // network create
  usage(['network', 'create'], 'missing NAME'),
  usage(['network', 'create', 'a', 'b'], "unexpected argument 'b'"),
  usage(['network', 'create', 'web', '--bogus'], "unknown option '--bogus'"),
  usage(['network', 'create', 'web', '--subnet'], "option '--subnet' needs a value"),
  usage(['network', 'create', 'web', '--internal=yes'], "option '--internal' does not take a value"),
  usage(['network', 'create', 'web', '--mtu', 'big'], '--mtu must be an integer from 1280 to 9000, got "big"'),
  usage(['network', 'create', 'web', '--label', 'novalue'], "--label expects KEY=VALUE, got 'novalue'"),
  usage(['network', 'create', '-web'], `invalid network name "-web": ${NAME_RULE}`),
  usage(['network', 'create', '--', '-web'], `invalid network name "-web": ${NAME_RULE}`),
  usage(['network', 'create', 'n'.repeat(64)], `invalid network name "${'n'.repeat(64)}": ${NAME_RULE}`),
  usage(['network', 'create', ''], `invalid network name "": ${NAME_RULE}`),
  usage(['network', 'create', 'web', '--subnet', ''], '--subnet must not be empty (leave the flag out to use the default)'),
  usage(['network', 'create', 'web', '--subnet='], '--subnet must not be empty (leave the flag out to use the default)'),
  usage(['network', 'create', 'web', '--subnet', '10.1.0.5/24'], '--subnet 10.1.0.5/24 has host bits set; did you mean 10.1.0.0/24?'),
  usage(['network', 'create', 'web', '--subnet', 'fd00::/64'], '--subnet "fd00::/64" is not an IPv4 CIDR (e.g. 10.1.0.0/24)'),
  usage(['network', 'create', 'web', '--subnet-v6', 'fd00::/64'], '--subnet-v6 needs --ipv6'),
  usage(['network', 'create', 'web', '--ipv6', '--subnet-v6', '10.0.0.0/8'], '--subnet-v6 "10.0.0.0/8" is not an IPv6 CIDR (e.g. fd00:1::/64)'),
  usage(['network', 'create', 'web', '--ipv6', '--gateway-v6', 'fd00::1'], '--gateway-v6 needs --subnet-v6'),
  usage(['network', 'create', 'web', '--gateway', '10.1.0.1'], '--gateway needs --subnet'),
  usage(['network', 'create', 'web', '--ip-range', '10.1.0.0/25'], '--ip-range needs --subnet'),
  usage(['network', 'create', 'web', '--mtu', '1279'], '--mtu must be an integer from 1280 to 9000, got "1279"'),
  usage(['network', 'create', 'web', '--mtu', '9001'], '--mtu must be an integer from 1280 to 9000, got "9001"'),
  usage(['network', 'create', 'web', '--label', '=v'], "--label expects KEY=VALUE, got '=v'"),
  usage(['network', 'create', 'web', '--aux-address', 'r=nope'], /^--aux-address r: "nope" is not a valid IP address/),
  usage(['network', 'create', 'web', '--aux-address', '-r=10.1.0.2', '--subnet', '10.1.0.0/24'], `invalid --aux-address name "-r": ${NAME_RULE}`),
  usage(['network', 'create', 'web', '--name', 'x'], "unknown option '--name'"),
  failure(['network', 'create', 'web'], 'ALREADY_EXISTS', 'network web already exists', async (agent) => void (await agent.createNetwork({ name: 'web' }))),
  // network ls / inspect / rm
  usage(['network', 'ls', 'extra'], "unexpected argument 'extra'"),
  usage(['network', 'ls', '-x'], "unknown option '-x'"),
  usage(['network', 'inspect'], 'missing NAME'),
  usage(['network', 'inspect', '-web'], `invalid network name "-web": ${NAME_RULE}`),
  failure(['network', 'inspect', 'nope'], 'NOT_FOUND', 'network nope not found'),
  usage(['network', 'rm'], 'missing NAME'),
  usage(['network', 'rm', '-f', 'web'], `invalid network name "-f": ${NAME_RULE}`),
  failure(['network', 'rm', 'nope'], 'NOT_FOUND', 'network nope not found'),
  // endpoint attach
  usage(['endpoint', 'attach', '--netns', '/run/netns/c1'], '--network is required (e.g. --network web)'),
  usage(['endpoint', 'attach', '--network', 'web'], '--netns is required (e.g. --netns /run/netns/c1)'),
  usage(['endpoint', 'attach', '--network', 'web', '--netns', ''], '--netns must not be empty'),
  usage(['endpoint', 'attach', '--network', 'web', '--netns', 'c1'], '--netns "c1" is not an absolute path: e.g. /run/netns/c1 or /proc/PID/ns/net'),
  usage(['endpoint', 'attach', '--network', '-web', '--netns', '/run/netns/c1'], `invalid network name "-web": ${NAME_RULE}`),
  usage(['endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--name', '-api'], `invalid --name "-api": ${NAME_RULE}`),
  usage(['endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--alias', 'b@d'], `invalid --alias "b@d": ${NAME_RULE}`),
  usage(['endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--ip', 'fd00::1'], '--ip "fd00::1" is not an IPv4 address'),
  usage(['endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--ipv6', '10.0.0.1'], '--ipv6 "10.0.0.1" is not an IPv6 address'),
  usage(['endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--mac', '01:00:5e:00:00:01'], '--mac 01:00:5e:00:00:01 is a multicast address: the first octet must be even'),
  usage(['endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--label', ''], '--label must not be empty (leave the flag out to use the default)'),
  failure(['endpoint', 'attach', '--network', 'ghost', '--netns', '/run/netns/c1'], 'NOT_FOUND', 'network ghost not found'),
  // endpoint detach / ls
  usage(['endpoint', 'detach'], 'missing ENDPOINT'),
  usage(['endpoint', 'detach', '-x'], `invalid endpoint name "-x": ${NAME_RULE}`),
  failure(['endpoint', 'detach', 'nope'], 'NOT_FOUND', 'endpoint nope not found (vxmesh endpoint ls lists them)'),
  failure(['endpoint', 'detach', 'api'], 'INVALID_ARGUMENT', /^endpoint api is ambiguous: it is the name of \w{12} \(name api, network web\), \w{12} \(name api, network db\): give the id$/, twoEndpointsNamedApi),
  usage(['endpoint', 'ls', 'extra'], "unexpected argument 'extra'"),
  usage(['endpoint', 'ls', '--network', ''], '--network must not be empty (leave the flag out to use the default)'),
  usage(['endpoint', 'ls', '--network', '-web'], `invalid network name "-web": ${NAME_RULE}`),
  failure(['endpoint', 'ls', '--network', 'ghost'], 'NOT_FOUND', 'network ghost not found'),
  // service create / ls / inspect / update / rm
  usage(['service', 'create'], 'missing NAME'),
  usage(['service', 'create', 'api'], '--network is required (e.g. --network web)'),
  usage(['service', 'create', '-api', '--network', 'web'], `invalid service name "-api": ${NAME_RULE}`),
  usage(['service', 'create', 'api', '--network', 'web', '--publish', '8080:0'], '--publish "8080:0": the target port must be a port from 1 to 65535, got "0" (e.g. --publish 8080:80, --publish :80/udp, --publish mode=host,8080:80)'),
  usage(['service', 'create', 'api', '--network', 'web', '--publish', '70000:80'], /^--publish "70000:80": the published port must be a port from 1 to 65535, got "70000"/),
  usage(['service', 'create', 'api', '--network', 'web', '--publish', '80:80/sctp'], /^--publish "80:80\/sctp": protocol must be tcp or udp, got "sctp"/),
  usage(['service', 'create', 'api', '--network', 'web', '--publish', 'mode=host,:80'], '--publish :80/tcp (host mode): host mode needs a published port (e.g. mode=host,8080:80)'),
  usage(['service', 'create', 'api', '--network', 'web', '--publish', '80:80', '--publish', '80:81'], '--publish: port tcp/80 is published twice (80:80/tcp and 80:81/tcp): publish each port once'),
  usage(['service', 'create', 'api', '--network', 'web', '--endpoint-mode', 'rr'], '--endpoint-mode must be vip or dnsrr, got "rr"'),
  usage(['service', 'create', 'api', '--network', 'web', '--affinity', 'sticky'], '--affinity must be none or client-ip, got "sticky"'),
  failure(['service', 'create', 'api', '--network', 'ghost'], 'NOT_FOUND', 'network ghost not found'),
  usage(['service', 'ls', 'extra'], "unexpected argument 'extra'"),
  usage(['service', 'inspect'], 'missing NAME'),
  failure(['service', 'inspect', 'nope'], 'NOT_FOUND', 'service "nope" not found'),
  usage(['service', 'update', 'api'], 'nothing to change: give --publish, --no-publish, --affinity or --label'),
  usage(['service', 'update', 'api', '--publish', '80:80', '--no-publish'], '--no-publish and --publish exclude each other: give one'),
  usage(['service', 'rm'], 'missing NAME'),
  failure(['service', 'rm', 'nope'], 'NOT_FOUND', 'service "nope" not found'),
  usage(['endpoint', 'attach', '--network', 'web', '--netns', '/run/netns/c1', '--service', '-api'], `invalid --service "-api": ${NAME_RULE}`),
  // node, gossip
  usage(['node'], 'missing node command'),
  usage(['node', 'ls', 'extra'], "unexpected argument 'extra'"),
  usage(['node', 'ls', '-x'], "unknown option '-x'"),
  usage(['gossip'], 'missing gossip command'),
  usage(['gossip', 'frob'], "unknown gossip command 'frob'"),
  usage(['gossip', 'key'], 'missing gossip key command'),
  usage(['gossip', 'key', 'use'], 'missing KEY'),
  usage(['gossip', 'key', 'remove'], 'missing KEY'),
  usage(['gossip', 'keygen', '32'], "unexpected argument '32'"),
  usage(['gossip', 'key', 'rotate'], "unknown gossip key command 'rotate'"),
  usage(['gossip', 'key', 'ls', KEY], `unexpected argument '${KEY}'`),
  usage(['gossip', 'key', 'install'], 'missing KEY'),
  usage(['gossip', 'key', 'install', 'not*base64'], 'key is not valid base64 (standard alphabet, padded; e.g. the output of `vxmesh gossip keygen`)'),
  usage(['gossip', 'key', 'install', '-abc'], 'key is not valid base64 (standard alphabet, padded; e.g. the output of `vxmesh gossip keygen`)'),
  usage(['gossip', 'key', 'use', Buffer.alloc(8).toString('base64')], 'key decodes to 8 bytes; a gossip key must be 16, 24 or 32 bytes (AES-128, AES-192 or AES-256)'),
  failure(['gossip', 'key', 'use', KEY], 'NOT_FOUND', 'the key is not installed: install it first'),
  failure(['gossip', 'key', 'remove', KEY], 'FAILED_PRECONDITION', 'cannot remove the primary key: use another key first', async (agent) => {
    agent.keyring = [KEY];
  }),
  // status, version, agent
  usage(['status', 'extra'], "unexpected argument 'extra'"),
  usage(['status', '--socket', '/x'], "unknown option '--socket'"),
  usage(['version', 'extra'], "unexpected argument 'extra'"),
  usage(['doctor', 'extra'], "unexpected argument 'extra'"),
  usage(['endpoint', 'trace', 'abc'], '--to is required (e.g. --to 10.0.1.3 or --to api:80)'),
  usage(['agent', '--gossip-port', 'x'], '--gossip-port must be an integer from 1 to 65535, got "x"'),
  usage(['agent', '--log-format', 'xml'], '--log-format "xml" is not one of json, pretty'),
  usage(['agent', '--resync-interval', '0'], '--resync-interval must be an integer from 1 to 86400, got "0"'),
  usage(['agent', '--gossip-profile', 'slow'], '--gossip-profile "slow" is not one of default, fast'),
  usage(['agent', '--data-dir', ''], '--data-dir must not be empty'),
  usage(['agent', '--config', ''], '--config must not be empty'),
  usage(['agent', 'extra'], "unexpected argument 'extra'"),
];

describe('vxmesh with bad input', () => {
  const h = useCliHarness();

  /** Runs the CLI; it must never start an agent, whatever the input. */
  async function run(argv: string[], env: NodeJS.ProcessEnv = { VXMESH_SOCKET: h.socketPath }): Promise<CliResult> {
    const agentStarts: unknown[] = [];
    const result = await runCaptured(argv, env, { runAgent: async (config) => void agentStarts.push(config) });
    expect(agentStarts).toEqual([]);
    return result;
  }

  it('has rows for every command', () => {
    const covered = new Set(ROWS.map((row) => COMMANDS.find((c) => c.path.every((word, i) => row.argv[i] === word))?.path.join(' ')));
    for (const command of COMMANDS) expect(covered, command.path.join(' ')).toContain(command.path.join(' '));
  });

  it.each(ROWS.map((row) => [row.argv.join(' ') || '(nothing)', row] as const))('%s', async (_name, row) => {
    const matches = (message: string): void => {
      if (typeof row.message === 'string') expect(message).toBe(row.message);
      else expect(message).toMatch(row.message);
    };

    await row.setup?.(h.agent);
    h.agent.calls.length = 0;
    const text = await run(row.argv);
    expect(text.code).toBe(row.exit);
    expect(text.stdout).toBe('');
    const [first] = text.stderr.split('\n');
    expect(first?.startsWith('error: ')).toBe(true);
    matches(first?.slice('error: '.length) ?? '');
    // A bad command line is refused before any call; an agent failure came from the agent.
    if (row.exit === 2) expect(h.agent.calls).toEqual([]);
    else expect(h.agent.calls.length).toBeGreaterThan(0);

    // Under --json, before or after the command: same exit status, the error as one JSON line on stderr.
    const afterCommand = row.argv.includes('--') ? [...row.argv.slice(0, row.argv.indexOf('--')), '--json', ...row.argv.slice(row.argv.indexOf('--'))] : [...row.argv, '--json'];
    for (const argv of [['--json', ...row.argv], afterCommand]) {
      await h.reset();
      await row.setup?.(h.agent);
      const json = await run(argv);
      expect(json.code, argv.join(' ')).toBe(row.exit);
      expect(json.stdout).toBe('');
      const lines = json.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      const document = JSON.parse(lines[0] ?? '') as { error: { code: string; message: string } };
      expect(Object.keys(document)).toEqual(['error']);
      expect(Object.keys(document.error).sort()).toEqual(['code', 'message']);
      expect(document.error.code).toBe(row.code);
      matches(document.error.message);
    }
  });

  it('answers any argv with exit 0, 1 or 2, and under --json only JSON lines on stderr', async () => {
    const words = fc.constantFrom(
      'network', 'create', 'ls', 'inspect', 'rm', 'endpoint', 'attach', 'detach', 'node', 'gossip', 'key', 'keygen', 'install', 'use',
      'remove', 'status', 'version', 'agent', 'web', '-web', '-', '--', '', '-q', '-x', '--json', '--subnet', '--subnet=', '10.1.0.0/24',
      '--ipv6', '--subnet-v6', 'fd00::/64', '--mtu', '1280', '--network', '--netns', '/run/netns/c1', '--name', '--label', 'k=v', '=',
      '--socket', '--config', '--gossip-port', '7946', '--no-plugin', '--salvage', '--log-format', 'pretty', KEY, 'b@d', 'é', '\n',
    );
    // The agent command gets a config file that does not exist; other commands an absent socket.
    const env = { VXMESH_SOCKET: join(h.dir, 'absent.sock') };
    await fc.assert(
      fc.asyncProperty(fc.array(words, { maxLength: 8 }), fc.boolean(), async (argv, json) => {
        const args = json ? ['--json', ...argv] : argv;
        const result = await runCaptured(args, env, { runAgent: async () => undefined, readFile: () => '{}' });
        expect([0, 1, 2]).toContain(result.code);
        const end = args.indexOf('--');
        const jsonMode = (end < 0 ? args : args.slice(0, end)).includes('--json');
        if (jsonMode) {
          for (const line of result.stderr.split('\n').filter(Boolean)) {
            const document = JSON.parse(line) as Record<string, { message?: unknown }>;
            expect(Object.keys(document).length).toBe(1);
            expect(typeof (document.error ?? document.warning)?.message).toBe('string');
          }
        }
        else if (result.code !== 0) expect(result.stderr).toMatch(/^error: /);
      }),
      { numRuns: 400 },
    );
  });

  it('sets the process exit status and prints the same JSON as the built `vxmesh` (dist/cli/main.js)', async () => {
    const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    const outcome = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli, 'network', 'create', '-web', '--json'], { env: { VXMESH_SOCKET: h.socketPath } }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      });
    });
    expect(outcome).toEqual({
      code: 2,
      stdout: '',
      stderr: `${JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: `invalid network name "-web": ${NAME_RULE}` } })}\n`,
    });
    expect(h.agent.calls).toEqual([]);
  });

  it('reports an unreachable agent as exit 1, in both forms', async () => {
    const absent = join(h.dir, 'absent.sock');
    const message = `cannot reach the vxmesh agent at ${absent}: is \`vxmesh agent\` running? (set --socket or VXMESH_SOCKET)`;
    const text = await run(['network', 'ls'], { VXMESH_SOCKET: absent });
    expect(text).toEqual({ code: 1, stdout: '', stderr: `error: ${message}\n` });
    const json = await run(['network', 'ls', '--json'], { VXMESH_SOCKET: absent });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'FAILED_PRECONDITION', message } });
  });

  it('goes on after a failed target and reports each failure as its own JSON line', async () => {
    await h.agent.createNetwork({ name: 'a' });
    const result = await run(['network', 'rm', 'nope1', 'a', 'nope2', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual(['a']);
    expect(result.stderr.trimEnd().split('\n').map((line) => JSON.parse(line))).toEqual([
      { error: { code: 'NOT_FOUND', message: 'network nope1 not found' } },
      { error: { code: 'NOT_FOUND', message: 'network nope2 not found' } },
    ]);
  });
});
