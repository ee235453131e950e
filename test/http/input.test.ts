import { describe, expect, it } from 'vitest';
import { multipartBody, register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { providerEnv, startUpstream } from '../support/upstream.js';

const ABX = { type: 'buy', user_id: 23, symbol: 'ABX', shares: 30, price: 134, timestamp: 1531522701000 };
const DAVE = { name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com' };

// NUL cannot be stored by PostgreSQL; an unpaired surrogate cannot be encoded as UTF-8 at all
// (PostgreSQL stored U+FFFD, SQLite read back three of them). Only a JSON body can carry one:
// a URL or a form is percent-decoded from bytes, which never yields an unpaired surrogate.
const UNSTORABLE = [
  ['a NUL', 'A\u0000B'],
  ['a lone high surrogate', '\ud800X'],
  ['a lone low surrogate', 'X\udfff'],
  ['a reversed surrogate pair', '\udc00\ud800'],
] as const;

describe.each(testEngines())('text a database cannot store, on %s (issue 7)', (engine) => {
  it('when a trade carries NUL or an unpaired surrogate in any string field, then 400 names the field and nothing is stored', async () => {
    const { app } = await startService(engine);
    for (const [what, text] of UNSTORABLE) {
      for (const field of ['symbol', 'type']) {
        const response = await app.inject({ method: 'POST', url: '/trades', payload: { ...ABX, [field]: text } });
        expect(response.statusCode, `${what} in ${field}`).toBe(400);
        expect(response.json(), `${what} in ${field}`).toMatchObject({ field });
        expect(response.json().detail).toMatch(new RegExp(`^${field}: `));
      }
    }
    expect((await app.inject({ method: 'GET', url: '/trades' })).json()).toEqual([]);
  });

  it('when a JSON registration carries NUL or an unpaired surrogate in name, last_name or email, then 400 names the field and no account is made', async () => {
    const { app, db } = await startService(engine);
    for (const [what, text] of UNSTORABLE) {
      for (const [field, value] of [['name', text], ['last_name', text], ['email', `da${text}ve@example.com`]]) {
        const response = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, [field as string]: value } });
        expect(response.statusCode, `${what} in ${field}`).toBe(400);
        expect(response.json(), `${what} in ${field}`).toMatchObject({ field });
      }
    }
    expect(await db.selectFrom('accounts').selectAll().execute()).toEqual([]);
  });

  it('when a NUL arrives in the query, the path or a form (urlencoded or multipart), then 400 names the field', async () => {
    const upstream = await startUpstream();
    const { app, db } = await startService(engine, providerEnv(upstream));
    const key = await register(app, 'owner@example.com');
    const cases = [
      { url: '/trades?symbol=A%00B', field: 'symbol' },
      { url: '/trades?symbol=%00', field: 'symbol' },
      { url: '/trades?user_id=1&symbol=IBM%00', field: 'symbol' },
      { url: '/trades/1%00', field: 'id' },
      { url: '/api/v1/symbol/A%00B/', field: 'symbol', headers: { 'x-api-key': key } },
      { url: '/api/v1/symbol/A%00B/history/', field: 'symbol', headers: { 'x-api-key': key } },
      { url: '/api/v1/symbols/?symbols=IBM,A%00B', field: 'symbols', headers: { 'x-api-key': key } },
    ];
    for (const { url, field, headers } of cases) {
      const response = await app.inject({ method: 'GET', url, ...(headers ? { headers } : {}) });
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toMatchObject({ field });
    }
    for (const field of ['name', 'last_name', 'email']) {
      const value = field === 'email' ? 'da\u0000ve@example.com' : 'Da\u0000ve';
      const form = await app.inject({
        method: 'POST',
        url: '/api/v1/register/',
        payload: new URLSearchParams({ ...DAVE, [field]: value }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.statusCode, `urlencoded ${field}`).toBe(400);
      expect(form.json()).toMatchObject({ field });
      const multipart = await app.inject({ method: 'POST', url: '/api/v1/register/', ...multipartBody({ ...DAVE, [field]: value }) });
      expect(multipart.statusCode, `multipart ${field}`).toBe(400);
      expect(multipart.json()).toMatchObject({ field });
    }
    expect(await db.selectFrom('accounts').select('email').execute()).toEqual([{ email: 'owner@example.com' }]);
    expect(upstream.calls).toEqual({ alphavantage: [], twelvedata: [] });
  });

  it('when a quote symbol is non-ASCII that upper-cases to ASCII (long s, dotless i, sharp s), then 400 and no provider is asked', async () => {
    const upstream = await startUpstream();
    const { app } = await startService(engine, providerEnv(upstream));
    const key = await register(app);
    for (const symbol of ['%C5%BFpy', '%C4%B1bm', '%C3%9Fo']) {
      const response = await app.inject({ method: 'GET', url: `/api/v1/symbol/${symbol}/`, headers: { 'x-api-key': key } });
      expect(response.statusCode, symbol).toBe(400);
      expect(response.json().field).toBe('symbol');
    }
    expect(upstream.calls).toEqual({ alphavantage: [], twelvedata: [] });
  });

  it('when a trade symbol is well-formed text outside the BMP, then it is stored and read back exactly, up to 32 characters', async () => {
    const { app } = await startService(engine);
    const symbol = '𝔸'.repeat(32); // 32 characters, 64 UTF-16 code units
    const created = await app.inject({ method: 'POST', url: '/trades', payload: { ...ABX, symbol } });
    expect(created.statusCode).toBe(201);
    expect((await app.inject({ method: 'GET', url: '/trades/1' })).json().symbol).toBe(symbol);
    const listed = await app.inject({ method: 'GET', url: '/trades', query: { symbol } });
    expect(listed.json()).toHaveLength(1);
    // Everything else is stored as given: controls, noncharacters, the last code point.
    const odd = '\u0001\u001f\ufdd0\ufffe\uffff\u{10ffff}';
    const oddTrade = await app.inject({ method: 'POST', url: '/trades', payload: { ...ABX, symbol: odd } });
    expect(oddTrade.statusCode).toBe(201);
    expect((await app.inject({ method: 'GET', url: `/trades/${oddTrade.json().id}` })).json().symbol).toBe(odd);
    const tooLong = await app.inject({ method: 'POST', url: '/trades', payload: { ...ABX, symbol: `${symbol}𝔸` } });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ field: 'symbol' });
  });
});

describe('what the check covers', () => {
  it('when any route of the OpenAPI document gets a NUL in a path parameter, then 400 names that parameter', async () => {
    const { app } = await startService('sqlite');
    const key = await register(app);
    const paths = (await app.inject({ method: 'GET', url: '/openapi.json' })).json().paths as Record<string, Record<string, unknown>>;
    const withParameters = Object.entries(paths).filter(([path]) => path.includes('{'));
    expect(withParameters).not.toEqual([]);
    for (const [path, operations] of withParameters) {
      for (const method of Object.keys(operations)) {
        for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
          const url = path.replace(`{${name}}`, 'A%00B').replace(/\{\w+\}/g, 'IBM');
          const response = await app.inject({ method: method.toUpperCase() as 'GET', url, headers: { 'x-api-key': key } });
          expect(response.statusCode, `${method} ${url}`).toBe(400);
          expect(response.json(), `${method} ${url}`).toEqual({ detail: `${name}: must not contain NUL (\\u0000) characters`, field: name });
        }
      }
    }
  });
});

// Bytes that are not UTF-8 used to be decoded to U+FFFD before any check saw them: each body
// decoder (JSON, urlencoded form, multipart form) must refuse them instead, naming the field where
// it can. A U+FFFD the client really sent (EF BF BD) is text like any other.
const NOT_UTF8 = [
  ['an encoded lone high surrogate', [0xed, 0xa0, 0x80]],
  ['an encoded reversed pair', [0xed, 0xb0, 0x80, 0xed, 0xa0, 0x80]],
  ['an encoded lone low surrogate', [0x58, 0xed, 0xbf, 0xbf]],
  ['a byte UTF-8 never uses', [0x41, 0xff, 0x42]],
  ['an overlong slash', [0xc0, 0xaf]],
  ['a sequence cut short', [0x41, 0xe2, 0x82]],
] as const;
const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]); // U+FFFD, validly encoded

function multipartBytes(fields: Record<string, Buffer | string>): { payload: Buffer; headers: Record<string, string> } {
  const parts = Object.entries(fields).map(([name, value]) =>
    Buffer.concat([Buffer.from(`--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), Buffer.from(value), Buffer.from('\r\n')]),
  );
  return { payload: Buffer.concat([...parts, Buffer.from('--XyZ--\r\n')]), headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } };
}

const percentBytes = (bytes: readonly number[]) => bytes.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

describe.each(testEngines())('bodies that are not UTF-8, on %s (issue 7)', (engine) => {
  it('when a JSON trade carries bytes that are not UTF-8, then 400 names the field and nothing is stored; an encoded U+FFFD is stored as sent', async () => {
    const { app } = await startService(engine);
    const tradeWith = (symbol: Buffer) =>
      Buffer.concat([Buffer.from('{"type":"buy","user_id":1,"symbol":"'), symbol, Buffer.from('","shares":1,"price":1,"timestamp":1}')]);
    for (const [what, bytes] of NOT_UTF8) {
      for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/json; charset="UTF-8"']) {
        const response = await app.inject({ method: 'POST', url: '/trades', payload: tradeWith(Buffer.from([0x41, ...bytes])), headers: { 'content-type': contentType } });
        expect(response.statusCode, `${what} (${contentType})`).toBe(400);
        expect(response.json(), what).toMatchObject({ field: 'symbol' });
        expect(response.json().detail, what).toMatch(/^symbol: must be UTF-8/);
      }
    }
    // Outside any string, the body as a whole is named.
    const structural = await app.inject({ method: 'POST', url: '/trades', payload: Buffer.from([0x7b, 0xff, 0x7d]), headers: { 'content-type': 'application/json' } });
    expect(structural.statusCode).toBe(400);
    expect(structural.json()).toMatchObject({ field: 'body' });
    expect((await app.inject({ method: 'GET', url: '/trades' })).json()).toEqual([]);

    const replacement = await app.inject({ method: 'POST', url: '/trades', payload: tradeWith(Buffer.concat([Buffer.from('A'), REPLACEMENT, Buffer.from('B')])), headers: { 'content-type': 'application/json' } });
    expect(replacement.statusCode).toBe(201);
    expect((await app.inject({ method: 'GET', url: `/trades/${replacement.json().id}` })).json().symbol).toBe('A\ufffdB');
  });

  it('when a JSON body declares a charset other than UTF-8, then 415 says to send UTF-8', async () => {
    const { app } = await startService(engine);
    for (const charset of ['utf-16', 'UTF-16LE', 'iso-8859-1']) {
      const response = await app.inject({ method: 'POST', url: '/trades', payload: JSON.stringify(ABX), headers: { 'content-type': `application/json; charset=${charset}` } });
      expect(response.statusCode, charset).toBe(415);
      expect(response.json().detail, charset).toMatch(/UTF-8/);
    }
    expect((await app.inject({ method: 'GET', url: '/trades' })).json()).toEqual([]);
  });

  it("when a JSON body is empty, malformed or poisons a prototype, then Fastify's answers stand", async () => {
    const { app } = await startService(engine);
    const send = (payload: string) => app.inject({ method: 'POST', url: '/trades', payload, headers: { 'content-type': 'application/json' } });
    expect((await send('')).json()).toEqual({ detail: 'body: must be a JSON object, not empty.' });
    expect((await send('')).statusCode).toBe(400);
    const malformed = await send('{"type": ');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().detail).toMatch(/^Malformed JSON body: /);
    for (const poison of ['{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {"admin": true}}}']) {
      const response = await send(poison);
      expect(response.statusCode, poison).toBe(400);
      expect(response.json().detail, poison).toMatch(/^Malformed JSON body: /);
    }
  });

  it('when a urlencoded registration carries percent-escapes or raw bytes that are not UTF-8, then 400 names the field; an encoded U+FFFD registers', async () => {
    const { app, db } = await startService(engine);
    const form = (payload: string | Buffer) => app.inject({ method: 'POST', url: '/api/v1/register/', payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    for (const [what, bytes] of NOT_UTF8) {
      for (const field of ['name', 'last_name', 'email']) {
        const fields = { name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com' };
        const encoded = Object.entries(fields).map(([k, v]) => `${k}=${k === field ? `Da${percentBytes(bytes)}ve` : encodeURIComponent(v)}`).join('&');
        const escaped = await form(encoded);
        expect(escaped.statusCode, `${what} escaped in ${field}`).toBe(400);
        expect(escaped.json(), `${what} escaped in ${field}`).toMatchObject({ field });
        const raw = await form(Buffer.from(encoded.replace(percentBytes(bytes), Buffer.from(bytes).toString('latin1')), 'latin1'));
        expect(raw.statusCode, `${what} raw in ${field}`).toBe(400);
        expect(raw.json(), `${what} raw in ${field}`).toMatchObject({ field });
      }
    }
    // A stray % is not an escape at all (as browsers and Fastify's own parser read it): kept as sent.
    const stray = await form('name=100%&last_name=Mustaine&email=stray%40example.com');
    expect(stray.statusCode).toBe(201);
    expect(await db.selectFrom('accounts').select('email').execute()).toEqual([{ email: 'stray@example.com' }]);
    const replacement = await form('name=Da%EF%BF%BDve&last_name=M%C3%BCller+Sm%C3%ADth&email=fffd%40example.com');
    expect(replacement.statusCode).toBe(201);
    const raw = await form(Buffer.concat([Buffer.from('name=Da'), REPLACEMENT, Buffer.from('ve&last_name=Jos\u00e9&email=raw%40example.com')]));
    expect(raw.statusCode).toBe(201);
    const stored = await db.selectFrom('accounts').select(['name', 'last_name', 'email']).orderBy('email').execute();
    expect(stored).toEqual([
      { name: 'Da\ufffdve', last_name: 'Müller Smíth', email: 'fffd@example.com' },
      { name: 'Da\ufffdve', last_name: 'José', email: 'raw@example.com' },
      { name: '100%', last_name: 'Mustaine', email: 'stray@example.com' },
    ]);
  });

  it('when a multipart registration carries bytes that are not UTF-8, then 400 names the field; an encoded U+FFFD registers', async () => {
    const { app, db } = await startService(engine);
    for (const [what, bytes] of NOT_UTF8) {
      for (const field of ['name', 'last_name', 'email']) {
        const value = Buffer.concat([Buffer.from('Da'), Buffer.from(bytes), Buffer.from(field === 'email' ? 've@example.com' : 've')]);
        const response = await app.inject({ method: 'POST', url: '/api/v1/register/', ...multipartBytes({ ...DAVE, [field]: value }) });
        expect(response.statusCode, `${what} in ${field}`).toBe(400);
        expect(response.json(), `${what} in ${field}`).toMatchObject({ field });
      }
    }
    const replacement = await app.inject({
      method: 'POST',
      url: '/api/v1/register/',
      ...multipartBytes({ name: Buffer.concat([Buffer.from('Da'), REPLACEMENT, Buffer.from('ve')]), last_name: 'Jos\u00e9', email: 'fffd@example.com' }),
    });
    expect(replacement.statusCode).toBe(201);
    expect(await db.selectFrom('accounts').select(['name', 'last_name', 'email']).execute()).toEqual([{ name: 'Da\ufffdve', last_name: 'José', email: 'fffd@example.com' }]);
  });
});

describe.each(testEngines())('query strings that are not UTF-8, on %s (issue 7)', (engine) => {
  it('when a query value percent-decodes to bytes that are not UTF-8, then 400 names the parameter; an encoded U+FFFD is a value like any other', async () => {
    const upstream = await startUpstream();
    const { app } = await startService(engine, providerEnv(upstream));
    const key = await register(app, 'owner@example.com');
    for (const [what, bytes] of NOT_UTF8) {
      const escaped = percentBytes(bytes);
      const cases = [
        { url: `/trades?symbol=A${escaped}B`, field: 'symbol' },
        { url: `/trades?user_id=1&symbol=${escaped}`, field: 'symbol' },
        { url: `/trades?type=${escaped}`, field: 'type' },
        { url: `/api/v1/symbols/?symbols=IBM,${escaped}`, field: 'symbols' },
        { url: `/api/v1/symbol/IBM/history/?from=${escaped}`, field: 'from' },
      ];
      for (const { url, field } of cases) {
        const response = await app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
        expect(response.statusCode, `${what}: ${url}`).toBe(400);
        expect(response.json(), `${what}: ${url}`).toMatchObject({ field });
      }
    }
    const replacement = await app.inject({ method: 'GET', url: '/trades?symbol=A%EF%BF%BDB' });
    expect(replacement.statusCode).toBe(200);
    // A % that starts no escape, + as a space, a repeated or empty parameter: read as before.
    expect((await app.inject({ method: 'GET', url: '/trades?symbol=100%&limit=5' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/trades?symbol=A+B&&limit=5' })).statusCode).toBe(200);
    expect(upstream.calls).toEqual({ alphavantage: [], twelvedata: [] });
  });
});
