import { Type } from 'typebox';
import { CLOSE_LOOKBACK_DAYS, HISTORY_DEFAULT_DAYS, HISTORY_MAX_DAYS } from '../../../app/portfolio.js';
import { BATCH_MAX_SYMBOLS } from '../../../app/market-data/quotes.js';
import { SHARES_DIGITS } from '../../../domain/portfolio.js';
import { IsoDate } from './common.js';

const money = (description: string) => Type.String({ description: `${description}; decimal, 4 decimals, in the quote's currency` });
const maybeMoney = (description: string) => Type.Union([money(description), Type.Null()]);
const percent = (description: string) => Type.Union([Type.String({ description: `${description}; decimal, 4 decimals` }), Type.Null()]);

// Read as text: the portfolio's own check answers a bad user_id (app/portfolio.ts), before the cost is charged.
export const PortfolioParams = Type.Object({ user_id: Type.String({ description: 'The ledger user_id, a non-negative integer' }) });

/** What a client sends as user_id, for the document (openapi.ts documentedAs): a trade's user_id. */
export const DocumentedPortfolioParams = {
  params: { user_id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "The ledger user_id, as the trades' user_id" }) },
};

export const PortfolioQuery = Type.Object({
  as_of: Type.Optional(
    IsoDate(`YYYY-MM-DD, not after today: value at that day's close (or the last stored within ${CLOSE_LOOKBACK_DAYS} days before), counting trades up to the end of that day (UTC)`),
  ),
});

export const PortfolioHistoryQuery = Type.Object({
  from: Type.Optional(IsoDate(`YYYY-MM-DD, inclusive; default ${HISTORY_DEFAULT_DAYS} days before to`)),
  to: Type.Optional(IsoDate(`YYYY-MM-DD, inclusive, not after today; default today (UTC). At most ${HISTORY_MAX_DAYS} days after from`)),
});

export const PositionSchema = Type.Object({
  symbol: Type.String({ description: 'Upper-cased when valid (trades of "ibm" and "IBM" are one position); as stored otherwise' }),
  shares: Type.Number({
    description: `Buys − sells, carried through splits (× factor): negative is a short position. Whole unless a split made it fractional, then to ${SHARES_DIGITS} decimals (the figures use the exact count)`,
  }),
  side: Type.Union([Type.Literal('long'), Type.Literal('short'), Type.Literal('flat')]),
  average_cost: money('Average cost per open share (average-cost method); 0 when flat'),
  cost_basis: money('What the open shares cost: positive for a long, negative (proceeds) for a short'),
  realised_pl: money('Profit or loss realised by closing shares'),
  price: Type.Union([Type.String({ description: 'The close valued at, as the provider gives it' }), Type.Null()]),
  price_date: Type.Union([IsoDate('YYYY-MM-DD of that close'), Type.Null()]),
  cache: Type.Union([Type.Literal('HIT'), Type.Literal('MISS'), Type.Literal('STALE'), Type.Null()], { description: 'What pricing this symbol cost (X-Cache)' }),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'Why there is no price, when there is none' }),
  market_value: maybeMoney('shares × price'),
  unrealised_pl: maybeMoney('market_value − cost_basis'),
  unrealised_pl_percent: percent('unrealised_pl ÷ |cost_basis| × 100'),
  day_change: maybeMoney('shares × (price − previous close)'),
  day_change_percent: percent('day_change ÷ |shares × previous close| × 100'),
  dividends: money('Cash dividends: shares held × amount at each ex-date while open; negative when a short paid them'),
  total_return: maybeMoney('unrealised_pl + realised_pl + dividends; null when shares are held without a price'),
  actions_reason: Type.Union([Type.String(), Type.Null()], {
    description: "Why the symbol's splits and dividends are not known (never fetched, and they could not be now): none are applied. Null otherwise",
  }),
});

const shareCount = (description: string) => Type.Number({ description: `${description}; whole, or to ${SHARES_DIGITS} decimals` });

export const AppliedActionSchema = Type.Union([
  Type.Object({
    symbol: Type.String(),
    type: Type.Literal('split'),
    date: IsoDate('YYYY-MM-DD, the first day in split units'),
    factor: Type.String({ description: 'New shares per old share, as /actions/ gives it' }),
    shares_before: shareCount('Shares held before it'),
    shares_after: shareCount('shares_before × factor; the cost basis is unchanged'),
  }),
  Type.Object({
    symbol: Type.String(),
    type: Type.Literal('dividend'),
    ex_date: IsoDate('YYYY-MM-DD'),
    amount: Type.String({ description: 'Cash per share, as /actions/ gives it' }),
    shares: shareCount('Shares held at the ex-date (negative: a short pays it)'),
    cash: money('shares × amount'),
  }),
]);

export const PortfolioSchema = Type.Object({
  user_id: Type.Integer(),
  as_of: Type.Union([IsoDate('The day valued at, as asked'), Type.Null()], { description: 'Null for the latest closes' }),
  positions: Type.Array(PositionSchema, { description: 'One per symbol ever traded (flat ones too), by symbol' }),
  totals: Type.Object({
    cost_basis: money('Over every position'),
    market_value: money('Over priced positions only'),
    realised_pl: money('Over every position'),
    unrealised_pl: money('Over priced positions only'),
    unrealised_pl_percent: Type.String({ description: "unrealised_pl ÷ the priced positions' |cost_basis| × 100" }),
    day_change: money('Over priced positions only'),
    positions: Type.Integer({ description: 'Positions listed' }),
    unpriced: Type.Integer({ description: `Open positions without a price (unknown symbol, upstream failure, beyond the ${BATCH_MAX_SYMBOLS} priced)` }),
    dividends: money('Over every position'),
    total_return: money('unrealised_pl + realised_pl + dividends, as totalled'),
  }),
  applied_actions: Type.Array(AppliedActionSchema, { description: 'The splits and dividends that changed a position, by date, then symbol' }),
});

export const PortfolioHistorySchema = Type.Object({
  user_id: Type.Integer(),
  from: IsoDate(),
  to: IsoDate(),
  points: Type.Array(
    Type.Object({
      date: IsoDate('A stored trading session, YYYY-MM-DD'),
      market_value: money("Priced positions held at that day's end, at that day's close"),
      cost_basis: money('Their cost basis'),
      unrealised_pl: money('market_value − cost_basis'),
      dividends: money('The dividends those positions have had (or paid, short) up to that day, since their first trade'),
    }),
    { description: 'One per stored session of the priced symbols in the range, oldest first' },
  ),
  unpriced: Type.Array(Type.Object({ symbol: Type.String(), reason: Type.String() }), { description: 'Symbols held in the range that are not in the points' }),
  applied_actions: Type.Array(AppliedActionSchema, { description: 'The splits and dividends within the range that changed a priced position, by date, then symbol' }),
  actions_unavailable: Type.Array(Type.Object({ symbol: Type.String(), reason: Type.String() }), {
    description: 'Priced symbols whose splits and dividends could not be had (never fetched, and not now): none are applied to them',
  }),
});
