import fc from 'fast-check';
import { escapeBytes, hasFormatCharacter, hasLoneSurrogate, show } from './answers.js';
import {
  hostileEmail, hostileText, INTEGER_BOUNDARIES, integerText, ISSUE_EMAILS, ISSUE_STRINGS, jsonIntegerLiteral, percentEncode, RAW_URL_PIECES, urlText, wtf8,
} from './hostile-values.js';

/**
 * The requests the route fuzzer sends: generated ones for every route, and
 * issue 7's corpus sent on purpose. Each knows what it means (its route, the
 * registration it stands for) and how it travels (method, target, headers,
 * body, Content-Length or chunked), so the test can judge the answer.
 */
export type Route = 'portfolio' | 'portfolio-history' | 'trades' | 'trade' | 'api-root' | 'register' | 'symbol' | 'symbols' | 'history' | 'actions' | 'search' | 'providers' | 'me' | 'rotate' | 'revoke' | 'query' | 'health' | 'openapi' | 'ready' | 'metrics' | 'docs' | 'claim' | 'ledgers' | 'unknown';
export type Auth = 'none' | 'token' | 'bearer' | 'x-api-key' | 'token-lowercase' | 'token-junk' | 'bearer-empty' | 'token-spaces' | 'x-api-key-long' | 'basic' | 'token-lookalike' | 'token-nul';

export interface Registration {
  name?: string;
  last_name?: string;
  email?: string;
}

/** A request as generated: what it means (route, logical values) and how it travels. */
export interface FuzzRequest {
  route: Route;
  method: string;
  target: string;
  auth: Auth;
  headers: [string, string][];
  body?: Buffer;
  chunked: boolean;
  /** The registration fields as the client meant them (before any encoding). */
  registration?: Registration;
  /** What the issue requires of the answer, for the corpus's requests. */
  expected?: Expectation;
}

/** The statuses allowed; a 400 must then also name `field` (DRF's `field`), when given. */
export interface Expectation {
  statuses: number[];
  field?: string;
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

/** The Alpha Vantage gateway's parameters: its functions, others, and junk; a junk `apikey` now and then (the key itself travels in a header). */
const gatewayFunction = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('GLOBAL_QUOTE', 'TIME_SERIES_DAILY') },
  { weight: 1, arbitrary: fc.constantFrom('SYMBOL_SEARCH', 'TIME_SERIES_DAILY_ADJUSTED', 'global_quote', '', '__proto__') },
  { weight: 1, arbitrary: urlText },
);
const gatewayOptions = fc.constantFrom('', '&outputsize=full', '&outputsize=compact', '&datatype=csv', '&datatype=csv&outputsize=full', '&datatype=json', '&outputsize=%00');
const gatewayQuery = fc
  .tuple(gatewayFunction, fc.option(symbolText, { nil: undefined }), gatewayOptions, fc.option(urlText, { nil: undefined, freq: 4 }))
  .map(([fn, symbol, options, apikey]) => `function=${fn}${symbol === undefined ? '' : `&symbol=${symbol}`}${options}${apikey === undefined ? '' : `&apikey=${apikey}`}`);

/** The gateway's URLs; sampled apart from routeTarget (see gatewayRequest). */
const gatewayTarget = fc
  .tuple(slash, gatewayQuery, extraQuery)
  .map(([s, query, q]) => ({ route: 'query' as const, target: withQuery(`/query${s}?${query}`, q, false) }));

/**
 * Search queries as a client might send them, already in URL form: names and tickers, look-alikes that fold
 * to one query (full-width, decomposed accents, odd spacing), RTL and other scripts, and hostile text —
 * NUL and control characters, emoji, bidi overrides, raw and broken %-escapes, up to 20 KB.
 */
const SEARCH_WORDS = ['apple', 'IBM', 'ibm', 'ＩＢＭ', ' Apple   Inc ', 'AT&T', "l'oréal", 'l\'ore\u0301al', 'brk.b', 'מיקרוסופט', 'شركة', 'ｱｯﾌﾟﾙ', 'ﬁat', 'İbm', 'a'.repeat(64), 'a'.repeat(65), 'İ'.repeat(64), '😀', 'apple😀', '\u202eelppa', 'app\u200ble', 'apple\tinc', 'apple\ninc', '\u0000apple', '*', '%', 'a_b', '"apple"', '<script>'];
const searchText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SEARCH_WORDS).map(percentEncode) },
  { weight: 3, arbitrary: hostileText.map(percentEncode) },
  { weight: 2, arbitrary: urlText },
  { weight: 1, arbitrary: fc.constantFrom('%00', 'a%00b', '%01%02', '%1B%5B31m', '%7F', '%C2%85', '%E2%80%AE', '%F0%9F%8D%8E', '%', '%zz', '%ED%A0%80', '%2525', '%FF', '%C0%AF', '+apple+', '%20', '', '%E2%80%A8', 'a%26q%3Db') },
  { weight: 1, arbitrary: fc.constantFrom(65, 257, 2_000, 8_000, 20_000).map((n) => 'a'.repeat(n)) },
);
const searchQuery = fc.oneof(
  { weight: 6, arbitrary: searchText.map((q) => `q=${q}`) },
  { weight: 1, arbitrary: fc.array(searchText, { minLength: 2, maxLength: 4 }).map((qs) => qs.map((q) => `q=${q}`).join('&')) },
  { weight: 1, arbitrary: fc.constantFrom('', 'q', 'q=', 'Q=apple', 'q[]=apple', 'q[a]=b', 'query=apple') },
);
const adjustedQuery = fc.constantFrom('adjusted=true', 'adjusted=false', 'adjusted=TRUE', 'adjusted=1', 'adjusted=', 'adjusted', 'adjusted=%00', 'adjusted=true&adjusted=false', 'adjusted=yes', 'adjusted=true%00');

/** The Alpha Vantage gateway's search and adjusted series, with their own parameters (`keywords`, `outputsize`). */
const gatewayNewQuery = fc.oneof(
  fc.tuple(fc.option(searchText, { nil: undefined, freq: 6 }), fc.constantFrom('', '&datatype=csv', '&datatype=json', '&keywords=ibm')).map(([keywords, options]) => `function=SYMBOL_SEARCH${keywords === undefined ? '' : `&keywords=${keywords}`}${options}`),
  fc.tuple(fc.option(symbolText, { nil: undefined, freq: 6 }), gatewayOptions).map(([symbol, options]) => `function=TIME_SERIES_DAILY_ADJUSTED${symbol === undefined ? '' : `&symbol=${symbol}`}${options}`),
);

/**
 * The routes of issue 8 (search, actions, adjusted history, providers) and the gateway's SYMBOL_SEARCH and
 * TIME_SERIES_DAILY_ADJUSTED; sampled apart from routeTarget and gatewayTarget (see newRouteRequest).
 */
const newRouteTarget: fc.Arbitrary<{ route: Route; target: string }> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(slash, searchQuery, extraQuery).map(([s, q, extra]) => ({ route: 'search' as const, target: withQuery(withQuery(`/api/v1/search${s}`, q || undefined), extra, !q) })) },
  { weight: 2, arbitrary: fc.tuple(symbolText, slash, extraQuery).map(([sym, s, q]) => ({ route: 'actions' as const, target: withQuery(`/api/v1/symbol/${sym}/actions${s}`, q) })) },
  {
    weight: 2,
    arbitrary: fc.tuple(symbolText, slash, adjustedQuery, fc.option(date, { nil: undefined }), fc.option(date, { nil: undefined })).map(([sym, s, adjusted, from, to]) => {
      const query = [adjusted, from === undefined ? undefined : `from=${from}`, to === undefined ? undefined : `to=${to}`].filter((p) => p !== undefined).join('&');
      return { route: 'history' as const, target: `/api/v1/symbol/${sym}/history${s}?${query}` };
    }),
  },
  { weight: 1, arbitrary: fc.tuple(slash, extraQuery).map(([s, q]) => ({ route: 'providers' as const, target: withQuery(`/api/v1/providers${s}`, q) })) },
  { weight: 2, arbitrary: fc.tuple(slash, gatewayNewQuery, fc.option(urlText, { nil: undefined, freq: 4 })).map(([s, query, apikey]) => ({ route: 'query' as const, target: `/query${s}?${query}${apikey === undefined ? '' : `&apikey=${apikey}`}` })) },
);

/** Issue 11's portfolio and its history: user ids (the fuzz ledger's among them) and dates, valid and not. */
const userIdText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('1', '7', '0', '42', '9007199254740991', '9007199254740992', '-1', '1e3', '007', '1.0', 'abc', '%00', '%20') },
  { weight: 1, arbitrary: urlText },
);
// Mostly days a range may span (at most 5 years, none in the future), so the handler is reached.
const portfolioDate = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('2024-01-01', '2022-07-29', '2025-06-30') }, { weight: 1, arbitrary: date });
const portfolioTarget: fc.Arbitrary<{ route: Route; target: string }> = fc.oneof(
  fc.tuple(userIdText, slash, fc.option(portfolioDate, { nil: undefined }), extraQuery).map(([id, s, asOf, q]) => ({
    route: 'portfolio' as const,
    target: withQuery(withQuery(`/api/v1/portfolio/${id}${s}`, asOf === undefined ? undefined : `as_of=${asOf}`), q, asOf === undefined),
  })),
  fc.tuple(userIdText, slash, fc.option(portfolioDate, { nil: undefined }), fc.option(portfolioDate, { nil: undefined }), extraQuery).map(([id, s, from, to, q]) => {
    const query = [from === undefined ? undefined : `from=${from}`, to === undefined ? undefined : `to=${to}`, q].filter((p) => p !== undefined).join('&');
    return { route: 'portfolio-history' as const, target: withQuery(`/api/v1/portfolio/${id}/history${s}`, query || undefined) };
  }),
);

/** Issue 18's ledger claims: claims and releases of user ids, valid and not (the portfolio's ids), and the list of an account's claims. */
const ledgerTarget: fc.Arbitrary<{ route: Route; target: string }> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(userIdText, slash, extraQuery).map(([id, s, q]) => ({ route: 'claim' as const, target: withQuery(`/api/v1/ledgers/${id}/claim${s}`, q) })) },
  { weight: 1, arbitrary: fc.tuple(slash, extraQuery).map(([s, q]) => ({ route: 'ledgers' as const, target: withQuery(`/api/v1/ledgers${s}`, q) })) },
);

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

/** A request before the run's current key and the headers are filled in; `extraHeaders` travel as given (CR, LF and NUL included). */
export type Draft = Omit<FuzzRequest, 'headers'> & { contentType?: string; accept?: string; forwardedFor?: string; extraHeaders?: [string, string][] };

/** Requests to the URLs `where` draws. */
const requestTo = (where: fc.Arbitrary<{ route: Route; target: string }>): fc.Arbitrary<Draft> => fc
  .record({
    method: methods,
    where,
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

export const request = requestTo(routeTarget);
/**
 * Requests to the Alpha Vantage gateway, sampled on their own (after `request`'s), so a
 * new route leaves the other routes' requests for a seed as they were.
 */
export const gatewayRequest = requestTo(gatewayTarget);
/** Requests to issue 8's routes, sampled after both: the older routes' and the gateway's draws for a seed stay as they were. */
export const newRouteRequest = requestTo(newRouteTarget);
/** Requests to issue 11's portfolio routes, sampled after all the others: their draws for a seed stay as they were. */
export const portfolioFuzzRequest = requestTo(portfolioTarget);
/** Requests to issue 18's ledger-claim routes, sampled after all the others: their draws for a seed stay as they were. */
export const ledgerFuzzRequest = requestTo(ledgerTarget);

/** The token the fuzzed service is started with (METRICS_TOKEN), so /metrics answers both 200 and 401. */
export const FUZZ_METRICS_TOKEN = 'fuzz-metrics-token-0123456789';

/** The Swagger UI's own files, and paths that try to leave its directory (raw, %-encoded, double-encoded, overlong UTF-8, backslashes). */
export const DOCS_ESCAPES = [
  '/docs/static/../../package.json', '/docs/static/../../../../../../etc/passwd', '/docs/static/%2e%2e/%2e%2e/package.json', '/docs/static/..%2f..%2fpackage.json',
  '/docs/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json', '/docs/static/..%5c..%5cpackage.json', '/docs/static/%252e%252e/%252e%252e/package.json',
  '/docs/static/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json', '/docs/static//etc/passwd', '/docs/static/%2fetc%2fpasswd', '/docs/..%2f..%2fpackage.json',
  '/docs/static/....//....//package.json', '/docs/static/..', '/docs/static/%00', '/docs/static/a%00.js', '/docs/static/.%2e/.%2e/package.json', '/docs/%2e%2e/openapi.json',
  '/docs/static/node_modules/../package.json', '/docs/static/package.json', '/docs/static/%2e%2e',
];
const DOCS_FILES = ['/docs', '/docs/', '/docs/static/swagger-ui.css', '/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-ui-standalone-preset.js', '/docs/static/swagger-initializer.js', '/docs/static/index.html', '/docs/static/favicon-32x32.png', '/docs/json', '/docs/yaml', '/docs/static/.', '/docs/static/'];

/** X-Request-Id values a client or a broken proxy may send: well-formed ones, and NUL, CR/LF (a header of its own), 20 KB, unicode, log-line look-alikes. */
const REQUEST_IDS = ['abc-123', 'trace:1.2_3', 'a'.repeat(128), 'a'.repeat(129), '', ' ', 'a b', 'a\u0000b', 'a\r\nX-Injected: 1', 'a\nb', 'id\r\n\r\nGET /trades HTTP/1.1', 'é', 'ид-1', '😀', '\u202eabc', 'a'.repeat(20_000), '../../etc', '{"level":60,"msg":"forged"}', 'abc-123, def-456'];
/** Idempotency-Key values: a few reused keys (so replays and 422s happen), the draft's quoted form, and every malformed one. */
const IDEMPOTENCY_KEYS = ['k1', 'k2', '"k1"', 'order-1', '', '"', '""', '"k1', 'k'.repeat(255), 'k'.repeat(256), `"${'k'.repeat(255)}"`, 'é', 'clé', '\u00ff', '😀', 'a\u0000b', 'k1\r\nIdempotency-Key: k2', ' k1 ', 'k1\t', '"a\\"b"', 'a'.repeat(20_000)];
/** Authorization for /metrics: the token, wrong ones, 20 KB, NUL, other schemes. */
const METRICS_AUTH = [`Bearer ${FUZZ_METRICS_TOKEN}`, `bearer ${FUZZ_METRICS_TOKEN}`, `Bearer  ${FUZZ_METRICS_TOKEN} `, 'Bearer wrong', 'Bearer', '', `Bearer ${FUZZ_METRICS_TOKEN}x`, `Bearer ${FUZZ_METRICS_TOKEN.slice(0, -1)}`, `Bearer ${FUZZ_METRICS_TOKEN} extra`, `Token ${FUZZ_METRICS_TOKEN}`, `Bearer ${'a'.repeat(20_000)}`, `Bearer ${'a'.repeat(8_000)}`, `Bearer ${FUZZ_METRICS_TOKEN}\u0000`, 'Bearer \u0000', `Basic ${Buffer.from(`x:${FUZZ_METRICS_TOKEN}`).toString('base64')}`, `Bearer ${FUZZ_METRICS_TOKEN}é`];

/** Issue 9's operational routes, and the writes that take an Idempotency-Key; sampled after all the others (see opsRequest). */
const opsTarget: fc.Arbitrary<{ route: Route; target: string }> = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(slash, extraQuery).map(([s, q]) => ({ route: 'ready' as const, target: withQuery(`/ready${s}`, q) })) },
  { weight: 3, arbitrary: fc.tuple(slash, extraQuery).map(([s, q]) => ({ route: 'metrics' as const, target: withQuery(`/metrics${s}`, q) })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...DOCS_FILES), extraQuery).map(([path, q]) => ({ route: 'docs' as const, target: withQuery(path, q) })) },
  { weight: 2, arbitrary: fc.oneof(fc.constantFrom(...DOCS_ESCAPES), urlText.map((t) => `/docs/static/${t}`)).map((target) => ({ route: 'docs' as const, target })) },
  { weight: 1, arbitrary: extraQuery.map((q) => ({ route: 'openapi' as const, target: withQuery('/openapi.json', q) })) },
  { weight: 3, arbitrary: slash.map((s) => ({ route: 'trades' as const, target: `/trades${s}` })) },
  { weight: 2, arbitrary: slash.map((s) => ({ route: 'register' as const, target: `/api/v1/register${s}` })) },
);

/** The headers issue 9 reads: X-Request-Id (once or twice), Idempotency-Key (once or twice), and /metrics' Authorization. */
const opsHeaders: fc.Arbitrary<[string, string][]> = fc
  .record({
    requestIds: fc.array(fc.constantFrom(...REQUEST_IDS), { maxLength: 2 }),
    keys: fc.oneof({ weight: 3, arbitrary: fc.array(fc.constantFrom(...IDEMPOTENCY_KEYS), { maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(fc.constantFrom(...IDEMPOTENCY_KEYS), { minLength: 2, maxLength: 2 }) }),
    metricsAuth: fc.option(fc.constantFrom(...METRICS_AUTH), { nil: undefined, freq: 3 }),
  })
  .map(({ requestIds, keys, metricsAuth }) => [
    ...requestIds.map((id): [string, string] => ['X-Request-Id', id]),
    ...keys.map((key): [string, string] => ['Idempotency-Key', key]),
    ...(metricsAuth === undefined ? [] : [['Authorization', metricsAuth] as [string, string]]),
  ]);

/**
 * Requests to issue 9's routes (/ready, /metrics, /docs and its files, /openapi.json) and keyed writes, with hostile
 * X-Request-Id, Idempotency-Key and /metrics tokens; sampled after every other generator, so their draws for a seed stay.
 */
export const opsRequest: fc.Arbitrary<Draft> = fc.tuple(requestTo(opsTarget), opsHeaders).map(([draft, headers]) => {
  // /metrics' own Authorization replaces the run's key there; elsewhere the run's key travels as drawn.
  const metrics = draft.route === 'metrics';
  const extraHeaders = headers.filter(([name]) => metrics || name !== 'Authorization');
  return { ...draft, auth: metrics && extraHeaders.some(([name]) => name === 'Authorization') ? 'none' : draft.auth, extraHeaders };
});

/**
 * Issue 9's inputs sent on purpose: every escape from /docs' directory refused, /metrics with and without its
 * token, hostile X-Request-Id values, and each malformed Idempotency-Key on both keyed writes a 400 naming it.
 */
export function opsCorpus(): Draft[] {
  const get = (route: Route, target: string, expected: Expectation, extraHeaders: [string, string][] = []): Draft => ({ route, method: 'GET', target, auth: 'none', chunked: false, expected, extraHeaders });
  const drafts: Draft[] = [];
  for (const target of DOCS_ESCAPES) drafts.push(get('docs', target, { statuses: [400, 403, 404] }));
  drafts.push(get('ready', '/ready', { statuses: [200] }), get('openapi', '/openapi.json', { statuses: [200] }), get('docs', '/docs', { statuses: [200] }));
  drafts.push(get('metrics', '/metrics', { statuses: [401] }), get('metrics', '/metrics', { statuses: [200] }, [['Authorization', `Bearer ${FUZZ_METRICS_TOKEN}`]]));
  for (const auth of ['Bearer wrong', `Bearer ${FUZZ_METRICS_TOKEN}x`, `Bearer ${FUZZ_METRICS_TOKEN} extra`, `Token ${FUZZ_METRICS_TOKEN}`, `Bearer ${'a'.repeat(8_000)}`]) {
    drafts.push(get('metrics', '/metrics', { statuses: [401] }, [['Authorization', auth]]));
  }
  // Past the 16 KiB of headers: Node's 431; a NUL in a header: the parser's 400. Both JSON, neither a 5xx.
  drafts.push(get('metrics', '/metrics', { statuses: [431] }, [['Authorization', `Bearer ${'a'.repeat(20_000)}`]]));
  drafts.push(get('metrics', '/metrics', { statuses: [400] }, [['Authorization', `Bearer ${FUZZ_METRICS_TOKEN}\u0000`]]));
  for (const id of REQUEST_IDS) {
    // Control characters and bytes past ASCII: Node's parser may refuse the header (400) before the app sees it.
    const expected = id.length > 16_000 ? [431] : /[^\x20-\x7e]/.test(id) ? [200, 400] : [200];
    drafts.push(get('ready', '/ready', { statuses: expected }, [['X-Request-Id', id]]));
  }
  drafts.push(get('ready', '/ready', { statuses: [200] }, [['X-Request-Id', 'abc-123'], ['X-Request-Id', 'def-456']]));
  const trade = Buffer.from(jsonObject(VALID_TRADE));
  const keyed = (route: Route, keys: string[], expected: Expectation, n: number): Draft => {
    const registration = { name: 'Dave', last_name: 'Mustaine', email: `keyed${n}@example.com` };
    const body = route === 'trades' ? trade : Buffer.from(JSON.stringify(registration));
    return { route, method: 'POST', target: route === 'trades' ? '/trades' : '/api/v1/register/', auth: 'none', chunked: false, body, contentType: 'application/json', expected, extraHeaders: keys.map((k) => ['Idempotency-Key', k]), ...(route === 'register' && { registration }) };
  };
  const refusedKey: Expectation = { statuses: [400], field: 'Idempotency-Key' };
  let n = 0;
  for (const route of ['trades', 'register'] as Route[]) {
    for (const key of ['', '""', 'k'.repeat(256), `"${'k'.repeat(256)}"`, 'é', 'clé', '😀', 'a\tb']) drafts.push(keyed(route, [key], refusedKey, n++));
    // DEL and NUL: Node's parser refuses the header (400, no field) before the app sees it.
    for (const key of ['\u007f', 'a\u0000b']) drafts.push(keyed(route, [key], { statuses: [400] }, n++));
    drafts.push(keyed(route, ['corpus-a', 'corpus-a'], refusedKey, n++), keyed(route, ['corpus-b', 'corpus-c'], refusedKey, n++), keyed(route, ['corpus-d\r\nIdempotency-Key: corpus-e'], refusedKey, n++));
    drafts.push(keyed(route, [`"corpus-${route}"`], { statuses: [201] }, n++));
  }
  return drafts;
}

/**
 * Issue 11's portfolio routes: ids and days each refused with a 400 naming
 * the field, never a 5xx, and the plain requests served.
 */
export function portfolioCorpus(): Draft[] {
  const get = (route: Route, target: string, expected: Expectation): Draft => ({ route, method: 'GET', target, auth: 'token', chunked: false, expected });
  const drafts: Draft[] = [get('portfolio', '/api/v1/portfolio/1/', { statuses: [200] }), get('portfolio-history', '/api/v1/portfolio/1/history/', { statuses: [200] })];
  for (const id of ['abc', '-1', '1.5', '1e3', '9007199254740992', '%00', '%20', '%EF%BC%91']) {
    drafts.push(get('portfolio', `/api/v1/portfolio/${id}/`, { statuses: [400], field: 'user_id' }), get('portfolio-history', `/api/v1/portfolio/${id}/history/`, { statuses: [400], field: 'user_id' }));
  }
  for (const day of ['2024-02-30', '20240101', '9999-12-31', '', '%00', '2024-01-01%00', '2024-01-01&as_of=2024-01-02']) {
    drafts.push(get('portfolio', `/api/v1/portfolio/1/?as_of=${day}`, { statuses: [400], field: 'as_of' }));
  }
  for (const query of ['from=2024-01-02&to=2024-01-01', 'from=1990-01-01', 'from=2024-13-01', 'from=2024-01-01&from=2024-01-02']) {
    drafts.push(get('portfolio-history', `/api/v1/portfolio/1/history/?${query}`, { statuses: [400], field: 'from' }));
  }
  return drafts;
}

/**
 * Issue 18's claims: absurd user ids a 400 naming user_id, the extremes claimed (201) and released (204),
 * the list served, and a claim without a key 401 — never a 5xx.
 */
export function ledgerCorpus(): Draft[] {
  const send = (route: Route, method: string, target: string, expected: Expectation, auth: Auth = 'token'): Draft => ({ route, method, target, auth, chunked: false, expected });
  const drafts: Draft[] = [];
  for (const id of ['abc', '-1', '1.5', '1e3', '9007199254740992', '%00', '%20', '%EF%BC%91', '']) {
    // No id at all (`/ledgers//claim/`): a 400 on user_id, or 404 should the router not match it; never a 5xx.
    const expected: Expectation = id === '' ? { statuses: [400, 404] } : { statuses: [400], field: 'user_id' };
    for (const method of ['POST', 'DELETE']) drafts.push(send('claim', method, `/api/v1/ledgers/${id}/claim/`, expected));
  }
  for (const id of ['0', '9007199254740991']) {
    drafts.push(send('claim', 'POST', `/api/v1/ledgers/${id}/claim/`, { statuses: [201] }), send('claim', 'POST', `/api/v1/ledgers/${id}/claim`, { statuses: [200] }));
    drafts.push(send('claim', 'DELETE', `/api/v1/ledgers/${id}/claim/`, { statuses: [204] }), send('claim', 'DELETE', `/api/v1/ledgers/${id}/claim/`, { statuses: [404] }));
  }
  drafts.push(send('claim', 'POST', '/api/v1/ledgers/5/claim/', { statuses: [401] }, 'none'), send('claim', 'POST', '/api/v1/ledgers/5/claim/', { statuses: [401] }, 'token-junk'));
  drafts.push(send('ledgers', 'GET', '/api/v1/ledgers/', { statuses: [200] }), send('ledgers', 'GET', '/api/v1/ledgers/', { statuses: [401] }, 'none'));
  return drafts;
}

/**
 * Issue 8's search queries sent on purpose: each hostile one must be a 400 naming `q`, never a 5xx, and
 * the look-alikes that fold to one query must be served (200) — from the same cached answer.
 */
export function searchCorpus(): Draft[] {
  const get = (target: string, expected: Expectation, route: Route = 'search'): Draft => ({ route, method: 'GET', target, auth: 'token', chunked: false, expected });
  const refused: Expectation = { statuses: [400], field: 'q' };
  const drafts: Draft[] = [];
  for (const q of ['%00', 'apple%00', '%01', '%1B%5B31m', '%7F', '%C2%85', '%E2%80%AE', '%E2%80%8B', '%E2%80%A8', '%F0%9F%8D%8E', '%F0%9F%98%80apple', '*', '%25', '%22', '%3Cscript%3E', '%ED%A0%80', '%FF', '%C0%80', '', '%20%20', 'a'.repeat(65), 'a'.repeat(257), 'a'.repeat(2_000)]) {
    drafts.push(get(`/api/v1/search/?q=${q}`, refused));
  }
  // Whitespace controls (tab, line feed, line separator) are folded into one space like any other space: searched.
  for (const q of ['a%0Ab', 'a%09b', 'a%E2%80%A8b']) drafts.push(get(`/api/v1/search/?q=${q}`, { statuses: [200] }));
  // Past the 16 KiB of a request line and headers: Node's own 431, as JSON.
  drafts.push(get(`/api/v1/search/?q=${'a'.repeat(20_000)}`, { statuses: [431] }));
  // Repeated, bracketed or missing q: a 400 naming it, whatever the parser makes of it.
  for (const query of ['q=apple&q=ibm', 'q=apple&q=%00', 'q[]=apple', 'q[a]=b', 'Q=apple', 'q']) drafts.push(get(`/api/v1/search/?${query}`, refused));
  drafts.push(get('/api/v1/search/', refused));
  // RTL and other scripts, accents composed and not, full-width, ligatures, spacing: searched.
  for (const q of ['apple', 'APPLE', '%20Apple%20%20', '%EF%BC%A1%EF%BC%B0%EF%BC%B0%EF%BC%AC%EF%BC%A5', percentEncode('מיקרוסופט'), percentEncode('l\'oréal'), percentEncode('l\'ore\u0301al'), percentEncode('ﬁat'), 'AT%26T', 'a'.repeat(64)]) {
    drafts.push(get(`/api/v1/search/?q=${q}`, { statuses: [200] }));
  }
  for (const keywords of ['%00', '%E2%80%AE', 'a'.repeat(65), '']) {
    drafts.push(get(`/query?function=SYMBOL_SEARCH&keywords=${keywords}`, { statuses: [200] }, 'query'));
  }
  for (const adjusted of ['yes', '1', '', 'TRUE', '%00', 'true%00']) drafts.push(get(`/api/v1/symbol/IBM/history/?adjusted=${adjusted}`, { statuses: [400], field: 'adjusted' }, 'history'));
  for (const adjusted of ['true', 'false']) drafts.push(get(`/api/v1/symbol/IBM/history/?adjusted=${adjusted}&from=1900-01-01&to=9999-12-31`, { statuses: [200] }, 'history'));
  return drafts;
}

const VALID_TRADE = { type: '"buy"', user_id: '23', symbol: '"ABX"', shares: '30', price: '134', timestamp: '1531522701000' };

/**
 * Issue 7's inputs, each sent on purpose rather than left to chance: every
 * integer boundary in every id, filter and trade field; every NUL, lone
 * surrogate, invisible and look-alike string in every string field (body,
 * query, path); every look-alike email in each of the three registration encodings.
 */
export function issueCorpus(): Draft[] {
  const get = (route: Route, target: string, expected?: Expectation, auth: Auth = 'token'): Draft => ({ route, method: 'GET', target, auth, chunked: false, expected });
  const postTrade = (fields: Record<string, string>, expected: Expectation): Draft => ({ route: 'trades', method: 'POST', target: '/trades', auth: 'none', chunked: false, body: wtf8(jsonObject({ ...VALID_TRADE, ...fields })), contentType: 'application/json', expected });
  const encodings = [
    (r: Registration) => ({ body: wtf8(JSON.stringify(r)), contentType: 'application/json' }),
    (r: Registration) => ({ body: formUrlEncoded(r), contentType: 'application/x-www-form-urlencoded' }),
    (r: Registration) => ({ body: multipart(r), contentType: 'multipart/form-data; boundary=XyZ' }),
  ];
  const postRegistration = (r: Registration, encoding: number, expected: Expectation): Draft => ({ route: 'register', method: 'POST', target: '/api/v1/register/', auth: 'none', chunked: false, registration: r, expected, ...encodings[encoding % 3]!(r) });
  // NUL, lone surrogates and (in names and emails) invisible characters are refused, naming the field.
  const unstorable = (text: string) => text.includes('\u0000') || hasLoneSurrogate(text);
  const refusedIn = (field: string, text: string, invisibleToo: boolean): Expectation =>
    unstorable(text) || (invisibleToo && hasFormatCharacter(text.trim())) ? { statuses: [400], field } : { statuses: [200, 201, 400], field };

  const drafts: Draft[] = [];
  // Ids and integer filters: 200/404, or a 400 naming the field — never a 5xx (issue 7, item 3).
  for (const n of INTEGER_BOUNDARIES) {
    drafts.push(get('trade', `/trades/${n}`, { statuses: [200, 404] }));
    for (const param of ['after_id', 'user_id', 'limit']) drafts.push(get('trades', `/trades?${param}=${n}`, { statuses: [200, 400], field: param }));
    drafts.push(get('trades', `/trades?limit=2&after_id=${n}`, { statuses: [200, 400], field: 'after_id' }));
    for (const field of ['user_id', 'shares', 'price', 'timestamp']) drafts.push(postTrade({ [field]: n }, { statuses: [201, 400], field }));
    drafts.push(get('symbol', `/api/v1/symbol/${n}/`));
  }
  for (const [i, text] of ISSUE_STRINGS.entries()) {
    const encoded = percentEncode(text);
    drafts.push(postTrade({ symbol: JSON.stringify(text) }, refusedIn('symbol', text, false)), postTrade({ type: JSON.stringify(text) }, { statuses: [400], field: 'type' }));
    drafts.push(get('trades', `/trades?symbol=${encoded}`, text.includes('\u0000') ? { statuses: [400], field: 'symbol' } : undefined));
    drafts.push(get('trades', `/trades?type=${encoded}`, { statuses: [400], field: 'type' }), get('trade', `/trades/${encoded}`, { statuses: [400, 404] }) /* 404, or 400 for a URL that does not decode */);
    drafts.push(get('symbol', `/api/v1/symbol/${encoded}/`), get('history', `/api/v1/symbol/IBM/history/?from=${encoded}`), get('symbols', `/api/v1/symbols/?symbols=IBM,${encoded}`));
    drafts.push(get('unknown', `/api/v1/${encoded}`, undefined, 'none'));
    drafts.push(postRegistration({ name: text, last_name: 'Mustaine', email: `name${i}@example.com` }, i, refusedIn('name', text, true)));
    drafts.push(postRegistration({ name: 'Dave', last_name: text, email: `last${i}@example.com` }, i + 1, refusedIn('last_name', text, true)));
    drafts.push(postRegistration({ name: 'Dave', last_name: 'Mustaine', email: `${text}@example.com` }, i + 2, refusedIn('email', text, true)));
  }
  for (const piece of RAW_URL_PIECES) {
    drafts.push(get('trades', `/trades?symbol=${piece}`), get('trade', `/trades/${piece}`), get('symbol', `/api/v1/symbol/${piece}/`), get('symbols', `/api/v1/symbols/?symbols=${piece}`));
  }
  for (const [i, email] of ISSUE_EMAILS.entries()) drafts.push(postRegistration({ name: 'Dave', last_name: 'Mustaine', email }, i, refusedIn('email', email, true)));
  return drafts;
}

/** Header values as clients send them: never CR, LF or NUL (those are parser cases, in fuzz-protocol.test.ts). */
export const headerSafe = (value: string) => value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');

export function authHeader(auth: Auth, key: string): [string, string] | undefined {
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

export function serialize(r: FuzzRequest): Buffer {
  const lines = [`${r.method} ${r.target} HTTP/1.1`, 'Host: 127.0.0.1', ...r.headers.map(([k, v]) => `${k}: ${v}`)];
  if (r.body === undefined) return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
  if (!r.chunked) return Buffer.concat([Buffer.from(`${[...lines, `Content-Length: ${r.body.length}`].join('\r\n')}\r\n\r\n`), r.body]);
  // Chunked, in two chunks split mid-body (mid-character, too, now and then).
  const half = Math.floor(r.body.length / 2);
  const chunk = (part: Buffer) => (part.length === 0 ? [] : [Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
  return Buffer.concat([Buffer.from(`${[...lines, 'Transfer-Encoding: chunked'].join('\r\n')}\r\n\r\n`), ...chunk(r.body.subarray(0, half)), ...chunk(r.body.subarray(half)), Buffer.from('0\r\n\r\n')]);
}

export function describeRequest(r: FuzzRequest): string {
  const headers = r.headers.map(([k, v]) => `${k}: ${show(v, 80)}`).join('; ');
  const body = r.body === undefined ? '' : ` body(${r.body.length} B${r.chunked ? ', chunked' : ''})=${showBytes(r.body, 160)}`;
  return `${r.method} ${show(r.target, 160)} [${headers}]${body}`;
}

/** Body bytes for a failure message: UTF-8 when they are, else each byte outside printable ASCII as \xNN. */
function showBytes(bytes: Buffer, max: number): string {
  try {
    return show(new TextDecoder('utf-8', { fatal: true }).decode(bytes), max);
  } catch {
    return `(not UTF-8) ${escapeBytes(bytes, max)}`;
  }
}

