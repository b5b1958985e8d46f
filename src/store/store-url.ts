import { isIP } from 'node:net';

// `--store etcd://HOST:2379[,HOST:2379...]` -> the etcd client's endpoint URLs, or an error naming the
// flag, the bad part and the expected form.

const FORM = 'etcd://HOST[:PORT][,HOST[:PORT]...]';
const DEFAULT_PORT = 2379;

export function parseEtcdStoreUrl(url: string, options: { tls?: boolean } = {}): string[] {
  const bad = (why: string) => new Error(`--store ${JSON.stringify(url)}: ${why}; expected ${FORM}`);
  const m = /^etcd:\/\/(.+)$/.exec(url.trim());
  if (!m) throw bad('not an etcd:// URL');
  const scheme = options.tls ? 'https' : 'http';
  return m[1]!.split(',').map((raw) => {
    const part = raw.trim();
    if (!part) throw bad('an empty host');
    // [v6]:port, [v6], host:port, host
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(part);
    const plain = v6 ? undefined : /^([^:/\s]+)(?::(\d+))?$/.exec(part);
    const host = v6?.[1] ?? plain?.[1];
    const portText = v6 ? v6[2] : plain?.[2];
    if (!host || (v6 && isIP(host) !== 6)) throw bad(`"${part}" is not HOST or HOST:PORT`);
    const port = portText === undefined ? DEFAULT_PORT : Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port ${portText} of "${part}" is not 1-65535`);
    return `${scheme}://${v6 ? `[${host}]` : host}:${port}`;
  });
}
