import { Redis } from 'ioredis';
import type { KeyRevocations } from '../../app/accounts.js';
import { CONNECT_TIMEOUT_MS, failFastRedis, readyOrTimeout } from '../redis/connect.js';

export interface RevocationLogger {
  error(details: object, message: string): void;
}

/**
 * Tells every instance sharing Redis that an account's key was rotated or
 * revoked, so each drops the account's keys from its authentication cache at
 * once: Redis has handed the message to every subscriber before `publish`
 * resolves. A lost message only delays the drop until the cache entries
 * expire (AUTH_CACHE_SECONDS).
 */
export async function connectRedisKeyRevocations(url: string, keyPrefix: string, log: RevocationLogger): Promise<KeyRevocations> {
  // Not the earlier `key-revoked` channel, which carried key hashes: mixed versions ignore each other.
  const channel = `${keyPrefix}account-keys-revoked`;
  const publisher = failFastRedis(url);
  // The subscriber queues its SUBSCRIBE until connected: no fail-fast options.
  const subscriber = new Redis(url, { connectTimeout: CONNECT_TIMEOUT_MS });
  // Connection errors are reported by the rate-limit store; these clients just keep reconnecting.
  publisher.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  await Promise.all([readyOrTimeout(publisher), readyOrTimeout(subscriber)]);
  return {
    async publish(accountId) {
      await publisher.publish(channel, String(accountId)).catch((error: unknown) => {
        log.error({ err: error }, 'could not announce a revoked key to other instances');
      });
    },
    async subscribe(onRevoked) {
      subscriber.on('message', (from: string, message: string) => {
        const accountId = Number(message);
        if (from === channel && Number.isSafeInteger(accountId)) onRevoked(accountId);
      });
      const subscribed = subscriber
        .subscribe(channel)
        .catch((error: unknown) => log.error({ err: error }, 'could not subscribe to key revocations'));
      // Connected: wait until the subscription is live. Not connected: ioredis subscribes when it connects; startup does not wait.
      if (subscriber.status === 'ready') await subscribed;
    },
    async close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
