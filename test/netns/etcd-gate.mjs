// A TCP relay in front of etcd whose client->etcd direction a test can hold at an exact point: the
// moment an endpoint record is written `pending` (seen on a watch of its own, straight to etcd).
// Replies and watch events keep flowing, so the agent's reserve completes; every request it sends
// after that point (the `ready` write) waits in the relay until `release`.
// Usage: node etcd-gate.mjs LISTEN_HOST LISTEN_PORT ETCD_HOST ETCD_PORT   (run inside a test netns)
// stdin commands, one per line, each answered by one stdout line:
//   arm PREFIX   -> "armed"; later "held KEY" when a put under PREFIX holds a record with state "pending"
//   release      -> "released" (what was held is sent on)
//   get KEY      -> "value JSON" or "value none"
import { createServer, connect } from 'node:net';
import { createInterface } from 'node:readline';
import { Etcd3 } from 'etcd3';

const [listenHost, listenPort, etcdHost, etcdPort] = process.argv.slice(2);
const etcd = new Etcd3({ hosts: `http://${etcdHost}:${etcdPort}` });
const say = (line) => process.stdout.write(`${line}\n`);

let holding = false;
/** Per relayed connection: what its client sent while held. */
const conns = new Set();

const server = createServer((client) => {
  const upstream = connect(Number(etcdPort), etcdHost);
  const conn = { upstream, queue: [] };
  conns.add(conn);
  client.on('data', (b) => (holding ? conn.queue.push(b) : upstream.write(b)));
  upstream.on('data', (b) => client.write(b));
  const close = () => {
    conns.delete(conn);
    client.destroy();
    upstream.destroy();
  };
  client.on('close', close).on('error', close);
  upstream.on('close', close).on('error', close);
});
server.listen(Number(listenPort), listenHost, () => say('listening'));

let watcher;
createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'arm') {
    watcher = await etcd.watch().prefix(arg).create();
    watcher.on('put', (kv) => {
      if (holding) return;
      const value = JSON.parse(kv.value.toString());
      if (value.state !== 'pending') return;
      holding = true;
      say(`held ${kv.key.toString()}`);
    });
    say('armed');
  } else if (cmd === 'release') {
    await watcher?.cancel();
    watcher = undefined;
    holding = false;
    for (const c of conns) for (const b of c.queue.splice(0)) c.upstream.write(b);
    say('released');
  } else if (cmd === 'get') {
    const v = await etcd.get(arg).string();
    say(`value ${v ?? 'none'}`);
  }
});
process.stdin.on('end', () => process.exit(0));
