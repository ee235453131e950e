import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  historyRequest,
  holdingsInRange,
  holdingsOf,
  holdingsToPrice,
  openHoldings,
  portfolioHistory,
  PORTFOLIO_MAX_TRADES,
  portfolioRequest,
  type PricedPosition,
  valuePortfolio,
} from '../../app/portfolio.js';
import type { QuoteService } from '../../app/market-data/quotes.js';
import type { LedgerAccess } from '../../app/ledger-claims.js';
import type { TradeLedger } from '../../app/trades.js';
import { ValidationError } from '../../domain/errors.js';
import type { Holding } from '../../domain/portfolio.js';
import { csvTable } from './csv.js';
import { prefers } from './negotiation.js';
import { always } from './work-shares.js';
import { costPerSymbol, requesterOf, sayCacheState } from './quotes.js';
import { invalid, upstreamAnswers } from './schemas/answers.js';
import { forbiddenAnswer } from './ledgers.js';
import { documentedAs } from './openapi.js';
import {
  DocumentedPortfolioParams,
  PortfolioHistoryQuery,
  PortfolioHistorySchema,
  PortfolioParams,
  PortfolioQuery,
  PortfolioSchema,
} from './schemas/portfolio.js';

type Raw = { params: { user_id: string }; query: Record<string, unknown> };

/**
 * A query parameter as the gate sees it, before the schema checks it: sent
 * twice (an array) or bracketed (an object), it is refused here as the schema
 * would refuse it, so nothing is folded for a request about to be a 400.
 */
function textOf(query: Record<string, unknown>, field: string): string | undefined {
  const value = query[field];
  if (value === undefined || typeof value === 'string') return value;
  throw new ValidationError(field, 'must be given once, as text');
}

/**
 * What a request folds from the ledger, once: the gate reads it to charge the
 * request (one per distinct symbol priced), the handler to answer it. A
 * request the use case refuses as invalid folds nothing and costs 1.
 */
function perRequest<T>(fold: (request: FastifyRequest) => Promise<T>) {
  const folded = new WeakMap<FastifyRequest, Promise<T>>();
  return (request: FastifyRequest): Promise<T> => {
    let kept = folded.get(request);
    if (!kept) folded.set(request, (kept = fold(request)));
    return kept;
  };
}

/** One per symbol the request prices: the batch's rule (quotes.ts). */
const costOf = (held: (request: FastifyRequest) => Promise<Holding[]>) => costPerSymbol(async (request) => holdingsToPrice(await held(request)));

const CSV_COLUMNS = [
  'symbol', 'shares', 'side', 'average_cost', 'cost_basis', 'realised_pl', 'price', 'price_date', 'cache', 'reason',
  'market_value', 'unrealised_pl', 'unrealised_pl_percent', 'day_change', 'day_change_percent',
  'dividends', 'total_return', 'actions_reason',
] as const;

function toCsv(positions: PricedPosition[]): string {
  return csvTable(CSV_COLUMNS, positions.map((p) => CSV_COLUMNS.map((c) => p[c])), { textColumns: ['symbol', 'reason', 'actions_reason'] });
}

const badUserId = { detail: 'user_id: must be a non-negative integer', field: 'user_id' };
/** The example at the default cap (PORTFOLIO_MAX_TRADES may set another). */
const tooManyTrades = {
  detail: `user_id: this user has more than ${PORTFOLIO_MAX_TRADES} trades up to the day asked; a portfolio folds at most ${PORTFOLIO_MAX_TRADES} per request`,
  field: 'user_id',
};

export function portfolioRoutes(
  ledger: TradeLedger,
  quotes: QuoteService,
  now: () => Date,
  accessOf: (request: FastifyRequest) => LedgerAccess,
  maxTrades = PORTFOLIO_MAX_TRADES,
): FastifyPluginAsyncTypebox {
  // The request is read (and checked) once, here, where the gate first needs its trades; the handler answers from the same.
  // A claimed ledger is its owner's (app/ledger-claims.ts): checked before anything is folded.
  const held = perRequest(async (request) => {
    const { params, query } = request as unknown as Raw;
    const asked = portfolioRequest({ user_id: params.user_id, as_of: textOf(query, 'as_of') }, now(), maxTrades);
    await accessOf(request)(asked.userId);
    return { asked, folded: await holdingsOf(ledger, quotes, asked) };
  });
  const heldInRange = perRequest(async (request) => {
    const { params, query } = request as unknown as Raw;
    const asked = historyRequest({ user_id: params.user_id, from: textOf(query, 'from'), to: textOf(query, 'to') }, now(), maxTrades);
    await accessOf(request)(asked.userId);
    return { asked, range: await holdingsInRange(ledger, quotes, asked) };
  });

  return async (app) => {
    app.get(
      '/portfolio/:user_id',
      {
        config: {
          cost: { of: costOf(async (request) => openHoldings((await held(request)).folded.holdings)), field: 'user_id', readsStorage: true },
          swaggerTransform: documentedAs(DocumentedPortfolioParams),
          expensive: always,
        },
        schema: {
          summary: "A ledger user's positions valued at the latest closes (or as_of a day); each distinct symbol priced counts as one request. Accept: text/csv for CSV",
          operationId: 'getPortfolio',
          tags: ['portfolios'],
          params: PortfolioParams,
          querystring: PortfolioQuery,
          response: {
            200: {
              description: 'The positions and totals, as JSON or (Accept: text/csv) the positions as CSV',
              content: {
                'application/json': { schema: PortfolioSchema },
                'text/csv': {
                  schema: Type.String({ description: `A header line \`${CSV_COLUMNS.join(',')}\`, then one line per position; null is an empty field` }),
                },
              },
            },
            400: invalid(badUserId, { detail: 'as_of: must be a date as YYYY-MM-DD', field: 'as_of' }, tooManyTrades),
            403: forbiddenAnswer,
            ...upstreamAnswers,
          },
        },
      },
      async (request, reply) => {
        const { asked, folded } = await held(request);
        const { cache, ...portfolio } = await valuePortfolio(ledger, quotes, folded, asked, requesterOf(request));
        sayCacheState(reply, cache);
        if (prefers(request, 'text/csv')) return reply.type('text/csv; charset=utf-8').send(toCsv(portfolio.positions) as never);
        return portfolio;
      },
    );

    app.get(
      '/portfolio/:user_id/history',
      {
        config: {
          cost: { of: costOf(async (request) => (await heldInRange(request)).range.relevant), field: 'user_id', readsStorage: true },
          swaggerTransform: documentedAs(DocumentedPortfolioParams),
          expensive: always,
        },
        schema: {
          summary: "A ledger user's portfolio value at each stored session of a range (default: the last year; at most 5 years); each distinct symbol priced counts as one request",
          operationId: 'getPortfolioHistory',
          tags: ['portfolios'],
          params: PortfolioParams,
          querystring: PortfolioHistoryQuery,
          response: {
            200: PortfolioHistorySchema,
            400: invalid(
              badUserId,
              tooManyTrades,
              { detail: 'from: must be a date as YYYY-MM-DD', field: 'from' },
              { detail: 'from: must not be after to', field: 'from' },
              { detail: 'from: the range may span at most 1827 days (5 years); it spans 2000', field: 'from' },
            ),
            403: forbiddenAnswer,
            ...upstreamAnswers,
          },
        },
      },
      async (request, reply) => {
        const { asked, range } = await heldInRange(request);
        const { cache, ...history } = await portfolioHistory(ledger, quotes, asked, range, requesterOf(request));
        sayCacheState(reply, cache);
        return history;
      },
    );
  };
}
