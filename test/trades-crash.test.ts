import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectDatabase } from '../src/adapters/db/connect.js';
import { loadConfig } from '../src/config.js';
import type { Trade } from '../src/domain/trade.js';
import { createTestDatabase, testEngines, type TestDatabase } from './support/engines.js';
import { freePort, runEntry, waitForServer } from './support/process.js';

const databases: TestDatabase[] = [];
afterEach(async () => {
  while (databases.length > 0) await databases.pop()!.drop();
});

/** Every trade the database holds after the crash, in id order, and the id counter's last value. */
async function whatSurvived(url: string): Promise<{ trades: Trade[]; lastId: number }> {
  const db = connectDatabase(loadConfig({ DATABASE_URL: url }).database);
  try {
    const trades = await db.selectFrom('trades').select(['id', 'type', 'user_id', 'symbol', 'shares', 'price', 'timestamp']).orderBy('id').execute();
    const counter = await db.selectFrom('id_counters').select('last_id').where('name', '=', 'trades').executeTakeFirstOrThrow();
    return { trades, lastId: Number(counter.last_id) };
  } finally {
    await db.destroy();
  }
}

/**
 * `connections` clients posting trades one after another, each different, until
 * the service stops answering; what was acknowledged (201) is collected.
 */
function postUntilGone(base: string, connections: number) {
  const acknowledged: Trade[] = [];
  let sent = 0;
  const client = async () => {
    for (;;) {
      const n = sent++;
      const trade = { type: n % 2 ? 'sell' : 'buy', user_id: n, symbol: `S${n % 97}`, shares: (n % 100) + 1, price: 1000 + n, timestamp: 1_700_000_000_000 + n };
      try {
        const response = await fetch(`${base}/trades`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(trade) });
        if (response.status !== 201) throw new Error(`POST /trades: ${response.status} ${await response.text()}`);
        acknowledged.push((await response.json()) as Trade);
      } catch (error) {
        if (error instanceof TypeError) return; // the connection died with the process
        throw error;
      }
    }
  };
  const done = Promise.all(Array.from({ length: connections }, client));
  return { acknowledged, done };
}

describe.each(testEngines())('POST /trades on %s, when the process is killed (SIGKILL) under load', (engine) => {
  it('then every acknowledged trade is in the database with its exact fields, and ids stay gapless', { timeout: 180_000 }, async () => {
    const database = await createTestDatabase(engine);
    databases.push(database);
    const port = await freePort();
    const run = runEntry('src/main.ts', { PORT: String(port), DATABASE_URL: database.url, PREFETCH: 'off' });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);

    const load = postUntilGone(base, 32);
    // 300 trades take a few seconds on quiet cores, and past a minute on a busy machine.
    await vi.waitFor(() => expect(load.acknowledged.length).toBeGreaterThanOrEqual(300), { timeout: 120_000, interval: 20 });
    run.child.kill('SIGKILL');
    expect(await run.exited, 'killed: it was this process that answered, not one that had exited on its own').toBeNull();
    await load.done;

    const { trades, lastId } = await whatSurvived(database.url);
    const stored = new Map(trades.map((trade) => [trade.id, trade]));
    for (const trade of load.acknowledged) expect(stored.get(trade.id), `acknowledged trade ${trade.id}`).toStrictEqual(trade);
    expect(trades.map((trade) => trade.id)).toEqual(Array.from({ length: trades.length }, (_, i) => i + 1));
    expect(lastId, 'the next trade continues the sequence').toBe(trades.length);
  });
});
