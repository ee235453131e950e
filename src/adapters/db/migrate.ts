import { type Kysely, type Migration, type MigrationResult, Migrator } from 'kysely';
import * as trades from './migrations/2026-11-22T00-trades.js';
import * as marketData from './migrations/2026-11-22T01-market-data.js';
import * as bigIds from './migrations/2026-11-23T00-64-bit-ids.js';
import * as emailKeys from './migrations/2026-11-23T00-email-keys.js';
import * as upstreamBudget from './migrations/2026-11-23T01-upstream-budget.js';
import * as oneActiveKey from './migrations/2026-11-23T02-one-active-key.js';
import * as corporateActions from './migrations/2026-11-23T03-corporate-actions.js';
import * as symbolCurrency from './migrations/2026-11-23T04-symbol-currency.js';
import * as prefetch from './migrations/2026-11-23T05-prefetch.js';
import * as servedRequests from './migrations/2026-11-23T06-served-requests.js';
import * as symbolSearches from './migrations/2026-11-23T07-symbol-searches.js';
import * as idempotencyKeys from './migrations/2026-11-23T08-idempotency-keys.js';
import * as tradesByTime from './migrations/2026-12-03T00-trades-by-time.js';
import * as tradesByUserCovering from './migrations/2026-12-03T01-trades-by-user-covering.js';
import * as apiKeyTags from './migrations/2026-12-06T00-api-key-tags.js';
import * as passThroughAnswers from './migrations/2026-12-07T00-pass-through-answers.js';
import * as deepFetches from './migrations/2026-12-07T01-deep-fetches.js';
import * as minuteFairShare from './migrations/2026-12-07T02-minute-fair-share.js';
import * as periodBars from './migrations/2026-12-07T03-period-bars.js';
import * as accountAllowances from './migrations/2026-12-08T00-account-allowances.js';
import * as ledgerClaims from './migrations/2026-12-09T00-ledger-claims.js';

/**
 * Migrations are listed here rather than read from a folder, so the same code
 * runs from TypeScript sources (tests) and from the compiled dist/ (production).
 * Names sort in the order they must run.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '2026-11-22T00-trades': trades,
  '2026-11-22T01-market-data': marketData,
  '2026-11-23T00-64-bit-ids': bigIds,
  '2026-11-23T00-email-keys': emailKeys,
  '2026-11-23T01-upstream-budget': upstreamBudget,
  '2026-11-23T02-one-active-key': oneActiveKey,
  '2026-11-23T03-corporate-actions': corporateActions,
  '2026-11-23T04-symbol-currency': symbolCurrency,
  '2026-11-23T05-prefetch': prefetch,
  '2026-11-23T06-served-requests': servedRequests,
  '2026-11-23T07-symbol-searches': symbolSearches,
  '2026-11-23T08-idempotency-keys': idempotencyKeys,
  '2026-12-03T00-trades-by-time': tradesByTime,
  '2026-12-03T01-trades-by-user-covering': tradesByUserCovering,
  '2026-12-06T00-api-key-tags': apiKeyTags,
  '2026-12-07T00-pass-through-answers': passThroughAnswers,
  '2026-12-07T01-deep-fetches': deepFetches,
  '2026-12-07T02-minute-fair-share': minuteFairShare,
  '2026-12-07T03-period-bars': periodBars,
  '2026-12-08T00-account-allowances': accountAllowances,
  '2026-12-09T00-ledger-claims': ledgerClaims,
};

/**
 * Applies pending migrations. Safe when several instances start at once:
 * Kysely holds a lock (a PostgreSQL advisory lock) while it migrates.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return results;
}

/** The known migrations this database has not applied yet (read only: nothing is created or locked). */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const known = await migrator.getMigrations();
  return known.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
