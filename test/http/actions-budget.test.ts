import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream, type Vendor } from '../support/upstream.js';

/**
 * Twelve Data's /splits and /dividends need its Grow plan: on the free Basic key a deployment is
 * most likely to hold, both answer 403, whatever the symbol. Each such answer still costs a call of
 * the quota the service counts (8 a minute, 800 a day), and a failed refresh of actions records
 * nothing, so it is asked again when its back-off ends (30 s, or an hour while Alpha Vantage's day
 * is spent) — for every stored symbol, two calls each. A client asking adjusted history of the
 * stored symbols over and over kept Twelve Data's minute full and spent its day for everyone,
 * never getting an answer. A plan refusal says the vendor does not offer the endpoint, for any
 * symbol: it is not asked again that UTC day.
 */
describe.each(testEngines())('actions a vendor does not offer on its plan, on %s', (engine) => {
  async function setup(order: Vendor[]) {
    let now = new Date('2022-08-01T12:00:00Z');
    const upstream = await startUpstream();
    const service = await startService(engine, providerEnv(upstream, order), undefined, { now: () => now });
    const key = await register(service.app);
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    const symbols = ['IBM', 'AAPL', 'MSFT'];
    for (const symbol of symbols) {
      upstream.set(order[0]!, symbol, { kind: 'bars', bars: IBM_BARS });
      expect((await get(`/api/v1/symbol/${symbol}/`)).statusCode).toBe(200); // stored
      for (const capability of ['splits', 'dividends'] as const) {
        upstream.setFor('alphavantage', capability, symbol, { kind: 'daily_limit' }); // its day is spent
        upstream.setFor('twelvedata', capability, symbol, { kind: 'premium' }); // 403 on the Basic plan
      }
    }
    // Storing them was three lookups this minute: the attack starts in a minute of its own (its fair share fresh).
    now = new Date(now.getTime() + 60_000);
    /** Every stored symbol's adjusted history, `rounds` times, `stepMs` apart; each refused, never served unadjusted. */
    async function attack(rounds: number, stepMs: number) {
      for (let round = 0; round < rounds; round++) {
        for (const symbol of symbols) {
          const response = await get(`/api/v1/symbol/${symbol}/history/?adjusted=true`);
          expect(response.statusCode, response.body).toBeGreaterThanOrEqual(500);
          expect(response.json().detail).toBeTypeOf('string');
        }
        now = new Date(now.getTime() + stepMs);
      }
    }
    return { upstream, attack };
  }

  it('when Twelve Data answers 403 for splits and dividends, then stored symbols\' adjusted history asked hour after hour asks it once', async () => {
    const { upstream, attack } = await setup(['alphavantage', 'twelvedata']);
    await attack(4, 3_700_000);
    expect(upstream.capabilityCalls.twelvedata).toMatchObject({ splits: ['IBM'], dividends: [] }); // a first fetch asks dividends only once splits answered
  });

  it('when Twelve Data is the only provider, then asking every half minute asks it once too', async () => {
    const { upstream, attack } = await setup(['twelvedata']);
    await attack(6, 31_000);
    expect(upstream.capabilityCalls.twelvedata).toMatchObject({ splits: ['IBM'], dividends: [] }); // a first fetch asks dividends only once splits answered
  });
});
