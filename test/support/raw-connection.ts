import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach } from 'vitest';

const open = new Set<Socket>();

/** Destroys every connection the test opened; call it before the service closes (its close waits for them). */
export function closeRawConnections(): void {
  for (const socket of open) socket.destroy();
  open.clear();
}
afterEach(closeRawConnections);

export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the milliseconds from connecting to the server's close (or a reset). */
  closed: Promise<number>;
}

/** A plain TCP connection to the service, for what `fetch` and `inject` cannot send: broken requests, slow bytes. */
export async function rawConnect(port: number): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1');
  open.add(socket);
  const started = Date.now();
  let data = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => undefined); // a reset is an outcome the tests read through `closed`
  // Not events.once: it would reject on the socket's 'error', a reset being an expected outcome here.
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  await once(socket, 'connect');
  return { socket, received: () => data, closed };
}

/** Sends `request` whole and returns what the server answered before closing (or after `ms`, whichever first). */
export async function rawExchange(port: number, request: string | Buffer, ms = 10_000): Promise<string> {
  const connection = await rawConnect(port);
  connection.socket.write(request);
  await Promise.race([connection.closed, new Promise((resolve) => setTimeout(resolve, ms))]);
  return connection.received();
}

/** Status, headers and parsed JSON body of one raw HTTP/1.1 answer. */
export function parseAnswer(raw: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head = '', body = ''] = raw.split('\r\n\r\n', 2);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = body;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: parsed };
}

/** Polls `check` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(check: () => boolean, timeoutMs: number, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return check();
}
