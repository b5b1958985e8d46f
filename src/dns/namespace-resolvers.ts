// Which namespaces the resolver serves, and through which view: what the dns controller keeps per
// attached workload namespace. attach is idempotent (a second endpoint of the same namespace just
// updates its networks); detach closes the sockets and releases the view.
import type { DnsView, RecordStore } from './records/record-store.js';
import type { DnsServer, Served } from './server/dns-server.js';
import { serveInNetns } from './netns-listener.js';

/** How sockets are made for a namespace (the native addon by default; tests pass their own). */
export type Listen = (server: DnsServer, nsPath: string, view: DnsView) => Promise<Served>;

interface Entry {
  readonly view: DnsView;
  readonly served: Promise<Served>;
}

export class NamespaceResolvers {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly server: DnsServer,
    private readonly store: RecordStore,
    private readonly listen: Listen = serveInNetns,
  ) {}

  /** Serves `nsPath` with the names of `networks`; again for the same namespace: new networks. */
  async attach(nsPath: string, networks: Iterable<string>): Promise<void> {
    const known = this.entries.get(nsPath);
    if (known) {
      known.view.setNetworks(networks);
      await known.served;
      return;
    }
    const view = this.store.view(networks);
    const served = this.listen(this.server, nsPath, view);
    this.entries.set(nsPath, { view, served });
    try {
      await served;
    } catch (e) {
      this.entries.delete(nsPath);
      view.close();
      throw e;
    }
  }

  /** Stops serving `nsPath` (its last endpoint left); false when it was not served. */
  async detach(nsPath: string): Promise<boolean> {
    const e = this.entries.get(nsPath);
    if (!e) return false;
    this.entries.delete(nsPath);
    try {
      await (await e.served).close(); // sockets first: no query may meet a released view
    } finally {
      e.view.close();
    }
    return true;
  }

  list(): { nsPath: string; networks: readonly string[] }[] {
    return [...this.entries].map(([nsPath, e]) => ({ nsPath, networks: e.view.networks }));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((p) => this.detach(p)));
  }
}
