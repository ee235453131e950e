import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, inject } from 'vitest';

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs a TypeScript entry point (src/main.ts, src/cli.ts) the way `npm start` would, with a given environment. */
export function runEntry(entry: string, env: Record<string, string>, args: string[] = []): RunningProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    // The request log goes to the run's temp folder unless a test names it: never into the working tree.
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', APICALLS_LOG: join(inject('sqliteDir'), `apicalls-${randomUUID()}.log`), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });
  return { child, output: () => output, exited };
}

/**
 * Polls until the process's server answers. Fails at once if the process
 * exits, and after `timeoutMs` (a loaded machine compiles and starts slowly),
 * either way with what the process printed.
 */
export async function waitForServer(url: string, run: RunningProcess, timeoutMs = 25_000): Promise<void> {
  let exited = false;
  void run.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (!exited && Date.now() < deadline) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const why = exited ? 'the process exited' : `no answer within ${timeoutMs} ms`;
  throw new Error(`${url}: ${why}. Its output:\n${run.output()}`);
}
