/**
 * The built service as a user starts it: `node dist/main.js`, NODE_ENV=production, the default log
 * level (info), its stdout (the request log) sent to /dev/null as a log shipper would take it away,
 * throttling raised out of the way by environment. One process (or a cluster primary) per call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Service {
  base: string;
  pid: number;
  /** Resident set now, MB (VmRSS). */
  rssMb(): number;
  /** Peak resident set since start, MB (VmHWM). */
  peakRssMb(): number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A field of /proc/<pid>/status in MB; NaN when the process is gone or /proc is absent. */
export function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export async function waitUntilReady(base: string, child?: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child && child.exitCode !== null) throw new Error(`service exited with ${child.exitCode} before it was ready`);
    try {
      const response = await fetch(`${base}/ready`);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`service at ${base} was not ready after 30 s`);
}

export interface ServiceOptions {
  databaseUrl: string;
  upstreamUrl: string;
  apiCallsLog: string;
  env?: Record<string, string>;
  /** Node/V8 flags before dist/main.js (bench/v8-flags.ts). */
  nodeArgs?: string[];
  /** Another build's entry instead of dist/main.js (an A/B of two builds). */
  entry?: string;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(env)) if (name === 'LOG_LEVEL' || name.startsWith('REDIS_') || name === 'WEB_CONCURRENCY') delete env[name];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry ?? 'dist/main.js'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...env,
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: options.databaseUrl,
      APICALLS_LOG: options.apiCallsLog,
      THROTTLE_ANON: '1000000000/day',
      THROTTLE_USER: '1000000000/day',
      THROTTLE_REGISTER: '1000000000/day',
      THROTTLE_TRADES: 'off',
      MARKET_DATA_PROVIDERS: 'alphavantage',
      ALPHAVANTAGE_API_KEY: 'bench',
      ALPHAVANTAGE_BASE_URL: options.upstreamUrl,
      // The stand-in has no quota; a daily limit would make one client's 50 first-time symbols pass its fair share.
      ALPHAVANTAGE_DAILY_LIMIT: '0',
      ...options.env,
    },
  });
  const pid = child.pid!;
  try {
    await waitUntilReady(base, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    base,
    pid,
    rssMb: () => procStatusMb(pid, 'VmRSS'),
    peakRssMb: () => procStatusMb(pid, 'VmHWM'),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
