/**
 * Idempotent writes: a request carrying an `Idempotency-Key` is written
 * once; a retry with the same key and body gets the first answer again, from
 * the record kept in the same transaction as the write (so neither exists
 * without the other), visible to every instance through the database.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, IdempotencyInFlightError, IdempotencyKeyReusedError } from '../domain/idempotency.js';

/** Which write a key belongs to: keys are scoped by route, so one key on two routes is two keys. */
export interface IdempotentRequest {
  route: string;
  key: string;
  /** SHA-256 of the canonical body: a repeat with another body is refused, not replayed. */
  fingerprint: string;
}

/** The answer kept for a key: what a replay sends. */
export interface KeptAnswer {
  status: number;
  body: string;
}

/** Port: the idempotency records, written within the caller's transaction. */
export interface IdempotencyRecords {
  /** Deletes at most `limit` expired records: each write pays a little, none pays for all. */
  pruneExpired(now: number, limit: number): Promise<void>;
  /**
   * Takes the key for this request (replacing an expired record of it); false
   * when another request holds it. A holder still writing is waited for (the
   * database's lock on the key), so false means its record is committed.
   */
  claim(request: IdempotentRequest, now: number, expiresAt: number): Promise<boolean>;
  /** Stores the answer of the key this transaction claimed. */
  keep(request: IdempotentRequest, answer: KeptAnswer): Promise<void>;
  /** The unexpired record of the key, with the fingerprint it was first used with. */
  find(request: IdempotentRequest, now: number): Promise<(KeptAnswer & { fingerprint: string }) | undefined>;
}

/** Port: runs `work` in one transaction, with `stores` and the records writing within it. */
export type IdempotentTransaction<S> = <T>(work: (stores: S, records: IdempotencyRecords) => Promise<T>) => Promise<T>;

export interface IdempotencyOptions {
  ttlMs: number;
  now: () => Date;
  /** The records, outside any write: for pruning. */
  records: IdempotencyRecords;
  /** A prune that failed (two instances deleting the same expired rows may deadlock): the next write prunes instead. */
  onPruneError: (error: unknown) => void;
}

export type WriteOnceResult<A> = { replayed: false; answer: A } | { replayed: true; kept: KeptAnswer };

/** Expired records deleted per write, at most. */
const PRUNE_BATCH = 100;

export function fingerprintOf(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

export function createIdempotency(options: IdempotencyOptions) {
  // Keys this instance is writing now: a duplicate here is told 409 at once,
  // without queueing on the database for the first one's lock.
  const inFlight = new Set<string>();

  /** What the record of a key says to a repeat of it. */
  function answerFrom(request: IdempotentRequest, found: (KeptAnswer & { fingerprint: string }) | undefined): WriteOnceResult<never> {
    // Not found: the holder's record expired between our claim and our look (a TTL of seconds); its write is done, ours was not.
    if (!found) throw new IdempotencyInFlightError();
    if (found.fingerprint !== request.fingerprint) throw new IdempotencyKeyReusedError();
    return { replayed: true, kept: { status: found.status, body: found.body } };
  }

  return {
    /**
     * Writes once per key: `write` runs in the transaction that claims the key
     * and keeps `keep(answer)`; a repeat within the TTL gets the kept answer.
     * A write that fails keeps nothing (its transaction rolls back), so a retry runs it again.
     */
    async writeOnce<S, A>(
      transaction: IdempotentTransaction<S>,
      request: IdempotentRequest,
      write: (stores: S) => Promise<A>,
      keep: (answer: A) => KeptAnswer,
    ): Promise<WriteOnceResult<A>> {
      const id = `${request.route}\n${request.key}`;
      if (inFlight.has(id)) throw new IdempotencyInFlightError();
      inFlight.add(id);
      try {
        const now = options.now().getTime();
        // Housekeeping, in its own statement: a failure must not fail the write.
        await options.records.pruneExpired(now, PRUNE_BATCH).catch(options.onPruneError);
        return await transaction(async (stores, records): Promise<WriteOnceResult<A>> => {
          if (!(await records.claim(request, now, now + options.ttlMs))) return answerFrom(request, await records.find(request, now));
          const answer = await write(stores);
          await records.keep(request, keep(answer));
          return { replayed: false, answer };
        });
      } finally {
        inFlight.delete(id);
      }
    },
  };
}

export type Idempotency = ReturnType<typeof createIdempotency>;
