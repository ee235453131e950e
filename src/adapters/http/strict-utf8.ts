/**
 * Request bodies and query strings are text in UTF-8, decoded strictly.
 * Node's and the parsers' usual decoding turns bytes that are not UTF-8 (an encoded
 * surrogate, 0xFF, an overlong form) into U+FFFD before any check can see
 * them, so a client's broken text was stored as something it never sent.
 * Here each decoder refuses them instead (400, naming the field where it
 * can); a U+FFFD the client did send, encoded as EF BF BD, is text like any other.
 */

import type { MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../../domain/errors.js';

const NOT_UTF8 = 'must be UTF-8 text (it has bytes that are not valid UTF-8)';

/** Stands for bytes that are not UTF-8 where text must go on: an unpaired surrogate, which UTF-8 cannot produce. */
const INVALID_BYTE = '\udcff';

/** The text of `bytes`, or undefined if they are not UTF-8. A BOM is kept: it is the client's text. */
function strictUtf8(bytes: Uint8Array, cutShort = false): string | undefined {
  try {
    // A fresh decoder each time: in stream mode it holds back a sequence the cut left incomplete.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: cutShort });
  } catch {
    return undefined;
  }
}

/** Where the first byte sequence that is not UTF-8 starts (the ranges of RFC 3629 §4), or -1. */
function firstInvalidSequence(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0) return i;
    // The second byte's range excludes overlong forms, surrogates (ED A0–BF) and code points past U+10FFFF.
    const [low, high] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return -1;
}

/**
 * The top-level field of a JSON body that holds its first invalid bytes, or
 * `body` when they are outside any value (or the rest does not parse). The
 * bytes are marked as unpaired surrogates (markingInvalidBytes), which valid
 * UTF-8 cannot produce, and the parsed body is searched, in order, for one.
 */
function fieldWithInvalidBytes(bytes: Buffer): string {
  const marker = INVALID_BYTE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(markingInvalidBytes(bytes));
  } catch {
    return 'body';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'body';
  for (const [key, value] of Object.entries(parsed)) {
    if (key.includes(marker)) return 'body';
    // Iterative: a value may be nested thousands deep.
    const pending: unknown[] = [value];
    while (pending.length > 0) {
      const next = pending.pop();
      if (typeof next === 'string' && next.includes(marker)) return key;
      if (typeof next === 'object' && next !== null) {
        for (const [childKey, child] of Object.entries(next)) {
          if (childKey.includes(marker)) return key;
          pending.push(child);
        }
      }
    }
  }
  return 'body';
}

class UnsupportedCharsetError extends Error {
  readonly statusCode = 415;
  readonly code = 'UNSUPPORTED_CHARSET';
}

/**
 * JSON is UTF-8 (RFC 8259 §8.1). A body labelled otherwise (`charset=utf-16`)
 * was most likely encoded that way, and reading it as UTF-8 would misread it:
 * 415, saying what to send, rather than a misleading 400.
 */
function refuseOtherCharsets(request: FastifyRequest): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new UnsupportedCharsetError(`Unsupported charset "${charset}"; send the JSON body as UTF-8.`);
  }
}

/**
 * Replaces Fastify's JSON parser by one that decodes the bytes strictly and
 * then hands the text to Fastify's own parser: its answers for an empty or
 * malformed body (FST_ERR_CTP_*, worded in errors.ts) and secure-json-parse's
 * refusal of `__proto__` and `constructor.prototype` stay as they were.
 */
export function installStrictJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      refuseOtherCharsets(request);
    } catch (error) {
      return done(error as Error, undefined);
    }
    const bytes = body as Buffer;
    const text = strictUtf8(bytes);
    if (text === undefined) {
      const field = fieldWithInvalidBytes(bytes);
      return done(new ValidationError(field, field === 'body' ? 'must be UTF-8 JSON (it has bytes that are not valid UTF-8)' : NOT_UTF8), undefined);
    }
    parseJson(request, text, done);
  });
}

const isHexDigit = (byte: number | undefined) => byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));

/** `+` as a space and `%XX` as the byte it names; a `%` not followed by two hex digits is itself (WHATWG). */
function unescapeFormBytes(bytes: Buffer): Buffer {
  const out = Buffer.alloc(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x2b) out[length++] = 0x20;
    else if (byte === 0x25 && isHexDigit(bytes[i + 1]) && isHexDigit(bytes[i + 2])) {
      out[length++] = Number.parseInt(bytes.toString('latin1', i + 1, i + 3), 16);
      i += 2;
    } else out[length++] = byte;
  }
  return out.subarray(0, length);
}

/** Each `name=value` of an urlencoded text, as the bytes they stand for; empty pairs are skipped. */
function* urlencodedPairs(bytes: Buffer): Generator<[name: Buffer, value: Buffer]> {
  for (let start = 0; start <= bytes.length; ) {
    let end = bytes.indexOf(0x26, start);
    if (end === -1) end = bytes.length;
    const pair = bytes.subarray(start, end);
    start = end + 1;
    if (pair.length === 0) continue;
    const equals = pair.indexOf(0x3d);
    yield equals === -1 ? [unescapeFormBytes(pair), Buffer.alloc(0)] : [unescapeFormBytes(pair.subarray(0, equals)), unescapeFormBytes(pair.subarray(equals + 1))];
  }
}

/** A repeated name gives an array (as @fastify/formbody and Fastify's query parser did); the schema then refuses it. */
function addField(fields: Record<string, string | string[]>, name: string, value: string): void {
  const earlier = fields[name];
  if (earlier === undefined) fields[name] = value;
  else if (Array.isArray(earlier)) earlier.push(value);
  else fields[name] = [earlier, value];
}

/**
 * An application/x-www-form-urlencoded body, read as the WHATWG URL standard
 * reads it, except that bytes (raw or percent-escaped) that are not UTF-8
 * are refused, naming their field, instead of becoming U+FFFD.
 */
export async function parseUrlencodedForm(_request: FastifyRequest, body: Buffer): Promise<Record<string, string | string[]>> {
  const fields: Record<string, string | string[]> = Object.create(null);
  for (const [nameBytes, valueBytes] of urlencodedPairs(body)) {
    const name = strictUtf8(nameBytes);
    if (name === undefined) throw new ValidationError('body', 'must be a UTF-8 form (a field name has bytes that are not valid UTF-8)');
    const value = strictUtf8(valueBytes);
    if (value === undefined) throw new ValidationError(name, NOT_UTF8);
    addField(fields, name, value);
  }
  return fields;
}

/** The text of `bytes` with each byte that is not part of valid UTF-8 as an unpaired surrogate. */
function markingInvalidBytes(bytes: Buffer): string {
  let text = '';
  let rest = bytes;
  for (let at = firstInvalidSequence(rest); at !== -1; at = firstInvalidSequence(rest)) {
    text += `${rest.subarray(0, at).toString('utf8')}${INVALID_BYTE}`;
    rest = rest.subarray(at + 1);
  }
  return text + rest.toString('utf8');
}

/**
 * The query string, read like a form. The router calls this while it looks
 * the route up, where an error cannot become a 400 naming the parameter; so
 * bytes that are not UTF-8 become an unpaired surrogate (which valid UTF-8
 * cannot produce) and the validator refuses that as it refuses any other,
 * naming the parameter (validation.ts).
 */
export function parseQueryString(query: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = Object.create(null);
  if (query.length === 0) return fields;
  // Node hands the URL's bytes over one character each; inject() may pass text.
  const bytes = Buffer.from(query, /[^\x00-\xff]/.test(query) ? 'utf8' : 'latin1');
  for (const [name, value] of urlencodedPairs(bytes)) addField(fields, markingInvalidBytes(name), markingInvalidBytes(value));
  return fields;
}

/**
 * @fastify/multipart options that hand every part's bytes to us undecoded
 * (busboy would decode a field with replacement, or with whatever charset the
 * part names), so each value is decoded strictly as UTF-8. A value past
 * `maxBytes` is cut there, as busboy cuts a field, and left for the length
 * rules to refuse. A part sent as a file (with a filename) is refused.
 */
export function multipartTextFields(maxBytes: number, maxFields: number) {
  return {
    isPartAFile: () => true,
    throwFileSizeLimit: false,
    limits: { files: maxFields, fileSize: maxBytes },
    async onFile(this: FastifyRequest, part: MultipartFile): Promise<void> {
      const bytes = await part.toBuffer();
      if (part.filename !== undefined) throw new ValidationError(part.fieldname, 'must be a text field, not a file');
      const text = strictUtf8(bytes, part.file.truncated);
      if (text === undefined) throw new ValidationError(part.fieldname, NOT_UTF8);
      (part as MultipartFile & { value: string }).value = text;
    },
  };
}
