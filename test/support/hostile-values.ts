import fc from 'fast-check';

/**
 * The input classes the fuzz suites draw from (issue 7): NUL, lone
 * surrogates, 32/53/64-bit integer boundaries, Unicode look-alikes and
 * invisible characters, and values that grow past their limit once normalised.
 */

/**
 * A fixed seed keeps `npm test` reproducible: CI never turns red on a draw it
 * has not seen before. `FUZZ_SEED=random` explores fresh inputs (a failure
 * prints its seed); `FUZZ_SEED=<n>` replays one.
 */
export function fuzzSeed(): number {
  const chosen = process.env.FUZZ_SEED;
  if (chosen === 'random') return Date.now() % 2 ** 31;
  if (chosen === undefined || chosen === '') return 20_261_122;
  const seed = Number(chosen);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random" (got ${JSON.stringify(chosen)})`);
  return seed;
}

/** Integers at the 32-, 53- and 64-bit edges, both signs, as decimal text. */
export const INTEGER_BOUNDARIES = [
  '0', '1', '2147483647', '2147483648', '4294967295', '4294967296', '9007199254740991', '9007199254740992', '9007199254740993',
  '9223372036854775807', '9223372036854775808', '18446744073709551615', '18446744073709551616', '99999999999999999999999',
  '-1', '-2147483648', '-2147483649', '-4294967296', '-9007199254740991', '-9007199254740992', '-9223372036854775808', '-9223372036854775809',
];

/** Numbers that are valid JSON but not plain integers, or plain integers written oddly. */
const ODD_JSON_NUMBERS = ['-0', '1.0', '1e3', '1E2', '0.5', '1e309', '-1e309', '5e-324', '100.00000000000001'];

/** Integer-ish text that is not a JSON number: for query strings and paths. */
const ODD_INTEGER_TEXT = ['', ' 1', '1 ', '+1', '0x10', '1e3', '1.0', '01', '١', '１', 'Infinity', 'NaN', '1_000', '9'.repeat(400)];

export const integerText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...INTEGER_BOUNDARIES) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_INTEGER_TEXT) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 12 }).map(String) },
);

/** Raw JSON number literals (written as text so 2^64 is not rounded on the way out). */
export const jsonIntegerLiteral = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...INTEGER_BOUNDARIES) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_JSON_NUMBERS) },
);

const NUL = ['\u0000', 'A\u0000B', '\u0000IBM', 'IBM\u0000'];
const LONE_SURROGATES = ['\ud800', '\ud800X', 'X\udfff', '\udc00\ud800', 'AB\udbff'];
const INVISIBLE = ['\u200b', 'da\u200bve', 'da\u202eve', '\u202eevad', 'Da\u200dve', 'Dave\u2060', '\u00adDave', 'Da\u180eve', '\u2066Dave\u2069'];
const LOOK_ALIKES = ['Ｄａｖｅ', '\u212Aate', 'Jose\u0301', 'José', 'ﬁle', 'İstanbul', 'ǅ', 'Ⅻ', '①', 'ｉｂｍ', 'ＩＢＭ', 'Dave\u3000'];
const CLASSIC = ['', ' ', '../../etc/passwd', '%00', '%2e%2e%2f', "'; DROP TABLE trades; --", '<script>', '\\', '%E0%A4%A', '%C0%AF', '{{7*7}}', '${jndi:ldap://x}', 'null', 'NaN', '-0', '1e309'];
/** The strings issue 7 names, each of which some field must refuse or store exactly. */
export const ISSUE_STRINGS = [...NUL, ...LONE_SURROGATES, ...INVISIBLE, ...LOOK_ALIKES, 'İ'.repeat(200), 'İ'.repeat(32), 'x'.repeat(33)];

const LONG = ['İ'.repeat(200), 'ß'.repeat(120), 'ﷺ'.repeat(40), 'x'.repeat(33), 'x'.repeat(32), '😀'.repeat(32), 'A'.repeat(101), 'IBM'.repeat(50)];

/** Strings as a client might put them in a JSON body: anything, lone surrogates included. */
export const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(...NUL, ...LONE_SURROGATES, ...INVISIBLE, ...LOOK_ALIKES, ...CLASSIC, ...LONG),
);

/**
 * Percent-encodes text for a URL, lone surrogates included: each is written
 * as the three bytes a UTF-8 encoder that did not check would write (`\ud800`
 * → `%ED%A0%80`), which is how such strings reach a server.
 */
export function percentEncode(text: string): string {
  let out = '';
  for (const unit of text) {
    out += unit.length === 1 && hasLone(unit) ? [...wtf8(unit)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('') : encodeURIComponent(unit);
  }
  return out;
}

function hasLone(unit: string): boolean {
  const c = unit.charCodeAt(0);
  return c >= 0xd800 && c <= 0xdfff;
}

/** UTF-8 bytes of `text`, lone surrogates encoded as themselves (WTF-8) instead of as U+FFFD. */
export function wtf8(text: string): Buffer {
  const bytes: number[] = [];
  for (const unit of text) {
    if (unit.length === 1 && hasLone(unit)) {
      const c = unit.charCodeAt(0);
      bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    } else {
      bytes.push(...Buffer.from(unit, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** Already-encoded URL pieces that no encoder would write: overlong NUL, raw surrogates, broken escapes. */
export const RAW_URL_PIECES = ['%00', 'A%00B', '%ED%A0%80', '%ED%A0%80X', '%ED%BF%BF', '%C0%80', '%EF%BF%BF', '%F4%90%80%80', '%FF', '%', '%zz', '%u0000', '%2F', '%5C', '%0A', '%0D%0A', '%E2%80%AE', '%E2%80%8B', '%EF%BC%A4ave'];

/** A path segment or query value: hostile text percent-encoded, or raw pieces. */
export const urlText = fc.oneof(
  { weight: 3, arbitrary: hostileText.map(percentEncode) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_URL_PIECES) },
  { weight: 2, arbitrary: integerText.map(percentEncode) },
);

/** Emails the suite registers and their look-alikes: each variant is the same account to a human. */
export const BASE_EMAILS = ['kate@example.com', 'dave@example.com', 'jose\u0301@example.com', 'fi@example.com'];

const fullwidth = (s: string) => s.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x61 + 0xff41));

const EMAIL_VARIANTS = [
  (e: string) => e,
  (e: string) => e.toUpperCase(),
  (e: string) => e.normalize('NFC'),
  (e: string) => e.normalize('NFD'),
  (e: string) => fullwidth(e.slice(0, 1)) + e.slice(1),
  (e: string) => e.replace('k', '\u212A'),
  (e: string) => e.replace('fi', 'ﬁ'),
  (e: string) => `${e.slice(0, 2)}\u200b${e.slice(2)}`,
  (e: string) => `${e.slice(0, 2)}\u202e${e.slice(2)}`,
  (e: string) => `\u2060${e}`,
  (e: string) => e.replace('example', 'ｅｘａｍｐｌｅ'),
  (e: string) => `  ${e}\t`,
];

/** Every look-alike of every base email, and emails that outgrow 254 characters once normalised. */
export const ISSUE_EMAILS = [
  ...BASE_EMAILS.flatMap((email) => EMAIL_VARIANTS.map((variant) => variant(email))),
  `${'İ'.repeat(200)}@example.com`,
  `${'Ⅻ'.repeat(100)}@example.com`, // 3 characters each after NFKC
  'a\u0000b@example.com',
  '\ud800@example.com',
];

export const emailVariant = fc.tuple(fc.constantFrom(...BASE_EMAILS), fc.constantFrom(...EMAIL_VARIANTS)).map(([email, variant]) => variant(email));

export const hostileEmail = fc.oneof(
  { weight: 3, arbitrary: emailVariant },
  { weight: 2, arbitrary: fc.emailAddress() },
  { weight: 1, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.constantFrom(`${'İ'.repeat(200)}@example.com`, `${'ß'.repeat(120)}@example.com`, `${'a'.repeat(64)}@${'b'.repeat(180)}.com`, 'a\u0000b@example.com', '\ud800@example.com', 'x@example.com\r\nBcc: y@example.com') },
);
