// `--publish` text to a PublishSpec. Pure. Two forms, as docker accepts them:
//   short:  [mode=ingress|host,]PUBLISHED:TARGET[/tcp|/udp]   (PUBLISHED may be empty: auto-assigned;
//           a bare TARGET[/proto] means the same as :TARGET)
//   long:   published=8080,target=80,protocol=udp,mode=host   (any order; target required)
import type { PublishSpec } from '../model/api.js';
import { PORT_MAX, PORT_MIN } from '../model/limits.js';
import { quote, type Problem } from '../model/validate.js';

const PORT_TEXT = /^\d{1,5}$/;

function portOf(what: string, text: string): number | string {
  const n = PORT_TEXT.test(text) ? Number(text) : NaN;
  return n >= PORT_MIN && n <= PORT_MAX ? n : `${what} must be a port from ${PORT_MIN} to ${PORT_MAX}, got ${quote(text)}`;
}

/** The spec, or why `text` is not one (the message starts with `flag` and the text given). */
export function parsePublishSpec(text: string, flag = '--publish'): PublishSpec | { problem: string } {
  const bad = (why: string) => ({ problem: `${flag} ${quote(text)}: ${why} (e.g. ${flag} 8080:80, ${flag} :80/udp, ${flag} mode=host,8080:80)` });
  if (text === '') return bad('empty');
  const spec: { publishedPort?: number; targetPort?: number; protocol?: 'tcp' | 'udp'; mode?: 'ingress' | 'host' } = {};
  const seen = new Set<string>();
  const setProtocol = (value: string): Problem => {
    if (value !== 'tcp' && value !== 'udp') return `protocol must be tcp or udp, got ${quote(value)}`;
    spec.protocol = value;
    return undefined;
  };
  const setPort = (field: 'publishedPort' | 'targetPort', what: string, value: string): Problem => {
    const port = portOf(what, value);
    if (typeof port === 'string') return port;
    spec[field] = port;
    return undefined;
  };
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? 'short' : part.slice(0, eq);
    const value = eq < 0 ? part : part.slice(eq + 1);
    if (seen.has(key) || (key === 'short' && (seen.has('published') || seen.has('target')))) return bad(`${key === 'short' ? 'PUBLISHED:TARGET' : key} given twice`);
    seen.add(key);
    let problem: Problem;
    switch (key) {
      case 'mode':
        if (value !== 'ingress' && value !== 'host') problem = `mode must be ingress or host, got ${quote(value)}`;
        else spec.mode = value;
        break;
      case 'protocol':
        problem = setProtocol(value);
        break;
      case 'published':
        problem = value === '' ? undefined : setPort('publishedPort', 'the published port', value);
        break;
      case 'target':
        problem = setPort('targetPort', 'the target port', value);
        break;
      case 'short': {
        const slash = value.indexOf('/');
        const ports = slash < 0 ? value : value.slice(0, slash);
        if (slash >= 0) problem = setProtocol(value.slice(slash + 1));
        const colon = ports.indexOf(':');
        const published = colon < 0 ? '' : ports.slice(0, colon);
        const target = colon < 0 ? ports : ports.slice(colon + 1);
        problem ??= published === '' ? undefined : setPort('publishedPort', 'the published port', published);
        problem ??= setPort('targetPort', 'the target port', target);
        break;
      }
      default:
        problem = `unknown field ${quote(key)}: use mode, published, target or protocol`;
    }
    if (problem !== undefined) return bad(problem);
  }
  if (spec.targetPort === undefined) return bad('the target port is missing');
  return spec as PublishSpec;
}
