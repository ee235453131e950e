import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AccountStore, createAccountService } from '../../src/app/accounts.js';
import { apiKeyFormat, hashApiKey } from '../../src/app/api-keys.js';
import type { Account } from '../../src/domain/account.js';

const SECRET = 'ab'.repeat(32);
/** A key issued before keys carried a tag, still active. */
const UNTAGGED_KEY = 'a'.repeat(40);
const ACCOUNT = { id: 7, name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com', created_at: 0 } as unknown as Account;

/**
 * An account store whose active keys are `active`, of which `untagged` were written without a tag
 * (each with its creation time), and that counts its look-ups and its reads of untagged keys.
 */
function countingStore(active: string[] = [UNTAGGED_KEY], untagged: { key: string; at: number }[] = [{ key: UNTAGGED_KEY, at: 0 }]) {
  const store = {
    lookups: 0,
    untaggedReads: [] as (number | undefined)[],
    active: new Set(active.map(hashApiKey)),
    untagged,
    async findByKeyHash(keyHash: string) {
      store.lookups += 1;
      return store.active.has(keyHash) ? { account: ACCOUNT, prefix: 'aaaaaaaa' } : undefined;
    },
    create: async () => ACCOUNT,
    replaceKey: async () => false,
    apiKeySecret: async () => SECRET,
    findByEmailKey: async () => undefined,
    async *listNewestFirst() {},
    setAllowance: async () => false,
    async untaggedKeyHashes(createdSince?: number) {
      store.untaggedReads.push(createdSince);
      return store.untagged.filter(({ at }) => createdSince === undefined || at >= createdSince).map(({ key }) => hashApiKey(key));
    },
  };
  return store satisfies AccountStore;
}

const madeUpKey = () => randomBytes(20).toString('hex');
const OPTIONS = { cacheSize: 100, cacheTtlMs: 30_000 };

describe('authenticate', () => {
  it('when a revoked key (a right tag, no account) is presented again and again, then it is looked up once, and again only a day later', async () => {
    let now = 1_000_000;
    const store = countingStore();
    const accounts = await createAccountService(store, { ...OPTIONS, now: () => now });
    const revoked = apiKeyFormat(SECRET).issue().key;
    for (let i = 0; i < 50; i++) await expect(accounts.authenticate(revoked)).rejects.toThrow('Invalid token.');
    now += 86_399_000;
    await expect(accounts.authenticate(revoked)).rejects.toThrow('Invalid token.');
    expect(store.lookups).toBe(1);
    now += 1_001;
    await expect(accounts.authenticate(revoked)).rejects.toThrow('Invalid token.');
    expect(store.lookups).toBe(2);
  });

  it('when 500 requests with one revoked key arrive at once, then it is looked up once', async () => {
    const store = countingStore();
    const accounts = await createAccountService(store, OPTIONS);
    const revoked = apiKeyFormat(SECRET).issue().key;
    const answers = await Promise.allSettled(Array.from({ length: 500 }, () => accounts.authenticate(revoked)));
    expect(answers.every((answer) => answer.status === 'rejected')).toBe(true);
    expect(store.lookups).toBe(1);
  });

  it('when 10,000 made-up keys are presented, then none is looked up, and a key issued meanwhile is', async () => {
    const store = countingStore();
    const lookedUp: boolean[] = [];
    const accounts = await createAccountService(store, { ...OPTIONS, onLookup: (found) => lookedUp.push(found) });
    for (let i = 0; i < 10_000; i++) await expect(accounts.authenticate(madeUpKey())).rejects.toThrow('Invalid token.');
    // Each made-up key has a 1 in 2^32 chance of a right tag: at most one look-up is what "none" can promise.
    expect(store.lookups).toBeLessThanOrEqual(1);
    const { key } = await accounts.register({ name: 'Kate', last_name: 'Bush', email: 'kate@example.com' });
    store.active.add(hashApiKey(key));
    expect((await accounts.authenticate(key)).account.id).toBe(7);
    expect(lookedUp.at(-1)).toBe(true);
  });

  it('when a key issued before tags is presented, then it is looked up and served; another untagged key is not looked up', async () => {
    const store = countingStore();
    const lookedUp: boolean[] = [];
    const accounts = await createAccountService(store, { ...OPTIONS, onLookup: (found) => lookedUp.push(found) });
    expect((await accounts.authenticate(UNTAGGED_KEY)).account.id).toBe(7);
    await expect(accounts.authenticate('b'.repeat(40))).rejects.toThrow('Invalid token.');
    expect(store.lookups).toBe(1);
    expect(lookedUp).toEqual([true]);
  });

  it('when an older instance writes an untagged key after this one started, then the key is served once a minute has passed, and made-up keys read untagged keys at most once a minute', async () => {
    let now = 1_000_000;
    const store = countingStore();
    const accounts = await createAccountService(store, { ...OPTIONS, now: () => now });
    expect(store.untaggedReads).toEqual([undefined]);
    const late = 'c'.repeat(40);
    now += 5_000;
    store.untagged.push({ key: late, at: now });
    store.active.add(hashApiKey(late));
    await expect(accounts.authenticate(late)).rejects.toThrow('Invalid token.'); // within the minute: not read yet
    for (let i = 0; i < 100; i++) await expect(accounts.authenticate(madeUpKey())).rejects.toThrow('Invalid token.');
    expect(store.untaggedReads).toEqual([undefined]);
    now += 60_000;
    expect((await accounts.authenticate(late)).account.id).toBe(7);
    for (let i = 0; i < 100; i++) await expect(accounts.authenticate(madeUpKey())).rejects.toThrow('Invalid token.');
    expect(store.untaggedReads).toEqual([undefined, 1_000_000 - 60_000]);
  });

  it('when the trusted cache is off (AUTH_CACHE_SECONDS=0), then a valid key is looked up on every request', async () => {
    const store = countingStore();
    const accounts = await createAccountService(store, { cacheSize: 100, cacheTtlMs: 0 });
    for (let i = 0; i < 3; i++) expect((await accounts.authenticate(UNTAGGED_KEY)).account.id).toBe(7);
    expect(store.lookups).toBe(3);
  });
});
