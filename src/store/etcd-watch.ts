import type { Etcd3, IWatchResponse } from 'etcd3';
import { StoreCompacted } from './errors.js';
import type { WatchEvent, WatchOptions } from './types.js';

// One Store.watch on etcd: an etcd3 Watcher from fromRevision + 1 on the prefix. The etcd3 client
// reconnects a broken stream by itself and resumes after the last revision it saw, so a short etcd
// outage loses no event; history compacted meanwhile ends the watch with StoreCompacted.

export interface EtcdWatchParams<T> {
  client: Etcd3;
  fullPrefix: string;
  stripPrefix: number;
  fromRevision: number;
  onEvent: (ev: WatchEvent<T>) => void;
  options: WatchOptions;
  onTransportError: (e: unknown) => void;
  onTransportOk: () => void;
}

export function watchEtcd<T>(p: EtcdWatchParams<T>): () => void {
  let stopped = false;
  let delivered = p.fromRevision;
  let cancel: (() => Promise<void>) | undefined;
  const fail = (e: Error) => {
    if (stopped) return;
    stopped = true;
    void cancel?.().catch(() => undefined);
    if (p.options.onError) p.options.onError(e);
    else
      queueMicrotask(() => {
        throw e;
      });
  };
  p.client
    .watch()
    .prefix(p.fullPrefix)
    .startRevision(String(p.fromRevision + 1))
    .create()
    .then((watcher) => {
      cancel = () => watcher.cancel();
      if (stopped) return void watcher.cancel().catch(() => undefined);
      watcher.on('data', (res: IWatchResponse) => {
        if (stopped) return;
        for (const ev of res.events) {
          const key = ev.kv.key.toString().slice(p.stripPrefix);
          const revision = Number(ev.kv.mod_revision);
          let out: WatchEvent<T>;
          if (ev.type === 'Put') {
            try {
              out = { type: 'put', key, value: JSON.parse(ev.kv.value.toString()) as T, revision };
            } catch {
              return fail(new Error(`store: etcd key ${ev.kv.key.toString()} does not hold JSON; something other than vxmesh wrote there`));
            }
          } else out = { type: 'delete', key, revision };
          delivered = revision;
          p.onEvent(out);
        }
      });
      watcher.on('connected', () => p.onTransportOk());
      watcher.on('disconnected', (e: Error) => p.onTransportError(e));
      watcher.on('error', (e: Error) => {
        // etcd 3.4 cancels a watch on compacted history with an empty reason: ask whether the next
        // revision we need is still readable.
        const next = delivered + 1;
        void p.client.kv
          .range({ key: Buffer.from(p.fullPrefix), revision: next, limit: 1 })
          .then(
            () => fail(e),
            (probe: Error) => fail(/compacted/i.test(probe.message) || /compacted/i.test(e.message) ? new StoreCompacted(next - 1, next) : e),
          );
      });
    })
    .catch((e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
  return () => {
    stopped = true;
    void cancel?.().catch(() => undefined);
  };
}
