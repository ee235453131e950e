import { describe, expect, it, vi } from 'vitest';
import type { FairQueue } from '../../src/app/market-data/fair-queue.js';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, startUpstream } from '../support/upstream.js';

// The only look inside: how many upstream calls wait in the service's queue, so the test knows a
// request has been queued before it lets the vendor answer. Everything asserted is what clients and
// the vendor see.
const queues = vi.hoisted(() => [] as FairQueue[]);
vi.mock('../../src/app/market-data/fair-queue.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/app/market-data/fair-queue.js')>();
  return {
    ...actual,
    createFairQueue(concurrency: number) {
      const queue = actual.createFairQueue(concurrency);
      queues.push(queue);
      return queue;
    },
  };
});

const BATCH = Array.from({ length: 15 }, (_, i) => `SYM${String.fromCharCode(65 + i)}`); // SYMA … SYMO

describe.each(testEngines())('upstream scheduling on %s', (engine) => {
  /** Alpha Vantage alone (one call at a time), every answer held until the test releases it. */
  async function setup() {
    const upstream = await startUpstream();
    const service = await startService(engine, {
      MARKET_DATA_PROVIDERS: 'alphavantage',
      ALPHAVANTAGE_API_KEY: 'av-test-key',
      ALPHAVANTAGE_BASE_URL: upstream.url,
      // Held answers must not time out while the test sets the scene.
      PROVIDER_TIMEOUT_MS: '60000',
      // Scheduling is the subject: no quota or fair share caps the 15 new symbols.
      ALPHAVANTAGE_DAILY_LIMIT: '0',
    });
    const queue = queues.at(-1)!;
    for (const symbol of [...BATCH, 'QUOTEB']) upstream.set('alphavantage', symbol, { kind: 'held', then: { kind: 'bars', bars: IBM_BARS } });
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
    const client = async (email: string) => {
      const key = await register(service.app, email);
      return (url: string) => service.app.inject({ method: 'GET', url, headers: { authorization: `Token ${key}` } });
    };
    const [clientA, clientB] = [await client('a@example.com'), await client('b@example.com')];
    /** Client A's batch, in flight: its first call at the vendor, the other 14 queued. */
    const startBatch = async () => {
      const callsBefore = upstream.calls.alphavantage.length;
      const batch = clientA(`/api/v1/symbols/?symbols=${BATCH.join(',')}`);
      await upstream.callsReached('alphavantage', callsBefore + 1);
      await vi.waitFor(() => expect(queue.size).toBe(BATCH.length - 1), { timeout: 20_000 });
      return { batch }; // wrapped: an async function returning the promise would wait for it
    };
    /** Lets `count` calls answer, each once it has reached the vendor, from the `first`-th call on (1-based). */
    const releaseInTurn = async (first: number, count: number) => {
      for (let call = first; call < first + count; call++) {
        await upstream.callsReached('alphavantage', call);
        upstream.release('alphavantage');
      }
    };
    return { upstream, queue, clientA, clientB, startBatch, releaseInTurn };
  }

  it("when client A's 15-symbol batch waits on upstream, then client B's quote is fetched right after the call already running", async () => {
    const { upstream, queue, clientB, startBatch, releaseInTurn } = await setup();
    const { batch } = await startBatch();
    let batchAnswered = false;
    void batch.then(() => (batchAnswered = true));
    const [running] = upstream.calls.alphavantage;

    const quote = clientB('/api/v1/symbol/QUOTEB/');
    await vi.waitFor(() => expect(queue.size).toBe(BATCH.length), { timeout: 20_000 });
    upstream.release('alphavantage', running);
    await upstream.callsReached('alphavantage', 2);
    expect(upstream.calls.alphavantage).toEqual([running, 'QUOTEB']);

    upstream.release('alphavantage', 'QUOTEB');
    const answer = await quote;
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ symbol: 'QUOTEB', close_value: '130.7900' });
    // B was answered when the vendor had answered only the call running before it and B's own.
    expect(batchAnswered).toBe(false);

    await releaseInTurn(3, BATCH.length - 1);
    const batchAnswer = await batch;
    expect(batchAnswer.statusCode).toBe(200);
    expect(Object.keys(batchAnswer.json()).sort()).toEqual(BATCH);
    expect(upstream.calls.alphavantage.slice().sort()).toEqual([...BATCH, 'QUOTEB'].sort());
  });

  it("when client B asks for a symbol queued deep in client A's batch, then that one call runs next and answers both", async () => {
    const { upstream, queue, clientB, startBatch, releaseInTurn } = await setup();
    const { batch } = await startBatch();
    const [running] = upstream.calls.alphavantage;
    const deep = BATCH.filter((symbol) => symbol !== running).at(-1)!; // SYMO, unless SYMO runs already

    const quote = clientB(`/api/v1/symbol/${deep}/`);
    await vi.waitFor(() => expect(queue.waitingClients).toBe(2), { timeout: 20_000 });
    expect(queue.size).toBe(BATCH.length - 1); // B added no call of its own
    upstream.release('alphavantage', running);
    await upstream.callsReached('alphavantage', 2);
    expect(upstream.calls.alphavantage).toEqual([running, deep]);

    upstream.release('alphavantage', deep);
    const answer = await quote;
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ symbol: deep, close_value: '130.7900' });

    await releaseInTurn(3, BATCH.length - 2);
    const batchAnswer = await batch;
    expect(batchAnswer.statusCode).toBe(200);
    expect(batchAnswer.json()[deep]).toMatchObject({ symbol: deep, close_value: '130.7900' });
    // One vendor call per symbol: B's request shared A's.
    expect(upstream.calls.alphavantage.slice().sort()).toEqual(BATCH);
  });

  it('when a long upstream queue is pending, then a stored or cached quote and stored history answer without waiting', async () => {
    const { upstream, clientB, startBatch, releaseInTurn } = await setup();
    expect((await clientB('/api/v1/symbol/IBM/')).statusCode).toBe(200); // now stored and cached
    const { batch } = await startBatch();

    const cached = await clientB('/api/v1/symbol/IBM/');
    const stored = await clientB('/api/v1/symbol/IBM/history');
    expect(cached.statusCode).toBe(200);
    expect(cached.json()).toMatchObject({ symbol: 'IBM', close_value: '130.7900' });
    expect(stored.statusCode).toBe(200);
    expect(stored.json().bars).toHaveLength(IBM_BARS.length);
    // Answered while A's first call is still held and nothing was asked again.
    expect(upstream.heldCount('alphavantage')).toBe(1);
    expect(upstream.calls.alphavantage.filter((symbol) => symbol === 'IBM')).toHaveLength(1);

    await releaseInTurn(2, BATCH.length);
    expect((await batch).statusCode).toBe(200);
  });
});
