import { describe, expect, it } from 'vitest';
import { type AccountStore, createAccountService, hashApiKey } from '../../src/app/accounts.js';
import type { Account } from '../../src/domain/account.js';

const KNOWN_KEY = 'a'.repeat(40);
const ACCOUNT = { id: 7, name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com', created_at: 0 } as unknown as Account;

/** An account store that knows one key and counts its look-ups. */
function countingStore() {
  const store = {
    lookups: 0,
    async findByKeyHash(keyHash: string) {
      store.lookups += 1;
      return keyHash === hashApiKey(KNOWN_KEY) ? { account: ACCOUNT, prefix: 'aaaaaaaa' } : undefined;
    },
    create: async () => ACCOUNT,
    replaceKey: async () => false,
  };
  return store satisfies AccountStore;
}

describe('authenticate', () => {
  it('when one unknown key is presented again and again, then it is looked up once every few seconds', async () => {
    let now = 1_000_000;
    const store = countingStore();
    const accounts = await createAccountService(store, { cacheSize: 100, cacheTtlMs: 30_000, now: () => now });
    for (let i = 0; i < 50; i++) await expect(accounts.authenticate('f'.repeat(40))).rejects.toThrow('Invalid token.');
    expect(store.lookups).toBe(1);
    now += 5_001;
    await expect(accounts.authenticate('f'.repeat(40))).rejects.toThrow('Invalid token.');
    expect(store.lookups).toBe(2);
  });

  it('when a key needs a look-up, then the caller may refuse first; a cached key never asks', async () => {
    const store = countingStore();
    const accounts = await createAccountService(store, { cacheSize: 100, cacheTtlMs: 30_000 });
    const refuse = async () => {
      throw new Error('address spent');
    };
    await expect(accounts.authenticate(KNOWN_KEY, refuse)).rejects.toThrow('address spent');
    expect(store.lookups).toBe(0);
    expect((await accounts.authenticate(KNOWN_KEY)).account.id).toBe(7);
    expect((await accounts.authenticate(KNOWN_KEY, refuse)).account.id).toBe(7);
    expect(store.lookups).toBe(1);
  });

  it('when a key was found valid within a day, then it is looked up even where the caller would refuse; after a day, not', async () => {
    let now = 1_000_000;
    const store = countingStore();
    const accounts = await createAccountService(store, { cacheSize: 100, cacheTtlMs: 0, now: () => now });
    const refuse = async () => {
      throw new Error('address spent');
    };
    expect((await accounts.authenticate(KNOWN_KEY)).account.id).toBe(7);
    now += 3_600_000;
    expect((await accounts.authenticate(KNOWN_KEY, refuse)).account.id).toBe(7);
    expect(store.lookups).toBe(2); // no trusted cache (AUTH_CACHE_SECONDS=0): still looked up, so revocation holds
    now += 86_400_001;
    await expect(accounts.authenticate(KNOWN_KEY, refuse)).rejects.toThrow('address spent');
  });
});
