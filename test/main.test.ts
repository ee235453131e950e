import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it, vi } from 'vitest';
import { freePort, PROCESS_TEST_TIMEOUT_MS, runEntry, waitForServer } from './support/process.js';

// Every test here runs the service or the CLI as a process: slow to start on a busy machine.
vi.setConfig({ testTimeout: PROCESS_TEST_TIMEOUT_MS });

describe('the service process', () => {
  it('when a variable is invalid, then it exits non-zero with one line naming it', async () => {
    const run = runEntry('src/main.ts', { PORT: 'eighty' });
    expect(await run.exited).not.toBe(0);
    expect(run.output().trim()).toBe('Invalid configuration: PORT must be an integer from 0 to 65535 (got "eighty")');
  });

  it.each([
    ['PostgreSQL is unreachable', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }, 'DATABASE_URL: cannot reach PostgreSQL at 127.0.0.1:1: connection refused'],
    ['the PostgreSQL database does not exist', { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/sms_no_such_database' }, 'DATABASE_URL: PostgreSQL at 127.0.0.1:5432 refused: the database does not exist'],
    // A file where the folder should be: refused even to root, as a read-only folder is not.
    ["the SQLite file's folder cannot be made", { DATABASE_URL: 'sqlite:./package.json/data/service.db' }, 'DATABASE_URL: cannot create or write ./package.json/data: a file is in the way of a folder'],
    ["apicalls.log's folder cannot be made", { DATABASE_URL: 'sqlite::memory:', APICALLS_LOG: './package.json/apicalls.log' }, 'APICALLS_LOG: cannot create or write ./package.json: a file is in the way of a folder'],
    ['Redis is unreachable', { DATABASE_URL: 'sqlite::memory:', REDIS_URL: 'redis://127.0.0.1:1' }, 'REDIS_URL: cannot reach Redis at 127.0.0.1:1: connection refused'],
  ])('when %s at start, then it exits 2 with one line naming the variable and the cause, no stack', async (_, env, line) => {
    const run = runEntry('src/main.ts', { PORT: '0', ...env });
    expect(await run.exited).toBe(2);
    expect(run.output().trim().split('\n').filter((l) => !l.startsWith('{'))).toEqual([line]);
  });

  it('when the port is taken, then it exits 2 with one line naming the variable and the address', async () => {
    const port = await freePort();
    const holder = createServer().listen(port, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const run = runEntry('src/main.ts', { PORT: String(port), DATABASE_URL: 'sqlite::memory:' });
      expect(await run.exited).toBe(2);
      const lines = run.output().trim().split('\n');
      expect(lines.filter((line) => !line.startsWith('{')), 'only pino lines besides it, no stack').toEqual([`PORT: cannot listen on 127.0.0.1:${port}: address already in use`]);
    } finally {
      holder.close();
    }
  });

  it('when started on SQLite, then it creates the data folder, serves the ledger and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const dbPath = join(inject('sqliteDir'), `main-${port}`, 'nested', 'ledger.db');
    const run = runEntry('src/main.ts', { PORT: String(port), DATABASE_URL: `sqlite:${dbPath}` });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/trades`, run);
    expect(existsSync(dbPath)).toBe(true);

    const created = await fetch(`${base}/trades`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'buy', user_id: 1, symbol: 'ABX', shares: 30, price: 134, timestamp: 1 }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { id: number }).id).toBe(1);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});

describe('the migrate command', () => {
  it('when run twice, then the second run finds nothing to apply', async () => {
    const env = { DATABASE_URL: `sqlite:${join(inject('sqliteDir'), 'cli-migrate.db')}` };
    const first = runEntry('src/cli.ts', env, ['migrate']);
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/Applied 2026-11-22T00-trades/);
    const second = runEntry('src/cli.ts', env, ['migrate']);
    expect(await second.exited).toBe(0);
    expect(second.output()).toMatch(/up to date/);
  });

  it('when --help is asked, alone or after a command, then it prints the usage and exits 0', async () => {
    for (const args of [['--help'], ['-h'], ['import-prices', '--help']]) {
      const run = runEntry('src/cli.ts', {}, args);
      expect(await run.exited, args.join(' ')).toBe(0);
      expect(run.output()).toMatch(args[0] === 'import-prices' ? /^Usage: npm run cli -- import-prices FILE --symbol SYMBOL/ : /^Usage: npm run cli -- <command>/m);
      expect(run.output()).toMatch(/import-prices FILE --symbol SYMBOL/);
    }
  });

  it('when the command is unknown, then it prints the usage and exits 2', async () => {
    const run = runEntry('src/cli.ts', {}, ['frobnicate']);
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(/Unknown command "frobnicate"/);
  });
});

describe('apicalls.log in a running process', () => {
  it('when the process gets SIGHUP, then it reopens the log; on SIGTERM, it flushes every line', async () => {
    const { renameSync, readFileSync } = await import('node:fs');
    const port = await freePort();
    const folder = inject('sqliteDir');
    const logPath = join(folder, `rotating-${port}.log`);
    const run = runEntry('src/main.ts', {
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(folder, `rotating-${port}.db`)}`,
      APICALLS_LOG: logPath,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);
    await fetch(`${base}/trades`);
    await vi.waitFor(() => expect(readFileSync(logPath, 'utf8')).toMatch(/\] GET \/trades AnonymousUser\n$/), { timeout: 10_000 });
    // What logrotate does: move the file, then signal.
    renameSync(logPath, `${logPath}.1`);
    run.child.kill('SIGHUP');
    // Reopening creates the file anew: wait for that, however loaded the machine.
    await vi.waitFor(() => expect(existsSync(logPath)).toBe(true), { timeout: 10_000 });
    for (let i = 0; i < 3; i++) await fetch(`${base}/trades/${i + 1}`);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    expect(readFileSync(`${logPath}.1`, 'utf8')).toMatch(/\] GET \/trades AnonymousUser\n$/);
    const fresh = readFileSync(logPath, 'utf8').trim().split('\n');
    expect(fresh.map((line) => line.replace(/^\[[^\]]+\] /, ''))).toEqual([
      '[INFO] [API_REQUEST] GET /trades/1 AnonymousUser',
      '[INFO] [API_REQUEST] GET /trades/2 AnonymousUser',
      '[INFO] [API_REQUEST] GET /trades/3 AnonymousUser',
    ]);
  });
});

describe('apicalls.log that cannot be written', () => {
  /** `n` requests, `concurrency` at a time, each failing the test if unanswered within 5 s. */
  async function requests(url: string, n: number, concurrency = 8): Promise<number[]> {
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          next++;
          const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
          await response.arrayBuffer();
          statuses.push(response.status);
        }
      }),
    );
    return statuses;
  }

  it('when the disk is full (/dev/full), then every request is still answered; lines are dropped, counted, reported and shown in /health', async () => {
    const port = await freePort();
    const run = runEntry('src/main.ts', {
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(inject('sqliteDir'), `full-${port}.db`)}`,
      APICALLS_LOG: '/dev/full',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);
    // Before: the service stopped answering after about 44 requests.
    const statuses = await requests(`${base}/trades`, 300);
    expect(statuses.filter((status) => status === 200)).toHaveLength(300);

    // The last writes may still be failing as the answers arrive: poll until every line is counted.
    type Health = { status: string; apicalls_log: { status: string; dropped: number } };
    await vi.waitFor(async () => {
      const response = await fetch(`${base}/health`);
      const health = { status: response.status, body: (await response.json()) as Health };
      expect(health).toEqual({ status: 200, body: expect.objectContaining({ status: 'degraded', apicalls_log: { status: 'failing', dropped: 300 } }) });
    }, { timeout: 10_000 });

    // Reported on stdout, not once per line: a warning counting the lines since the last one.
    // (At most one per 5 s, the first at once: test/adapters/counting-report.test.ts, on a fake clock.)
    const reported = () => run.output().split('\n').filter((line) => line.includes('apicalls.log lines dropped'));
    await vi.waitFor(() => expect(reported().length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    const reports = reported().map((line) => JSON.parse(line) as { level: number; dropped: number; dropped_total: number });
    expect(reports.length).toBeLessThan(300);
    expect(reports[0]!.level).toBe(40);
    expect(reports.reduce((sum, report) => sum + report.dropped, 0)).toBeLessThanOrEqual(reports.at(-1)!.dropped_total);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('when SIGHUP comes and the path cannot be reopened, then the process keeps serving and writing to the old file, and says so', async () => {
    const { mkdirSync, readFileSync, renameSync } = await import('node:fs');
    const port = await freePort();
    const folder = inject('sqliteDir');
    const logPath = join(folder, `unreopenable-${port}.log`);
    const run = runEntry('src/main.ts', {
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(folder, `unreopenable-${port}.db`)}`,
      APICALLS_LOG: logPath,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);
    await fetch(`${base}/trades/1`);
    // Rotated away, and a folder where the file would be: opening the path fails (EISDIR).
    renameSync(logPath, `${logPath}.1`);
    mkdirSync(logPath);
    run.child.kill('SIGHUP');
    await vi.waitFor(() => expect(run.output()).toMatch(/apicalls.log cannot be reopened: still writing to the file open before/), { timeout: 10_000 });

    // Before: an unhandled 'error' ended the process here.
    const after = await fetch(`${base}/trades/2`);
    expect(after.status).toBe(404);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(readFileSync(`${logPath}.1`, 'utf8')).toMatch(/GET \/trades\/1 AnonymousUser\n.*GET \/trades\/2 AnonymousUser\n$/);
  });
});

describe('apicalls.log on a quiet server', () => {
  it('when one request is answered, then its line is written while the server idles', async () => {
    const { readFileSync } = await import('node:fs');
    const port = await freePort();
    const folder = inject('sqliteDir');
    const logPath = join(folder, `quiet-${port}.log`);
    const run = runEntry('src/main.ts', {
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(folder, `quiet-${port}.db`)}`,
      APICALLS_LOG: logPath,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);
    await (await fetch(`${base}/trades`)).arrayBuffer();
    // Before: lines waited for 4 KiB (about 60 requests) or the shutdown, neither of which comes here.
    const written = () => existsSync(logPath) && readFileSync(logPath, 'utf8').includes('GET /trades AnonymousUser\n');
    await vi.waitFor(() => expect(written()).toBe(true), { timeout: 10_000 });
    expect(run.child.exitCode).toBeNull();
  });
});
