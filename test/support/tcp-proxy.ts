/**
 * A TCP forwarder in front of a real server (PostgreSQL, Redis), so a test
 * can take that server "away" and bring it back without touching the real
 * one, which other tests share: cut() drops every connection and refuses new
 * ones, as a server restarting does; restore() accepts again. hold() keeps
 * the server's answers from the clients until release().
 */
import { once } from 'node:events';
import { createServer, type Socket, connect } from 'node:net';
import { afterEach } from 'vitest';

export interface TcpProxy {
  port: number;
  /** Replaces host:port in `url` with the proxy's. */
  urlFor(url: string): string;
  /** Destroys every open connection; new ones are closed at once, before a byte is read. */
  cut(): void;
  restore(): void;
  /** Keeps what the server sends from reaching the clients, in order, until release(). */
  hold(): void;
  /** Resolves once an answer is being held. */
  answerHeld(): Promise<void>;
  /** Writes what was held to the clients at once (before returning), and passes answers on again. */
  release(): void;
  close(): Promise<void>;
}

const open = new Set<TcpProxy>();
afterEach(async () => {
  for (const proxy of open) await proxy.close();
  open.clear();
});

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let refusing = false;
  let holding = false;
  let held: { to: Socket; chunk: Buffer }[] = [];
  let onHeld: (() => void) | undefined;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A cut connection's errors are the point of the test, not a failure of it.
    socket.on('error', () => undefined);
  };

  const server = createServer((client) => {
    track(client);
    if (refusing) return void client.destroy();
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!holding) return void client.write(chunk);
      held.push({ to: client, chunk });
      onHeld?.();
    });
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };

  const cut = () => {
    refusing = true;
    for (const socket of sockets) socket.destroy();
  };
  const proxy: TcpProxy = {
    port,
    urlFor(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    cut,
    restore: () => void (refusing = false),
    hold: () => void (holding = true),
    answerHeld: () => (held.length > 0 ? Promise.resolve() : new Promise<void>((resolve) => (onHeld = resolve))),
    release() {
      holding = false;
      for (const { to, chunk } of held) to.write(chunk);
      held = [];
    },
    async close() {
      cut();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
  open.add(proxy);
  return proxy;
}

/** host and port of a `postgres://` or `redis://` URL. */
export function addressOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}
