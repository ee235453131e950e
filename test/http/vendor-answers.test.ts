import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { providerEnv, startUpstream } from '../support/upstream.js';

const AV_MATCH = {
  '1. symbol': 'IBM', '2. name': 'International Business Machines Corp', '3. type': 'Equity', '4. region': 'United States',
  '5. marketOpen': '09:30', '6. marketClose': '16:00', '7. timezone': 'UTC-04', '8. currency': 'USD', '9. matchScore': '1.0000',
};

/**
 * What a vendor (or whatever answers at its base URL: a proxy, a captive portal, a compromised host) sends is
 * read, stored in the search cache and echoed to every client who searches the same words for a day. A
 * vendor answer was read whole, however large, and a match's text was stored and served as sent, any length,
 * control characters (terminal escapes, NUL) included.
 */
describe.each(testEngines())('what a vendor answers, on %s', (engine) => {
  async function setup() {
    const upstream = await startUpstream();
    const service = await startService(engine, providerEnv(upstream, ['alphavantage']));
    const key = await register(service.app);
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    return { upstream, get };
  }

  it('when a vendor answers a search with 20 MB, then it is refused unread, not stored and served', async () => {
    const { upstream, get } = await setup();
    upstream.setFor('alphavantage', 'search', 'big', { kind: 'json', body: { bestMatches: [{ ...AV_MATCH, '2. name': 'x'.repeat(20 * 1024 * 1024) }] } });
    const response = await get('/api/v1/search/?q=big');
    expect(response.statusCode).toBe(502);
    expect(response.body.length).toBeLessThan(1000);
  });

  it.each([
    ['a name of 10,000 characters', { '2. name': 'x'.repeat(10_000) }],
    ['a terminal escape in the name', { '2. name': 'IBM \u001b[2J\u001b[31mpwned' }],
    ['a NUL in the symbol', { '1. symbol': 'IBM\u0000' }],
  ])('when a vendor answers a search with %s, then the answer is refused as malformed', async (_, fields) => {
    const { upstream, get } = await setup();
    upstream.setFor('alphavantage', 'search', 'odd', { kind: 'json', body: { bestMatches: [{ ...AV_MATCH, ...fields }] } });
    const response = await get('/api/v1/search/?q=odd');
    expect(response.statusCode, response.body.slice(0, 300)).toBe(502);
  });
});
