/**
 * A vendor's own weekly and monthly bars (Alpha Vantage's free _ADJUSTED series reach back 20 years
 * and more, its free daily series 100 sessions), kept for the periods the daily bars do not reach, and
 * when each symbol's series was last asked.
 *
 * Frozen in time: this file never imports application code.
 */

import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('period_bars')
    .addColumn('symbol', 'varchar(15)', (c) => c.notNull())
    // 'week' or 'month'.
    .addColumn('period', 'varchar(5)', (c) => c.notNull())
    // The period's last session.
    .addColumn('date', 'varchar(10)', (c) => c.notNull())
    // Prices as the vendor wrote them, as in daily_bars: text keeps them exact.
    .addColumn('open', 'varchar(32)', (c) => c.notNull())
    .addColumn('high', 'varchar(32)', (c) => c.notNull())
    .addColumn('low', 'varchar(32)', (c) => c.notNull())
    .addColumn('close', 'varchar(32)', (c) => c.notNull())
    .addColumn('volume', 'bigint', (c) => c.notNull())
    // The vendor's close adjusted for splits and dividends as of its answer, and the cash dividends that went ex in the period.
    .addColumn('adjusted_close', 'varchar(32)', (c) => c.notNull())
    .addColumn('dividend', 'varchar(32)', (c) => c.notNull())
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('period_bars_pk', ['symbol', 'period', 'date'])
    .execute();

  await db.schema
    .createTable('period_fetches')
    .addColumn('symbol', 'varchar(15)', (c) => c.notNull())
    .addColumn('period', 'varchar(5)', (c) => c.notNull())
    .addColumn('last_attempt_at', 'bigint', (c) => c.notNull())
    // 'bars' when a provider answered (even with none), 'unknown' when every provider said it has no such series.
    .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
    .addColumn('source', 'varchar(32)')
    // The newest bar of the answer (the day asked when it had none): splits and dividends after it are not in its adjusted closes.
    .addColumn('through', 'varchar(10)', (c) => c.notNull())
    .addPrimaryKeyConstraint('period_fetches_pk', ['symbol', 'period'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('period_fetches').execute();
  await db.schema.dropTable('period_bars').execute();
}
