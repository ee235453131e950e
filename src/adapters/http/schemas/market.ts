import { Type } from 'typebox';
import { IntervalSchema, IsoDate } from './common.js';
import { AccountShareSchema } from './economy.js';

export const QuoteSchema = Type.Object({
  last_refreshed: IsoDate('The last trading day, YYYY-MM-DD'),
  close_value: Type.String({ description: 'Decimal, as the provider gives it' }),
  open_value: Type.String(),
  high_value: Type.String(),
  low_value: Type.String(),
  variation_between_last_two_days: Type.Number({ description: 'Last close minus the previous close' }),
  symbol: Type.String(),
  source: Type.String({ description: 'The provider the data came from; "sandbox" for synthetic data' }),
  currency: Type.Optional(Type.String({ description: 'ISO 4217 code, when the provider says (Twelve Data does; Alpha Vantage\'s daily series does not)' })),
});

export const SymbolErrorSchema = Type.Object({ detail: Type.String(), status: Type.Integer() });

export const BarSchema = Type.Object({
  date: IsoDate('The session, or the last session of the week or month'),
  open: Type.String(),
  high: Type.String(),
  low: Type.String(),
  close: Type.String(),
  volume: Type.Integer(),
});

export const HistorySchema = Type.Object({
  symbol: Type.String(),
  source: Type.Optional(Type.String()),
  currency: Type.Optional(Type.String({ description: 'ISO 4217 code, when the provider says' })),
  adjusted: Type.Optional(Type.Boolean({ description: 'Whether the bars are adjusted for splits and dividends' })),
  interval: Type.Optional(IntervalSchema('What one bar spans')),
  bars: Type.Array(BarSchema),
});

export const ActionsSchema = Type.Object({
  symbol: Type.String(),
  splits: Type.Array(
    Type.Object({
      date: IsoDate('Effective date, YYYY-MM-DD'),
      factor: Type.String({ description: 'New shares per old share, decimal: 4-for-1 is "4", 1-for-10 is "0.1"' }),
    }),
  ),
  dividends: Type.Array(
    Type.Object({
      ex_date: IsoDate('Ex-dividend date, YYYY-MM-DD'),
      amount: Type.String({ description: 'Cash per share, decimal, in the quote\'s currency' }),
    }),
  ),
});

export const SymbolParams = Type.Object({ symbol: Type.String() });

export const ApiKeySchema = Type.String({ description: 'The API key, shown once' });

export const AccountSchema = Type.Object({
  name: Type.String(),
  last_name: Type.String(),
  email: Type.String(),
  created_at: Type.String({ format: 'date-time', description: 'ISO 8601, UTC' }),
  key_prefix: Type.String({ description: 'The first characters of the key in use, to recognise it by' }),
  usage: Type.Optional(
    Type.Object({
      rate: Type.String({ description: 'The limit, e.g. "1000/day"' }),
      used: Type.Integer({ description: 'Requests counted in the rolling window, this one included' }),
      remaining: Type.Integer(),
      resets_in_seconds: Type.Integer({ description: 'Until the oldest counted request leaves the window' }),
    }),
  ),
  upstream_lookups: Type.Optional(AccountShareSchema),
});

export const MatchSchema = Type.Object({
  symbol: Type.String(),
  name: Type.String(),
  type: Type.String({ description: 'As the provider words it: "Equity", "ETF", "Common Stock"…' }),
  region: Type.Optional(Type.String({ description: 'Where it trades, when the provider says by region ("United States")' })),
  exchange: Type.Optional(Type.String({ description: 'Where it trades, when the provider says by exchange ("NASDAQ")' })),
  currency: Type.String(),
  provider: Type.String({ description: 'The provider that answered the search' }),
});

export const SearchSchema = Type.Object({
  query: Type.String({ description: 'The query as searched: NFKC-folded, lower-cased, spaces collapsed' }),
  matches: Type.Array(MatchSchema, { description: 'Best first; empty when nothing matches' }),
});
