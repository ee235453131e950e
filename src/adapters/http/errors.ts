import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseUnavailableError, DomainError, type ErrorCode, FairShareExceededError, ThrottledError, UpstreamRateLimitedError } from '../../domain/errors.js';
import { describeValidationFailure } from './validation.js';

/** Every error body is JSON with a `detail` string, as Django REST Framework clients expect. */
export interface ErrorBody {
  detail: string;
  field?: string;
}

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  validation: 400,
  conflict: 400, // DRF answers a duplicate unique field with 400, and the original clients expect it
  // As draft-ietf-httpapi-idempotency-key-header says: 409 while the first is in flight, 422 for another body.
  idempotency_in_flight: 409,
  idempotency_key_reused: 422,
  idempotency_answer_not_kept: 409,
  not_authenticated: 401,
  forbidden: 403,
  ledger_claimed: 409,
  invalid_credentials: 401,
  not_found: 404,
  throttled: 429,
  upstream_unavailable: 502,
  upstream_rate_limited: 503,
  upstream_fair_share: 429, // the client's own limit, as a throttle is
  still_fetching: 504, // the service, as a gateway to the vendors, had no answer in time
  rate_limit_store_unavailable: 503,
  database_unavailable: 503,
};

/** Status and headers of a domain error: the one place errors become HTTP. */
export function httpStatusOf(error: DomainError): { status: number; headers: Record<string, string> } {
  const status = STATUS_BY_CODE[error.code];
  if (status === 401) return { status, headers: { 'www-authenticate': 'Token' } };
  if (
    error instanceof UpstreamRateLimitedError ||
    error instanceof ThrottledError ||
    error instanceof FairShareExceededError ||
    error instanceof DatabaseUnavailableError
  ) {
    return { status, headers: { 'retry-after': String(error.retryAfterSeconds) } };
  }
  return { status, headers: {} };
}

/** The JSON body of an error: `detail`, and `field` where one input is at fault. */
export function errorBody(error: DomainError): ErrorBody {
  const field = (error as { field?: unknown }).field;
  return typeof field === 'string' ? { detail: error.message, field } : { detail: error.message };
}

/** Clearer words for the client errors Fastify raises itself, by Fastify error code. */
const FRAMEWORK_DETAILS: Record<string, (error: FastifyError) => string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => 'Unsupported media type; send the body as application/json.',
  FST_ERR_CTP_BODY_TOO_LARGE: () => 'Request body is too large.',
  FST_ERR_CTP_EMPTY_JSON_BODY: () => 'body: must be a JSON object, not empty.',
  FST_ERR_CTP_INVALID_JSON_BODY: (e) => `Malformed JSON body: ${e.message}`,
};

/**
 * busboy (under @fastify/multipart) throws plain errors, with no status, for
 * a malformed form: no or an over-long boundary, data cut short. Raised before
 * the body was parsed, for a multipart request, they are the client's fault.
 */
function isMultipartParseFailure(error: FastifyError, request: FastifyRequest): boolean {
  return (
    error.statusCode === undefined &&
    request.body === undefined &&
    /^multipart\//i.test(request.headers['content-type'] ?? '')
  );
}

/** Any URL no route serves. */
export function answerNotFound(_request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send({ detail: 'Not found.' } satisfies ErrorBody);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler(answerNotFound);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const problem = describeValidationFailure(error.validation, error.validationContext ?? 'request');
      return reply.code(400).send(problem satisfies ErrorBody);
    }
    if (error instanceof DomainError) {
      // Said once per request: an operator sees which requests an outage cost, and why.
      if (error instanceof DatabaseUnavailableError) request.log.warn({ err: error.cause }, 'database unavailable');
      const { status, headers } = httpStatusOf(error);
      return reply.code(status).headers(headers).send(errorBody(error));
    }
    if (isMultipartParseFailure(error, request)) {
      return reply.code(400).send({ detail: `Malformed multipart/form-data body: ${error.message}` } satisfies ErrorBody);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const describe = FRAMEWORK_DETAILS[error.code];
      const detail = describe ? describe(error) : error.message;
      return reply.code(status).send({ detail } satisfies ErrorBody);
    }
    // Anything else is our bug: log the stack, tell the client nothing internal.
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ detail: 'Internal server error.' } satisfies ErrorBody);
  });
}
