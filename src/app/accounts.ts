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
  /**
   * Revokes the key if it is still active and, when given, gives its account
   * `replacement` — atomically. False when the key was not active: another
   * rotation or revocation came first. (The database keeps one active key per account.)
   */
  replaceKey(keyHash: string, replacement: StoredKey | undefined, now: number): Promise<boolean>;
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

/**
 * Accounts and keys, with a bounded cache in front of key look-ups so that a
 * known key costs no database round trip. Rotation and revocation evict the
 * old key from this instance's cache at once, and from the others' through
 * `revocations` when they share one (else when the entry expires).
 */
export async function createAccountService(
  store: AccountStore,
  options: { cacheSize: number; cacheTtlMs: number; revocations?: KeyRevocations },
) {
  const byKeyHash = new LRUCache<string, Authenticated>({ max: options.cacheSize, ttl: Math.max(1, options.cacheTtlMs) });
  await options.revocations?.subscribe((keyHash) => byKeyHash.delete(keyHash));

  /** Retires the presented key, if it is still active; a key already retired is as invalid as any other. */
  async function retire(current: Authenticated, replacement: StoredKey | undefined): Promise<void> {
    const retired = await store.replaceKey(current.keyHash, replacement, Date.now());
    // Even when another request retired it first: this instance's cache may still hold it.
    byKeyHash.delete(current.keyHash);
    if (!retired) throw new InvalidCredentialsError();
    await options.revocations?.publish(current.keyHash);
  }

  return {
    async register(input: Record<string, unknown>): Promise<{ account: Account; key: string }> {
      const registration = checkRegistration(input);
      const { key, stored } = newApiKey();
      const account = await store.create({ ...registration, email_key: emailKey(registration.email) }, stored, Date.now());
      return { account, key };
    },

    async authenticate(key: string): Promise<Authenticated> {
      const keyHash = hashApiKey(key);
      const cached = byKeyHash.get(keyHash);
      if (cached) return cached;
      const found = await store.findByKeyHash(keyHash);
      if (!found) throw new InvalidCredentialsError();
      const authenticated = { ...found, keyHash };
      if (options.cacheTtlMs > 0) byKeyHash.set(keyHash, authenticated);
      return authenticated;
    },

    async rotateKey(current: Authenticated): Promise<string> {
      const { key, stored } = newApiKey();
      await retire(current, stored);
      return key;
    },

    async revokeKey(current: Authenticated): Promise<void> {
      await retire(current, undefined);
    },
  };
}

export type AccountService = Awaited<ReturnType<typeof createAccountService>>;
