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

/** Whether nothing listens on `port` on loopback now. */
async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  } catch {
    return false;
  }
  server.close();
  await once(server, 'close');
  return true;
}

/** Ports handed out per test worker, from the worker's own block. */
const PORTS_PER_WORKER = 1000;
/** Blocks from FIRST_TEST_PORT up to Linux's ephemeral range. */
const BLOCKS = 12;
/** Below Linux's ephemeral range (32768+), where listen(0) and outgoing connections get their ports. */
const FIRST_TEST_PORT = 20_000;
let handedOut = 0;

/**
 * A port for a child process to listen on. Not the kernel's listen(0) pick: that port is free
 * again once this function closes it, and the kernel can hand the same one to a test in another
 * worker before our child binds it — then our child exits "port taken" and the test talks to the
 * other test's server, which went away mid-test (seen in CI as ECONNREFUSED). Each vitest worker
 * (VITEST_POOL_ID) takes ports from a block of its own instead, in turn, skipping any in use; each
 * run its own blocks (global-setup.ts), so two runs at once on one machine do not share them either.
 */
export async function freePort(): Promise<number> {
  const worker = (inject('portBlock') + Number(process.env.VITEST_POOL_ID ?? 0)) % BLOCKS;
  for (let tries = 0; tries < PORTS_PER_WORKER; tries++) {
    const port = FIRST_TEST_PORT + worker * PORTS_PER_WORKER + (handedOut++ % PORTS_PER_WORKER);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in worker ${worker}'s block`);
}

/**
 * The ceiling for a test that runs the service as a process. Each start loads the sources through tsx:
 * about 3 s of CPU on two quiet cores, many times that in wall time when the machine is busy (seen past
 * 30 s with both cores kept busy), and some tests start several processes.
 */
export const PROCESS_TEST_TIMEOUT_MS = 120_000;

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
 * exits, and after `timeoutMs` (a loaded machine compiles and starts slowly:
 * see PROCESS_TEST_TIMEOUT_MS), either way with what the process printed.
 */
export async function waitForServer(url: string, run: RunningProcess, timeoutMs = 60_000): Promise<void> {
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
