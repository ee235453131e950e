import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BATCH_MAX_SYMBOLS, type QuoteService } from '../../app/quotes.js';
import { DomainError } from '../../domain/errors.js';
import { requireAccount } from './auth.js';
import { httpStatusOf, refuseOtherMethods } from './errors.js';
import { prefers } from './negotiation.js';
import { ErrorSchema } from './schemas/common.js';
import { HistorySchema, QuoteSchema, SymbolErrorSchema, SymbolParams } from './schemas/market.js';

const STALE_HEADER = 'x-data-stale';

const failureResponses = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema };

function symbolFailure(error: Error): { detail: string; status: number } {
  if (error instanceof DomainError) return { detail: error.message, status: httpStatusOf(error).status };
  throw error; // not a per-symbol failure: our bug, answered by the error handler
}

function toCsv(bars: { date: string; open: string; high: string; low: string; close: string; volume: number }[]): string {
  const lines = bars.map((b) => `${b.date},${b.open},${b.high},${b.low},${b.close},${b.volume}`);
  return ['date,open,high,low,close,volume', ...lines, ''].join('\n');
}

export function quoteRoutes(quotes: QuoteService, refuseOptions: boolean): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/symbol/:symbol',
      {
        schema: {
          summary: 'Latest daily quote of a symbol',
          tags: ['market data'],
          params: SymbolParams,
          response: { 200: QuoteSchema, ...failureResponses },
        },
      },
      async (request, reply) => {
        requireAccount(request);
        const { quote, stale } = await quotes.getQuote(request.params.symbol, String(request.auth!.account.id));
        if (stale) reply.header(STALE_HEADER, 'true');
        return quote;
      },
    );

    app.get(
      '/symbols',
      {
        schema: {
          summary: `Latest quotes of up to ${BATCH_MAX_SYMBOLS} symbols`,
          tags: ['market data'],
          querystring: Type.Object({ symbols: Type.String({ minLength: 1, maxLength: 2000, description: 'Comma-separated, e.g. IBM,AAPL' }) }),
          response: { 200: Type.Record(Type.String(), Type.Union([QuoteSchema, SymbolErrorSchema])), 400: ErrorSchema, 401: ErrorSchema },
        },
      },
      async (request) => {
        requireAccount(request);
        const symbols = request.query.symbols.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const results = await quotes.getQuotes(symbols, String(request.auth!.account.id));
        return Object.fromEntries(
          [...results].map(([symbol, result]) => [symbol, result instanceof Error ? symbolFailure(result) : result.quote]),
        );
      },
    );

    app.get(
      '/symbol/:symbol/history',
      {
        schema: {
          summary: 'Daily bars, oldest first (default: the last 100 sessions); Accept: text/csv for CSV',
          tags: ['market data'],
          params: SymbolParams,
          querystring: Type.Object({
            from: Type.Optional(Type.String({ description: 'YYYY-MM-DD, inclusive' })),
            to: Type.Optional(Type.String({ description: 'YYYY-MM-DD, inclusive' })),
          }),
          response: { 200: HistorySchema, ...failureResponses },
        },
      },
      async (request, reply) => {
        requireAccount(request);
        const { symbol, bars, stale } = await quotes.getHistory(request.params.symbol, request.query, String(request.auth!.account.id));
        if (stale) reply.header(STALE_HEADER, 'true');
        if (prefers(request, 'text/csv')) {
          // The CSV text stands in for the JSON the 200 schema documents.
          return reply.type('text/csv; charset=utf-8').send(toCsv(bars) as never);
        }
        return { symbol, source: bars[bars.length - 1]?.source, bars };
      },
    );

    for (const url of ['/symbol/:symbol', '/symbols', '/symbol/:symbol/history']) {
      refuseOtherMethods(app, url, ['GET'], { refuseOptions, before: requireAccount });
    }
  };
}
