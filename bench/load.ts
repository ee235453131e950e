/**
 * The load: autocannon in the harness process (the service and the ceiling are other processes),
 * fixed connections and duration. `compareAll` alternates service, ceiling and floor round by round,
 * so drift on this shared machine hits all of them, and keeps the median of the rounds.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
export const WARM_SECONDS = Number(process.env.BENCH_WARM_SECONDS ?? 2);

/** What autocannon sends: one path, or several taken in turn. */
export interface Load {
  paths: string[];
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Authorization header values taken in turn, one per request (instead of a fixed one in `headers`). */
  authorizations?: string[];
  /** Connections for this load (default CONNECTIONS): fewer for answers of megabytes (scenario 8). */
  connections?: number;
  /**
   * Send exactly this many requests and wait for every answer, instead of loading for `seconds`: no
   * answer still being computed when the measurement ends (its CPU counted, itself not) or spilling
   * into the next load's (scenario 8's answers of megabytes).
   */
  amount?: number;
}

export interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx answers plus socket errors and timeouts. */
  errors: number;
  requests: number;
  /** Mean latency, ms. */
  latencyMean?: number;
  /** CPU time (user + system) the target process spent per answered request, µs; when its pid is known. */
  cpuUs?: number;
}

/** A process to load: where it listens and, for CPU accounting, its pid. */
export interface Target {
  base: string;
  pid?: number;
}

const TICK_US = 10_000; // Linux's USER_HZ is 100

/** utime + stime of a process, µs (/proc/<pid>/stat fields 14 and 15); NaN where /proc is absent. */
export function cpuTimeUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return Number.NaN;
  }
}

export async function measure(target: string | Target, load: Load, seconds = SECONDS): Promise<Measurement> {
  const { base, pid } = typeof target === 'string' ? { base: target, pid: undefined } : target;
  const cpuBefore = pid === undefined ? Number.NaN : cpuTimeUs(pid);
  let next = 0;
  let nextKey = 0;
  const { paths, authorizations } = load;
  const varied = paths.length > 1 || authorizations !== undefined;
  const started = performance.now();
  const result = await autocannon({
    url: `${base}${load.paths[0]}`,
    connections: load.connections ?? CONNECTIONS,
    duration: seconds,
    ...(load.amount !== undefined && { amount: load.amount }),
    method: load.method ?? 'GET',
    headers: load.headers,
    body: load.body,
    requests: varied
      ? [
          {
            setupRequest: (request) => ({
              ...request,
              path: paths[next++ % paths.length]!,
              headers: authorizations ? { ...request.headers, authorization: authorizations[nextKey++ % authorizations.length]! } : request.headers,
            }),
          },
        ]
      : undefined,
  });
  const cpuUs = pid === undefined ? Number.NaN : (cpuTimeUs(pid) - cpuBefore) / result.requests.total;
  // With a fixed amount, autocannon's per-second average is of whole seconds sampled: answers ÷ wall time instead.
  const rps = load.amount === undefined ? result.requests.average : result.requests.total / ((performance.now() - started) / 1000);
  return {
    rps,
    latencyMean: result.latency.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    requests: result.requests.total,
    ...(Number.isFinite(cpuUs) && { cpuUs }),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median of each figure over rounds; errors are summed (any error counts). */
export function summarise(rounds: Measurement[]): Measurement {
  return {
    rps: median(rounds.map((r) => r.rps)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    requests: rounds.reduce((sum, r) => sum + r.requests, 0),
    ...(rounds.every((r) => r.cpuUs !== undefined) && { cpuUs: median(rounds.map((r) => r.cpuUs!)) }),
  };
}

/** Warms each target, then measures ROUNDS rounds of each, interleaved: A, B, C, A, B, C… */
export async function compareAll(targets: Target[], load: Load): Promise<Measurement[]> {
  for (const target of targets) await measure(target, load, WARM_SECONDS);
  const rounds: Measurement[][] = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, target] of targets.entries()) rounds[i]!.push(await measure(target, load));
  }
  return rounds.map(summarise);
}

/** Two targets, interleaved: A, B, A, B… */
export async function compare(baseA: string, baseB: string, load: Load): Promise<[Measurement, Measurement]> {
  const [a, b] = await compareAll([{ base: baseA }, { base: baseB }], load);
  return [a!, b!];
}

/** One target alone: warmed, then ROUNDS rounds, median. */
export async function measureAlone(target: string | Target, load: Load, rounds = ROUNDS): Promise<Measurement> {
  await measure(target, load, WARM_SECONDS);
  const all: Measurement[] = [];
  for (let round = 0; round < rounds; round++) all.push(await measure(target, load));
  return summarise(all);
}
