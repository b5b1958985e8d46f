// Whether a `network create` asks for what an existing network of that name already is: with a shared
// store the second create of one name (another host, the same instant) gets the network back when it
// does, and an error naming the first option that differs when it does not. Options the request leaves
// out match anything (the first create may have picked them).

import { formatCidr, formatIp, parseCidr, parseIp } from '../ipam/index.js';
import type { CreateNetworkRequest, NetworkInfo } from '../model/api.js';

const cidr = (c: string): string => {
  try {
    return formatCidr(parseCidr(c));
  } catch {
    return c;
  }
};

const ip = (a: string): string => {
  try {
    const v = parseIp(a);
    return formatIp(v.family, v.value);
  } catch {
    return a;
  }
};

/** The first differing option as "<option> <existing> (this request: <asked>)", or undefined when they match. */
export function createOptionsMismatch(req: CreateNetworkRequest, have: NetworkInfo): string | undefined {
  const differ = (option: string, existing: string, asked: string) => `${option} ${existing} (this request: ${asked})`;
  if (req.subnet && cidr(req.subnet) !== cidr(have.ipv4.subnet)) return differ('subnet', have.ipv4.subnet, req.subnet);
  if (req.gateway && ip(req.gateway) !== ip(have.ipv4.gateway)) return differ('gateway', have.ipv4.gateway, req.gateway);
  if (req.ipRange && cidr(req.ipRange) !== cidr(have.ipv4.ipRange ?? have.ipv4.subnet)) return differ('ip-range', have.ipv4.ipRange ?? 'none', req.ipRange);
  if (Boolean(req.ipv6) !== Boolean(have.ipv6)) return differ('ipv6', have.ipv6 ? 'on' : 'off', req.ipv6 ? 'on' : 'off');
  if (req.subnetV6 && have.ipv6 && cidr(req.subnetV6) !== cidr(have.ipv6.subnet)) return differ('subnet-v6', have.ipv6.subnet, req.subnetV6);
  if (req.gatewayV6 && have.ipv6 && ip(req.gatewayV6) !== ip(have.ipv6.gateway)) return differ('gateway-v6', have.ipv6.gateway, req.gatewayV6);
  if (req.mtu !== undefined && req.mtu !== have.mtu) return differ('mtu', String(have.mtu), String(req.mtu));
  if (Boolean(req.internal) !== have.internal) return differ('internal', String(have.internal), String(Boolean(req.internal)));
  const labels = (l: Record<string, string> | undefined) => JSON.stringify(Object.entries(l ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (req.labels && Object.keys(req.labels).length && labels(req.labels) !== labels(have.labels)) return differ('labels', labels(have.labels), labels(req.labels));
  return undefined;
}
