/** Table shapes as Kysely sees them. Migrations (./migrations) create them. */

import type { Generated } from 'kysely';
import type { DailyBar } from '../../domain/quote.js';
import type { Trade } from '../../domain/trade.js';

/** A row is exactly a trade of the contract. */
export type TradesTable = Trade;

/** Gapless id counters: one row per sequence, incremented inside the insert's transaction. */
export interface IdCountersTable {
  name: string;
  last_id: number;
}

export interface AccountsTable {
  id: number;
  name: string;
  last_name: string;
  email: string;
  email_key: string;
  created_at: number;
  /** The account's own rate in DRF's syntax ("5000/day"), in place of THROTTLE_USER; null: THROTTLE_USER. */
  allowance: string | null;
}

/** A user_id of the ledger claimed by an account (app/ledger-claims.ts). */
export interface LedgerClaimsTable {
  user_id: number;
  account_id: number;
  claimed_at: number;
  after_trade_id: number;
}

export interface ApiKeysTable {
  key_hash: string;
  account_id: number;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
  /** 1 when issued with a tag (app/api-keys.ts); 0 for keys issued before, looked up without one. */
  tagged: Generated<number>;
}

/** Secrets every instance shares, by name (api_key_tag: what keys are tagged under). */
export interface ServiceSecretsTable {
  name: string;
  value: string;
  created_at: number;
}

export interface DailyBarsTable extends DailyBar {
  symbol: string;
  source: string;
  fetched_at: number;
}

export interface SymbolRefreshesTable {
  symbol: string;
  last_attempt_at: number;
  outcome: 'bars' | 'unknown';
  currency: string | null;
  /** When the vendor was last asked for all it gives in one call (epoch ms); null before. */
  deep_fetched_at: number | null;
}

/** A vendor's weekly or monthly bar (Alpha Vantage's _ADJUSTED series): as traded, with its adjusted close and dividend amount. */
export interface PeriodBarsTable extends DailyBar {
  symbol: string;
  period: 'week' | 'month';
  adjusted_close: string;
  dividend: string;
  source: string;
  fetched_at: number;
}

/** When a symbol's vendor series of a period was last asked, of whom (null: no provider knew it), and the newest bar it gave. */
export interface PeriodFetchesTable {
  symbol: string;
  period: 'week' | 'month';
  last_attempt_at: number;
  outcome: 'bars' | 'unknown';
  source: string | null;
  through: string;
}

/** A search query's answer (matches as JSON text). */
export interface SymbolSearchesTable {
  query: string;
  matches: string;
  source: string;
  fetched_at: number;
}

/** An Alpha Vantage answer to a passed-through call, by the SHA-256 of the call's one form. */
export interface PassThroughAnswersTable {
  key: string;
  function: string;
  query: string;
  kind: 'data' | 'error' | 'premium' | 'notice' | 'too_large';
  format: 'json' | 'csv' | '';
  body: string;
  size: number;
  source: string;
  fetched_at: number;
  expires_at: number;
}

export interface IdempotencyKeysTable {
  route: string;
  key: string;
  fingerprint: string;
  status: number;
  body: string;
  created_at: number;
  expires_at: number;
}

export interface SplitsTable {
  symbol: string;
  date: string;
  factor: string;
  source: string;
  fetched_at: number;
}

export interface DividendsTable {
  symbol: string;
  ex_date: string;
  amount: string;
  source: string;
  fetched_at: number;
}

/** When a symbol's splits and dividends were last asked upstream (imports are not attempts). */
export interface ActionRefreshesTable {
  symbol: string;
  last_attempt_at: number;
  outcome: 'actions' | 'unknown';
}

/** Calls made to a provider in one quota window ('day' from 00:00 UTC, or the calendar 'minute'). */
export interface UpstreamCallsTable {
  provider: string;
  window: 'day' | 'minute';
  window_start: number;
  calls: number;
}

/** Lookups of symbols the store did not hold, per client, provider and UTC day (the fair share). */
export interface UpstreamLookupsTable {
  provider: string;
  day_start: number;
  client: string;
  lookups: number;
}

/** Lookups per client, provider and calendar minute (the fair share of a per-minute limit). */
export interface UpstreamMinuteLookupsTable {
  provider: string;
  minute_start: number;
  client: string;
  lookups: number;
}

/** Market-data requests answered per UTC day, by every instance together. */
export interface ServedRequestsTable {
  day_start: number;
  requests: number;
}

/** Client requests of a symbol in one UTC day (YYYY-MM-DD): the prefetch's watchlist. */
export interface SymbolDemandTable {
  symbol: string;
  day: string;
  requests: number;
  last_asked_at: number;
}

/** The prefetch's lease (one row per job name) and the last session it completed. */
export interface PrefetchLeaseTable {
  name: string;
  holder: string;
  expires_at: number;
  last_session: string | null;
}

export interface Database {
  trades: TradesTable;
  id_counters: IdCountersTable;
  accounts: AccountsTable;
  ledger_claims: LedgerClaimsTable;
  api_keys: ApiKeysTable;
  service_secrets: ServiceSecretsTable;
  daily_bars: DailyBarsTable;
  symbol_refreshes: SymbolRefreshesTable;
  period_bars: PeriodBarsTable;
  period_fetches: PeriodFetchesTable;
  symbol_searches: SymbolSearchesTable;
  pass_through_answers: PassThroughAnswersTable;
  idempotency_keys: IdempotencyKeysTable;
  upstream_calls: UpstreamCallsTable;
  upstream_lookups: UpstreamLookupsTable;
  upstream_minute_lookups: UpstreamMinuteLookupsTable;
  splits: SplitsTable;
  dividends: DividendsTable;
  action_refreshes: ActionRefreshesTable;
  served_requests: ServedRequestsTable;
  symbol_demand: SymbolDemandTable;
  prefetch_lease: PrefetchLeaseTable;
}
