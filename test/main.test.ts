import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { freePort, runEntry, waitForServer } from './support/process.js';

describe('the service process', () => {
  it('when a variable is invalid, then it exits non-zero with one line naming it', async () => {
    const run = runEntry('src/main.ts', { PORT: 'eighty' });
    expect(await run.exited).not.toBe(0);
    expect(run.output().trim()).toBe('Invalid configuration: PORT must be an integer from 0 to 65535 (got "eighty")');
  });

  it('when the port is taken, then it exits non-zero with one line naming the address', async () => {
    const port = await freePort();
    const holder = createServer().listen(port, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const run = runEntry('src/main.ts', { PORT: String(port), DATABASE_URL: 'sqlite::memory:' });
      expect(await run.exited).toBe(1);
      const lines = run.output().trim().split('\n');
      expect(lines.at(-1)).toBe(`Cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
      expect(lines.filter((line) => !line.startsWith('{')), 'only pino lines besides it, no stack').toHaveLength(1);
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
    // What logrotate does: move the file, then signal.
    await new Promise((resolve) => setTimeout(resolve, 200));
    renameSync(logPath, `${logPath}.1`);
    run.child.kill('SIGHUP');
    // Reopening creates the file anew: wait for that, however loaded the machine.
    for (let i = 0; i < 100 && !existsSync(logPath); i++) await new Promise((resolve) => setTimeout(resolve, 50));
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
