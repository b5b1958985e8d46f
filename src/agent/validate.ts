// The agent's edge checks: values and limits come from src/model/validate.ts (the same ones the CLI and
// API use); only what needs the host (does the network namespace exist?) is decided here.
import { existsSync } from 'node:fs';
import { VxError } from '../errors.js';
import { nsExists, nsFromPath } from '../kernel/ns.js';
import { NAME_MAX, NAME_PATTERN } from '../model/limits.js';
import type { AttachRequest, CreateNetworkRequest, PoolRequest } from '../model/api.js';
import {
  attachProblem, cidrProblem, createNetworkProblem, ipProblem, labelsProblem, macProblem, mtuProblem, nameProblem, netnsPathProblem,
  normalizeMac, orThrow, poolRequestProblem,
} from '../model/validate.js';

/**
 * Whole requests, with the checks the API edge runs (the plugin calls the agent directly, so the agent
 * checks again): field names in messages are the flag names without dashes (subnet-v6).
 */
export function checkCreateNetworkRequest(req: CreateNetworkRequest): void {
  orThrow(createNetworkProblem(req));
}

/** Syntax only; checkNetnsPath then asks the host whether the namespace exists. */
export function checkAttachRequest(req: AttachRequest): void {
  orThrow(attachProblem(req));
}

export function checkPoolRequest(req: PoolRequest): void {
  orThrow(poolRequestProblem(req));
}

/** Kept for callers that test a name directly; the same rule as nameProblem. */
export const NAME_RE = new RegExp(`^(?=.{1,${NAME_MAX}}$)${NAME_PATTERN.source.slice(1, -1)}$`);

/** `what` is the kind of object ("network", "endpoint") or the field ("alias"). */
export function checkName(what: string, name: string | undefined): string {
  orThrow(nameProblem(what === 'alias' ? 'alias' : `${what} name`, name ?? ''));
  return name as string;
}

export function checkCidr(what: string, text: string, family?: 4 | 6): void {
  orThrow(cidrProblem(what, text, family));
}

export function checkIp(what: string, text: string, family?: 4 | 6): string {
  orThrow(ipProblem(what, text, family));
  return text;
}

export function checkMtu(mtu: number | undefined): void {
  if (mtu !== undefined) orThrow(mtuProblem('mtu', mtu));
}

/** Returns the MAC in the lower-case form the kernel reports. */
export function checkMac(mac: string): string {
  orThrow(macProblem('mac', mac));
  return normalizeMac(mac);
}

export function checkNetnsPath(path: string | undefined): string {
  if (!path) throw new VxError('INVALID_ARGUMENT', 'missing netns: give the path of the workload network namespace, e.g. /run/netns/c1');
  orThrow(netnsPathProblem('netns', path));
  if (!nsExists(nsFromPath(path))) {
    throw new VxError('NOT_FOUND', `network namespace ${path} does not exist${existsSync(path) ? ' (the path is there, but no namespace is mounted on it)' : ''}: create it first (ip netns add NAME)`);
  }
  return path;
}

export function checkLabels(labels: Record<string, string> | undefined): Record<string, string> {
  orThrow(labelsProblem('label', labels ?? {}));
  return { ...labels };
}
