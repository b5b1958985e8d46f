// One node name per host in a shared store. Records of endpoints and gateway legs carry their host's
// node name, and each host repairs and removes only records with its own: two hosts under one name would
// delete each other's endpoints as "namespace gone". The first start under a name records its advertise
// address; a start from another address under that name is refused.
import { VxError } from '../errors.js';
import type { Store } from '../store/index.js';

export interface NodeClaim {
  advertiseAddr: string;
  since: string; // ISO 8601
}

export const nodeKey = (name: string) => `nodes/${name}`;

export async function claimNodeName(store: Store, node: string, advertiseAddr: string): Promise<void> {
  const held = await store.get<NodeClaim>(nodeKey(node));
  if (held && held.value.advertiseAddr !== advertiseAddr) {
    throw new VxError(
      'FAILED_PRECONDITION',
      `node name "${node}" is already used in this store by the host at ${held.value.advertiseAddr} (since ${held.value.since}): give every host its own --node-name` +
        ` (if that host is gone for good, delete the key ${nodeKey(node)} under --store-prefix)`,
    );
  }
  if (!held) await store.txn([{ op: 'put', key: nodeKey(node), value: { advertiseAddr, since: new Date().toISOString() } satisfies NodeClaim, expectRevision: 0 }]);
}
