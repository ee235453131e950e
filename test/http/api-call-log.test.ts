import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { escapeForLog, formatApiCall } from '../../src/adapters/http/api-call-log.js';
import { register } from '../support/api.js';
import { parseAnswer, rawExchange } from '../support/raw-connection.js';
import { startService } from '../support/service.js';

describe('the apicalls.log line', () => {
  it("has the original service's format, in UTC", () => {
    expect(formatApiCall(new Date('2022-07-31T13:56:08Z'), 'GET', '/api/v1/symbol/ibm/', 'user@example.com')).toBe(
      '[31/Jul/2022 13:56:08] [INFO] [API_REQUEST] GET /api/v1/symbol/ibm/ user@example.com\n',
    );
    expect(formatApiCall(new Date('2022-08-01T00:31:01Z'), 'POST', '/api/v1/register/', 'AnonymousUser')).toBe(
      '[01/Aug/2022 00:31:01] [INFO] [API_REQUEST] POST /api/v1/register/ AnonymousUser\n',
    );
  });

  it('escapes control characters and backslashes, so no line can be forged', () => {
    expect(escapeForLog('/a\r\n[01/Aug/2022 00:00:00] [INFO] forged')).toBe('/a\\x0d\\x0a[01/Aug/2022 00:00:00] [INFO] forged');
    expect(escapeForLog('\u001b[31mred\u0000\\x0a')).toBe('\\x1b[31mred\\x00\\\\x0a');
    expect(escapeForLog('/símbolo/€')).toBe('/símbolo/€');
  });

  it('cuts a path past 1,024 characters and says how much it left out, so a flood of long URLs cannot fill the disk', () => {
    const line = formatApiCall(new Date('2022-07-31T13:56:08Z'), 'GET', `/api/v1/${'x'.repeat(15_000)}`, 'AnonymousUser');
    expect(line).toBe(`[31/Jul/2022 13:56:08] [INFO] [API_REQUEST] GET /api/v1/${'x'.repeat(1_016)}…(+13984 characters) AnonymousUser\n`);
    const exact = `/api/v1/${'y'.repeat(1_016)}`;
    expect(formatApiCall(new Date('2022-07-31T13:56:08Z'), 'GET', exact, 'AnonymousUser')).toContain(` ${exact} AnonymousUser`);
  });

  it('escapes everything not printable, so a look-alike user never reads as the real one', () => {
    const line = formatApiCall(new Date('2022-07-31T13:56:08Z'), 'GET', '/api/v1/me/', 'da\u200bve@example.com');
    expect(line).toBe('[31/Jul/2022 13:56:08] [INFO] [API_REQUEST] GET /api/v1/me/ da\\u200bve@example.com\n');
    expect(line).not.toContain('dave@example.com');
    const cases: [string, string, string][] = [
      ['zero-width joiner (Cf)', '\u200d', '\\u200d'],
      ['byte order mark (Cf)', '\ufeff', '\\ufeff'],
      ['right-to-left override (bidi, Cf)', '\u202e', '\\u202e'],
      ['bidi isolate (Cf)', '\u2066', '\\u2066'],
      ['soft hyphen (Cf)', '\u00ad', '\\xad'],
      ['C1 control (Cc)', '\u0085', '\\x85'],
      ['lone high surrogate (Cs)', '\ud800', '\\ud800'],
      ['lone low surrogate (Cs)', '\udc00', '\\udc00'],
      ['private use (Co)', '\ue000', '\\ue000'],
      ['non-character (Cn)', '\uffff', '\\uffff'],
      ['non-character (Cn)', '\ufdd0', '\\ufdd0'],
      ['astral tag character (Cf)', '\u{e0041}', '\\u{e0041}'],
      ['line separator (Zl)', '\u2028', '\\u2028'],
      ['paragraph separator (Zp)', '\u2029', '\\u2029'],
    ];
    for (const [what, raw, escaped] of cases) expect(escapeForLog(`a${raw}b`), what).toBe(`a${escaped}b`);
    // Printable text outside ASCII is kept as it is, astral letters and emoji included.
    expect(escapeForLog('ｄave Kate josé 😀 𝔸')).toBe('ｄave Kate josé 😀 𝔸');
  });
});

describe('logging API calls', () => {
  it('when the API and the ledger are called, then each call is one line with the user or AnonymousUser, and no query string', async () => {
    const logPath = join(inject('sqliteDir'), `calls-${Date.now()}.log`);
    const service = await startService('sqlite', { APICALLS_LOG: logPath });
    const { app } = service;
    const key = await register(app, 'trader@example.com');
    await app.inject({ method: 'GET', url: '/api/v1/symbol/ibm/', headers: { authorization: `Token ${key}` } });
    await app.inject({ method: 'GET', url: `/api/v1/symbols/?symbols=IBM&apikey=${key}`, headers: { 'x-api-key': key } });
    await app.inject({ method: 'GET', url: '/api/v1/symbol/ibm/', headers: { authorization: 'Token wrong' } });
    await app.inject({ method: 'POST', url: '/trades', payload: { type: 'buy', user_id: 1, symbol: 'A', shares: 10, price: 1, timestamp: 1 } });
    await app.inject({ method: 'GET', url: '/trades/1?x=%0d%0a' });
    await app.inject({ method: 'GET', url: '/health' });
    await app.inject({ method: 'GET', url: '/openapi.json' });
    await service.close(); // flushes

    const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean);
    const stamp = String.raw`\[\d{2}/[A-Z][a-z]{2}/\d{4} \d{2}:\d{2}:\d{2}\] \[INFO\] \[API_REQUEST\]`;
    const expected = [
      'POST /api/v1/register/ AnonymousUser',
      'GET /api/v1/symbol/ibm/ trader@example.com',
      'GET /api/v1/symbols/ trader@example.com',
      'GET /api/v1/symbol/ibm/ AnonymousUser',
      'POST /trades AnonymousUser',
      'GET /trades/1 AnonymousUser',
    ];
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^${stamp} ${expected[i]!.replace(/[/?]/g, '\\$&')}$`)));
    expect(lines.join('\n')).not.toContain(key);
  });

  it('when a path is spelled with percent-escapes or as an absolute URL, then the call is still logged, as requested', async () => {
    const logPath = join(inject('sqliteDir'), `calls-${Date.now()}-escaped.log`);
    const service = await startService('sqlite', { APICALLS_LOG: logPath });
    const { app } = service;
    const key = await register(app, 'sly@example.com');
    expect((await app.inject({ method: 'GET', url: '/%61pi/v1/me/', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/%761/me/', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const absolute = await rawExchange(port, `GET http://elsewhere/%74rades HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(parseAnswer(absolute).status).toBe(200);
    await service.close();

    const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((line) => line.replace(/^.*\[API_REQUEST\] /, ''));
    expect(lines).toEqual([
      'POST /api/v1/register/ AnonymousUser',
      'GET /%61pi/v1/me/ sly@example.com',
      'GET /api/%761/me/ sly@example.com',
      'GET http://elsewhere/%74rades AnonymousUser',
    ]);
  });
});
