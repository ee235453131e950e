import { describe, expect, it } from 'vitest';
import { checkRegistration, emailKey } from '../../src/domain/account.js';
import { ValidationError } from '../../src/domain/errors.js';

describe('emailKey', () => {
  it.each([
    ['jos\u00e9@example.com', 'jose\u0301@example.com'],
    ['dave@example.com', '\uff24\uff41VE\uff20example.com'],
    ['kate@example.com', '\u212Aate@example.com'],
    ['strasse@example.com', 'STRA\u1E9EE@example.com'],
    ['strasse@example.com', 'stra\u00dfe@example.com'],
    ['\u03c3\u03c3@example.com', '\u03c3\u03c2@example.com'],
    ['office@example.com', 'o\ufb03ce@example.com'],
    ['i\u0307@example.com', '\u0130@example.com'],
  ])('gives %s and %s one key', (a, b) => {
    expect(emailKey(a)).toBe(emailKey(b));
  });

  it('keeps different addresses apart, and a plain lower-case address is its own key', () => {
    expect(emailKey('a@example.com')).not.toBe(emailKey('b@example.com'));
    expect(emailKey('jos\u00e9@example.com')).not.toBe(emailKey('jose@example.com'));
    expect(emailKey('dave@example.com')).toBe('dave@example.com');
  });

  it('is idempotent, so a stored key never changes when normalised again', () => {
    for (const email of ['\u0130\u0130@EXAMPLE.com', 'STRA\u1E9EE@x.io', '\u1F88@x.io', '\u0390@x.io']) {
      expect(emailKey(emailKey(email))).toBe(emailKey(email));
    }
  });
});

describe('checkRegistration', () => {
  const dave = { name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com' };

  it('stores the email in NFKC form with its case, and names as given', () => {
    expect(checkRegistration({ ...dave, name: ' Jose\u0301 ', email: ' \uff24ave@Example.com ' })).toEqual({
      ...dave,
      name: 'Jose\u0301',
      email: 'Dave@Example.com',
    });
  });

  it('checks the email length on the key it will be stored under', () => {
    const email = `${'\u0130'.repeat(121)}@example.com`; // 133 characters; its key, 254
    expect(checkRegistration({ ...dave, email }).email).toBe(email);
    const longer = `${'\u0130'.repeat(122)}@example.com`;
    expect(() => checkRegistration({ ...dave, email: longer })).toThrow(ValidationError);
  });
});
