// Upstream resolvers: from a resolv.conf (the host's, by default) or a list given by the caller.
import { readFileSync } from 'node:fs';
import { VxError } from '../../errors.js';
import { parseIPv4, parseIPv6 } from '../records/ip.js';

export interface Upstream {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** Our own address: never an upstream (a namespace's resolv.conf copied to the host would loop). */
const SELF = '127.0.0.11';

/** "1.1.1.1", "1.1.1.1:5353", "2001:db8::1", "[2001:db8::1]:5353"; `field` names the input in errors. */
export function parseUpstream(text: string, field: string): Upstream {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const v4port = /^([\d.]+)(?::(\d+))?$/.exec(text);
  const [address, portText] = bracket ? [bracket[1]!, bracket[2]] : v4port ? [v4port[1]!, v4port[2]] : [text, undefined];
  const bare = address.split('%')[0]!;
  const family = parseIPv4(bare) ? 4 : parseIPv6(bare) ? 6 : undefined;
  const port = portText === undefined ? 53 : Number(portText);
  if (!family || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new VxError('INVALID_ARGUMENT', `${field}: "${text}" is not an upstream DNS server (IP or IP:PORT, [IPv6]:PORT)`);
  }
  return { address, port, family };
}

/** The nameserver lines of a resolv.conf text, in order, without 127.0.0.11 itself. */
export function parseResolvConf(text: string, path: string): Upstream[] {
  const out: Upstream[] = [];
  text.split('\n').forEach((line, i) => {
    const words = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (words[0] !== 'nameserver' || words[1] === undefined) return;
    const u = parseUpstream(words[1], `${path}:${i + 1} nameserver`);
    if (u.address !== SELF) out.push(u);
  });
  return out;
}

export function readResolvConf(path: string): Upstream[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new VxError('INVALID_ARGUMENT', `cannot read resolv.conf ${path}: ${(e as Error).message}; give the upstream servers with --dns instead`);
  }
  return parseResolvConf(text, path);
}
