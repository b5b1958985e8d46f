// Attach must never plumb a workload's interfaces (and its default route) into a namespace that
// carries the host's own connectivity: the agent's namespace, the initial one, any namespace holding
// the advertise address, or one of vxmesh's sandboxes. Namespaces are compared by the identity of
// their nsfs file (device + inode), never by path: /proc/PID/ns/net and /run/netns/X may be the same.

import { VxError } from '../errors.js';
import { NETNS_DIR, listNamespaces, nsFromPath, readNs, type NsActual } from '../kernel/index.js';
import { initialNsIdentity, nsIdentity, selfNsIdentity } from '../kernel/ns-identity.js';

export interface ProtectedNamespaces {
  /** The agent's own namespace (/proc/self/ns/net). */
  self: string;
  /** The initial namespace (/proc/1/ns/net), when readable. */
  initial?: string;
  advertiseAddr?: string;
  /** Identity -> sandbox name, for vxmesh's sandbox namespaces (any agent's). */
  sandboxes: Map<string, string>;
}

/** A sandbox namespace's name, any agent's: `<prefix>-n-<12 hex>`, or an ingress sandbox's `<prefix>ingress-sbox`. */
const SANDBOX_NAME = /-n-[0-9a-f]{12}$|ingress-sbox$/;

/** Reads what attach must not touch: cheap (stat calls), done once per attach. */
export async function protectedNamespaces(advertiseAddr: string | undefined, ownSandboxes: readonly string[]): Promise<ProtectedNamespaces> {
  const self = await selfNsIdentity();
  if (!self) throw new VxError('INTERNAL', "cannot read the agent's own network namespace");
  const initial = await initialNsIdentity();
  const names = new Set([...ownSandboxes, ...(await listNamespaces('')).filter((n) => SANDBOX_NAME.test(n))]);
  const sandboxes = new Map<string, string>();
  for (const n of names) {
    const id = await nsIdentity(`${NETNS_DIR}/${n}`);
    if (id) sandboxes.set(id, n);
  }
  return { self, ...(initial ? { initial } : {}), ...(advertiseAddr ? { advertiseAddr } : {}), sandboxes };
}

/**
 * Refuses a target namespace that must not get a workload's interfaces; returns its current kernel
 * state (read once, used to plan the attach and to see whether it already has a default route).
 */
export async function checkAttachTarget(netns: string, prot: ProtectedNamespaces, exempt?: string): Promise<NsActual> {
  const id = await nsIdentity(netns);
  if (!id) throw new VxError('NOT_FOUND', `network namespace ${netns} does not exist: create it first (ip netns add NAME)`);
  const refuse = (why: string) =>
    new VxError('FAILED_PRECONDITION', `refusing to attach into ${netns}: it is ${why}; attach workloads only into their own namespaces (e.g. ip netns add c1, then --netns /run/netns/c1)`);
  if (id === prot.self) throw refuse("the agent's own network namespace (the host's: its routes and addresses would be replaced)");
  if (id === prot.initial) throw refuse("the machine's initial network namespace (pid 1's)");
  const sandbox = prot.sandboxes.get(id);
  // The one exemption: the ingress plane attaching this host's own ingress sandbox (named by the caller).
  if (sandbox && sandbox !== exempt) throw refuse(`vxmesh's sandbox namespace ${sandbox} of an overlay network`);
  const state = await readNs(nsFromPath(netns), false);
  if (prot.advertiseAddr && state.addrs.some((a) => a.cidr.split('/')[0] === prot.advertiseAddr)) {
    throw refuse(`a namespace holding the agent's advertise address ${prot.advertiseAddr} (a host namespace)`);
  }
  return state;
}

/** True when the namespace already routes by default on its own (attach then adds no default route). */
export function hasOwnDefaultRoute(state: NsActual): boolean {
  return state.routes.some((r) => r.family === 4 && r.dst === 'default');
}
