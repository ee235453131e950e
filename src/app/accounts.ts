import { createHash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type Account, checkRegistration, emailKey, type Registration } from '../domain/account.js';
import { InvalidCredentialsError } from '../domain/errors.js';

/** What the service keeps of a key: its hash and a short prefix to recognise it by. */
export interface StoredKey {
  keyHash: string;
  prefix: string;
}

/** Port: accounts and their API keys. */
export interface AccountStore {
  /** Throws ConflictError('email', …) when the email is already registered. */
  create(registration: Registration & { email_key: string }, key: StoredKey, now: number): Promise<Account>;
  /** The account owning an active (unrevoked) key. */
  findByKeyHash(keyHash: string): Promise<{ account: Account; prefix: string } | undefined>;
  /** Revokes every active key of the account and, when given, adds `replacement` — atomically. */
  replaceKeys(accountId: number, replacement: StoredKey | undefined, now: number): Promise<void>;
}

/** 160 bits from the OS's secure random source, as 40 hex digits: the original service's token shape. */
export function newApiKey(): { key: string; stored: StoredKey } {
  const key = randomBytes(20).toString('hex');
  return { key, stored: { keyHash: hashApiKey(key), prefix: key.slice(0, 8) } };
}

/** SHA-256 suits random keys: there is no low-entropy secret to slow an attacker down on. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Port: tells other instances that a key stopped working (Redis pub/sub when instances share Redis). */
export interface KeyRevocations {
  publish(keyHash: string): Promise<void>;
  subscribe(onRevoked: (keyHash: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface Authenticated {
  account: Account;
  keyHash: string;
  prefix: string;
}

const KEYS_REMEMBERED = 10_000;
const UNKNOWN_KEY_TTL_MS = 5_000;
const RECENTLY_VALID_TTL_MS = 86_400_000;

/**
 * Accounts and keys, with a bounded cache in front of key look-ups so that a
 * known key costs no database round trip. Rotation and revocation evict the
 * old key from this instance's cache at once, and from the others' through
 * `revocations` when they share one (else when the entry expires).
 */
export async function createAccountService(
  store: AccountStore,
  options: { cacheSize: number; cacheTtlMs: number; revocations?: KeyRevocations; now?: () => number },
) {
  const byKeyHash = new LRUCache<string, Authenticated>({ max: options.cacheSize, ttl: Math.max(1, options.cacheTtlMs) });
  await options.revocations?.subscribe((keyHash) => byKeyHash.delete(keyHash));
  // Keys found not to exist, so a flood of one bad key costs one look-up. Never
  // stale in practice: a key starts to exist only when this service draws it
  // (160 random bits), and nobody presents a key before it is drawn.
  const clock = options.now && { perf: { now: options.now }, ttlResolution: 0 };
  const unknownKeys = new LRUCache<string, true>({ max: KEYS_REMEMBERED, ttl: UNKNOWN_KEY_TTL_MS, ...clock });
  // Keys found valid within a day: looked up even when `beforeLookup` would
  // refuse, so a client whose address others have spent keeps its service.
  // Only a real key gets in, so a flood cannot use this way round.
  const recentlyValidKeys = new LRUCache<string, true>({ max: KEYS_REMEMBERED, ttl: RECENTLY_VALID_TTL_MS, ...clock });

  async function forget(keyHash: string): Promise<void> {
    byKeyHash.delete(keyHash);
    await options.revocations?.publish(keyHash);
  }

  return {
    async register(input: Record<string, unknown>): Promise<{ account: Account; key: string }> {
      const registration = checkRegistration(input);
      const { key, stored } = newApiKey();
      const account = await store.create({ ...registration, email_key: emailKey(registration.email) }, stored, Date.now());
      return { account, key };
    },

    /**
     * The account behind `key`. A key in either cache costs no look-up;
     * `beforeLookup` runs before the database is asked for a key not found
     * valid lately, and may refuse.
     */
    async authenticate(key: string, beforeLookup?: () => Promise<void>): Promise<Authenticated> {
      const keyHash = hashApiKey(key);
      const cached = byKeyHash.get(keyHash);
      if (cached) return cached;
      if (unknownKeys.has(keyHash)) throw new InvalidCredentialsError();
      if (!recentlyValidKeys.has(keyHash)) await beforeLookup?.();
      const found = await store.findByKeyHash(keyHash);
      if (!found) {
        unknownKeys.set(keyHash, true);
        recentlyValidKeys.delete(keyHash);
        throw new InvalidCredentialsError();
      }
      recentlyValidKeys.set(keyHash, true);
      const authenticated = { ...found, keyHash };
      if (options.cacheTtlMs > 0) byKeyHash.set(keyHash, authenticated);
      return authenticated;
    },

    async rotateKey(current: Authenticated): Promise<string> {
      const { key, stored } = newApiKey();
      await store.replaceKeys(current.account.id, stored, Date.now());
      await forget(current.keyHash);
      return key;
    },

    async revokeKey(current: Authenticated): Promise<void> {
      await store.replaceKeys(current.account.id, undefined, Date.now());
      await forget(current.keyHash);
    },
  };
}

export type AccountService = Awaited<ReturnType<typeof createAccountService>>;
