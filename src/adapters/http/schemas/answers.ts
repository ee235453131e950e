/**
 * Error answers as the route schemas declare them, for the OpenAPI document:
 * the `{detail, field?}` body, what each status means on that route, named
 * examples of the real wording, and the headers a client needs (Retry-After,
 * WWW-Authenticate). Fastify serializes with the same schema, so a route's
 * documented body is the body it sends.
 */
import { Type } from 'typebox';
import {
  FairShareExceededError,
  StillFetchingError,
  InvalidCredentialsError,
  NotAuthenticatedError,
  RateLimitStoreUnavailableError,
  ThrottledError,
} from '../../../domain/errors.js';
import { IdempotencyInFlightError, IdempotencyKeyReusedError, MAX_IDEMPOTENCY_KEY_LENGTH } from '../../../domain/idempotency.js';
import type { ErrorBody } from '../errors.js';
import { CLIENT_ERRORS } from '../protocol-errors.js';

type Headers = Record<string, { type: string; description: string }>;

/** An error answer's schema: a plain object schema Fastify serializes with, plus what @fastify/swagger documents. */
export interface ErrorAnswer {
  /** The response's description (`description` would describe the body schema as well). */
  'x-response-description': string;
  'x-examples': Record<string, { value: ErrorBody }>;
  headers?: Headers;
  [keyword: string]: unknown;
}

const RETRY_AFTER: Headers = { 'retry-after': { type: 'integer', description: 'Seconds to wait before asking again' } };
const WWW_AUTHENTICATE: Headers = { 'www-authenticate': { type: 'string', description: 'Token' } };

/** Each example is named after its field, or its first words: names are what Swagger UI lists. */
function named(examples: ErrorBody[]): ErrorAnswer['x-examples'] {
  return Object.fromEntries(examples.map((value) => [value.field ?? value.detail.split(/[.:;]/, 1)[0]!, { value }]));
}

export function errorAnswer(description: string, examples: ErrorBody[], headers?: Headers): ErrorAnswer {
  const schema = Type.Object({
    detail: Type.String({ description: 'What is wrong, in words' }),
    field: Type.Optional(Type.String({ description: 'The input field at fault, for validation errors' })),
  });
  return { ...schema, 'x-response-description': description, 'x-examples': named(examples), ...(headers && { headers }) };
}

/**
 * Two answers of one status on one route (a throttle's 429 and the fair share's 429): one
 * description, every example, every header. The route's own answer comes first.
 */
export function mergeAnswers(own: ErrorAnswer, added: ErrorAnswer): ErrorAnswer {
  return {
    ...own,
    'x-response-description': `${own['x-response-description']}; or ${added['x-response-description']}`,
    'x-examples': { ...own['x-examples'], ...added['x-examples'] },
    ...((own.headers || added.headers) && { headers: { ...own.headers, ...added.headers } }),
  };
}

export const isErrorAnswer = (schema: unknown): schema is ErrorAnswer =>
  typeof schema === 'object' && schema !== null && 'x-examples' in schema;

/** 400: the input breaks a rule; `field` names it. */
export const invalid = (...examples: ErrorBody[]) => errorAnswer('Invalid input; `field` names it', examples);

export const notFound = (detail: string) => errorAnswer('Not found', [{ detail }]);

/** A wrong key on any gated route, before anything else. */
export const invalidKey = errorAnswer(
  'The key is unknown, rotated or revoked, or the Authorization header is malformed',
  [{ detail: new InvalidCredentialsError().message }, { detail: new InvalidCredentialsError('Invalid token header. No credentials provided.').message }],
  WWW_AUTHENTICATE,
);

export const noKey = errorAnswer('No key sent', [{ detail: new NotAuthenticatedError().message }], WWW_AUTHENTICATE);

export const throttled = (when: string) => errorAnswer(`Throttled (${when})`, [{ detail: new ThrottledError(3600).message }], RETRY_AFTER);

export const rateUncheckable = errorAnswer(
  'The shared rate-limit store cannot be reached and RATE_LIMIT_ON_STORE_FAILURE is deny',
  [{ detail: new RateLimitStoreUnavailableError().message }],
);

export const fairShareUsed = errorAnswer(
  "The client's share of today's upstream lookups for symbols not yet stored is used up",
  [{ detail: new FairShareExceededError(3600).message }],
  RETRY_AFTER,
);

// The providers' adapter words these (app/market-data/failover.ts); an adapter may not import another.
export const upstreamUnavailable = errorAnswer('Every market-data provider failed, and nothing is stored to serve instead', [
  { detail: 'Market data providers are unavailable; try again later.' },
]);

export const upstreamRateLimited = errorAnswer(
  "Every market-data provider is rate limited or its quota is spent, and nothing is stored to serve instead",
  [
    { detail: 'Market data providers are rate limited; try again later.' },
    { detail: "Market data providers' quota is spent until it resets; stored quotes are still served. Try again later." },
  ],
  RETRY_AFTER,
);

export const tooLarge = errorAnswer('The body is larger than BODY_LIMIT_BYTES', [{ detail: 'Request body is too large.' }]);

export const unsupportedMediaType = (detail: string) => errorAnswer('The body is not in a type this route reads', [{ detail }]);

// Its detail names the symbol (domain/errors.ts StillFetchingError).
export const notReadyInTime = errorAnswer(
  'The request\'s time budget (REQUEST_BUDGET_MS) ran out before upstream answered; a call already made is stored, so asking again finds it',
  [{ detail: new StillFetchingError('IBM').message }],
);

/** What every market-data route may answer besides its data: its own errors. */
export const upstreamAnswers = { 429: fairShareUsed, 502: upstreamUnavailable, 503: upstreamRateLimited, 504: notReadyInTime };

/** A malformed Idempotency-Key header, on the writes that take one. */
export const idempotencyKeyInvalid: ErrorBody = {
  detail: `Idempotency-Key: must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`,
  field: 'Idempotency-Key',
};

/** What a write sent with an Idempotency-Key may answer instead of doing it. */
export const idempotencyConflicts = {
  409: errorAnswer('A request with this Idempotency-Key is still being answered', [{ detail: new IdempotencyInFlightError().message }]),
  422: errorAnswer('This Idempotency-Key was used with another body', [{ detail: new IdempotencyKeyReusedError().message }]),
};

/**
 * What the HTTP server answers itself, before any route, to a request on any path (protocol-errors.ts):
 * documented on every operation, so a generated client knows these bodies too.
 */
export const serverRefusals = {
  408: errorAnswer('The request did not arrive in time (its headers within HEADERS_TIMEOUT_MS, 10 s by default; all of it within REQUEST_TIMEOUT_MS, 30 s)', [{ detail: CLIENT_ERRORS[408] }]),
  431: errorAnswer("The request's headers are larger than the server reads (16 KiB, Node's limit)", [{ detail: CLIENT_ERRORS[431] }]),
};
