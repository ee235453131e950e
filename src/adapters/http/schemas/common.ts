import { Type } from 'typebox';
import { INTERVALS } from '../../../app/market-data/quotes.js';

/** What one bar spans, as history and the indicators take and say it. */
export const IntervalSchema = (description?: string) => Type.Enum([...INTERVALS], { ...(description !== undefined && { description }) });

/**
 * A calendar day, YYYY-MM-DD (`format: date`, RFC 3339's full-date), so generated clients and readers
 * know it for one. In a request it documents only: the use cases judge dates themselves, in their own
 * words and rules ("from: must be a date as YYYY-MM-DD", not after today), so Ajv does not (validation.ts).
 */
export const IsoDate = (description?: string) => Type.String({ format: 'date', ...(description !== undefined && { description }) });

/** Documents the header on the writes that take it; its rules are checked by domain/idempotency.ts, for their wording. */
export const IdempotencyHeaderSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        'Makes the write happen once: a retry with the same key and body within 24 h gets the first answer again (Idempotent-Replayed: true). 1 to 255 printable ASCII characters, bare or as a quoted sf-string; a UUID v4 is best.',
    }),
  ),
});
