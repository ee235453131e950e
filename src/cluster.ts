/**
 * The cluster primary (WEB_CONCURRENCY above 1): it serves nothing itself.
 * It applies migrations once, then forks the workers, which share the port
 * (node:cluster hands connections to them in turn). A worker that dies while
 * serving is replaced, after a back-off that grows while replacements keep
 * dying young. Signals are passed on to every worker; the primary exits when
 * they all have.
 */
import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import { serveClusterMetrics } from './adapters/metrics/cluster.js';
import { migrateDatabase } from './compose.js';
import type { Config } from './config.js';

const FIRST_RESTART_MS = 100;
const MAX_RESTART_MS = 30_000;
/** A worker that served this long was healthy: its death starts the back-off afresh. */
const STABLE_AFTER_MS = 30_000;

export async function runPrimary(config: Config): Promise<void> {
  const logger = pino({ level: config.logLevel }).child({ role: 'primary' });
  // Here, not in each worker: SQLite has no migration lock, and workers would race to apply them.
  await migrateDatabase(config);
  serveClusterMetrics();

  let shuttingDown = false;
  /** Every first worker has listened: from then on, a worker that dies is replaced. */
  let started = false;
  let quickDeaths = 0;
  let exitCode = 0;
  const startedAt = new Map<Worker, number>();
  const listening = new Set<Worker>();
  const restarts = new Set<NodeJS.Timeout>();

  function fork(): void {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
  }

  cluster.on('listening', (worker) => {
    listening.add(worker);
    if (listening.size === config.workers) started = true;
    logger.info({ worker_id: worker.id, worker_pid: worker.process.pid }, 'worker listening');
  });

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    const served = listening.has(worker);
    startedAt.delete(worker);
    listening.delete(worker);
    if (shuttingDown) {
      if (code !== 0) exitCode ||= code ?? 1;
      return exitWhenAllGone();
    }
    if (!served && !started) {
      // A worker that could not start (port taken, database away) will not start on a retry either.
      logger.error({ worker_pid: worker.process.pid, code, signal }, 'a worker could not start; stopping the others');
      return shutdown('SIGTERM', code || 1);
    }
    quickDeaths = lived < STABLE_AFTER_MS ? quickDeaths + 1 : 0;
    const delayMs = Math.min(FIRST_RESTART_MS * 2 ** Math.max(0, quickDeaths - 1), MAX_RESTART_MS);
    logger.warn({ worker_pid: worker.process.pid, code, signal, restart_in_ms: delayMs }, 'worker died; starting another');
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (!shuttingDown) fork();
    }, delayMs);
    restarts.add(timer);
  });

  function exitWhenAllGone(): void {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  }

  function shutdown(signal: NodeJS.Signals, code = 0): void {
    if (shuttingDown) return;
    shuttingDown = true;
    if (code !== 0) exitCode = code;
    logger.info({ signal }, 'shutting down: passing the signal to every worker');
    for (const timer of restarts) clearTimeout(timer);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    exitWhenAllGone();
  }

  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // logrotate's signal: every worker reopens apicalls.log (they all append to it).
  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });

  logger.info({ workers: config.workers }, 'starting workers');
  for (let i = 0; i < config.workers; i++) fork();
}
