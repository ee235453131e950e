import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { getIndicator } from '../../app/market-data/indicators.js';
import type { QuoteService } from '../../app/market-data/quotes.js';
import { symbolNotFound } from '../../domain/errors.js';
import { csvTable } from './csv.js';
import { always } from './work-shares.js';
import { prefers } from './negotiation.js';
import { chargeForRows, requesterOf, sayCacheState } from './quotes.js';
import { invalid, notFound, upstreamAnswers } from './schemas/answers.js';
import { IndicatorParams, IndicatorQuery, IndicatorSchema } from './schemas/indicators.js';

const IndicatorAnswer = {
  description: 'The indicator, as JSON or (Accept: text/csv) as CSV',
  content: {
    'application/json': { schema: IndicatorSchema },
    'text/csv': {
      schema: Type.String({ description: 'A header line `date,<outputs>`, then one line per value, oldest first' }),
      example: 'date,sma\n2022-07-28,129.2200\n',
    },
  },
};

const failures = {
  400: invalid(
    { detail: "symbol: must be 1 to 15 letters, digits, '.' or '-', starting with a letter or digit", field: 'symbol' },
    { detail: 'time_period: is required', field: 'time_period' },
    { detail: 'time_period: must be an integer from 2 to 100000', field: 'time_period' },
    { detail: 'series_type: must be one of close, open, high, low', field: 'series_type' },
    { detail: 'from: must not be after to', field: 'from' },
  ),
  404: notFound(`${symbolNotFound('XYZQ').message} Or: Indicator "FOO" is not served.`),
  ...upstreamAnswers,
};

/** GET /api/v1/symbol/{symbol}/indicators/{name}/: a technical indicator of the stored bars (app/market-data/indicators.ts). */
export function indicatorRoutes(quotes: QuoteService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/symbol/:symbol/indicators/:name',
      {
        config: { expensive: always },
        schema: {
          summary: "A technical indicator (SMA, RSI, MACD, BBANDS…) of the stored daily, weekly or monthly bars, with Alpha Vantage's parameters; Accept: text/csv for CSV",
          operationId: 'getIndicator',
          tags: ['market data'],
          params: IndicatorParams,
          querystring: IndicatorQuery,
          response: { 200: IndicatorAnswer, ...failures },
        },
      },
      async (request, reply) => {
        const query = request.query as Record<string, string | undefined>;
        const { interval = '1day', from, to } = request.query;
        const served = await getIndicator(
          quotes,
          { symbol: request.params.symbol, name: request.params.name, interval, from, to, parameter: (name) => query[name] },
          requesterOf(request),
        );
        await chargeForRows(request, reply, () => served.rows.length, 'from');
        sayCacheState(reply, served.cache);
        const fields = served.definition.outputs.map((output) => output.field);
        if (prefers(request, 'text/csv')) {
          // The CSV text stands in for the JSON the 200 schema documents.
          return reply.type('text/csv; charset=utf-8').send(csvTable(['date', ...fields], served.rows.map((row) => [row.date, ...row.values])) as never);
        }
        return {
          symbol: served.symbol,
          indicator: served.definition.name,
          interval: served.interval,
          parameters: served.parameters,
          values: served.rows.map((row) => ({ date: row.date, ...Object.fromEntries(fields.map((field, i) => [field, row.values[i]!])) })),
        };
      },
    );
  };
}
