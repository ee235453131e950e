import { describe, expect, it } from 'vitest';
import { createAccountStore } from '../../src/adapters/db/account-store.js';
import { connectRedisKeyRevocations } from '../../src/adapters/pubsub/key-revocations.js';
import { type AccountStore, type Authenticated, createAccountService, type KeyRevocations } from '../../src/app/accounts.js';
import { hashApiKey } from '../../src/app/api-keys.js';
import { InvalidCredentialsError } from '../../src/domain/errors.js';
import { testEngines, testRedisEnv } from '../support/engines.js';
import { startService } from '../support/service.js';

const DAVE = { name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com' };
const CACHE = { cacheSize: 100, cacheTtlMs: 60_000 };
const silent = { error: () => undefined };

/**
 * The real store, whose next key look-up can be held after the database has
 * answered: the interleaving where a read of a still-active key returns just
 * as a rotation commits.
 */
function heldLookups(store: AccountStore) {
  let hold: { answered: () => void; released: Promise<void> } | undefined;
  const wrapped: AccountStore = {
    ...store,
    async findByKeyHash(keyHash) {
      const found = await store.findByKeyHash(keyHash);
      const held = hold;
      hold = undefined;
      if (held) {
        held.answered();
        await held.released;
      }
      return found;
    },
  };
  function holdNext() {
    let release = () => undefined as void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const answered = new Promise<void>((resolve) => (hold = { answered: resolve, released }));
    return { answered, release };
  }
  return { store: wrapped, holdNext };
}

/** Revocations that also tell the test when a message has been handled. */
function heard(revocations: KeyRevocations) {
  let handled: () => void = () => undefined;
  const wrapped: KeyRevocations = {
    publish: (accountId) => revocations.publish(accountId),
    subscribe: (onRevoked) =>
      revocations.subscribe((accountId) => {
        onRevoked(accountId);
        handled();
      }),
    close: () => revocations.close(),
  };
  const next = () => new Promise<void>((resolve) => (handled = resolve));
  return { revocations: wrapped, next };
}

async function presented(store: AccountStore, key: string): Promise<Authenticated> {
  const keyHash = hashApiKey(key);
  const found = await store.findByKeyHash(keyHash);
  if (!found) throw new Error('the key is not active');
  return { ...found, keyHash };
}

describe.each(testEngines())('key look-ups racing a rotation on %s', (engine) => {
  it('when a look-up read the key just before a rotation on the same instance, then the old key is not cached', async () => {
    const { db } = await startService(engine);
    const store = createAccountStore(db);
    const lookups = heldLookups(store);
    const accounts = await createAccountService(lookups.store, CACHE);
    const { key } = await accounts.register(DAVE);
    const current = await presented(store, key);

    const hold = lookups.holdNext();
    const inFlight = accounts.authenticate(key);
    await hold.answered; // the database said: active
    const newKey = await accounts.rotateKey(current);
    hold.release();

    await expect(inFlight).rejects.toThrow(InvalidCredentialsError);
    await expect(accounts.authenticate(key)).rejects.toThrow(InvalidCredentialsError);
    expect((await accounts.authenticate(newKey)).account.email).toBe(DAVE.email);
  });

  it('when a look-up read the key just before another instance revoked it, then the old key is not cached (Redis)', async () => {
    const { db } = await startService(engine);
    const { REDIS_URL, REDIS_KEY_PREFIX } = testRedisEnv();
    const toA = await connectRedisKeyRevocations(REDIS_URL!, REDIS_KEY_PREFIX!, silent);
    const toB = heard(await connectRedisKeyRevocations(REDIS_URL!, REDIS_KEY_PREFIX!, silent));
    try {
      const store = createAccountStore(db);
      const lookups = heldLookups(store);
      const a = await createAccountService(store, { ...CACHE, revocations: toA });
      const b = await createAccountService(lookups.store, { ...CACHE, revocations: toB.revocations });
      const { key } = await a.register(DAVE);
      const current = await presented(store, key);

      const hold = lookups.holdNext();
      const inFlight = b.authenticate(key);
      await hold.answered;
      const told = toB.next();
      await a.revokeKey(current);
      await told; // b has dropped the account's keys while its read was still out
      hold.release();

      await expect(inFlight).rejects.toThrow(InvalidCredentialsError);
      await expect(b.authenticate(key)).rejects.toThrow(InvalidCredentialsError);
    } finally {
      await toA.close();
      await toB.revocations.close();
    }
  });
});
