import { describe, expect, it } from 'vitest';
import { register, multipartBody } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';

const DAVE = { name: 'Dave', last_name: 'Mustaine', email: 'examplemail@email.com' };

describe.each(testEngines())('accounts and API keys on %s', (engine) => {
  describe('POST /api/v1/register/', () => {
    it("when the seed's multipart form is sent, then 201 and the body is the key as a JSON string", async () => {
      const { app } = await startService(engine);
      const response = await app.inject({ method: 'POST', url: '/api/v1/register/', ...multipartBody(DAVE) });
      expect(response.statusCode).toBe(201);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toMatch(/^"[0-9a-f]{40}"$/);
    });

    it('when the form is urlencoded or JSON, then it registers too, with or without the trailing slash', async () => {
      const { app } = await startService(engine);
      const form = await app.inject({
        method: 'POST',
        url: '/api/v1/register',
        payload: 'name=Dave&last_name=Mustaine&email=a%40example.com',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.statusCode).toBe(201);
      const json = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, email: 'b@example.com' } });
      expect(json.statusCode).toBe(201);
      expect(form.json()).not.toBe(json.json());
    });

    it('when the client asks for text/plain, then the bare key comes back', async () => {
      const { app } = await startService(engine);
      const response = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: DAVE, headers: { accept: 'text/plain' } });
      expect(response.statusCode).toBe(201);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.body).toMatch(/^[0-9a-f]{40}$/);
    });

    it.each([
      ['a missing last_name', { name: 'Dave', email: 'd@example.com' }, 'last_name', /required/],
      ['a blank name', { ...DAVE, name: '   ' }, 'name', /blank/],
      ['an invalid email', { ...DAVE, email: 'not-an-email' }, 'email', /valid email/],
      ['an email with spaces', { ...DAVE, email: 'a b@example.com' }, 'email', /valid email/],
      ['a too long name', { ...DAVE, name: 'x'.repeat(101) }, 'name', /at most 100/],
      ['a control character', { ...DAVE, last_name: 'Mus\ntaine' }, 'last_name', /control/],
      ['a numeric name', { ...DAVE, name: 42 }, 'name', /string/],
    ])('when the registration has %s, then 400 names the field', async (_case, payload, field, detail) => {
      const { app } = await startService(engine);
      const response = await app.inject({ method: 'POST', url: '/api/v1/register/', payload });
      expect(response.statusCode).toBe(400);
      expect(response.json().field).toBe(field);
      expect(response.json().detail).toMatch(detail);
    });

    it('when the email is registered already, in any case, then 400 on email', async () => {
      const { app } = await startService(engine);
      await register(app, 'Dave@Example.com');
      const again = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, email: ' dave@EXAMPLE.com ' } });
      expect(again.statusCode).toBe(400);
      expect(again.json()).toEqual({ detail: 'email: An account with this email is already registered.', field: 'email' });
    });

    it('when an email is registered again as a look-alike, then 400 on email and still one account each', async () => {
      const { app, db } = await startService(engine);
      const lookAlikes = [
        ['composed and decomposed é', 'jos\u00e9@example.com', 'jose\u0301@example.com'],
        ['fullwidth letters', 'dave@example.com', '\uff44\uff21ve@example.com'],
        ['a fullwidth at sign', 'eve@example.com', 'eve\uff20example.com'],
        ['the Kelvin sign', 'kate@example.com', '\u212Aate@example.com'],
        ['a ligature', 'office@example.com', 'o\ufb03ce@example.com'],
        ['sharp s, capital sharp s and ss', 'strasse@example.com', 'STRA\u1E9EE@example.com'],
        ['final and medial sigma', '\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c3@example.com', '\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3@example.com'],
        ['a long s', 'spy@example.com', '\u017fpy@example.com'],
      ];
      for (const [what, first, second] of lookAlikes) {
        await register(app, first);
        const again = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, email: second } });
        expect(again.statusCode, what).toBe(400);
        expect(again.json(), what).toEqual({ detail: 'email: An account with this email is already registered.', field: 'email' });
      }
      const stored = await db.selectFrom('accounts').select('email').orderBy('id').execute();
      expect(stored.map((a) => a.email)).toEqual(lookAlikes.map(([, first]) => (first as string).normalize('NFKC')));
    });

    it('when an email is registered, then it is kept trimmed, in NFKC form, its case as given', async () => {
      const { app } = await startService(engine);
      const key = await register(app, ' Jose\u0301.\uff24ave@Example.com ');
      const me = await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } });
      expect(me.json().email).toBe('Jos\u00e9.Dave@Example.com');
    });

    it('when a name, last name or email contains an invisible or control character, then 400 names the field', async () => {
      const { app, db } = await startService(engine);
      const invisible = {
        'zero-width space': '\u200b',
        'zero-width non-joiner': '\u200c',
        'zero-width joiner': '\u200d',
        'byte order mark': '\ufeff',
        'left-to-right embedding': '\u202a',
        'right-to-left override': '\u202e',
        'left-to-right isolate': '\u2066',
        'pop directional isolate': '\u2069',
        'soft hyphen': '\u00ad',
        'word joiner': '\u2060',
        'Arabic letter mark': '\u061c',
        'line separator': '\u2028',
        'next line (C1 control)': '\u0085',
        delete: '\u007f',
        'Hangul filler': '\u3164',
        'variation selector': '\ufe0f',
        'tag character': '\u{e0041}',
      };
      for (const [what, character] of Object.entries(invisible)) {
        const cases = { name: `Da${character}ve`, last_name: `Mus${character}taine`, email: `da${character}ve@example.com` };
        for (const [field, value] of Object.entries(cases)) {
          const response = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, [field]: value } });
          expect(response.statusCode, `${what} in ${field}`).toBe(400);
          expect(response.json(), `${what} in ${field}`).toEqual({ detail: `${field}: may not contain invisible or control characters`, field });
        }
      }
      expect(await db.selectFrom('accounts').selectAll().execute()).toEqual([]);
    });

    it('when an email grows past 254 characters once normalised (200 dotted capital I), then 400 on email, never a 500', async () => {
      const { app, db } = await startService(engine);
      const response = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, email: `${'\u0130'.repeat(200)}@example.com` } });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ detail: 'email: must be at most 254 characters once normalised', field: 'email' });
      expect(await db.selectFrom('accounts').selectAll().execute()).toEqual([]);
    });

    it('when an email still fits once normalised (100 dotted capital I), then it registers, and its lower-case form is the same account', async () => {
      const { app } = await startService(engine);
      await register(app, `${'\u0130'.repeat(100)}@example.com`);
      const again = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, email: `${'i\u0307'.repeat(100)}@example.com` } });
      expect(again.statusCode).toBe(400);
      expect(again.json().field).toBe('email');
    });

    it('when a name is 100 characters outside the BMP, then it fits (characters, not UTF-16 units); 101 do not', async () => {
      const { app } = await startService(engine);
      const fits = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, name: '\u{1d538}'.repeat(100) } });
      expect(fits.statusCode).toBe(201);
      const tooLong = await app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, email: 'b@example.com', name: '\u{1d538}'.repeat(101) } });
      expect(tooLong.statusCode).toBe(400);
      expect(tooLong.json()).toEqual({ detail: 'name: must be at most 100 characters', field: 'name' });
    });

    it('when 20 registrations of one email race, then exactly one succeeds', async () => {
      const { app } = await startService(engine);
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          app.inject({ method: 'POST', url: '/api/v1/register/', payload: { ...DAVE, email: i % 2 ? 'race@example.com' : 'RACE@example.com' } }),
        ),
      );
      expect(responses.filter((r) => r.statusCode === 201)).toHaveLength(1);
      expect(responses.filter((r) => r.statusCode === 400)).toHaveLength(19);
    });

    it('when a file is uploaded in the form, then it is refused with a 4xx, not stored', async () => {
      const { app } = await startService(engine);
      const boundary = 'b0undary';
      const payload =
        `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nDave\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="email"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`;
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/register/',
        payload,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.statusCode).toBeLessThan(500);
      expect(response.json()).toHaveProperty('detail');
    });

    it('when a key is issued, then only its SHA-256 hash and prefix are stored', async () => {
      const { app, db } = await startService(engine);
      const key = await register(app);
      const rows = await db.selectFrom('api_keys').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(key);
      const { createHash } = await import('node:crypto');
      expect(rows[0]?.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
      expect(rows[0]?.prefix).toBe(key.slice(0, 8));
    });
  });

  describe('authentication', () => {
    it('when the key is sent as Token, Bearer or X-API-Key, then it is accepted', async () => {
      const { app } = await startService(engine);
      const key = await register(app);
      for (const headers of [{ authorization: `Token ${key}` }, { authorization: `Bearer ${key}` }, { 'x-api-key': key }]) {
        const response = await app.inject({ method: 'GET', url: '/api/v1/me/', headers });
        expect(response.statusCode).toBe(200);
        expect(response.json()).toMatchObject({ name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com', key_prefix: key.slice(0, 8) });
      }
    });

    it.each([
      [{}, 'Authentication credentials were not provided.'],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, 'Authentication credentials were not provided.'],
      [{ authorization: 'Token 0000000000000000000000000000000000000000' }, 'Invalid token.'],
      [{ 'x-api-key': 'wrong' }, 'Invalid token.'],
      [{ authorization: 'Token' }, 'Invalid token header. No credentials provided.'],
      [{ authorization: 'Token a b' }, 'Invalid token header. Token string should not contain spaces.'],
    ])('when the headers are %j, then 401 "%s" with WWW-Authenticate: Token', async (headers, detail) => {
      const { app } = await startService(engine);
      await register(app);
      const response = await app.inject({ method: 'GET', url: '/api/v1/symbol/IBM/', headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ detail });
      expect(response.headers['www-authenticate']).toBe('Token');
    });

    it('when the key is rotated, then the old key fails at once and the new one works', async () => {
      const { app } = await startService(engine);
      const oldKey = await register(app);
      await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { authorization: `Token ${oldKey}` } }); // now cached
      const rotated = await app.inject({ method: 'POST', url: '/api/v1/keys/rotate/', headers: { authorization: `Token ${oldKey}` } });
      expect(rotated.statusCode).toBe(201);
      const newKey = rotated.json<string>();
      expect(newKey).toMatch(/^[0-9a-f]{40}$/);
      expect((await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { authorization: `Token ${oldKey}` } })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { authorization: `Token ${newKey}` } })).statusCode).toBe(200);
    });

    it('when the key is rotated with Accept: text/plain, then the bare new key comes back and works', async () => {
      const { app } = await startService(engine);
      const oldKey = await register(app);
      const rotated = await app.inject({ method: 'POST', url: '/api/v1/keys/rotate/', headers: { authorization: `Token ${oldKey}`, accept: 'text/plain' } });
      expect(rotated.statusCode).toBe(201);
      expect(rotated.headers['content-type']).toMatch(/^text\/plain/);
      expect(rotated.body).toMatch(/^[0-9a-f]{40}$/);
      expect((await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { authorization: `Token ${rotated.body}` } })).statusCode).toBe(200);
    });

    it('when the key is revoked, then 204 and it stops working at once', async () => {
      const { app } = await startService(engine);
      const key = await register(app);
      await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } });
      const revoked = await app.inject({ method: 'POST', url: '/api/v1/keys/revoke/', headers: { 'x-api-key': key } });
      expect(revoked.statusCode).toBe(204);
      const after = await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } });
      expect(after.statusCode).toBe(401);
      expect(after.json()).toEqual({ detail: 'Invalid token.' });
    });
  });
});

describe('malformed multipart bodies (found by the fuzz suite)', () => {
  it.each([
    ['no boundary', 'multipart/form-data', '[]'],
    ['an empty boundary', 'multipart/form-data; boundary=', 'x'],
    ['an over-long boundary', `multipart/form-data; boundary=${'b'.repeat(300)}`, 'x'],
    ['data cut short', 'multipart/form-data; boundary=XyZ', '--XyZ\r\nContent-Disposition: form-data; name="a"'],
  ])('when the form has %s, then 400 with a detail, on register and on a key route', async (_case, contentType, payload) => {
    const { app } = await startService('sqlite');
    for (const url of ['/api/v1/register/', '/api/v1/keys/rotate/']) {
      const response = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });
      expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, url).toBeLessThan(500);
      expect(response.json().detail).toBeTruthy();
    }
  });
});

describe('the API root and methods a route does not serve', () => {
  it('when GET /api/v1/ is asked without a key, then 200 with where each endpoint lives, counted as anonymous', async () => {
    const { app } = await startService('sqlite');
    for (const url of ['/api/v1/', '/api/v1']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.json()).toMatchObject({ register: '/api/v1/register/', symbol: '/api/v1/symbol/{symbol}/', openapi: '/openapi.json' });
      expect(response.headers['ratelimit-policy']).toMatch(/^"anon";/);
    }
  });

  it('when a public route gets a method it does not serve, then 405 with Allow, in DRF words, before the body is read', async () => {
    const { app } = await startService('sqlite');
    const cases = [
      ['GET', '/api/v1/register/', 'POST'],
      ['PUT', '/api/v1/register/', 'POST'],
      ['DELETE', '/api/v1/', 'GET'],
      ['OPTIONS', '/api/v1/', 'GET'],
    ] as const;
    for (const [method, url, allow] of cases) {
      const response = await app.inject({ method, url, payload: 'x'.repeat(200_000), headers: { 'content-type': 'application/xml' } });
      expect(response.statusCode, `${method} ${url}`).toBe(405);
      expect(response.headers.allow).toBe(allow);
      expect(response.json()).toEqual({ detail: `Method "${method}" not allowed.` });
    }
  });

  it('when HEAD is sent wherever GET is served, then it is answered as GET, without a body; a key-only route still wants the key', async () => {
    const { app } = await startService('sqlite');
    const key = await register(app);
    for (const url of ['/api/v1/', '/api/v1/me/', '/api/v1/symbol/IBM/', '/trades', '/trades/1']) {
      const get = await app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
      const head = await app.inject({ method: 'HEAD', url, headers: { 'x-api-key': key } });
      expect(head.statusCode, url).toBe(get.statusCode);
      expect(head.body, url).toBe('');
    }
    expect((await app.inject({ method: 'HEAD', url: '/api/v1/me/' })).statusCode).toBe(401);
    // POST-only paths have no HEAD: 405, with Allow naming what they serve.
    const head = await app.inject({ method: 'HEAD', url: '/api/v1/register/' });
    expect(head.statusCode).toBe(405);
    expect(head.headers.allow).toBe('POST');
  });

  it('when a route that needs a key gets a wrong method, then 401 without a key and 405 with one', async () => {
    const { app } = await startService('sqlite');
    const key = await register(app);
    const cases = [
      ['DELETE', '/api/v1/symbol/IBM/', 'GET'],
      ['POST', '/api/v1/symbols/?symbols=IBM', 'GET'],
      ['PUT', '/api/v1/symbol/IBM/history/', 'GET'],
      ['POST', '/api/v1/me/', 'GET'],
      ['GET', '/api/v1/keys/rotate/', 'POST'],
      ['PATCH', '/api/v1/keys/revoke/', 'POST'],
    ] as const;
    for (const [method, url, allow] of cases) {
      const anonymous = await app.inject({ method, url });
      expect(anonymous.statusCode, `${method} ${url} without a key`).toBe(401);
      const withKey = await app.inject({ method, url, headers: { 'x-api-key': key } });
      expect(withKey.statusCode, `${method} ${url}`).toBe(405);
      expect(withKey.headers.allow).toBe(allow);
    }
    // Nothing was rotated or revoked by the refused requests.
    expect((await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } })).statusCode).toBe(200);
  });
});
