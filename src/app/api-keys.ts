/**
 * The API key's format: what makes a key one this service could have issued,
 * known without asking the database.
 *
 * A key is 40 lowercase hex digits, the original service's token shape (its
 * clients may check it): 32 drawn from the OS's secure random source (128
 * bits) and an 8-digit tag, the first 32 bits of an HMAC-SHA256 of those 32
 * under a secret the service keeps in its database (one for every instance).
 *
 * Why a tag: a flood of made-up keys must not become a flood of database
 * look-ups, and the way that used to be prevented — no look-up for a new key
 * once its address had spent its anonymous allowance — refused valid keys
 * whose address others had spent (an office behind one NAT). With the tag, a
 * made-up key is refused before any look-up (it has a 1 in 2^32 chance of
 * carrying a right tag), and a key with a right tag is always looked up, so a
 * valid key is served whatever its address has spent. GitHub's tokens carry a
 * CRC32 for the same purpose; a public checksum can be computed by anyone who
 * floods, a tag under a secret cannot.
 *
 * Keys issued before tags (untagged, in the store since 2026-12-06's
 * migration) keep working: their hashes are held in memory (untaggedKeys),
 * so they too are looked up and a made-up key is not. They do not grow in
 * number, but for an instance of the code before tags still running beside
 * this one during a deploy: the accounts service reads those in now and then.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What the service keeps of a key: its hash and a short prefix to recognise it by. */
export interface StoredKey {
  keyHash: string;
  prefix: string;
}

const RANDOM_DIGITS = 32;
const TAG_BYTES = 4;
/** Hex digits of a key hash kept per untagged key: 64 bits, 8 bytes in memory, a false match once in 2^64. */
const UNTAGGED_HASH_DIGITS = 16;

/** SHA-256 suits random keys: there is no low-entropy secret to slow an attacker down on. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export type ApiKeyFormat = ReturnType<typeof apiKeyFormat>;

/** Keys tagged under `secret` (hex). */
export function apiKeyFormat(secret: string) {
  const hmacKey = Buffer.from(secret, 'hex');
  if (!/^([0-9a-f]{2})+$/i.test(secret) || hmacKey.length < 16) throw new Error('the API key secret must be hex, of at least 128 bits');
  const tagOf = (random: string): Buffer => createHmac('sha256', hmacKey).update(random).digest().subarray(0, TAG_BYTES);

  return {
    /** A new key, shown once to its owner; the service keeps only `stored`. */
    issue(): { key: string; stored: StoredKey } {
      const random = randomBytes(RANDOM_DIGITS / 2).toString('hex');
      const key = random + tagOf(random).toString('hex');
      return { key, stored: { keyHash: hashApiKey(key), prefix: key.slice(0, 8) } };
    },

    /** Whether `key` carries the tag only this service can give it. */
    hasRightTag(key: string): boolean {
      if (!/^[0-9a-f]{40}$/.test(key)) return false;
      // Compared in constant time: timing must not tell a flooder how much of a tag it has right.
      return timingSafeEqual(Buffer.from(key.slice(RANDOM_DIGITS), 'hex'), tagOf(key.slice(0, RANDOM_DIGITS)));
    },
  };
}

/**
 * The hashes (hex SHA-256) of the active keys issued before tags: the first
 * 64 bits of each, sorted in one typed array (8 bytes a key, where a Set of
 * strings would take about ten times that), and the few added later in a Set.
 */
export function untaggedKeys(hashes: Iterable<string>) {
  const sorted = BigUint64Array.from([...hashes], prefixOf).sort();
  const added = new Set<bigint>();
  const has = (prefix: bigint) => contains(sorted, prefix) || added.has(prefix);
  return {
    has: (keyHash: string): boolean => has(prefixOf(keyHash)),
    add(keyHashes: Iterable<string>): void {
      for (const prefix of [...keyHashes].map(prefixOf)) if (!has(prefix)) added.add(prefix);
    },
  };
}

const prefixOf = (keyHash: string): bigint => BigInt(`0x${keyHash.slice(0, UNTAGGED_HASH_DIGITS)}`);

function contains(sorted: BigUint64Array, value: bigint): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = sorted[middle]!;
    if (at === value) return true;
    if (at < value) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}
