// A task's server for the services tests, run inside the task's namespace (nsenter ... node mesh-server.mjs NAME TCPPORT UDPPORT [HTTPPORT]).
// TCP: sends "NAME\n" on connect, then answers every line with "NAME:LINE\n" (long-lived connections).
// UDP: answers every datagram with "NAME". HTTP (optional): answers GET / with "NAME\n" (for HAProxy).
// MESH_SERVER_TCP_HOST=:: makes the TCP server listen on IPv6 too (IPv6 VIP tests); default 0.0.0.0.
import { createSocket } from 'node:dgram';
import { createServer as createHttp } from 'node:http';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

const [name, tcpPort, udpPort, httpPort] = process.argv.slice(2);
const tcp = createServer((s) => {
  s.on('error', () => undefined);
  s.write(`${name}\n`);
  createInterface({ input: s }).on('line', (l) => s.write(`${name}:${l}\n`));
});
tcp.listen(Number(tcpPort), process.env.MESH_SERVER_TCP_HOST ?? '0.0.0.0');
const udp = createSocket('udp4');
udp.on('message', (m, r) => udp.send(name, r.port, r.address));
udp.bind(Number(udpPort), '0.0.0.0');
const http = httpPort ? createHttp((req, res) => res.end(`${name}\n`)).listen(Number(httpPort), "0.0.0.0") : undefined;
let up = 0;
const ready = () => ++up === (httpPort ? 3 : 2) && process.stdout.write('listening\n');
tcp.on('listening', ready);
udp.on('listening', ready);
http?.on('listening', ready);
