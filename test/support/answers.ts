import type { RawResponse } from './raw-http.js';

/**
 * What every answer of the service must look like, whoever wrote it (a route,
 * the error handler, Fastify, or Node's own HTTP parser): an error is JSON
 * with a `detail` string; nothing is a 5xx.
 */
export function errorAnswerProblem(response: RawResponse): string | undefined {
  const type = response.headers['content-type'] ?? '';
  if (!/^application\/(problem\+)?json\b/i.test(type)) {
    return `a ${response.status} answer is not JSON (content-type ${JSON.stringify(type || null)})`;
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body.toString('utf8'));
  } catch {
    return `a ${response.status} answer says JSON but its body does not parse`;
  }
  if (typeof (body as { detail?: unknown } | null)?.detail !== 'string') return `a ${response.status} answer has no string "detail"`;
  return undefined;
}

/** Problems of an answer whatever the request was: a 5xx, or an error not in the service's shape. */
export function generalAnswerProblem(response: RawResponse, isHead: boolean): string | undefined {
  if (response.status >= 500) return `answered ${response.status}`;
  if (response.status >= 300 && !isHead) return errorAnswerProblem(response);
  return undefined;
}

/** A UTF-16 string that is not well-formed Unicode: it holds a lone surrogate. */
export function hasLoneSurrogate(text: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

/** Format characters: zero-width spaces and joiners, bidi controls, soft hyphen, word joiner… invisible in print. */
export function hasFormatCharacter(text: string): boolean {
  return /\p{Cf}/u.test(text);
}

/** How the issue says emails compare: after NFKC and case folding (lower-casing here: a subset of full folding). */
export function emailIdentity(email: string): string {
  return email.trim().normalize('NFKC').toLowerCase().normalize('NFKC');
}

/** Code points, as a database's varchar counts characters. */
export function codePoints(text: string): number {
  return [...text].length;
}

/** Text for a failure message: escapes everything unprintable, cut at `max`. */
export function show(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
  return JSON.stringify(cut).replace(/[\u007f-\u00a0\u00ad\u2000-\u200f\u2028-\u202f\u2060-\u206f\ufeff\ufffd]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const BYTE_ESCAPES: Record<number, string> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/** Bytes for a failure message, exactly: printable ASCII as is, CR LF TAB " and backslash escaped as in JSON, every other byte as \xNN. */
export function escapeBytes(bytes: Buffer, max = 200): string {
  const escaped = [...bytes.subarray(0, max)].map((b) => BYTE_ESCAPES[b] ?? (b < 0x20 || b > 0x7e ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b))).join('');
  return `"${escaped}"${bytes.length > max ? `…(${bytes.length} bytes)` : ''}`;
}
