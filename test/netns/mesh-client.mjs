// A client for the services and load-balancer tests, run inside a namespace (nsenter ... node mesh-client.mjs MODE ...).
//   burst tcp|udp|http HOST PORT COUNT [CONC]    -> {"replies": {name: n}, "failures": [code]}
//   loop tcp|udp|http HOST PORT MS               -> connects one after another for MS milliseconds:
//                                                   {"replies": {...}, "failures": [{"t": msSinceT0, "error": code}], "total": n, "t0": Date.now() at start}
//   hold HOST PORT                               -> one long-lived TCP connection: prints what the server sends,
//                                                   sends every stdin line to it
//   until NAME HOST PORT                         -> prints "ready", then tries TCP connections (100 ms each) until one
//                                                   reaches NAME: prints {"at": Date.now() of that success, "tries": n}
import { createSocket } from 'node:dgram';
import { get } from 'node:http';
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

function httpOnce(host, port) {
  return new Promise((resolve) => {
    const req = get({ host, port, path: '/', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => resolve(res.statusCode === 200 ? { id: body.trim() } : { error: `HTTP ${res.statusCode}` }));
      res.on('error', (e) => resolve({ error: e.code ?? String(e) }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => resolve({ error: e.code ?? String(e) }));
  });
}

function udpOnce(host, port) {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let again;
    const done = (r) => {
      clearTimeout(t);
      clearInterval(again);
      s.close();
      resolve(r);
    };
    const t = setTimeout(() => done({ error: 'TIMEOUT' }), 3000);
    s.on('message', (m) => done({ id: m.toString().trim() }));
    s.on('error', (e) => done({ error: e.code ?? String(e) }));
    s.connect(port, host, () => {
      s.send('who');
      again = setInterval(() => s.send('who'), 500); // same flow: same conntrack entry, same backend
    });
  });
}

if (mode === 'burst' || mode === 'loop') {
  const [proto, host, port, amount, conc] = args;
  const once = proto === 'udp' ? udpOnce : proto === 'http' ? httpOnce : tcpOnce;
  const replies = {};
  const failures = [];
  const t0 = Date.now();
  let total = 0;
  const more = mode === 'burst' ? () => total < Number(amount) : () => Date.now() - t0 < Number(amount);
  const worker = async () => {
    while (more()) {
      total++;
      const start = Date.now() - t0;
      const r = await once(host, Number(port));
      if (r.id) replies[r.id] = (replies[r.id] ?? 0) + 1;
      else failures.push(mode === 'loop' ? { t: start, error: r.error } : r.error);
    }
  };
  await Promise.all(Array.from({ length: mode === 'burst' ? Number(conc ?? 8) : 1 }, worker));
  process.stdout.write(JSON.stringify({ replies, failures, total, t0, ms: Date.now() - t0 }) + '\n');
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
} else if (mode === 'until') {
  const [want, host, port] = args;
  process.stdout.write('ready\n');
  for (let tries = 1; ; tries++) {
    const r = await Promise.race([tcpOnce(host, Number(port)), new Promise((res) => setTimeout(() => res({ error: 'SLOW' }), 100))]);
    if (r.id === want) {
      process.stdout.write(JSON.stringify({ at: Date.now(), tries }) + '\n');
      process.exit(0);
    }
    if (r.error) await new Promise((res) => setTimeout(res, 2));
  }
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
