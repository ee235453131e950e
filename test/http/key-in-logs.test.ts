import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { registerOver } from '../support/api.js';
import { freePort, PROCESS_TEST_TIMEOUT_MS, runEntry, waitForServer } from '../support/process.js';

/**
 * The Alpha Vantage gateway takes the key in the query string (`apikey=`), so the query string is a
 * secret: apicalls.log already leaves it out, and so must the service's own (pino) log, which has a line
 * per request at `info` (the default LOG_LEVEL).
 */
describe('the key sent as apikey', () => {
  it('when a client calls /query?apikey=<key> at LOG_LEVEL=info, then the key is nowhere in stdout', async () => {
    const port = await freePort();
    const run = runEntry('src/main.ts', { PORT: String(port), DATABASE_URL: `sqlite:${join(inject('sqliteDir'), `key-in-logs-${port}.db`)}`, LOG_LEVEL: 'info' });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);
    const key = await registerOver(base);
    // A working call, and one spelling the parameter's name with a percent-escape (the gateway reads it as apikey).
    expect((await fetch(`${base}/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}`)).status).toBe(200);
    expect((await fetch(`${base}/query?function=GLOBAL_QUOTE&symbol=IBM&ap%69key=${key}`)).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const output = run.output();
    // The requests were logged (one line each, by route), so the check below looks at real request lines.
    expect(output.match(/"route":"\/query","status":200/g) ?? [], 'the requests were logged').toHaveLength(2);
    expect(output.includes(key), `the key ${key} is in the log:\n${output}`).toBe(false);
  }, PROCESS_TEST_TIMEOUT_MS);
});
