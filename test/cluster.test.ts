import { once } from 'node:events';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it, vi } from 'vitest';
import { createTestDatabase, testEngines, testRedisEnv } from './support/engines.js';
import { freePort, PROCESS_TEST_TIMEOUT_MS, type RunningProcess, runEntry, waitForServer } from './support/process.js';

/** GET on a connection of its own (no keep-alive): the cluster hands each new connection to the next worker. */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** GET's body, on a connection of its own. */
function getTextOnNewConnection(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** The pids whose pino lines say they answered a request. */
function answeringPids(run: RunningProcess): Set<number> {
  const lines = run.output().split('\n').filter((line) => line.includes('"msg":"request"'));
  return new Set(lines.map((line) => (JSON.parse(line) as { pid: number }).pid));
}

/** The worker pids the primary reported listening, in order. */
function listeningWorkers(run: RunningProcess): number[] {
  const lines = run.output().split('\n').filter((line) => line.includes('"worker listening"'));
  return lines.map((line) => (JSON.parse(line) as { worker_pid: number }).worker_pid);
}

describe('WEB_CONCURRENCY', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('when above 1 without REDIS_URL, then the process refuses to start in one line naming REDIS_URL', async () => {
    const run = runEntry('src/main.ts', { WEB_CONCURRENCY: '2', DATABASE_URL: 'sqlite::memory:' });
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe(
      'Invalid configuration: WEB_CONCURRENCY=2 needs REDIS_URL: without Redis each worker would keep its own throttle counts (2 times every limit) and its own key revocations',
    );
  });

  it('when the workers cannot listen (the port is taken), then the process exits 2 naming the variable and the address, without retrying', async () => {
    const port = await freePort();
    const holder = createServer().listen(port, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const run = runEntry('src/main.ts', {
        WEB_CONCURRENCY: '2',
        PORT: String(port),
        DATABASE_URL: `sqlite:${join(inject('sqliteDir'), `cluster-taken-${port}.db`)}`,
        ...testRedisEnv(),
      });
      expect(await run.exited).toBe(2);
      expect(run.output()).toContain(`PORT: cannot listen on 127.0.0.1:${port}: address already in use`);
      expect(run.output()).toContain('a worker could not start; stopping the others');
    } finally {
      holder.close();
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  // PostgreSQL, the production engine, unless the run is SQLite's only: several processes share a SQLite file too.
  const engine = testEngines().includes('postgres') ? 'postgres' : 'sqlite';

  it(`when 2 on ${engine} and Redis, then two worker processes answer on one port, /metrics counts both, a killed one is replaced, and SIGTERM stops them all`, async () => {
    const database = await createTestDatabase(engine);
    try {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      // info: every answer's log line carries the pid of the worker that gave it.
      const run = runEntry('src/main.ts', { WEB_CONCURRENCY: '2', PORT: String(port), DATABASE_URL: database.url, LOG_LEVEL: 'info', ...testRedisEnv() });
      await waitForServer(`${base}/health`, run, 60_000);
      await vi.waitFor(() => expect(listeningWorkers(run)).toHaveLength(2), { timeout: 30_000 });
      const workers = listeningWorkers(run);

      for (let i = 0; i < 10; i++) expect(await getOnNewConnection(`${base}/trades`)).toBe(200);
      await vi.waitFor(() => expect(answeringPids(run)).toEqual(new Set(workers)), { timeout: 10_000 });
      // Whichever worker a scrape reaches, /metrics counts both workers' answers.
      for (let i = 0; i < 4; i++) {
        const scrape = await getTextOnNewConnection(`${base}/metrics`);
        expect(scrape.split('\n').filter((line) => line.startsWith('http_requests_total{') && line.includes('route="/trades"'))).toEqual([
          expect.stringMatching(/ 10$/),
        ]);
      }

      process.kill(workers[0]!, 'SIGKILL');
      await vi.waitFor(() => expect(listeningWorkers(run)).toHaveLength(3), { timeout: 30_000 });
      const replacement = listeningWorkers(run)[2]!;
      expect(workers).not.toContain(replacement);
      for (let i = 0; i < 10; i++) expect(await getOnNewConnection(`${base}/trades`)).toBe(200);
      await vi.waitFor(() => expect(answeringPids(run)).toContain(replacement), { timeout: 10_000 });

      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      for (const pid of [workers[1]!, replacement]) expect(() => process.kill(pid, 0), `worker ${pid} is gone`).toThrow();
    } finally {
      await database.drop();
    }
  }, 120_000);
});

describe('metrics across cluster workers', () => {
  it("when any worker answers a scrape, then the answer sums every worker's metrics", async () => {
    const port = await freePort();
    const run = runEntry('test/support/cluster-metrics-fixture.ts', { PORT: String(port) });
    const url = `http://127.0.0.1:${port}/`;
    await waitForServer(url, run, 60_000);
    // Both workers must have started for the sum to be whole: poll until it is, on fresh connections (either worker).
    await vi.waitFor(async () => {
      const text = await (await fetch(url)).text();
      expect(text).toMatch(/^fixture_worker_ids_total 3$/m);
    }, { timeout: 30_000 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => fetch(url, { headers: { connection: 'close' } }).then((r) => r.text())));
    for (const text of answers) expect(text).toMatch(/^fixture_worker_ids_total 3$/m);
  }, PROCESS_TEST_TIMEOUT_MS);
});

