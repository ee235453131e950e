import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function newAjv(): Ajv {
  // removeAdditional off: an unexpected field is refused and named, never silently dropped.
  // verbose: errors carry their schema, so messages can state the allowed range.
  const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, verbose: true });
  addFormats(ajv);
  // `format: date` documents a day (schemas/common.ts IsoDate); the use cases check dates, with their own
  // wording and rules, so a bad one is answered as it always was.
  ajv.addFormat('date', true);
  return ajv;
}

const DECIMAL_INTEGER = /^-?\d{1,20}$/;
const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false };

/** The properties of an object schema declared of `type`. */
function propertiesOfType(schema: Record<string, unknown>, type: 'integer' | 'boolean'): string[] {
  const properties = (schema.properties ?? {}) as Record<string, { type?: unknown }>;
  return Object.keys(properties).filter((key) => properties[key]?.type === type);
}

/** Text that spells an integer field's value (plain decimal digits) or a boolean's (`true`, `false`) becomes it; anything else stays text, for the schema to refuse. */
function convertText(data: unknown, integers: string[], booleans: string[]): void {
  if (typeof data !== 'object' || data === null) return;
  const fields = data as Record<string, unknown>;
  for (const key of integers) {
    const value = fields[key];
    if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) fields[key] = Number(value);
  }
  for (const key of booleans) {
    const value = fields[key];
    if (typeof value === 'string' && Object.hasOwn(BOOLEAN_WORDS, value)) fields[key] = BOOLEAN_WORDS[value];
  }
}

/**
 * Text no database here can store as sent: PostgreSQL refuses NUL, and an
 * unpaired surrogate is not Unicode at all — UTF-8 cannot encode it, so
 * PostgreSQL kept U+FFFD and SQLite read back three. (With the `u` flag a
 * well-formed pair is one astral code point, so \p{Cs} matches only lone halves.)
 */
function whyUnstorable(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  // A query value's bytes that are not UTF-8 arrive as unpaired surrogates too (strict-utf8.ts).
  if (/\p{Cs}/u.test(text)) return 'must be well-formed Unicode text (it has an unpaired surrogate, or bytes that are not UTF-8)';
  return undefined;
}

/**
 * The first string anywhere in a request part that cannot be stored, as an
 * Ajv-style error naming its top-level field. Iterative: an undeclared
 * property may be nested thousands deep.
 */
function findUnstorableText(data: unknown): ErrorObject | undefined {
  const pending: { value: unknown; field: string }[] = [{ value: data, field: '' }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, field } = next;
    if (typeof value === 'string') {
      const problem = whyUnstorable(value);
      if (problem) return { keyword: 'storableText', instancePath: field, schemaPath: '#', params: {}, message: problem };
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value).reverse()) pending.push({ value: child, field: field || `/${key}` });
    }
  }
  return undefined;
}

/**
 * Every schema'd part of every route (body, query, path) goes through here.
 * JSON bodies are checked as sent ("30" is not an integer). Query strings and
 * path parameters arrive as text: integer fields are converted from plain
 * decimal digits only, boolean fields from exactly `true` or `false`. (Ajv's own coercion also turns "1e309" into Infinity,
 * which then passes `integer` and `maximum`, and "0x10" into 16.) Once the
 * schema is met, any string that cannot be stored is refused, naming its field:
 * one check for every field, present and future.
 */
export function installValidators(app: FastifyInstance): void {
  const ajv = newAjv();
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const validate = ajv.compile(schema as object);
    const text = httpPart === 'body' ? undefined : (schema as Record<string, unknown>);
    const integers = text ? propertiesOfType(text, 'integer') : [];
    const booleans = text ? propertiesOfType(text, 'boolean') : [];
    const check = (data: unknown) => {
      convertText(data, integers, booleans);
      if (!validate(data)) {
        check.errors = validate.errors;
        return false;
      }
      const unstorable = findUnstorableText(data);
      check.errors = unstorable ? [unstorable] : null;
      return unstorable === undefined;
    };
    check.errors = null as ErrorObject[] | null | undefined;
    return check;
  });
}

export interface FieldProblem {
  field: string;
  detail: string;
}

const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

function fieldName(error: ErrorObject | FastifySchemaValidationError, part: string): string {
  const params = error.params as Record<string, unknown>;
  if (typeof params.missingProperty === 'string') return params.missingProperty;
  if (typeof params.additionalProperty === 'string') return params.additionalProperty;
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  return path || PART_NAMES[part] || part;
}

function describeBounds(schema: Record<string, unknown>): string | undefined {
  const { type, minimum, maximum, minLength, maxLength } = schema;
  if (type === 'integer' && minimum !== undefined && maximum !== undefined) {
    return `must be an integer from ${minimum} to ${maximum}`;
  }
  if (type === 'integer' && minimum !== undefined) return `must be an integer of at least ${minimum}`;
  if (type === 'string' && minLength !== undefined && maxLength !== undefined) {
    return `must be a string of ${minLength} to ${maxLength} characters`;
  }
  return undefined;
}

function describeProblem(error: ErrorObject | FastifySchemaValidationError, field: string): string {
  const params = error.params as Record<string, unknown>;
  const schema = ((error as ErrorObject).parentSchema ?? {}) as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'this field is required';
    case 'additionalProperties':
      return field === 'id' ? 'must not be sent; the server assigns ids' : 'is not an accepted field';
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'type':
      if (schema === undefined || params.type === 'object') return 'must be a JSON object';
      if (params.type === 'boolean') return 'must be true or false';
      return describeBounds(schema) ?? `must be ${params.type === 'integer' ? 'an integer' : `a ${params.type}`}`;
    default:
      return describeBounds(schema) ?? error.message ?? 'is invalid';
  }
}

/** Turns Ajv's first error into `{ field, detail }` in the user's terms. */
export function describeValidationFailure(
  errors: (ErrorObject | FastifySchemaValidationError)[],
  part: string,
): FieldProblem {
  const first = errors[0];
  if (!first) return { field: part, detail: `${part}: is invalid` };
  const field = fieldName(first, part);
  return { field, detail: `${field}: ${describeProblem(first, field)}` };
}
