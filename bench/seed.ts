/**
 * Fast seeding straight into a SQLite file the service is not running on (it is stopped while we
 * write): the schema comes from the service's own migrations (`node dist/cli.js migrate`), rows go
 * in with one prepared statement inside transactions of 100,000 rows, synchronous=OFF (a crash
 * while seeding only loses a benchmark), and the id counter (`id_counters`) is set to the last id
 * written, so the service goes on from there as it would after as many real inserts. The WAL is
 * checkpointed and truncated at the end so the service does not start on a huge WAL.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type SQLite from 'better-sqlite3';

const BATCH = 100_000;

/** The service's choice of binding: better-sqlite3 12 on Node 20, 13 on later Nodes (see src/adapters/db/connect.ts). */
function openSqlite(path: string): SQLite.Database {
  const moduleName = Number(process.versions.node.split('.')[0]) < 22 ? 'better-sqlite3-node20' : 'better-sqlite3';
  const Database = createRequire(import.meta.url)(moduleName) as typeof SQLite;
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  return db;
}

function close(db: SQLite.Database): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

export function migrate(databaseUrl: string): void {
  execFileSync(process.execPath, ['dist/cli.js', 'migrate'], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Users whose trades GET /trades?user_id= asks for: 10 trades each, whatever the ledger's size. */
export const BENCH_USERS = 100;
export const TRADES_PER_BENCH_USER = 10;
const SYMBOLS = ['IBM', 'AAPL', 'MSFT', 'GOOG', 'AMZN', 'TSLA', 'NVDA', 'META'];

/**
 * Trade i (1-based) — the same row whatever the batch it is written in. Among the first 10,000
 * trades, every tenth belongs to one of the BENCH_USERS (ids 1–100, ten trades each); all other
 * trades belong to 100,000 other users (ids 1,000+). Growing the ledger never changes what a bench
 * user's query returns, only how much else the table holds.
 */
function tradeRow(i: number): [number, string, number, string, number, number, number] {
  const benchSlot = i <= BENCH_USERS * TRADES_PER_BENCH_USER * 10 && i % 10 === 0;
  const userId = benchSlot ? 1 + ((i / 10) % BENCH_USERS) : 1_000 + (i % 100_000);
  return [i, i % 3 === 0 ? 'sell' : 'buy', userId, SYMBOLS[i % SYMBOLS.length]!, 1 + (i % 100), 10_000 + (i % 50_000), 1_531_522_701_000 + i * 1_000];
}

/** Appends trades until the ledger holds `total` (ids from the counter's value + 1); returns seconds taken. */
export function seedTrades(path: string, total: number): number {
  const started = performance.now();
  const db = openSqlite(path);
  const from = Number((db.prepare("select last_id from id_counters where name = 'trades'").get() as { last_id: number }).last_id) + 1;
  const insert = db.prepare('insert into trades (id, type, user_id, symbol, shares, price, timestamp) values (?, ?, ?, ?, ?, ?, ?)');
  const setCounter = db.prepare("update id_counters set last_id = ? where name = 'trades'");
  const batch = db.transaction((first: number, last: number) => {
    for (let i = first; i <= last; i++) insert.run(tradeRow(i));
    setCounter.run(last);
  });
  for (let first = from; first <= total; first += BATCH) batch(first, Math.min(total, first + BATCH - 1));
  close(db);
  return (performance.now() - started) / 1000;
}

/** The API key of seeded account `id`: 40 hex characters, like the service's randomBytes(20). */
export function seededKey(id: number): string {
  return createHash('sha256').update(`bench-account-${id}`).digest('hex').slice(0, 40);
}

/**
 * Adds accounts until there are `total`, each with one active key stored as the service stored keys
 * before they carried a tag (src/app/api-keys.ts): SHA-256 hex of the key, its first 8 characters as
 * prefix, untagged. Returns the ids added.
 */
export function seedAccounts(path: string, total: number): number[] {
  const db = openSqlite(path);
  const from = Number((db.prepare("select last_id from id_counters where name = 'accounts'").get() as { last_id: number }).last_id) + 1;
  const account = db.prepare('insert into accounts (id, name, last_name, email, email_key, created_at) values (?, ?, ?, ?, ?, ?)');
  const apiKey = db.prepare('insert into api_keys (key_hash, account_id, prefix, created_at, revoked_at) values (?, ?, ?, ?, null)');
  const setCounter = db.prepare("update id_counters set last_id = ? where name = 'accounts'");
  const now = Date.now();
  const ids: number[] = [];
  const batch = db.transaction((first: number, last: number) => {
    for (let id = first; id <= last; id++) {
      const email = `bench-${id}@example.com`;
      const key = seededKey(id);
      account.run(id, 'Bench', `Account ${id}`, email, email, now);
      apiKey.run(createHash('sha256').update(key).digest('hex'), id, key.slice(0, 8), now);
      ids.push(id);
    }
    setCounter.run(last);
  });
  for (let first = from; first <= total; first += BATCH) batch(first, Math.min(total, first + BATCH - 1));
  close(db);
  return ids;
}

/** One daily bar as an import file and the stand-in give it. */
export interface HistoryBar {
  date: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: number;
}

/** `count` weekday sessions ending on `last` (a weekday), oldest first; prices cycle within 100.00–149.99 and pass the import's checks. */
export function weekdaySessions(last: string, count: number): HistoryBar[] {
  const bars: HistoryBar[] = [];
  for (const day = new Date(`${last}T00:00:00Z`); bars.length < count; day.setUTCDate(day.getUTCDate() - 1)) {
    if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
    const cents = 10_000 + ((bars.length * 37) % 5_000);
    const price = (c: number) => (c / 100).toFixed(2);
    bars.push({ date: day.toISOString().slice(0, 10), open: price(cents), high: price(cents + 50), low: price(cents - 25), close: price(cents + 25), volume: 1_000 + bars.length });
  }
  return bars.reverse();
}

export interface ImportedSplit {
  date: string;
  /** New shares per old share. */
  factor: number;
}

export interface ImportedDividend {
  exDate: string;
  amount: string;
}

/**
 * Imports a symbol's bars, splits and dividends with the service's own CLI (`node dist/cli.js
 * import-prices`, Alpha Vantage CSV layout, `--splits`, `--dividends`), as docs/reference/import-format.md
 * describes; the files are written to `folder`. The service must not be running on the file.
 */
export function importHistory(databaseUrl: string, folder: string, symbol: string, bars: HistoryBar[], splits: ImportedSplit[] = [], dividends: ImportedDividend[] = []): void {
  const prices = join(folder, `${symbol}-prices.csv`);
  writeFileSync(prices, ['timestamp,open,high,low,close,volume', ...bars.map((b) => `${b.date},${b.open},${b.high},${b.low},${b.close},${b.volume}`)].join('\n') + '\n');
  const args = ['dist/cli.js', 'import-prices', prices, '--symbol', symbol];
  if (splits.length > 0) {
    const file = join(folder, `${symbol}-splits.csv`);
    writeFileSync(file, ['date,factor', ...splits.map((s) => `${s.date},${s.factor}`)].join('\n') + '\n');
    args.push('--splits', file);
  }
  if (dividends.length > 0) {
    const file = join(folder, `${symbol}-dividends.csv`);
    writeFileSync(file, ['ex_date,amount', ...dividends.map((d) => `${d.exDate},${d.amount}`)].join('\n') + '\n');
    args.push('--dividends', file);
  }
  execFileSync(process.execPath, args, { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface SeededTrade {
  type: 'buy' | 'sell';
  symbol: string;
  shares: number;
  price: number;
  timestamp: number;
}

/** Appends `trades` for one user to the ledger (ids from the counter's value + 1), as seedTrades does. */
export function seedUserTrades(path: string, userId: number, trades: SeededTrade[]): void {
  const db = openSqlite(path);
  const from = Number((db.prepare("select last_id from id_counters where name = 'trades'").get() as { last_id: number }).last_id) + 1;
  const insert = db.prepare('insert into trades (id, type, user_id, symbol, shares, price, timestamp) values (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    trades.forEach((t, i) => insert.run(from + i, t.type, userId, t.symbol, t.shares, t.price, t.timestamp));
    db.prepare("update id_counters set last_id = ? where name = 'trades'").run(from + trades.length - 1);
  })();
  close(db);
}
