/**
 * Errors the domain and use cases raise. Each has a stable `code`; the HTTP
 * adapter maps codes to status codes in one place (adapters/http/errors.ts).
 */

import { throttledDetail } from './throttle.js';

export type ErrorCode =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'idempotency_in_flight'
  | 'idempotency_key_reused'
  | 'idempotency_answer_not_kept'
  | 'not_authenticated'
  | 'forbidden'
  | 'ledger_claimed'
  | 'invalid_credentials'
  | 'upstream_rate_limited'
  | 'upstream_unavailable'
  | 'upstream_fair_share'
  | 'still_fetching'
  | 'throttled'
  | 'rate_limit_store_unavailable'
  | 'database_unavailable';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that breaks a business rule; `field` names the offending input. */
export class ValidationError extends DomainError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super('validation', `${field}: ${problem}`);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** No provider and no stored history knows the symbol. */
export function symbolNotFound(symbol: string): NotFoundError {
  return new NotFoundError(`Symbol "${symbol}" was not found.`);
}

/** The input clashes with stored state (an email already registered). */
export class ConflictError extends DomainError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super('conflict', `${field}: ${problem}`);
  }
}

export class NotAuthenticatedError extends DomainError {
  constructor() {
    super('not_authenticated', 'Authentication credentials were not provided.');
  }
}

/** The caller is known (or anonymous) but may not do this: a claimed ledger's trades are its owner's. */
export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** The ledger is claimed by another account: first come, first served. */
export class LedgerClaimedError extends DomainError {
  constructor() {
    super('ledger_claimed', 'user_id: this ledger is claimed by another account.');
  }
}

export class InvalidCredentialsError extends DomainError {
  constructor(message = 'Invalid token.') {
    super('invalid_credentials', message);
  }
}

/** Every market-data provider refused for now; retry after `retryAfterSeconds`. */
export class UpstreamRateLimitedError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('upstream_rate_limited', message);
  }
}

/**
 * The client used its fair share of the providers' calls for symbols the
 * store does not hold; it may look new symbols up again after `retryAfterSeconds`.
 */
export class FairShareExceededError extends DomainError {
  /** `window`: the share of the day's calls (the usual), or of the minute's (a provider with a per-minute limit). */
  constructor(
    readonly retryAfterSeconds: number,
    window: 'day' | 'minute' = 'day',
  ) {
    super(
      'upstream_fair_share',
      `Your share of ${window === 'day' ? "today's" : "this minute's"} upstream lookups for symbols not yet stored is used up; stored symbols are still served. Expected available in ${retryAfterSeconds} seconds.`,
    );
  }
}

/** Every market-data provider failed (down, misconfigured, or answering nonsense). */
export class UpstreamUnavailableError extends DomainError {
  constructor(message: string) {
    super('upstream_unavailable', message);
  }
}

/**
 * The request's time budget ran out before the symbol's market data was had (a slow vendor, or calls
 * queued behind others): a call already at the vendor finishes and is stored, so asking again finds it.
 */
export class StillFetchingError extends DomainError {
  constructor(readonly symbol: string) {
    super('still_fetching', `${symbol}: market data not ready when this answer was due; ask again shortly.`);
  }
}

/** The client used up its request rate; it may try again after `retryAfterSeconds`. */
export class ThrottledError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    /** What the whole request costs, in requests: said in the detail when more than one. */
    readonly cost = 1,
  ) {
    super('throttled', throttledDetail(retryAfterSeconds, cost));
  }
}

/** A client has as many expensive requests running and waiting as it may (app/work-shares.ts): try again shortly. */
export class WorkShareRefusedError extends ThrottledError {
  constructor(retryAfterSeconds: number) {
    super(retryAfterSeconds);
    this.message = `Too many expensive requests at once from this client; they run a few at a time. Expected available in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`;
  }
}

/** The shared rate-limit store is unreachable and the service is set to refuse rather than count blindly. */
export class RateLimitStoreUnavailableError extends DomainError {
  constructor() {
    super('rate_limit_store_unavailable', 'Request rate cannot be checked right now; try again shortly.');
  }
}

/**
 * The database cannot be reached or did not answer in time (restarting, say).
 * Nothing was acknowledged: a write that met it may be tried again.
 */
export class DatabaseUnavailableError extends DomainError {
  /** A restart takes seconds; asking sooner than this would only meet it again. */
  readonly retryAfterSeconds = 5;

  constructor(options?: ErrorOptions) {
    super('database_unavailable', 'The database is unavailable; try again shortly.', options);
  }
}
