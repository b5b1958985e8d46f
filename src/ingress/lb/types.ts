// The load balancer interface (DESIGN.md: one `LoadBalancer`, two implementations: nftables and IPVS).
// Callers say, per network namespace, which frontends should exist; an implementation reads what it
// made there before, diffs, and applies ONE batch (one nft transaction / one `ipvsadm -R` restore).
import type { NsRef } from '../../kernel/index.js';
import type { Affinity, Protocol } from '../model.js';

export type LbKind = 'nftables' | 'ipvs';

/**
 * What a connection matches:
 * - vip: any port of a service's virtual IP (Swarm's VIP: the task gets the same destination port);
 * - port: a published port, on any local address of the namespace (ingress sandbox, host for mode=host).
 */
export type LbMatch = { kind: 'vip'; vip: string } | { kind: 'port'; protocol: Protocol; port: number; family: 4 | 6 };

export interface LbFrontend {
  /** Stable and unique within a namespace, e.g. `${serviceId}/${networkId}` or `${serviceId}/tcp/8080`. */
  id: string;
  match: LbMatch;
  /** Destination port at the backend; absent: the connection's own port (vip). */
  targetPort?: number;
  /** Backend addresses (same family as the match), sorted. Empty: connections are refused/dropped at once. */
  backends: string[];
  affinity: Affinity;
  /** Rewrite the source to this address after the backend is picked (ingress sandbox: replies come back through it). */
  snatTo?: string;
}

export interface LoadBalancer {
  readonly kind: LbKind;
  /**
   * Makes the namespace's frontends exactly `frontends`: adds and changes what differs, removes
   * frontends it made before that are absent. A backend that leaves gets no new connection at once;
   * its established connections are not cut while the task runs (quiesce, then delete).
   */
  sync(ns: NsRef, frontends: LbFrontend[], opts?: LbSyncOptions): Promise<void>;
  /** Removes everything this load balancer made in the namespace (the namespace may already be gone). */
  clear(ns: NsRef): Promise<void>;
  /**
   * Dry run for `vxmesh doctor`: reads the kernel and says how the namespace's state differs from
   * `frontends` (one sentence per difference; empty: as expected). Changes nothing.
   */
  drift?(ns: NsRef, frontends: LbFrontend[]): Promise<string[]>;
}

/** Hears of every sync (metrics): the kind that ran it and whether it succeeded. */
export interface LbSyncObserver {
  synced(kind: LbKind, ok: boolean): void;
}

export interface LbSyncOptions {
  /** Read the kernel instead of trusting what was programmed before, and repair what differs (periodic resync). */
  fresh?: boolean;
}
