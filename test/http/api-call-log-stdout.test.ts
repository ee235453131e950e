/**
 * APICALLS_LOG=/dev/stdout, as the image and compose.yaml set it: the request log shares the
 * container's output (a pipe) with the JSON log and with every worker, and no line may be torn.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { PIPE_ATOMIC_BYTES, piecesOfLines } from '../../src/adapters/http/api-call-log.js';
import { testRedisEnv } from '../support/engines.js';
import { freePort, PROCESS_TEST_TIMEOUT_MS, type RunningProcess, runEntry, waitForServer } from '../support/process.js';

describe('the request log written to a pipe', () => {
  it('is cut into pieces of whole lines, each at most one atomic pipe write', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(2, '0')} ${'x'.repeat(300)}\n`);
    const pieces = piecesOfLines(lines, PIPE_ATOMIC_BYTES);

    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) {
      expect(Buffer.byteLength(piece.text)).toBeLessThanOrEqual(PIPE_ATOMIC_BYTES);
      expect(piece.text.endsWith('\n')).toBe(true);
    }
    expect(pieces.map((piece) => piece.text).join('')).toBe(lines.join(''));
    expect(pieces.reduce((sum, piece) => sum + piece.lines, 0)).toBe(50);
  });

  it('keeps a line longer than a piece whole, alone in its piece', () => {
    const long = `${'y'.repeat(PIPE_ATOMIC_BYTES + 10)}\n`;
    expect(piecesOfLines(['a\n', long, 'b\n'], PIPE_ATOMIC_BYTES)).toEqual([
      { text: 'a\n', lines: 1 },
      { text: long, lines: 1 },
      { text: 'b\n', lines: 1 },
    ]);
  });
});

/** GET on a connection of its own, so the cluster spreads the requests over its workers. */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

const API_CALL_LINE = /^\[\d{2}\/[A-Z][a-z]{2}\/\d{4} \d{2}:\d{2}:\d{2}\] \[INFO\] \[API_REQUEST\] GET (\S+) AnonymousUser$/;

/**
 * The service with its stdout on a named pipe, read by `cat`, as Docker gives a container a pipe
 * (Node's own `stdio: 'pipe'` is a socket pair, which /dev/stdout cannot reopen).
 */
function runWithStdoutOnAPipe(env: Record<string, string>): RunningProcess & { stdout: () => string } {
  const fifo = join(inject('sqliteDir'), `stdout-${randomUUID()}.fifo`);
  execFileSync('mkfifo', [fifo]);
  // `cat` opens the reading end; opening the writing end waits for it.
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  reader.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const writeEnd = openSync(fifo, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', writeEnd, 'pipe'],
  });
  closeSync(writeEnd);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const readerDone = once(reader, 'exit');
  return {
    child,
    exited: exited.then(async (code) => {
      await readerDone;
      return code;
    }),
    output: () => stdout + stderr,
    stdout: () => stdout,
  };
}

describe('APICALLS_LOG=/dev/stdout', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('when two workers answer many requests at once, then stdout holds every request line whole, beside whole JSON lines', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const run = runWithStdoutOnAPipe({
      WEB_CONCURRENCY: '2',
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(inject('sqliteDir'), `stdout-log-${port}.db`)}`,
      LOG_LEVEL: 'info',
      APICALLS_LOG: '/dev/stdout',
      THROTTLE_ANON: '100000/day',
      ...testRedisEnv(),
    });
    try {
      await waitForServer(`${base}/health`, run);

      // Long paths, many at once: each worker's batches of lines outgrow one atomic pipe write.
      const paths = Array.from({ length: 300 }, (_, i) => `/trades/${i + 1}${'/x'.repeat(150)}`);
      for (let i = 0; i < paths.length; i += 50) {
        await Promise.all(paths.slice(i, i + 50).map((path) => getOnNewConnection(`${base}${path}`)));
      }
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);

      const logged: string[] = [];
      for (const line of run.stdout().split('\n').filter(Boolean)) {
        const call = API_CALL_LINE.exec(line);
        if (call) logged.push(call[1]!);
        else expect(() => JSON.parse(line), `neither a request line nor JSON: ${line.slice(0, 200)}`).not.toThrow();
      }
      expect(logged.sort()).toEqual([...paths].sort());
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('when stdout is a socket, which cannot be opened by path, then start-up fails in one line naming APICALLS_LOG', async () => {
    const run = runEntry('src/main.ts', { PORT: String(await freePort()), DATABASE_URL: 'sqlite::memory:', APICALLS_LOG: '/dev/stdout' });
    expect(await run.exited).toBe(2);
    expect(run.output().trim().split('\n').at(-1)).toBe(
      'APICALLS_LOG: cannot create or write /dev/stdout: no such device or address (a socket, as standard output is under systemd, cannot be opened by path: log to a file)',
    );
  });
});
