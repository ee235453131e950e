/**
 * Accounts and their API keys: registration, authentication of a key on
 * every request (cached, so that a known key costs no database round trip),
 * rotation and revocation (which drop the key from every instance's cache).
 */
import { LRUCache } from 'lru-cache';
import { type Account, checkRegistration, emailKey, type Registration } from '../domain/account.js';
import { InvalidCredentialsError, NotFoundError } from '../domain/errors.js';
import { IdempotencyAnswerNotKeptError } from '../domain/idempotency.js';
import type { Rate } from '../domain/throttle.js';
import { apiKeyFormat, hashApiKey, type StoredKey, untaggedKeys } from './api-keys.js';
import { fingerprintOf, type Idempotency, type IdempotentTransaction } from './idempotency.js';
import { upTo } from './lru-bound.js';

/** Port: accounts and their API keys. */
export interface AccountStore {
  /** Throws ConflictError('email', …) when the email is already registered. */
  create(registration: Registration & { email_key: string }, key: StoredKey, now: number): Promise<Account>;
  /** The account owning an active (unrevoked) key. */
  findByKeyHash(keyHash: string): Promise<{ account: Account; prefix: string } | undefined>;
  /**
   * Revokes the key if it is still active and, when given, gives its account
   * `replacement` — atomically. False when the key was not active: another
   * rotation or revocation came first. (The database keeps one active key per account.)
   */
  replaceKey(keyHash: string, replacement: StoredKey | undefined, now: number): Promise<boolean>;
  /** The secret new keys are tagged under (hex; api-keys.ts), the same for every instance. */
  apiKeySecret(): Promise<string>;
  /**
   * Hashes of the active keys issued without a tag (before keys carried one): they are looked up
   * without one. Those created at or after `createdSince` (epoch ms) only, when given.
   */
  untaggedKeyHashes(createdSince?: number): Promise<string[]>;
  /** The account registered under this email key (domain/account.ts emailKey), with its working key if it has one. */
  findByEmailKey(emailKey: string): Promise<AccountWithKey | undefined>;
  /** Every account, newest first, read as it is written out (constant memory however many there are). */
  listNewestFirst(): AsyncIterable<AccountWithKey>;
  /** Gives the account its own allowance, as DRF's rate text; null gives it THROTTLE_USER again. False: no such account. */
  setAllowance(accountId: number, allowance: string | null): Promise<boolean>;
}

/** An account as an operator looks it up: the key it holds (its working key, else its latest), and whether that key works. */
export interface AccountWithKey {
  account: Account;
  /** The working key's prefix, or the latest revoked key's; undefined when it never had one. */
  keyPrefix: string | undefined;
  /** The working key's hash; undefined when the account has none. */
  workingKeyHash: string | undefined;
}

/** Where an account is registered once per Idempotency-Key: the accounts and the keys, in one transaction. */
export interface RegisterOnce {
  idempotency: Idempotency;
  transaction: IdempotentTransaction<AccountStore>;
}

/**
 * Port: tells other instances that an account's keys or allowance changed, so each drops the account
 * from its key cache and reads it afresh (Redis pub/sub when instances share Redis).
 */
export interface KeyRevocations {
  publish(accountId: number): Promise<void>;
  subscribe(onRevoked: (accountId: number) => void): Promise<void>;
  close(): Promise<void>;
}

export interface Authenticated {
  account: Account;
  keyHash: string;
  prefix: string;
}

/**
 * Keys with a right tag found not active: revoked, since no other key can carry a right tag, and a
 * revoked key never comes back. Remembered for a day, this many per instance (a few MB): an address
 * collects at most THROTTLE_REGISTER × (THROTTLE_KEYS + 1) revoked keys a day (110 at the defaults), so
 * replaying enough of them to push the ones it replays out of memory takes hundreds of address-days.
 */
const REVOKED_KEYS_REMEMBERED = 100_000;
const REVOKED_KEY_TTL_MS = 86_400_000;
/**
 * How often, at most, keys written without a tag since the last read are read in: only an instance of
 * the code before tags writes one (during a deploy), and only a key that fails its tag asks for a read.
 */
const UNTAGGED_REREAD_MS = 60_000;

/**
 * When each account last had a key revoked, on a counter local to this
 * instance: a key look-up that started before then may have read the key just
 * before the revocation committed.
 */
function createRevocationClock(remembered: number) {
  let now = 0;
  // Accounts forgotten (to bound memory) count as revoked at the latest such moment.
  let forgottenAt = 0;
  const lastRevoked = new LRUCache<number, number>({
    ...upTo(remembered),
    dispose: (at, _accountId, reason) => {
      if (reason === 'evict') forgottenAt = Math.max(forgottenAt, at);
    },
  });
  return {
    now: () => now,
    revoked(accountId: number): void {
      lastRevoked.set(accountId, ++now);
    },
    revokedSince(accountId: number, moment: number): boolean {
      return (lastRevoked.peek(accountId) ?? forgottenAt) > moment;
    },
  };
}

type RevocationClock = ReturnType<typeof createRevocationClock>;

/**
 * Reads in the untagged keys written since the last read, at most once per
 * UNTAGGED_REREAD_MS and one read at a time; resolves whether it read.
 */
function rereadsOfUntaggedKeys(store: AccountStore, index: ReturnType<typeof untaggedKeys>, readAt: number, now: () => number) {
  let lastReadAt = readAt;
  let reading: Promise<boolean> | undefined;
  return (): Promise<boolean> => {
    if (reading) return reading;
    if (now() - lastReadAt < UNTAGGED_REREAD_MS) return Promise.resolve(false);
    // From a while before the last read began: a key committed while it ran may have missed it.
    const since = lastReadAt - UNTAGGED_REREAD_MS;
    lastReadAt = now();
    reading = store
      .untaggedKeyHashes(since)
      .then((hashes) => {
        index.add(hashes);
        return true;
      })
      .finally(() => (reading = undefined));
    return reading;
  };
}

const LOOKUP_ATTEMPTS = 3;

/**
 * The store, with key look-ups that read again when the key's account had a
 * key revoked while the read was in flight: the read may predate the
 * revocation, and neither the request nor the cache may keep a key it ended.
 */
function lookupsThatSeeRevocations(store: AccountStore, clock: RevocationClock): AccountStore {
  return {
    ...store,
    async findByKeyHash(keyHash) {
      for (let attempt = 1; attempt <= LOOKUP_ATTEMPTS; attempt++) {
        const startedAt = clock.now();
        const found = await store.findByKeyHash(keyHash);
        if (!found || !clock.revokedSince(found.account.id, startedAt)) return found;
      }
      // The account's keys changed under every read; each change needs its active key, so this is its owner's doing.
      return undefined;
    },
  };
}

/**
 * Accounts and keys, with a bounded cache in front of key look-ups so that a
 * known key costs no database round trip. A key changes state once, in the
 * store; then every cached key of its account is dropped from this instance's
 * cache at once, and from the others' through `revocations` when they share
 * one (else when the entries expire, after `cacheTtlMs`).
 */
export async function createAccountService(
  accountStore: AccountStore,
  options: {
    cacheSize: number;
    cacheTtlMs: number;
    revocations?: KeyRevocations;
    now?: () => number;
    /** Hears each database look-up of a key, and whether it found an active one (the metrics count them). */
    onLookup?: (found: boolean) => void;
  },
) {
  const revocationClock = createRevocationClock(options.cacheSize);
  const store = lookupsThatSeeRevocations(accountStore, revocationClock);
  const now = options.now ?? Date.now;
  const keys = apiKeyFormat(await store.apiKeySecret());
  const untaggedReadAt = now();
  const untagged = untaggedKeys(await store.untaggedKeyHashes());
  const untaggedSince = rereadsOfUntaggedKeys(store, untagged, untaggedReadAt, now);
  const byKeyHash = new LRUCache<string, Authenticated>({ ...upTo(options.cacheSize), ttl: Math.max(1, options.cacheTtlMs) });
  await options.revocations?.subscribe(forgetKeysOf);
  // Keys that may exist (api-keys.ts) but were found not to: revoked ones (see REVOKED_KEYS_REMEMBERED).
  const clock = options.now && { perf: { now: options.now }, ttlResolution: 0 };
  const revokedKeys = new LRUCache<string, true>({ ...upTo(REVOKED_KEYS_REMEMBERED), ttl: REVOKED_KEY_TTL_MS, ...clock });
  // One look-up of a key at a time: a burst of one revoked key costs one, not one per request.
  const lookups = new Map<string, Promise<Authenticated | undefined>>();

  /** Whether the key may be active, so worth a look-up: a right tag, or an untagged key of before. */
  async function mayExist(key: string, keyHash: string): Promise<boolean> {
    return keys.hasRightTag(key) || untagged.has(keyHash) || ((await untaggedSince()) && untagged.has(keyHash));
  }

  async function lookUp(keyHash: string): Promise<Authenticated | undefined> {
    const found = await store.findByKeyHash(keyHash);
    options.onLookup?.(found !== undefined);
    if (!found) {
      revokedKeys.set(keyHash, true);
      return undefined;
    }
    const authenticated = { ...found, keyHash };
    if (options.cacheTtlMs > 0) byKeyHash.set(keyHash, authenticated);
    return authenticated;
  }

  /** Revocations are rare, so a scan of the cache is cheaper than an index kept on every look-up. */
  function forgetKeysOf(accountId: number): void {
    revocationClock.revoked(accountId);
    const stale = [...byKeyHash.entries()].filter(([, cached]) => cached.account.id === accountId);
    for (const [keyHash] of stale) byKeyHash.delete(keyHash);
  }

  /** Retires the presented key, if it is still active; a key already retired is as invalid as any other. */
  async function retire(current: Authenticated, replacement: StoredKey | undefined): Promise<void> {
    const retired = await store.replaceKey(current.keyHash, replacement, Date.now());
    // Even when another request retired it first: this instance's cache may still hold it.
    forgetKeysOf(current.account.id);
    if (!retired) throw new InvalidCredentialsError();
    await options.revocations?.publish(current.account.id);
  }

  /** The account registered with this email, compared as registration compares emails (case, compatibility forms). */
  function findByEmail(email: string): Promise<AccountWithKey | undefined> {
    return store.findByEmailKey(emailKey(email.trim()));
  }

  return {
    async register(input: Record<string, unknown>): Promise<{ account: Account; key: string }> {
      const registration = checkRegistration(input);
      const { key, stored } = keys.issue();
      const account = await store.create({ ...registration, email_key: emailKey(registration.email) }, stored, Date.now());
      return { account, key };
    },

    /**
     * Registers once per `idempotencyKey`. The first answer holds the API key,
     * shown once and kept only as its hash, so a repeat cannot be given it
     * again: it is told the account exists (409) instead, and a registration
     * under another key meets the email's uniqueness (400) as ever. Keeping
     * the key to replay it would hand an account's key to anyone who guesses
     * the Idempotency-Key and the (often public) name and email (README,
     * "Idempotent writes").
     */
    async registerOnce(once: RegisterOnce, idempotencyKey: string, input: Record<string, unknown>): Promise<{ account: Account; key: string }> {
      const registration = checkRegistration(input);
      const fresh = keys.issue();
      const request = { route: 'POST /api/v1/register/', key: idempotencyKey, fingerprint: fingerprintOf(registration) };
      const result = await once.idempotency.writeOnce(
        once.transaction,
        request,
        (transaction) => transaction.create({ ...registration, email_key: emailKey(registration.email) }, fresh.stored, Date.now()),
        () => ({ status: 201, body: '' }),
      );
      if (result.replayed) {
        throw new IdempotencyAnswerNotKeptError(
          'An account was already registered with this Idempotency-Key and these fields; its API key was shown once, in that answer, and is not kept, so it cannot be shown again.',
        );
      }
      return { account: result.answer, key: fresh.key };
    },

    /**
     * The account behind `key`. A cached key costs no look-up, and neither
     * does one that cannot exist (a wrong tag) or was found revoked.
     */
    async authenticate(key: string): Promise<Authenticated> {
      const keyHash = hashApiKey(key);
      const cached = byKeyHash.get(keyHash);
      if (cached) return cached;
      if (revokedKeys.has(keyHash) || !(await mayExist(key, keyHash))) throw new InvalidCredentialsError();
      let lookup = lookups.get(keyHash);
      if (!lookup) {
        lookup = lookUp(keyHash).finally(() => lookups.delete(keyHash));
        lookups.set(keyHash, lookup);
      }
      const found = await lookup;
      if (!found) throw new InvalidCredentialsError();
      return found;
    },

    async rotateKey(current: Authenticated): Promise<string> {
      const { key, stored } = keys.issue();
      await retire(current, stored);
      return key;
    },

    async revokeKey(current: Authenticated): Promise<void> {
      await retire(current, undefined);
    },

    findByEmail,

    listNewestFirst: (): AsyncIterable<AccountWithKey> => store.listNewestFirst(),

    /**
     * An operator's revocation of an account's working key: the same retirement as
     * POST /keys/revoke, dropped from every instance's cache alike. Throws
     * NotFoundError when no account has the email, InvalidCredentialsError when it
     * has no working key (already revoked).
     */
    async revokeKeyOf(email: string): Promise<AccountWithKey> {
      const found = await findByEmail(email);
      if (!found) throw new NotFoundError(`No account is registered with the email ${email.trim()}.`);
      if (!found.workingKeyHash) throw new InvalidCredentialsError(`The account ${found.account.email} has no working key: it was revoked already.`);
      await retire({ account: found.account, keyHash: found.workingKeyHash, prefix: found.keyPrefix ?? '' }, undefined);
      return found;
    },

    /**
     * Sets or clears (undefined) an account's own allowance. Every instance reads it again on the
     * account's next request: its keys are dropped from the caches as a revocation drops them (the
     * keys themselves keep working). Throws NotFoundError when no account has the email.
     */
    async setAllowance(email: string, allowance: Rate | undefined): Promise<Account> {
      const found = await findByEmail(email);
      if (!found || !(await store.setAllowance(found.account.id, allowance?.text ?? null))) {
        throw new NotFoundError(`No account is registered with the email ${email.trim()}.`);
      }
      forgetKeysOf(found.account.id);
      await options.revocations?.publish(found.account.id);
      return { ...found.account, allowance };
    },
  };
}

export type AccountService = Awaited<ReturnType<typeof createAccountService>>;
