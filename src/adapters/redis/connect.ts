/**
 * Redis client set-up shared by the adapters that talk to Redis (the
 * rate-limit store, key revocations): one home, so neither imports the other.
 */

import { Redis, type RedisOptions } from 'ioredis';

/** How long start-up waits for a first connection before going on without it. */
export const CONNECT_TIMEOUT_MS = 2000;

/** How long a command may go unanswered before it fails. */
export const COMMAND_TIMEOUT_MS = 500;

/**
 * Runs `then` once the event loop has polled for I/O since this call: after
 * whatever had arrived by now is read. (A check phase follows each poll, and
 * between two check phases there is always a poll.)
 */
function afterPendingIo(then: () => void): void {
  setImmediate(() => setImmediate(then));
}

/**
 * ioredis with its command timeout judged after the answers that arrived were
 * read. ioredis's own (commandTimeout) fails a command when its timer fires;
 * but a process kept off the CPU past the timeout (a busy host) finds both
 * the timer due and Redis's answer waiting, and timers run before I/O is
 * read: a command Redis answered in time failed, and a shared limit let a
 * request through (or refused it with 503).
 */
class FailFastRedisClient extends Redis {
  override sendCommand(...[command, stream]: Parameters<Redis['sendCommand']>): unknown {
    const sent = super.sendCommand(command, stream);
    const timer = setTimeout(
      () => afterPendingIo(() => {
        if (!command.isResolved) command.reject(new Error('Command timed out'));
      }),
      COMMAND_TIMEOUT_MS,
    );
    const settled = () => clearTimeout(timer);
    command.promise.then(settled, settled);
    return sent;
  }
}

/**
 * A client that fails fast while Redis is away (no offline queue, one try per
 * command, a short command timeout): the caller decides what a failed command
 * means. ioredis keeps reconnecting in the background.
 */
export function failFastRedis(url: string, options: RedisOptions = {}): Redis {
  return new FailFastRedisClient(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...options,
  });
}

/** Resolves once `redis` is ready, or after `timeoutMs` in any case: composing the service goes on without Redis (the process itself checks it is there at start: pingOnce). */
export function readyOrTimeout(redis: Redis, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

/**
 * Connects once and pings, without retrying: the process checks at start that Redis is there, so a
 * wrong REDIS_URL or a Redis not yet up is one line and an exit (an orchestrator restarts it), not an
 * instance serving degraded from its first request. Once started, a Redis that goes away is handled
 * as an outage (RATE_LIMIT_ON_STORE_FAILURE).
 */
export async function pingOnce(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: CONNECT_TIMEOUT_MS });
  // ioredis rejects connect() with "Connection is closed."; the socket's own error (ECONNREFUSED…) comes as an event.
  let socketError: unknown;
  redis.on('error', (error: unknown) => (socketError ??= error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw socketError ?? error;
  } finally {
    redis.disconnect();
  }
}
