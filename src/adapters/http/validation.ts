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
  return ajv;
}

const DECIMAL_INTEGER = /^-?\d{1,20}$/;

function integerProperties(schema: Record<string, unknown>): string[] {
  const properties = (schema.properties ?? {}) as Record<string, { type?: unknown }>;
  return Object.keys(properties).filter((key) => properties[key]?.type === 'integer');
}

/**
 * JSON bodies are checked as sent ("30" is not an integer). Query strings and
 * path parameters arrive as text: integer fields are converted from plain
 * decimal digits only. (Ajv's own coercion also turns "1e309" into Infinity,
 * which then passes `integer` and `maximum`, and "0x10" into 16.)
 */
export function installValidators(app: FastifyInstance): void {
  const ajv = newAjv();
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const validate = ajv.compile(schema as object);
    if (httpPart === 'body') return validate;
    const integers = integerProperties(schema as Record<string, unknown>);
    const validateText = (data: Record<string, unknown>) => {
      for (const key of integers) {
        const value = data[key];
        if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) data[key] = Number(value);
      }
      const valid = validate(data);
      validateText.errors = validate.errors;
      return valid;
    };
    validateText.errors = null as typeof validate.errors;
    return validateText;
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
