// Run next to etcd: prints {t, key} (wall-clock ms, sub-ms precision) for every delete under a key
// prefix, as etcd's watch delivers it: when a store delete was committed, for latency tests.
// argv: etcdUrl prefix
import { performance } from 'node:perf_hooks';
import { Etcd3 } from 'etcd3';

const [url, prefix] = process.argv.slice(2);
const client = new Etcd3({ hosts: url });
const watcher = await client.watch().prefix(prefix).create();
watcher.on('delete', (kv) => process.stdout.write(JSON.stringify({ t: performance.timeOrigin + performance.now(), key: kv.key.toString() }) + '\n'));
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
process.on('SIGTERM', () => void client.close());
