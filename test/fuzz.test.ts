import { appendFileSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { codePoints, emailIdentity, generalAnswerProblem, hasFormatCharacter, hasLoneSurrogate, show } from './support/answers.js';
import { register } from './support/api.js';
import { testEngines } from './support/engines.js';
import {
  fuzzSeed, hostileEmail, hostileText, INTEGER_BOUNDARIES, integerText, ISSUE_EMAILS, ISSUE_STRINGS, jsonIntegerLiteral, percentEncode, RAW_URL_PIECES, urlText, wtf8,
} from './support/hostile-values.js';
import { describeExchange, exchange, type RawResponse } from './support/raw-http.js';
import { startService } from './support/service.js';

/**
 * Generated hostile requests against every route, sent as HTTP/1.1 over a
 * real socket to the service listening on 127.0.0.1: random methods, paths,
 * headers, encodings and bodies, with the issue's input classes (NUL, lone
 * surrogates, 32/53/64-bit integers, Unicode look-alikes and invisible
 * characters, values that outgrow their limit once normalised).
 *
 * Every answer is judged (no 5xx, errors are JSON with `detail`, documented
 * non-JSON answers only where documented), every accepted write is checked
 * against what was sent, and at the end the database, apicalls.log and
 * /health are checked against what the answers said. All violations of a run
 * are collected and reported together, each with the seed and request.
 * (Parser-level bytes are in fuzz-protocol.test.ts; slow clients in fuzz-slow-clients.test.ts.)
 */
const RUNS = { sqlite: 2000, postgres: 1000 } as const;
/** Generous against a loaded CI machine; a hang is forever. */
const DEADLINE_MS = 10_000;

type Route = 'trades' | 'trade' | 'api-root' | 'register' | 'symbol' | 'symbols' | 'history' | 'me' | 'rotate' | 'revoke' | 'health' | 'openapi' | 'unknown';
type Auth = 'none' | 'token' | 'bearer' | 'x-api-key' | 'token-lowercase' | 'token-junk' | 'bearer-empty' | 'token-spaces' | 'x-api-key-long' | 'basic' | 'token-lookalike' | 'token-nul';

interface Registration {
  name?: string;
  last_name?: string;
  email?: string;
}

/** A request as generated: what it means (route, logical values) and how it travels. */
interface FuzzRequest {
  route: Route;
  method: string;
  target: string;
  auth: Auth;
  headers: [string, string][];
  body?: Buffer;
  chunked: boolean;
  /** The registration fields as the client meant them (before any encoding). */
  registration?: Registration;
}

const methods = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST') },
  { weight: 3, arbitrary: fc.constantFrom('PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
);
const slash = fc.constantFrom('/', '');

/** Query junk sometimes appended to any URL. */
const extraQuery = fc.option(fc.tuple(urlText, urlText).map(([k, v]) => `${k}=${v}`), { nil: undefined, freq: 4 });
const withQuery = (path: string, query: string | undefined, first = true) => (query === undefined ? path : `${path}${first ? '?' : '&'}${query}`);

const tradeId = fc.oneof(integerText.map(percentEncode), urlText, fc.integer({ min: 1, max: 8 }).map(String));
const symbolText = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('IBM', 'ibm', 'AAPL', 'BRK.B', 'MSFT', 'A', 'X'.repeat(15), 'X'.repeat(16), '0DAY', '-IBM', 'IBM-') },
  { weight: 3, arbitrary: urlText },
);
const symbolList = fc.array(symbolText, { minLength: 0, maxLength: 12 }).map((list) => list.join(','));
const date = fc.oneof(fc.constantFrom('2024-01-01', '2022-07-29', '1970-01-01', '9999-12-31', '2024-02-30', '2024-13-01', '20240101', '-0001-01-01'), urlText);

const tradeQuery = fc
  .array(
    fc.oneof(
      fc.tuple(fc.constantFrom('user_id', 'limit', 'after_id'), integerText.map(percentEncode)),
      fc.tuple(fc.constant('type'), fc.oneof(fc.constantFrom('buy', 'sell', 'hold', 'BUY'), urlText)),
      fc.tuple(fc.constant('symbol'), fc.oneof(fc.constantFrom('IBM', 'ABX'), urlText)),
      fc.tuple(urlText, urlText),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

/** Each route's URLs (with and without the trailing slash, with odd queries), and some unknown ones. */
const routeTarget: fc.Arbitrary<{ route: Route; target: string }> = fc.oneof(
  fc.tuple(slash, tradeQuery).map(([s, q]) => ({ route: 'trades' as const, target: withQuery(`/trades${s}`, q || undefined) })),
  fc.tuple(tradeId, extraQuery).map(([id, q]) => ({ route: 'trade' as const, target: withQuery(`/trades/${id}`, q) })),
  fc.tuple(slash, extraQuery).map(([s, q]) => ({ route: 'api-root' as const, target: withQuery(`/api/v1${s}`, q) })),
  fc.tuple(slash, extraQuery).map(([s, q]) => ({ route: 'register' as const, target: withQuery(`/api/v1/register${s}`, q) })),
  fc.tuple(symbolText, slash, extraQuery).map(([sym, s, q]) => ({ route: 'symbol' as const, target: withQuery(`/api/v1/symbol/${sym}${s}`, q) })),
  fc.tuple(slash, symbolList, extraQuery).map(([s, list, q]) => ({ route: 'symbols' as const, target: withQuery(`/api/v1/symbols${s}?symbols=${list}`, q, false) })),
  fc.tuple(symbolText, slash, fc.option(date, { nil: undefined }), fc.option(date, { nil: undefined }), extraQuery).map(([sym, s, from, to, q]) => {
    const query = [from === undefined ? undefined : `from=${from}`, to === undefined ? undefined : `to=${to}`, q].filter((p) => p !== undefined).join('&');
    return { route: 'history' as const, target: withQuery(`/api/v1/symbol/${sym}/history${s}`, query || undefined) };
  }),
  fc.tuple(slash, extraQuery).map(([s, q]) => ({ route: 'me' as const, target: withQuery(`/api/v1/me${s}`, q) })),
  fc.tuple(slash, extraQuery).map(([s, q]) => ({ route: 'rotate' as const, target: withQuery(`/api/v1/keys/rotate${s}`, q) })),
  fc.tuple(slash, extraQuery).map(([s, q]) => ({ route: 'revoke' as const, target: withQuery(`/api/v1/keys/revoke${s}`, q) })),
  extraQuery.map((q) => ({ route: 'health' as const, target: withQuery('/health', q) })),
  extraQuery.map((q) => ({ route: 'openapi' as const, target: withQuery('/openapi.json', q) })),
  fc.oneof(
    fc.constantFrom('/', '//trades', '/trades//1', '/trades/1/2', '/api/v1/symbol/', '/api/v1/symbol//history/', '/api/v2/', '/api/v1/keys/', '/api/v1/nope', `/api/v1/${'a'.repeat(15_000)}`, '/health/x', '/%2e%2e/etc/passwd', '/api/v1/symbol/IBM/history/extra'),
    fc.webPath().map((p) => p || '/'),
    urlText.map((t) => `/api/v1/${t}`),
  ).map((target) => ({ route: 'unknown' as const, target })),
);

/** A JSON object written field by field, so number literals travel exactly as written. */
function jsonObject(fields: Record<string, string | undefined>): string {
  return `{${Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

const jsonString = (s: string) => JSON.stringify(s); // escapes lone surrogates as \udXXX: valid JSON text
const jsonFieldValue = (integer: boolean) =>
  fc.oneof(
    { weight: 3, arbitrary: integer ? jsonIntegerLiteral : hostileText.map(jsonString) },
    { weight: 1, arbitrary: fc.oneof(hostileText.map(jsonString), fc.double().map((d) => JSON.stringify(d)), fc.constantFrom('null', 'true', '[]', '{}', '"1"', '[1]')) },
  );

/** Mostly a valid trade with one or two fields made hostile, so accepted writes happen and are checked. */
const tradeBody = fc
  .record({
    type: fc.constantFrom('"buy"', '"sell"'),
    user_id: fc.nat({ max: 99 }).map(String),
    symbol: fc.constantFrom('"ABX"', '"IBM"', '"brk.b"'),
    shares: fc.integer({ min: 1, max: 100 }).map(String),
    price: fc.nat({ max: 10_000 }).map(String),
    timestamp: fc.constant('1531522701000'),
  })
  .chain((valid) =>
    fc.tuple(
      fc.constant(valid),
      fc.array(
        fc.oneof(
          fc.constantFrom('type', 'symbol').chain((k) => jsonFieldValue(false).map((v) => [k, v] as const)),
          fc.constantFrom('user_id', 'shares', 'price', 'timestamp').chain((k) => jsonFieldValue(true).map((v) => [k, v] as const)),
          fc.constantFrom('type', 'user_id', 'symbol', 'shares', 'price', 'timestamp').map((k) => [k, undefined] as const),
          fc.constantFrom('id', 'extra', '__proto__', 'constructor').chain((k) => jsonIntegerLiteral.map((v) => [k, v] as const)),
        ),
        { maxLength: 2 },
      ),
    ),
  )
  .map(([valid, changes]) => {
    const fields: Record<string, string | undefined> = { ...valid };
    for (const [k, v] of changes) fields[k] = v;
    return jsonObject(fields);
  });

const registration: fc.Arbitrary<Registration> = fc.record(
  {
    name: fc.oneof({ weight: 2, arbitrary: fc.constantFrom('Dave', 'José', 'Zoë') }, { weight: 3, arbitrary: hostileText }),
    last_name: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('Mustaine', "O'Brien") }, { weight: 2, arbitrary: hostileText }),
    email: hostileEmail,
  },
  { requiredKeys: [] },
);

function formUrlEncoded(r: Registration): Buffer {
  return Buffer.from(Object.entries(r).map(([k, v]) => `${k}=${percentEncode(String(v))}`).join('&'), 'latin1');
}

function multipart(r: Registration): Buffer {
  const parts = Object.entries(r).map(([k, v]) => Buffer.concat([Buffer.from(`--XyZ\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n`), wtf8(String(v)), Buffer.from('\r\n')]));
  return Buffer.concat([...parts, Buffer.from('--XyZ--\r\n')]);
}

const otherBody = fc.oneof(
  fc.json({ maxDepth: 4 }).map((s) => Buffer.from(s)),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"symbol": "'), Buffer.from([0xff, 0xfe, ...bytes]), Buffer.from('"}')])),
  fc.constant(Buffer.concat([Buffer.from('{"type":"buy","user_id":1,"symbol":"A'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('B","shares":1,"price":1,"timestamp":1}')])),
  fc.integer({ min: 60_000, max: 90_000 }).map((n) => Buffer.from(JSON.stringify({ symbol: 'x'.repeat(n) }))),
  fc.constantFrom('--XyZ\r\nContent-Disposition: form-data; name="a"', '{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {}}}', '\u0000\u0000', 'null', '[]', '"string"', '1e999', '').map((s) => Buffer.from(s)),
);

/** A body, its content type, and the registration it stands for (when it is one). */
const bodyAndType: fc.Arbitrary<{ body?: Buffer; contentType?: string; registration?: Registration }> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  { weight: 4, arbitrary: tradeBody.map((t) => ({ body: wtf8(t), contentType: 'application/json' })) },
  { weight: 2, arbitrary: registration.map((r) => ({ body: wtf8(JSON.stringify(r)), contentType: 'application/json', registration: r })) },
  { weight: 1, arbitrary: registration.map((r) => ({ body: formUrlEncoded(r), contentType: 'application/x-www-form-urlencoded', registration: r })) },
  { weight: 1, arbitrary: registration.map((r) => ({ body: multipart(r), contentType: 'multipart/form-data; boundary=XyZ', registration: r })) },
  {
    weight: 2,
    arbitrary: fc.record({
      body: otherBody,
      contentType: fc.constantFrom('application/json', 'application/json; charset=utf-16', 'application/problem+json', 'text/plain', 'text/csv', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=XyZ', 'multipart/form-data', 'multipart/form-data; boundary=', '*/*', 'garbage', ';;;'),
    }),
  },
);

/** A request before the run's current key and the headers are filled in. */
type Draft = Omit<FuzzRequest, 'headers'> & { contentType?: string; accept?: string; forwardedFor?: string };

const request: fc.Arbitrary<Draft> = fc
  .record({
    method: methods,
    where: routeTarget,
    payload: bodyAndType,
    chunked: fc.boolean(),
    auth: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom<Auth>('token', 'bearer', 'x-api-key', 'token-lowercase') },
      { weight: 4, arbitrary: fc.constantFrom<Auth>('none', 'token-junk', 'bearer-empty', 'token-spaces', 'x-api-key-long', 'basic', 'token-lookalike', 'token-nul') },
    ),
    accept: fc.option(fc.constantFrom('text/plain', 'text/csv', 'application/json', '*/*', 'text/csv;q=0', 'text/plain, application/json;q=0.5', 'image/png', ',,;q=x'), { nil: undefined }),
    forwardedFor: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('1.2.3.4, 5.6.7.8'), hostileText), { nil: undefined }),
  })
  .map(({ method, where, payload, chunked, auth, accept, forwardedFor }) => ({
    route: where.route,
    method,
    target: where.target,
    auth,
    // Bodies travel on the methods that carry them; a GET body now and then.
    body: method === 'GET' || method === 'HEAD' ? undefined : payload.body,
    contentType: payload.contentType,
    registration: method === 'POST' ? payload.registration : undefined,
    chunked,
    accept,
    forwardedFor,
  }));

const VALID_TRADE = { type: '"buy"', user_id: '23', symbol: '"ABX"', shares: '30', price: '134', timestamp: '1531522701000' };

/**
 * Issue 7's inputs, each sent on purpose rather than left to chance: every
 * integer boundary in every id, filter and trade field; every NUL, lone
 * surrogate, invisible and look-alike string in every string field (body,
 * query, path); every look-alike email in each of the three registration encodings.
 */
function issueCorpus(): Draft[] {
  const get = (route: Route, target: string, auth: Auth = 'token'): Draft => ({ route, method: 'GET', target, auth, chunked: false });
  const postTrade = (fields: Record<string, string>): Draft => ({ route: 'trades', method: 'POST', target: '/trades', auth: 'none', chunked: false, body: wtf8(jsonObject({ ...VALID_TRADE, ...fields })), contentType: 'application/json' });
  const encodings = [
    (r: Registration) => ({ body: wtf8(JSON.stringify(r)), contentType: 'application/json' }),
    (r: Registration) => ({ body: formUrlEncoded(r), contentType: 'application/x-www-form-urlencoded' }),
    (r: Registration) => ({ body: multipart(r), contentType: 'multipart/form-data; boundary=XyZ' }),
  ];
  const postRegistration = (r: Registration, encoding: number): Draft => ({ route: 'register', method: 'POST', target: '/api/v1/register/', auth: 'none', chunked: false, registration: r, ...encodings[encoding % 3]!(r) });

  const drafts: Draft[] = [];
  for (const n of INTEGER_BOUNDARIES) {
    drafts.push(get('trade', `/trades/${n}`), get('trades', `/trades?after_id=${n}`), get('trades', `/trades?user_id=${n}`), get('trades', `/trades?limit=${n}`), get('trades', `/trades?limit=2&after_id=${n}`));
    for (const field of ['user_id', 'shares', 'price', 'timestamp']) drafts.push(postTrade({ [field]: n }));
    drafts.push(get('symbol', `/api/v1/symbol/${n}/`));
  }
  for (const [i, text] of ISSUE_STRINGS.entries()) {
    const encoded = percentEncode(text);
    drafts.push(postTrade({ symbol: JSON.stringify(text) }), postTrade({ type: JSON.stringify(text) }));
    drafts.push(get('trades', `/trades?symbol=${encoded}`), get('trades', `/trades?type=${encoded}`), get('trade', `/trades/${encoded}`));
    drafts.push(get('symbol', `/api/v1/symbol/${encoded}/`), get('history', `/api/v1/symbol/IBM/history/?from=${encoded}`), get('symbols', `/api/v1/symbols/?symbols=IBM,${encoded}`));
    drafts.push(get('unknown', `/api/v1/${encoded}`, 'none'));
    drafts.push(postRegistration({ name: text, last_name: 'Mustaine', email: `name${i}@example.com` }, i));
    drafts.push(postRegistration({ name: 'Dave', last_name: text, email: `last${i}@example.com` }, i + 1));
    drafts.push(postRegistration({ name: 'Dave', last_name: 'Mustaine', email: `${text}@example.com` }, i + 2));
  }
  for (const piece of RAW_URL_PIECES) {
    drafts.push(get('trades', `/trades?symbol=${piece}`), get('trade', `/trades/${piece}`), get('symbol', `/api/v1/symbol/${piece}/`), get('symbols', `/api/v1/symbols/?symbols=${piece}`));
  }
  for (const [i, email] of ISSUE_EMAILS.entries()) drafts.push(postRegistration({ name: 'Dave', last_name: 'Mustaine', email }, i));
  return drafts;
}

/** Header values as clients send them: never CR, LF or NUL (those are parser cases, in fuzz-protocol.test.ts). */
const headerSafe = (value: string) => value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');

function authHeader(auth: Auth, key: string): [string, string] | undefined {
  const headers: Record<Auth, [string, string] | undefined> = {
    none: undefined,
    token: ['Authorization', `Token ${key}`],
    bearer: ['Authorization', `Bearer ${key}`],
    'x-api-key': ['X-API-Key', key],
    'token-lowercase': ['authorization', `token ${key}`],
    'token-junk': ['Authorization', 'Token deadbeef'],
    'bearer-empty': ['Authorization', 'Bearer'],
    'token-spaces': ['Authorization', 'Token a b c'],
    'x-api-key-long': ['X-API-Key', 'x'.repeat(300)],
    basic: ['Authorization', 'Basic dXNlcjpwYXNz'],
    'token-lookalike': ['Authorization', `Token ${key.replace(/[a-f]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x61 + 0xff41))}`],
    'token-nul': ['Authorization', `Token ${key}%00`],
  };
  return headers[auth];
}

function serialize(r: FuzzRequest): Buffer {
  const lines = [`${r.method} ${r.target} HTTP/1.1`, 'Host: 127.0.0.1', ...r.headers.map(([k, v]) => `${k}: ${v}`)];
  if (r.body === undefined) return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
  if (!r.chunked) return Buffer.concat([Buffer.from(`${[...lines, `Content-Length: ${r.body.length}`].join('\r\n')}\r\n\r\n`), r.body]);
  // Chunked, in two chunks split mid-body (mid-character, too, now and then).
  const half = Math.floor(r.body.length / 2);
  const chunk = (part: Buffer) => (part.length === 0 ? [] : [Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
  return Buffer.concat([Buffer.from(`${[...lines, 'Transfer-Encoding: chunked'].join('\r\n')}\r\n\r\n`), ...chunk(r.body.subarray(0, half)), ...chunk(r.body.subarray(half)), Buffer.from('0\r\n\r\n')]);
}

function describeRequest(r: FuzzRequest): string {
  const headers = r.headers.map(([k, v]) => `${k}: ${show(v, 80)}`).join('; ');
  const body = r.body === undefined ? '' : ` body(${r.body.length} B${r.chunked ? ', chunked' : ''})=${showBytes(r.body, 160)}`;
  return `${r.method} ${show(r.target, 160)} [${headers}]${body}`;
}

/** Body bytes for a failure message: UTF-8 when they are, else Latin-1 with every byte above 0x7e as \xNN. */
function showBytes(bytes: Buffer, max: number): string {
  try {
    return show(new TextDecoder('utf-8', { fatal: true }).decode(bytes), max);
  } catch {
    return `(not UTF-8) ${show(bytes.toString('latin1'), max).replace(/[\u007f-\u00ff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`)}`;
  }
}

interface AcceptedTrade {
  id: number;
  type: string;
  user_id: number;
  symbol: string;
  shares: number;
  price: number;
  timestamp: number;
}

/** JSON with its keys sorted, to compare objects whatever the order of their fields. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** What a 201 from POST /trades must say: the trade exactly as sent, and the next id. */
function tradeAnswerProblem(r: FuzzRequest, answer: RawResponse, expectedId: number): string | undefined {
  let sent: unknown;
  try {
    sent = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(r.body ?? Buffer.alloc(0)));
  } catch {
    return 'a body that is not UTF-8 JSON was accepted as a trade (201)';
  }
  const symbol = (sent as { symbol?: unknown }).symbol;
  if (typeof symbol === 'string' && symbol.includes('\u0000')) return 'a symbol with NUL was accepted (201)';
  if (typeof symbol === 'string' && hasLoneSurrogate(symbol)) return 'a symbol with a lone surrogate was accepted (201)';
  let stored: unknown;
  try {
    stored = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return 'the 201 body is not JSON';
  }
  const expected = { ...(sent as object), id: expectedId };
  if (canonical(stored) !== canonical(expected)) return 'a 201 trade differs from what was sent, or skips an id';
  return undefined;
}

/** A registration the issue says must be refused, or the look-alike of an account already made. */
function registrationProblem(r: Registration, accepted: Set<string>): string | undefined {
  for (const [field, value] of Object.entries(r)) {
    if (typeof value !== 'string') continue;
    if (value.includes('\u0000')) return `${field} with NUL was accepted (201)`;
    if (hasLoneSurrogate(value)) return `${field} with a lone surrogate was accepted (201)`;
    if (hasFormatCharacter(value.trim())) return `${field} with an invisible/format character was accepted (201)`;
  }
  if (typeof r.email === 'string' && codePoints(emailIdentity(r.email)) > 254) return 'an email over 254 characters once normalised (NFKC, case folded) was accepted (201)';
  if (typeof r.email === 'string' && accepted.has(emailIdentity(r.email))) return 'a look-alike (same after NFKC and case folding) of a registered email made a new account (201)';
  return undefined;
}

/** What a 2xx must be: JSON, or one of the documented non-JSON answers, recognised by content type and route. */
function successProblem(r: FuzzRequest, answer: RawResponse, accept: string | undefined): string | undefined {
  if (r.method === 'HEAD') return undefined;
  if (answer.status === 204) return answer.body.length === 0 ? undefined : 'a 204 with a body';
  const type = answer.headers['content-type'] ?? '';
  const text = answer.body.toString('utf8');
  if (/^text\/plain\b/i.test(type)) {
    if (!(r.route === 'register' || r.route === 'rotate') || !/text\/plain/.test(accept ?? '')) return `a text/plain ${answer.status} where JSON is documented`;
    return /^[0-9a-f]{40}$/.test(text) ? undefined : `a text/plain key that is not 40 hex digits: ${show(text)}`;
  }
  if (/^text\/csv\b/i.test(type)) {
    if (r.route !== 'history' || !/text\/csv/.test(accept ?? '')) return `a text/csv ${answer.status} where JSON is documented`;
    return text.startsWith('date,open,high,low,close,volume\n') ? undefined : `a CSV without its header line: ${show(text)}`;
  }
  if (!/^application\/json\b/i.test(type)) return `a ${answer.status} of content-type ${JSON.stringify(type)}`;
  try {
    JSON.parse(text);
  } catch {
    return `a ${answer.status} that says JSON does not parse: ${show(text)}`;
  }
  if ((r.route === 'register' || r.route === 'rotate') && answer.status === 201 && !/^"[0-9a-f]{40}"$/.test(text)) return `a key that is not 40 hex digits: ${show(text)}`;
  return undefined;
}

/** Whatever apicalls.log holds must be printable: no control, format or separator characters, one line per request. */
function logLineProblem(line: string): string | undefined {
  if (!/^\[\d\d\/[A-Z][a-z]{2}\/\d{4} \d\d:\d\d:\d\d\] \[INFO\] \[API_REQUEST\] /.test(line)) return 'not in the log format';
  if (/[\p{C}\u2028\u2029]|(?! )\s/u.test(line)) return 'holds a character that is not printable (unescaped)';
  return undefined;
}

describe.each(testEngines())('fuzzing every route over a socket on %s', (engine) => {
  it(`when ${RUNS[engine]} hostile requests arrive, then none is a 5xx or hangs, errors are JSON with detail, and only accepted writes are stored`, async () => {
    const seed = fuzzSeed();
    const logPath = join(inject('sqliteDir'), `apicalls-fuzz-${randomBytes(4).toString('hex')}.log`);
    // THROTTLE_REGISTER: generous, as every other allowance here, should the service grow that scope.
    const service = await startService(engine, { APICALLS_LOG: logPath, THROTTLE_REGISTER: '1000000/day' });
    const { app, db } = service;
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;

    // Keys stay valid across the run: a generated rotate or revoke must not lock the fuzzer out.
    let fuzzerAccounts = 0;
    const fuzzerEmail = () => `fuzzer${++fuzzerAccounts}@example.com`;
    let email = fuzzerEmail();
    let key = await register(app, email);
    const acceptedEmails = new Set<string>([emailIdentity(email)]);
    let accounts = 1;
    const trades: AcceptedTrade[] = [];
    const violations: { kind: string; text: string }[] = [];
    const answered = new Map<Route, { sent: number; ok: number }>();

    // The issue's corpus first (#0…), then the generated requests.
    const drafts = [...issueCorpus(), ...fc.sample(request, { seed, numRuns: RUNS[engine] })];
    for (const [index, drawnRequest] of drafts.entries()) {
      const { contentType, accept, forwardedFor, ...rest } = drawnRequest;
      const headers: [string, string][] = [];
      const auth = authHeader(rest.auth, key);
      if (auth) headers.push(auth);
      if (rest.body !== undefined && contentType) headers.push(['Content-Type', contentType]);
      if (accept) headers.push(['Accept', accept]);
      if (forwardedFor) headers.push(['X-Forwarded-For', headerSafe(forwardedFor)]);
      const r: FuzzRequest = { ...rest, headers };
      const isHead = r.method === 'HEAD';

      const result = await exchange(port, [serialize(r)], { deadlineMs: DEADLINE_MS, expectResponses: 1, heads: [isHead] });
      const report = (kind: string) => violations.push({ kind, text: `#${index} ${describeRequest(r)}\n    → ${describeExchange(result)}` });
      const answer = result.responses[0];
      const tally = answered.get(r.route) ?? { sent: 0, ok: 0 };
      answered.set(r.route, tally);
      tally.sent++;
      if (!answer) {
        report(result.timedOut ? 'no answer within the deadline' : result.parseError ? 'an answer that is not HTTP' : 'closed without an answer');
        continue;
      }
      const general = generalAnswerProblem(answer, isHead);
      if (general) report(general);
      if (answer.status < 200 || answer.status >= 300) continue;
      tally.ok++;
      const success = successProblem(r, answer, accept);
      if (success) report(success);

      if (r.route === 'trades' && r.method === 'POST' && answer.status === 201) {
        const problem = tradeAnswerProblem(r, answer, trades.length + 1);
        if (problem) report(problem);
        try {
          trades.push(JSON.parse(answer.body.toString('utf8')) as AcceptedTrade);
        } catch {
          // reported above
        }
      }
      if (r.route === 'register' && answer.status === 201) {
        accounts++;
        const problem = r.registration ? registrationProblem(r.registration, acceptedEmails) : 'a registration the suite did not send as one was accepted';
        if (problem) report(problem);
        if (r.registration?.email !== undefined) acceptedEmails.add(emailIdentity(String(r.registration.email)));
        // The new account makes one keyed request, so its email reaches apicalls.log (checked at the end).
        const text = answer.body.toString('utf8');
        const newKey = /^text\/plain/.test(answer.headers['content-type'] ?? '') ? text : (JSON.parse(text) as string);
        const me = await exchange(port, [`GET /api/v1/me/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${newKey}\r\n\r\n`], { deadlineMs: DEADLINE_MS, expectResponses: 1 });
        if (me.responses[0]?.status !== 200) report(`the new account's key does not work on /api/v1/me/: ${describeExchange(me)}`);
      }
      if (r.route === 'rotate' && answer.status === 201) {
        const text = answer.body.toString('utf8');
        key = /^text\/plain/.test(answer.headers['content-type'] ?? '') ? text : (JSON.parse(text) as string);
      }
      if (r.route === 'revoke' && answer.status === 204) {
        email = fuzzerEmail();
        key = await register(app, email);
        acceptedEmails.add(emailIdentity(email));
        accounts++;
      }
    }

    // The process is still serving: /health over a fresh socket.
    const health = await exchange(port, ['GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], { deadlineMs: DEADLINE_MS, expectResponses: 1 });
    if (health.responses[0]?.status !== 200) violations.push({ kind: '/health is not 200 after the run', text: describeExchange(health) });

    // The database holds exactly what the answers acknowledged.
    const storedTrades = await db.selectFrom('trades').selectAll().orderBy('id').execute();
    const plain = (t: AcceptedTrade) => JSON.stringify({ id: Number(t.id), type: t.type, user_id: Number(t.user_id), symbol: t.symbol, shares: Number(t.shares), price: Number(t.price), timestamp: Number(t.timestamp) });
    if (storedTrades.length !== trades.length) violations.push({ kind: 'stored trades ≠ acknowledged trades', text: `${storedTrades.length} stored, ${trades.length} acknowledged with 201` });
    for (const [i, stored] of storedTrades.entries()) {
      const acknowledged = trades[i];
      if (!acknowledged || plain(stored as AcceptedTrade) !== plain(acknowledged)) {
        violations.push({ kind: 'a stored trade differs from its 201', text: `stored ${show(plain(stored as AcceptedTrade))}, acknowledged ${acknowledged ? show(plain(acknowledged)) : 'none'}` });
      }
    }
    const storedAccounts = await db.selectFrom('accounts').select(['email', 'name', 'last_name']).execute();
    if (storedAccounts.length !== accounts) violations.push({ kind: 'stored accounts ≠ acknowledged registrations', text: `${storedAccounts.length} stored, ${accounts} acknowledged with 201` });
    const identities = new Map<string, string>();
    for (const account of storedAccounts) {
      for (const [field, value] of Object.entries(account)) {
        if (value.includes('\u0000') || hasLoneSurrogate(value) || hasFormatCharacter(value)) {
          violations.push({ kind: `a stored ${field} holds NUL, a lone surrogate or an invisible character`, text: show(value) });
        }
      }
      if (codePoints(account.email) > 254) violations.push({ kind: 'a stored email is over 254 characters', text: `${codePoints(account.email)}: ${show(account.email)}` });
      for (const field of ['name', 'last_name'] as const) {
        if (codePoints(account[field]) > 100) violations.push({ kind: `a stored ${field} is over 100 characters`, text: show(account[field]) });
      }
      const identity = emailIdentity(account.email);
      const twin = identities.get(identity);
      if (twin !== undefined) violations.push({ kind: 'two accounts whose emails are the same after NFKC and case folding', text: `${show(twin)} and ${show(account.email)}` });
      identities.set(identity, account.email);
    }

    // apicalls.log: flushed on close; nothing unprintable reaches it raw.
    await service.close();
    const logLines = readFileSync(logPath, 'utf8').split('\n').filter((line) => line !== '');
    for (const line of logLines) {
      const problem = logLineProblem(line);
      if (problem) violations.push({ kind: `an apicalls.log line ${problem}`, text: show(line, 300) });
    }

    // The run reached every route, and every route but the unknown ones answered 2xx at least once.
    const coverage = [...answered].map(([route, t]) => `${route} ${t.ok}/${t.sent}`).join(', ');
    for (const route of ['trades', 'trade', 'api-root', 'register', 'symbol', 'symbols', 'history', 'me', 'rotate', 'revoke', 'health', 'openapi', 'unknown'] as Route[]) {
      const t = answered.get(route);
      if (!t || t.sent < RUNS[engine] / 100) violations.push({ kind: 'a route the run hardly reached', text: `${route}: ${coverage}` });
      else if (route !== 'unknown' && t.ok === 0) violations.push({ kind: 'a route that never answered 2xx (the generator does not reach its handler)', text: `${route}: ${coverage}` });
    }

    // FUZZ_REPORT=<file> keeps every violation, not only the examples the assertion prints.
    if (process.env.FUZZ_REPORT) appendFileSync(process.env.FUZZ_REPORT, violations.map((v) => `[${engine}] ${v.kind}\n  ${v.text}\n`).join(''));
    expect(violations.length === 0 ? 'no violations' : summarise(violations, seed, engine)).toBe('no violations');
  }, 240_000);
});

/** Violations grouped by kind, a few examples each, with what replays them. */
function summarise(violations: { kind: string; text: string }[], seed: number, engine: string): string {
  const byKind = new Map<string, string[]>();
  for (const v of violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), v.text]);
  const groups = [...byKind].map(([kind, texts]) => `● ${kind} (${texts.length}×), e.g.:\n  ${texts.slice(0, 4).join('\n  ')}`);
  return `${violations.length} violations on ${engine}; replay with FUZZ_SEED=${seed} TEST_ENGINES=${engine}\n${groups.join('\n')}`;
}
