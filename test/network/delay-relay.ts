/**
 * A TCP relay that can add a delay, run inside instance a's host in front of PostgreSQL and Redis:
 * `tsx delay-relay.ts <listen port>=<host>:<port> …`. SIGUSR1 delays every chunk by DELAY_MS each way
 * (in order); SIGUSR2 passes chunks on at once again.
 *
 * Hand-written because this kernel has no sch_netem (`tc qdisc add … netem` is "Specified qdisc kind is
 * unknown"), and no packaged tool delays a TCP stream on demand; packet loss is still the kernel's
 * (iptables' statistic match, hosts.ts).
 */
import { connect, createServer, type Socket } from 'node:net';

const DELAY_MS = 200;
let delaying = false;
process.on('SIGUSR1', () => (delaying = true));
process.on('SIGUSR2', () => (delaying = false));

/** Writes each chunk DELAY_MS after it came (while delaying), never before an earlier one. */
function forward(from: Socket, to: Socket) {
  let lastWriteAt = 0;
  from.on('data', (chunk: Buffer) => {
    if (!delaying && lastWriteAt <= Date.now()) return void to.write(chunk);
    lastWriteAt = Math.max(Date.now() + (delaying ? DELAY_MS : 0), lastWriteAt);
    setTimeout(() => to.write(chunk), lastWriteAt - Date.now());
  });
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, lastWriteAt - Date.now())));
  from.on('close', () => setTimeout(() => to.destroy(), Math.max(0, lastWriteAt - Date.now())));
  from.on('error', () => undefined);
}

for (const pair of process.argv.slice(2)) {
  const [listen, target] = pair.split('=') as [string, string];
  const [host, port] = target.split(':') as [string, string];
  createServer((client) => {
    const upstream = connect(Number(port), host);
    forward(client, upstream);
    forward(upstream, client);
  }).listen(Number(listen), '127.0.0.1', () => console.log(`relaying 127.0.0.1:${listen} to ${target}`));
}
