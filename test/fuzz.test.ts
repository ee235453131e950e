import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { register } from './support/api.js';
import { testEngines } from './support/engines.js';
import { startService } from './support/service.js';

/**
 * Generated hostile requests against every route: random methods, paths,
 * headers, encodings and bodies. Whatever arrives, the service answers within
 * a deadline, never with a 5xx, and stores exactly what it accepted.
 */
const RUNS = { sqlite: 2500, postgres: 1000 } as const;
const DEADLINE_MS = 5000;

/**
 * A fixed seed keeps `npm test` reproducible: CI never turns red on a draw it
 * has not seen before. `FUZZ_SEED=random` explores fresh inputs (fast-check
 * prints the seed of a failure); `FUZZ_SEED=<n>` replays one.
 */
function fuzzSeed(): number {
  const chosen = process.env.FUZZ_SEED;
  if (chosen === 'random') return Date.now() % 2 ** 31;
  return chosen ? Number(chosen) : 20_261_122;
}

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '../../etc/passwd', '%00', '%2e%2e%2f', "'; DROP TABLE trades; --", '<script>', '\\', '%E0%A4%A', '%C0%AF', 'ＩＢＭ', 'IBM'.repeat(50), '{{7*7}}', '${jndi:ldap://x}', 'null', 'NaN', '-0', '1e309'),
);

const symbolSegment = hostileText.map((s) => encodeURIComponent(s) || 'IBM');

const path = fc.oneof(
  fc.constantFrom('/trades', '/trades/', '/trades/1', '/trades/0', '/trades/-1', '/trades/abc', '/trades/99999999999999999999', '/api/v1/register/', '/api/v1/me/', '/api/v1/keys/rotate/', '/api/v1/keys/revoke/', '/health', '/openapi.json', '/', '/api/v1/', '//trades', '/trades//1', '/api/v1/symbol/', '/api/v1/symbol//history/'),
  symbolSegment.map((s) => `/api/v1/symbol/${s}/`),
  symbolSegment.map((s) => `/api/v1/symbol/${s}/history/`),
  fc.tuple(symbolSegment, hostileText).map(([s, d]) => `/api/v1/symbol/${s}/history/?from=${encodeURIComponent(d)}&to=2024-01-01`),
  fc.array(symbolSegment, { maxLength: 120 }).map((list) => `/api/v1/symbols/?symbols=${list.join(',')}`),
  fc.tuple(hostileText, hostileText).map(([k, v]) => `/trades?${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
  fc.constantFrom('user_id', 'type', 'symbol', 'limit', 'after_id').chain((k) => hostileText.map((v) => `/trades?${k}=${encodeURIComponent(v)}`)),
  fc.webPath().map((p) => p || '/'),
);

const deepJson = fc.integer({ min: 1, max: 20_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));
const invalidUtf8 = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"name": "'), Buffer.from([0xff, 0xfe, ...bytes]), Buffer.from('"}')]));
const trade = fc.record({
  type: fc.oneof(fc.constantFrom('buy', 'sell'), hostileText),
  user_id: fc.oneof(fc.integer(), fc.double(), hostileText),
  symbol: fc.oneof(hostileText, fc.integer()),
  shares: fc.oneof(fc.integer({ min: -5, max: 120 }), fc.double(), hostileText),
  price: fc.oneof(fc.nat(), fc.double(), fc.constant(null)),
  timestamp: fc.oneof(fc.nat(), fc.bigInt().map(String)),
}, { requiredKeys: [] });
const registration = fc.record({
  name: fc.oneof(hostileText, fc.integer()),
  last_name: hostileText,
  email: fc.oneof(fc.emailAddress(), hostileText, fc.emailAddress().map((e) => `${e}\r\nBcc: x@y.z`)),
}, { requiredKeys: [] });

const body = fc.oneof(
  fc.constant(undefined),
  trade.map((t) => JSON.stringify(t)),
  registration.map((r) => JSON.stringify(r)),
  fc.json({ maxDepth: 6 }),
  deepJson,
  invalidUtf8,
  fc.string({ maxLength: 200 }),
  fc.integer({ min: 60_000, max: 90_000 }).map((n) => JSON.stringify({ symbol: 'x'.repeat(n) })),
  registration.map((r) => Object.entries(r).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')),
  registration.map((r) => Object.entries(r).map(([k, v]) => `--XyZ\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`).join('') + '--XyZ--\r\n'),
  fc.constantFrom('--XyZ\r\nContent-Disposition: form-data; name="a"', '{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {}}}', '\u0000\u0000', 'null', '[]', '"string"', '1e999'),
);

const contentType = fc.option(
  fc.constantFrom(
    'application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/problem+json',
    'text/plain', 'text/csv', 'application/xml', 'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=XyZ', 'multipart/form-data', 'multipart/form-data; boundary=', '*/*', 'garbage', ';;;',
  ),
  { nil: undefined },
);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
  url: path,
  body,
  contentType,
  auth: fc.constantFrom('none', 'valid', 'token-junk', 'bearer-empty', 'token-spaces', 'x-api-key-junk', 'basic'),
  accept: fc.option(fc.constantFrom('text/plain', 'text/csv', 'application/json', '*/*', 'text/csv;q=0', 'image/png', ',,;q=x'), { nil: undefined }),
  forwardedFor: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), hostileText), { nil: undefined }),
});

function headersFor(r: fc.Arbitrary<unknown> extends never ? never : { auth: string; contentType?: string; accept?: string; forwardedFor?: string }, key: string) {
  const headers: Record<string, string> = {};
  if (r.contentType) headers['content-type'] = r.contentType;
  if (r.accept) headers.accept = r.accept;
  if (r.forwardedFor) headers['x-forwarded-for'] = r.forwardedFor.replace(/[\r\n]/g, '');
  const auth: Record<string, [string, string] | undefined> = {
    valid: ['authorization', `Token ${key}`],
    'token-junk': ['authorization', 'Token deadbeef'],
    'bearer-empty': ['authorization', 'Bearer'],
    'token-spaces': ['authorization', 'Token a b c'],
    'x-api-key-junk': ['x-api-key', 'x'.repeat(300)],
    basic: ['authorization', 'Basic dXNlcjpwYXNz'],
  };
  const chosen = auth[r.auth];
  if (chosen) headers[chosen[0]] = chosen[1];
  return headers;
}

/** Rotate answers the new key as JSON, or bare when the request asked for `text/plain`. */
function keyFrom(response: { body: string; headers: Record<string, unknown>; json: <T>() => T }): string {
  return String(response.headers['content-type']).startsWith('text/plain') ? response.body : response.json<string>();
}

describe.each(testEngines())('fuzzing every route on %s', (engine) => {
  it(`when ${RUNS[engine]} hostile requests arrive, then none is a 5xx or hangs, and only accepted writes are stored`, async () => {
    const { app, db } = await startService(engine);
    // Keys stay valid across the run: a generated rotate or revoke must not lock the fuzzer out.
    let key = await register(app, 'fuzzer@example.com');
    let created = { trades: 0, accounts: 1 };

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const response = await Promise.race([
          app.inject({ method: r.method as 'GET', url: r.url, payload: r.body as string | Buffer | undefined, headers: headersFor(r, key) }),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS)),
        ]);
        expect(response.statusCode, `${r.method} ${r.url} → ${response.body.slice(0, 200)}`).toBeLessThan(500);
        if (response.statusCode === 201 && r.method === 'POST' && /^\/trades\/?$/.test(r.url)) created.trades++;
        if (response.statusCode === 201 && r.url.startsWith('/api/v1/register')) created.accounts++;
        if (response.statusCode === 201 && r.url.startsWith('/api/v1/keys/rotate')) key = keyFrom(response);
        if (response.statusCode === 204 && r.url.startsWith('/api/v1/keys/revoke')) key = await register(app, `fuzzer${++created.accounts}@example.com`);
        if (response.statusCode >= 400 && String(response.headers['content-type']).includes('json') && r.method !== 'HEAD') {
          expect(response.json()).toHaveProperty('detail');
        }
      }),
      { numRuns: RUNS[engine], seed: fuzzSeed() },
    );

    const trades = await db.selectFrom('trades').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const accounts = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(trades.n)).toBe(created.trades);
    expect(Number(accounts.n)).toBe(created.accounts);
  }, 240_000);
});
