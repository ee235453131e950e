/**
 * SIGTERM under load, on the real process over real sockets: every request
 * is either answered completely or refused before it began (the connection
 * closed without a byte of answer), never cut short and never a 5xx of the
 * shutdown's making; every trade acknowledged is stored, and apicalls.log
 * holds one complete line per answered request.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it, vi } from 'vitest';
import { registerOver } from './support/api.js';
import { freePort, PROCESS_TEST_TIMEOUT_MS, runEntry, waitForServer } from './support/process.js';
import { parseResponse, type RawResponse } from './support/raw-http.js';
import { IBM_BARS, providerEnv, startUpstream } from './support/upstream.js';

type Outcome =
  | { kind: 'answered'; path: string; response: RawResponse }
  | { kind: 'refused'; path: string }
  | { kind: 'truncated'; path: string; bytes: string };

/** One connection to the service, as an HTTP client keeps it: requests one after another, each answer read whole. */
class ClientConnection {
  private received = Buffer.alloc(0);
  private closed = false;
  private wake: () => void = () => undefined;
  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** A connection, or undefined when the server refuses it (no longer listening). */
  static open(port: number): Promise<ClientConnection | undefined> {
    return new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => resolve(new ClientConnection(socket)));
      socket.once('error', () => resolve(undefined));
    });
  }

  get usable(): boolean {
    return !this.closed;
  }

  async send(request: string, path: string): Promise<Outcome> {
    this.received = Buffer.alloc(0);
    this.socket.write(request);
    for (;;) {
      const parsed = parseResponse(this.received, false, this.closed);
      if ('response' in parsed) {
        if (parsed.response.headers.connection === 'close') this.socket.end();
        return { kind: 'answered', path, response: parsed.response };
      }
      if (this.closed) {
        return this.received.length === 0 ? { kind: 'refused', path } : { kind: 'truncated', path, bytes: this.received.toString('latin1') };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function trade(worker: number, i: number): string {
  const body = JSON.stringify({ type: 'buy', user_id: worker, symbol: 'ABX', shares: 1, price: 10, timestamp: i });
  return `POST /trades HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
}

/** A worker's requests until the server refuses new connections: trades and quotes, on one kept-alive connection or a new one each. */
async function worker(port: number, n: number, keepAlive: boolean, key: string, outcomes: Outcome[]): Promise<void> {
  let connection: ClientConnection | undefined;
  for (let i = 0; ; i++) {
    if (!connection?.usable) {
      connection = await ClientConnection.open(port);
      if (!connection) return;
    }
    const close = keepAlive ? '' : 'Connection: close\r\n';
    const [request, path] =
      i % 2 === 0
        ? [`${trade(n, i)}${close}\r\n${JSON.stringify({ type: 'buy', user_id: n, symbol: 'ABX', shares: 1, price: 10, timestamp: i })}`, '/trades']
        : [`GET /api/v1/symbol/ibm/ HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\n${close}\r\n`, '/api/v1/symbol/ibm/'];
    outcomes.push(await connection.send(request, path));
    if (!keepAlive) {
      connection.close();
      connection = undefined;
    }
  }
}

function openSqlite(path: string) {
  const onNode20 = Number(process.versions.node.split('.')[0]) < 22;
  const SQLite = createRequire(import.meta.url)(onNode20 ? 'better-sqlite3-node20' : 'better-sqlite3');
  return new SQLite(path, { readonly: true }) as { prepare(sql: string): { all(): { id: number }[] }; close(): void };
}

describe('SIGTERM under load', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('when the process is stopped mid-load, then every request is answered whole or refused unanswered, and nothing acknowledged is lost', async () => {
    const port = await freePort();
    const folder = inject('sqliteDir');
    const dbPath = join(folder, `shutdown-${port}.db`);
    const logPath = join(folder, `shutdown-${port}.log`);
    const run = runEntry('src/main.ts', {
      PORT: String(port),
      DATABASE_URL: `sqlite:${dbPath}`,
      APICALLS_LOG: logPath,
      THROTTLE_ANON: '1000000/day',
      THROTTLE_USER: '1000000/day',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);
    const key = await registerOver(base);

    const outcomes: Outcome[] = [];
    const load = Promise.all(Array.from({ length: 12 }, (_, n) => worker(port, n + 1, n % 2 === 0, key, outcomes)));
    await vi.waitFor(() => expect(outcomes.length).toBeGreaterThanOrEqual(200), { timeout: 20_000, interval: 10 });
    const atSignal = outcomes.length;
    run.child.kill('SIGTERM');
    await load;
    expect(await run.exited, run.output()).toBe(0);

    expect(outcomes.filter((o) => o.kind === 'truncated'), 'no answer cut short').toEqual([]);
    const answered = outcomes.flatMap((o) => (o.kind === 'answered' ? [o] : []));
    expect(answered.filter((o) => o.response.status >= 500).map((o) => `${o.path} ${o.response.status} ${o.response.body}`), 'no 5xx').toEqual([]);
    expect(answered.filter((o) => o.path === '/trades' && o.response.status !== 201)).toEqual([]);
    expect(outcomes.length, 'the load ran on past the signal').toBeGreaterThan(atSignal);

    // Every acknowledged trade is stored, and nothing is stored that was not acknowledged.
    const acknowledged = answered.filter((o) => o.path === '/trades').map((o) => (JSON.parse(o.response.body.toString()) as { id: number }).id);
    const db = openSqlite(dbPath);
    const stored = db.prepare('select id from trades order by id').all().map((row) => Number(row.id));
    db.close();
    expect(stored).toEqual([...acknowledged].sort((a, b) => a - b));

    // One complete line per answered request (and one for the registration).
    const lines = readFileSync(logPath, 'utf8').split('\n');
    expect(lines.pop(), 'the file ends with a complete line').toBe('');
    for (const line of lines) expect(line).toMatch(/^\[[^\]]+\] \[INFO\] \[API_REQUEST\] (POST|GET) \/\S+ \S+$/);
    expect(lines).toHaveLength(answered.length + 1);
  });
});

describe('SHUTDOWN_TIMEOUT_MS', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('when a request is still waiting on a vendor at the deadline, then its connection is closed unanswered and the process exits', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'held', then: { kind: 'bars', bars: IBM_BARS } });
    const port = await freePort();
    const run = runEntry('src/main.ts', {
      ...providerEnv(upstream, ['alphavantage']),
      // Far longer than the deadline: only the deadline can end the wait.
      PROVIDER_TIMEOUT_MS: '120000',
      PREFETCH: 'off',
      SHUTDOWN_TIMEOUT_MS: '500',
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(inject('sqliteDir'), `deadline-${port}.db`)}`,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);
    const key = await registerOver(base);

    const quote = fetch(`${base}/api/v1/symbol/IBM/`, { headers: { 'X-API-Key': key } }).then(
      (response) => `answered ${response.status}`,
      () => 'connection closed',
    );
    await upstream.callsReached('alphavantage', 1);
    run.child.kill('SIGTERM');

    expect(await run.exited).toBe(0);
    expect(await quote).toBe('connection closed');
    expect(run.output()).toContain('SHUTDOWN_TIMEOUT_MS passed: closing the connections of requests still in flight');
  });
});
