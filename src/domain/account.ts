/** An account: what a registration must hold, and the e-mail address as the service compares it. */
import { ValidationError } from './errors.js';
import { characterCount } from './text.js';
import type { Rate } from './throttle.js';

export interface Registration {
  name: string;
  last_name: string;
  email: string;
}

export interface Account extends Registration {
  id: number;
  created_at: number; // epoch ms
  /** A rate an operator gave this account, in place of THROTTLE_USER (app/throttle.ts); absent: THROTTLE_USER. */
  allowance?: Rate;
}

export const NAME_MAX_LENGTH = 100;
export const EMAIL_MAX_LENGTH = 254;

// Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is not ours to judge.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
/**
 * Characters a reader cannot see, that make two different strings look alike
 * or reorder what is shown: controls (Cc), format characters (Cf: zero-width
 * space and joiners, bidi embeddings, overrides and isolates, soft hyphen,
 * BOM…), line and paragraph separators, and the rest of Unicode's
 * default-ignorable code points (Hangul fillers, variation selectors, tags).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

function requiredText(field: keyof Registration, raw: unknown, maxLength: number): string {
  if (raw === undefined || raw === null) throw new ValidationError(field, 'this field is required');
  if (typeof raw !== 'string') throw new ValidationError(field, 'must be a string');
  const value = raw.trim();
  if (value.length === 0) throw new ValidationError(field, 'may not be blank');
  if (INVISIBLE.test(value)) throw new ValidationError(field, 'may not contain invisible or control characters');
  if (characterCount(value) > maxLength) throw new ValidationError(field, `must be at most ${maxLength} characters`);
  return value;
}

/**
 * Trims and checks a registration; throws a ValidationError naming the field at
 * fault. Names are kept as given; the email in its NFKC form (fullwidth letters,
 * ligatures and the like become the plain characters they stand for; case is
 * kept). Lengths are checked on what is stored, the uniqueness key included.
 */
export function checkRegistration(input: Record<string, unknown>): Registration {
  const name = requiredText('name', input.name, NAME_MAX_LENGTH);
  const lastName = requiredText('last_name', input.last_name, NAME_MAX_LENGTH);
  const email = requiredText('email', input.email, EMAIL_MAX_LENGTH).normalize('NFKC');
  if (!EMAIL.test(email)) throw new ValidationError('email', 'Enter a valid email address.');
  if (characterCount(email) > EMAIL_MAX_LENGTH || characterCount(emailKey(email)) > EMAIL_MAX_LENGTH) {
    throw new ValidationError('email', `must be at most ${EMAIL_MAX_LENGTH} characters once normalised`);
  }
  return { name, last_name: lastName, email };
}

/**
 * Emails are unique whatever their case or compatibility form: the key is the
 * NFKC form, made caseless, normalised again. Caseless is lower, upper, lower:
 * JavaScript has no case folding, and lower case alone keeps ß apart from ss,
 * ẞ from SS and final ς from σ. The round trip puts together everything
 * Unicode's full case folding does (checked for every code point against it)
 * and slightly more — dotless ı joins i — which only makes look-alikes likelier
 * to be one account. The migration 2026-11-23T00-email-keys holds a frozen copy.
 */
export function emailKey(email: string): string {
  return email.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}
