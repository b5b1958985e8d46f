// A load-balancer test client, run inside a client namespace (nsenter ... node lb-client.mjs MODE ...).
//   burst tcp|udp HOST PORT COUNT  -> prints {"replies": {identity: n}, "failures": [error codes]}
//   hold HOST PORT                 -> one long-lived TCP connection: prints each line the server sends;
//                                     every stdin line is sent to the server (the server answers with its identity)
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [mode, ...args] = process.argv.slice(2);

function tcpOnce(host, port) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let buf = '';
    const done = (r) => {
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    const t = setTimeout(() => done({ error: 'TIMEOUT' }), 3000);
    s.on('data', (b) => {
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) done({ id: buf.slice(0, nl) });
    });
    s.on('error', (e) => done({ error: e.code ?? String(e) }));
    s.on('close', () => done({ error: 'CLOSED' }));
  });
}

function udpOnce(host, port) {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const done = (r) => {
      clearTimeout(t);
      clearInterval(again);
      s.close();
      resolve(r);
    };
    const t = setTimeout(() => done({ error: 'TIMEOUT' }), 3000);
    let again;
    s.on('message', (m) => done({ id: m.toString().trim() }));
    s.on('error', (e) => done({ error: e.code ?? String(e) }));
    s.connect(port, host, () => {
      s.send('who');
      // A lost datagram is retried on the same flow (same conntrack entry, same backend).
      again = setInterval(() => s.send('who'), 500);
    });
  });
}

if (mode === 'burst') {
  const [proto, host, port, count] = args;
  const replies = {};
  const failures = [];
  const once = proto === 'udp' ? udpOnce : tcpOnce;
  const n = Number(count);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await once(host, Number(port));
      if (r.id) replies[r.id] = (replies[r.id] ?? 0) + 1;
      else failures.push(r.error);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  process.stdout.write(JSON.stringify({ replies, failures }) + '\n');
} else if (mode === 'hold') {
  const [host, port] = args;
  const s = connect({ host, port: Number(port) });
  s.on('data', (b) => process.stdout.write(b));
  s.on('error', (e) => {
    process.stdout.write(`ERROR ${e.code}\n`);
    process.exit(1);
  });
  s.on('close', () => {
    process.stdout.write('CLOSED\n');
    process.exit(0);
  });
  createInterface({ input: process.stdin }).on('line', (l) => s.write(`${l}\n`));
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
