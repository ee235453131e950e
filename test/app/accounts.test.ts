import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AccountStore, createAccountService } from '../../src/app/accounts.js';
import { apiKeyFormat, hashApiKey } from '../../src/app/api-keys.js';
import type { Account } from '../../src/domain/account.js';

const SECRET = 'ab'.repeat(32);
/** A key issued before keys carried a tag, still active. */
const UNTAGGED_KEY = 'a'.repeat(40);
const ACCOUNT = { id: 7, name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com', created_at: 0 } as unknown as Account;

/** An account store whose active keys are `active` (one untagged, from before tags) and that counts its look-ups. */
function countingStore(active: string[] = [UNTAGGED_KEY]) {
  const hashes = new Set(active.map(hashApiKey));
  const store = {
    lookups: 0,
    async findByKeyHash(keyHash: string) {
      store.lookups += 1;
      return hashes.has(keyHash) ? { account: ACCOUNT, prefix: 'aaaaaaaa' } : undefined;
    },
    create: async () => ACCOUNT,
    replaceKey: async () => false,
    apiKeySecret: async () => SECRET,
    untaggedKeyHashes: async () => [hashApiKey(UNTAGGED_KEY)],
  };
  return store satisfies AccountStore;
}

const madeUpKey = () => randomBytes(20).toString('hex');

describe('authenticate', () => {
  it('when a key with a right tag but no account is presented again and again, then it is looked up once every few seconds', async () => {
    let now = 1_000_000;
    const store = countingStore();
    const accounts = await createAccountService(store, { cacheSize: 100, cacheTtlMs: 30_000, now: () => now });
    const revoked = apiKeyFormat(SECRET, []).issue().key;
    for (let i = 0; i < 50; i++) await expect(accounts.authenticate(revoked)).rejects.toThrow('Invalid token.');
    expect(store.lookups).toBe(1);
    now += 5_001;
    await expect(accounts.authenticate(revoked)).rejects.toThrow('Invalid token.');
    expect(store.lookups).toBe(2);
  });

  it('when 10,000 made-up keys are presented, then none is looked up, and a key issued meanwhile is', async () => {
    const store = countingStore();
    const lookedUp: boolean[] = [];
    const accounts = await createAccountService(store, { cacheSize: 100, cacheTtlMs: 30_000, onLookup: (found) => lookedUp.push(found) });
    for (let i = 0; i < 10_000; i++) await expect(accounts.authenticate(madeUpKey())).rejects.toThrow('Invalid token.');
    // Each made-up key has a 1 in 2^32 chance of a right tag: at most one look-up is what "none" can promise.
    expect(store.lookups).toBeLessThanOrEqual(1);
    const before = store.lookups;
    const { key } = await accounts.register({ name: 'Kate', last_name: 'Bush', email: 'kate@example.com' });
    await expect(accounts.authenticate(key)).rejects.toThrow('Invalid token.'); // the fake store keeps no new account
    expect(store.lookups).toBe(before + 1);
    expect(lookedUp.at(-1)).toBe(false);
  });

  it('when a key issued before tags is presented, then it is looked up and served; another untagged key is not looked up', async () => {
    const store = countingStore();
    const lookedUp: boolean[] = [];
    const accounts = await createAccountService(store, { cacheSize: 100, cacheTtlMs: 30_000, onLookup: (found) => lookedUp.push(found) });
    expect((await accounts.authenticate(UNTAGGED_KEY)).account.id).toBe(7);
    await expect(accounts.authenticate('b'.repeat(40))).rejects.toThrow('Invalid token.');
    expect(store.lookups).toBe(1);
    expect(lookedUp).toEqual([true]);
  });

  it('when the trusted cache is off (AUTH_CACHE_SECONDS=0), then a valid key is looked up on every request', async () => {
    const store = countingStore();
    const accounts = await createAccountService(store, { cacheSize: 100, cacheTtlMs: 0 });
    for (let i = 0; i < 3; i++) expect((await accounts.authenticate(UNTAGGED_KEY)).account.id).toBe(7);
    expect(store.lookups).toBe(3);
  });
});
