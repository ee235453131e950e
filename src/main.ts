import cluster from 'node:cluster';
import { clusterMetricsRenderer, shareWorkerMetrics } from './adapters/metrics/cluster.js';
import { runPrimary } from './cluster.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { composeService } from './compose.js';
import { pingOnce } from './adapters/redis/connect.js';
import { CannotListen, hostOf, startupFailureLine, UnreachableAtStart } from './startup-failure.js';

/**
 * Process entry: read config, then serve, closing gracefully on SIGTERM/SIGINT.
 * With WEB_CONCURRENCY above 1 this process is the cluster primary (src/cluster.ts)
 * and each worker it forks runs this file again, to serve.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  if (config.redisUrl && cluster.isPrimary) {
    const url = config.redisUrl;
    await pingOnce(url).catch((error: unknown) => exitOnStartupFailure(new UnreachableAtStart('REDIS_URL', 'Redis', hostOf(url, '6379'), error), config));
  }
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config).catch((error: unknown) => exitOnStartupFailure(error, config));
  await serve(config);
}

/** What an operator can fix (a folder, a file, a database away) is one line and exit 2, as a bad variable is; anything else is thrown on. */
function exitOnStartupFailure(error: unknown, config: Config): never {
  const line = startupFailureLine(error, config);
  if (!line) throw error;
  console.error(line);
  if (config.logLevel === 'debug' || config.logLevel === 'trace') console.error((error as Error).stack);
  process.exit(2);
}

async function serve(config: Config): Promise<void> {
  // A worker's primary has migrated the database already, and sums every worker's metrics for /metrics.
  const worker = cluster.isWorker;
  const service = await composeService(config, { migrate: !worker, renderMetrics: worker ? clusterMetricsRenderer() : undefined }).catch((error: unknown) =>
    exitOnStartupFailure(error, config),
  );
  if (worker) shareWorkerMetrics([service.metricsRegistry]);
  const { app } = service;
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // The drain waits for every request in flight, and one can wait on a slow vendor for long: past
    // the deadline its connection is closed unanswered (the client may send it again, elsewhere),
    // and the close goes on, flushing apicalls.log, before the process manager kills the process.
    const deadline = setTimeout(() => {
      app.log.warn({ shutdown_timeout_ms: config.shutdownTimeoutMs }, 'SHUTDOWN_TIMEOUT_MS passed: closing the connections of requests still in flight');
      app.server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    deadline.unref();
    try {
      await service.close();
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'error while shutting down');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // logrotate moves apicalls.log, then sends SIGHUP: write to a fresh file from here on
  // (or, if it cannot be opened, on to the old one; the log reports either way).
  process.on('SIGHUP', () => void service.reopenLogs());

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // A taken port, say: one line, after closing what started (the request log among it).
    await service.close().catch(() => undefined);
    exitOnStartupFailure(new CannotListen(`${config.host}:${config.port}`, error), config);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
