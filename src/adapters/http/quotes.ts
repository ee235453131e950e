import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { BATCH_MAX_SYMBOLS, batchSymbols, type QuoteService } from '../../app/market-data/quotes.js';
import { type CacheState, type Requester, worstCacheState } from '../../app/market-data/refresh.js';
import { DomainError, StillFetchingError, symbolNotFound, ValidationError } from '../../domain/errors.js';
import type { DailyBar } from '../../domain/quote.js';
import { accountOf } from './auth.js';
import { csvTable } from './csv.js';
import { httpStatusOf } from './errors.js';
import { prefers } from './negotiation.js';
import { invalid, notFound, notReadyInTime, upstreamAnswers } from './schemas/answers.js';
import { IntervalSchema, IsoDate } from './schemas/common.js';
import { ActionsSchema, HistorySchema, QuoteSchema, SymbolErrorSchema, SymbolParams } from './schemas/market.js';

/**
 * What the answer cost upstream: HIT (from the store), MISS (fetched for it), STALE (upstream failed; older than
 * policy wants). STALE answers also keep the older `X-Data-Stale: true`, which clients already read.
 */
export function sayCacheState(reply: FastifyReply, cache: CacheState): void {
  reply.header('x-cache', cache);
  if (cache === 'STALE') reply.header('x-data-stale', 'true');
}

const badSymbol = { detail: "symbol: must be 1 to 15 letters, digits, '.' or '-', starting with a letter or digit", field: 'symbol' };
/** What a route about one symbol answers when it cannot: the symbol is invalid or unknown, or upstream failed. */
const symbolFailures = { 400: invalid(badSymbol), 404: notFound(symbolNotFound('XYZQ').message), ...upstreamAnswers };

/** History's two bodies: JSON, or CSV for a client that prefers it (Accept: text/csv). */
const HistoryAnswer = {
  description: 'The bars, as JSON or (Accept: text/csv) as CSV',
  content: {
    'application/json': { schema: HistorySchema },
    'text/csv': {
      schema: Type.String({ description: 'A header line `date,open,high,low,close,volume`, then one line per bar, oldest first' }),
      example: 'date,open,high,low,close,volume\n2022-07-28,129.5200,131.0000,129.3100,130.7900,4612500\n',
    },
  },
};

function symbolFailure(error: Error): { detail: string; status: number } {
  if (error instanceof DomainError) return { detail: error.message, status: httpStatusOf(error).status };
  throw error; // not a per-symbol failure: our bug, answered by the error handler
}

/**
 * Whose upstream work a request is: its account (fair scheduling, fair share), the address that shares
 * the share, and until when it waits (request-budget.ts).
 */
export function requesterOf(request: FastifyRequest): Requester {
  return { client: String(accountOf(request).account.id), network: request.clientAddress, signal: request.answerDue };
}

/** The symbols of a batch as sent: comma-separated, blanks ignored. */
function symbolList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The one cost rule of market data, for the gate: a request costs one per distinct symbol it prices, and
 * at least 1, as any request; a request the use case refuses as invalid prices nothing and costs 1. The
 * batch and the portfolio charge by it. Synchronous when `priced` is, so the batch's cost costs no turn.
 */
export function costPerSymbol<T>(priced: (request: FastifyRequest) => T[]): (request: FastifyRequest) => number;
export function costPerSymbol<T>(priced: (request: FastifyRequest) => Promise<T[]>): (request: FastifyRequest) => Promise<number>;
export function costPerSymbol<T>(priced: (request: FastifyRequest) => T[] | Promise<T[]>) {
  const cost = (symbols: T[]) => Math.max(1, symbols.length);
  const refused = (error: unknown) => {
    if (error instanceof ValidationError) return 1;
    throw error;
  };
  return (request: FastifyRequest) => {
    try {
      const symbols = priced(request);
      return symbols instanceof Promise ? symbols.then(cost, refused) : cost(symbols);
    } catch (error) {
      return refused(error);
    }
  };
}

/** Rows an answer returns for one request of allowance. */
export const ROWS_PER_UNIT = 1000;

/**
 * The other cost rule, for answers whose length the client chooses (an unpaged GET /trades, a long history
 * or indicator series): one request per 1,000 rows returned, the first thousand included in the request
 * itself. So a default history (100 bars) or a user's trades cost 1, and a 500,000-trade dump 500.
 */
export function costOfRows(rows: number): number {
  return Math.max(1, Math.ceil(rows / ROWS_PER_UNIT));
}

/**
 * Charges a request by costOfRows, once it knows how many rows it will answer and before it answers: what
 * its gate counted is part of it; past what is left, 429 saying the whole cost (nothing is sent). `rows` is
 * not asked when nothing counts the request (THROTTLE_TRADES off, the store away), so its query is saved.
 */
export function chargeForRows(request: FastifyRequest, reply: FastifyReply, rows: () => number | Promise<number>, field: string): Promise<void> {
  const counter = request.server.requestCounter;
  if (!counter) return Promise.resolve();
  return counter.chargeWhole(request, reply, async () => costOfRows(await rows()), field);
}

/** A batch's symbols as the quote service counts them (batchSymbols): distinct, once normalised. */
const batchCost = costPerSymbol((request) => {
  const text = (request.query as { symbols?: unknown }).symbols;
  return typeof text === 'string' ? batchSymbols(symbolList(text)) : [];
});

/** A history over a range, adjusted, or of weeks or months is work; the default last 100 sessions are not. */
function longOrAdjustedHistory(request: FastifyRequest): boolean {
  const { from, adjusted, interval } = request.query as { from?: string; adjusted?: boolean; interval?: string };
  return from !== undefined || adjusted === true || (interval !== undefined && interval !== '1day');
}

/** A bar's own fields, without the store's bookkeeping (source, fetched_at). */
function pickBar({ date, open, high, low, close, volume }: DailyBar): DailyBar {
  return { date, open, high, low, close, volume };
}

const HISTORY_CSV_COLUMNS = ['date', 'open', 'high', 'low', 'close', 'volume'];

function toCsv(bars: DailyBar[]): string {
  return csvTable(HISTORY_CSV_COLUMNS, bars.map((b) => [b.date, b.open, b.high, b.low, b.close, b.volume]));
}

export function quoteRoutes(quotes: QuoteService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/symbol/:symbol',
      {
        schema: {
          summary: 'Latest daily quote of a symbol',
          operationId: 'getQuote',
          tags: ['market data'],
          params: SymbolParams,
          response: { 200: QuoteSchema, ...symbolFailures },
        },
      },
      async (request, reply) => {
        const { quote, cache } = await quotes.getQuote(request.params.symbol, requesterOf(request));
        sayCacheState(reply, cache);
        return quote;
      },
    );

    app.get(
      '/symbols',
      {
        config: { cost: { of: batchCost, field: 'symbols' } },
        schema: {
          summary: `Latest quotes of up to ${BATCH_MAX_SYMBOLS} symbols; each distinct symbol counts as one request`,
          operationId: 'getQuotes',
          tags: ['market data'],
          querystring: Type.Object({ symbols: Type.String({ minLength: 1, maxLength: 2000, description: 'Comma-separated, e.g. IBM,AAPL' }) }),
          response: {
            200: Type.Record(Type.String(), Type.Union([QuoteSchema, SymbolErrorSchema]), {
              description: "Each symbol's quote, or its own error (`detail` and the `status` it would have alone)",
            }),
            400: invalid(
              { detail: `symbols: at most ${BATCH_MAX_SYMBOLS} distinct symbols per request`, field: 'symbols' },
              { detail: 'symbols: give at least one symbol', field: 'symbols' },
            ),
            // Only when no symbol was had in time; otherwise each one not had is its own 504 in the 200.
            504: notReadyInTime,
          },
        },
      },
      async (request, reply) => {
        const symbols = symbolList(request.query.symbols);
        const results = await quotes.getQuotes(symbols, requesterOf(request));
        // Nothing to answer with when the budget ran out: a 504 as a single quote's, not 200 of marks.
        if ([...results.values()].every((result) => result instanceof StillFetchingError)) throw new StillFetchingError([...results.keys()].join(','));
        sayCacheState(reply, worstCacheState([...results.values()].flatMap((result) => (result instanceof Error ? [] : [result.cache]))));
        return Object.fromEntries(
          [...results].map(([symbol, result]) => [symbol, result instanceof Error ? symbolFailure(result) : result.quote]),
        );
      },
    );

    app.get(
      '/symbol/:symbol/history',
      {
        config: { expensive: longOrAdjustedHistory },
        schema: {
          summary: 'Daily, weekly or monthly bars, oldest first (default: the last 100), as traded or adjusted; Accept: text/csv for CSV',
          operationId: 'getHistory',
          tags: ['market data'],
          params: SymbolParams,
          querystring: Type.Object({
            from: Type.Optional(IsoDate('YYYY-MM-DD, inclusive')),
            to: Type.Optional(IsoDate('YYYY-MM-DD, inclusive')),
            // Sent as `true` or `false` (validation.ts reads those two words as the boolean).
            adjusted: Type.Optional(
              Type.Boolean({
                description: 'true: prices adjusted for splits and dividends, volume for splits (cumulative backward factors); false (default): as traded',
              }),
            ),
            interval: Type.Optional(
              IntervalSchema(
                "1day (default); 1week or 1month: one bar per calendar week (Monday to Sunday) or month, dated its last session, made from the daily bars (first open, highest high, lowest low, last close, volumes summed); the period of the oldest stored session and older ones are Alpha Vantage's own where it is configured",
              ),
            ),
          }),
          response: {
            200: HistoryAnswer,
            ...symbolFailures,
            400: invalid(badSymbol, { detail: 'from: must be a date as YYYY-MM-DD', field: 'from' }, { detail: 'from: must not be after to', field: 'from' }),
          },
        },
      },
      async (request, reply) => {
        const { from, to, interval = '1day', adjusted = false } = request.query;
        const history = await quotes.getHistory(request.params.symbol, { from, to, adjusted, interval }, requesterOf(request));
        sayCacheState(reply, history.cache);
        const bars = history.adjusted?.bars ?? history.bars;
        await chargeForRows(request, reply, () => bars.length, 'from');
        if (prefers(request, 'text/csv')) {
          // The CSV text stands in for the JSON the 200 schema documents.
          return reply.type('text/csv; charset=utf-8').send(toCsv(bars) as never);
        }
        const source = history.bars[history.bars.length - 1]?.source;
        // `interval` only when asked for: the daily answer stays the one clients have always had.
        return { symbol: history.symbol, source, currency: history.currency, adjusted, ...(interval !== '1day' && { interval }), bars: bars.map(pickBar) };
      },
    );

    app.get(
      '/symbol/:symbol/actions',
      {
        schema: {
          summary: 'Splits and cash dividends of a symbol, oldest first',
          operationId: 'getActions',
          tags: ['market data'],
          params: SymbolParams,
          response: { 200: ActionsSchema, ...symbolFailures },
        },
      },
      async (request, reply) => {
        const { symbol, splits, dividends, cache } = await quotes.getActions(request.params.symbol, requesterOf(request));
        sayCacheState(reply, cache);
        return { symbol, splits, dividends: dividends.map(({ exDate, amount }) => ({ ex_date: exDate, amount })) };
      },
    );
  };
}
