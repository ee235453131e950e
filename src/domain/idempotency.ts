/**
 * Idempotent writes (the `Idempotency-Key` header of Stripe and of
 * draft-ietf-httpapi-idempotency-key-header): what a key may be, what makes
 * two requests "the same", and the errors a repeated key meets.
 */
import { DomainError, ValidationError } from './errors.js';

/** Stripe's limit; the draft leaves the length to the server. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const HEADER = 'Idempotency-Key';
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
/** An RFC 8941 sf-string, the draft's syntax: printable ASCII in quotes, `"` and `\` escaped by `\`. */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/**
 * The key of a request from every value of its `Idempotency-Key` header, or
 * undefined when it has none. The draft's quoted form (`"abc"`) and Stripe's
 * bare form (`abc`) name the same key.
 */
export function checkIdempotencyKey(values: readonly string[]): string | undefined {
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new ValidationError(HEADER, 'must be sent once');
  const raw = values[0]!;
  const quoted = SF_STRING.exec(raw);
  const key = quoted ? quoted[1]!.replace(/\\(["\\])/g, '$1') : raw;
  if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !PRINTABLE_ASCII.test(key)) {
    throw new ValidationError(HEADER, `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`);
  }
  return key;
}

/**
 * The body as one text whatever its key order or spacing: objects' keys
 * sorted, recursively. Two bodies that parse alike are the same request.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Another request with this key has not finished yet: the client may retry it as it is. */
export class IdempotencyInFlightError extends DomainError {
  constructor() {
    super('idempotency_in_flight', 'A request with this Idempotency-Key is still being processed; retry it once that one has been answered.');
  }
}

/** The key was used with another body: the client must send a new key for a new request. */
export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body; send a new key for a new request.');
  }
}

/** The first answer was a secret shown once (an API key), so it is not kept and cannot be replayed. */
export class IdempotencyAnswerNotKeptError extends DomainError {
  constructor(what: string) {
    super('idempotency_answer_not_kept', what);
  }
}
