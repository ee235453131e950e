import { ValidationError } from './errors.js';

export interface Registration {
  name: string;
  last_name: string;
  email: string;
}

export interface Account extends Registration {
  id: number;
  created_at: number; // epoch ms
}

export const NAME_MAX_LENGTH = 100;
export const EMAIL_MAX_LENGTH = 254;

// Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is not ours to judge.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function requiredText(field: keyof Registration, raw: unknown, maxLength: number): string {
  if (raw === undefined || raw === null) throw new ValidationError(field, 'this field is required');
  if (typeof raw !== 'string') throw new ValidationError(field, 'must be a string');
  const value = raw.trim();
  if (value.length === 0) throw new ValidationError(field, 'may not be blank');
  if (value.length > maxLength) throw new ValidationError(field, `must be at most ${maxLength} characters`);
  if (CONTROL_CHARACTERS.test(value)) throw new ValidationError(field, 'may not contain control characters');
  return value;
}

/** Trims and checks a registration; throws a ValidationError naming the field at fault. */
export function checkRegistration(input: Record<string, unknown>): Registration {
  const name = requiredText('name', input.name, NAME_MAX_LENGTH);
  const lastName = requiredText('last_name', input.last_name, NAME_MAX_LENGTH);
  const email = requiredText('email', input.email, EMAIL_MAX_LENGTH);
  if (!EMAIL.test(email)) throw new ValidationError('email', 'Enter a valid email address.');
  return { name, last_name: lastName, email };
}

/** Emails are unique regardless of case. */
export function emailKey(email: string): string {
  return email.toLowerCase();
}
