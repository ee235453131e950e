import { Type } from 'typebox';

/** Documents the header on the writes that take it; its rules are checked by domain/idempotency.ts, for their wording. */
export const IdempotencyHeaderSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        'Makes the write happen once: a retry with the same key and body within 24 h gets the first answer again (Idempotent-Replayed: true). 1 to 255 printable ASCII characters, bare or as a quoted sf-string; a UUID v4 is best.',
    }),
  ),
});
