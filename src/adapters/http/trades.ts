import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { LedgerAccess } from '../../app/ledger-claims.js';
import { clientTradeFilter, getTrade, getTradePage, listAllTrades, recordTrade, recordTradeOnce, type TradeLedger, type TradeOnce } from '../../app/trades.js';
import { NotFoundError } from '../../domain/errors.js';
import type { Trade, TradeFilter } from '../../domain/trade.js';
import { idempotencyKeyOf, markReplayed } from './idempotency.js';
import { forbiddenAnswer } from './ledgers.js';
import { documentedAs } from './openapi.js';
import { chargeForRows } from './quotes.js';
import { idempotencyConflicts, idempotencyKeyInvalid, invalid, invalidKey, notFound, tooLarge, unsupportedMediaType } from './schemas/answers.js';
import { IdempotencyHeaderSchema } from './schemas/common.js';
import { NewTradeSchema, TradeListQuerySchema, TradeSchema } from './schemas/trade.js';

/** Trades read per query of the unpaged list: memory stays bounded whatever the ledger holds. */
const ALL_TRADES_BATCH = 1000;

/**
 * A batch as the members of a JSON array, without its brackets. The rows are the ledger's, the
 * seven columns of TradeSchema in its order and nothing else, so JSON.stringify writes the same
 * bytes fast-json-stringify would; it writes numbers straight into its output, where
 * fast-json-stringify turns each into a string first, and V8 allocates those in the old generation
 * (its number-to-string cache lives there): 7M of them for 1M trades grew the old generation by
 * about 25 MB of garbage until the next full GC.
 */
function arrayMembers(batch: Trade[]): string {
  return JSON.stringify(batch).slice(1, -1);
}

/** Streams `[trade,trade,…]` one stored batch at a time. */
async function* jsonArray(first: Trade[], rest: AsyncIterable<Trade[]>): AsyncGenerator<string> {
  yield `[${arrayMembers(first)}`;
  for await (const batch of rest) yield `,${arrayMembers(batch)}`;
  yield ']';
}

/** Path ids that are not a plain positive integer cannot name a trade: 404, like any unknown URL. */
function parseTradeId(raw: string): number {
  const id = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw new NotFoundError('Not found.');
  return id;
}

function nextPageLink(query: Record<string, unknown>, afterId: number): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...query, after_id: afterId })) {
    if (value !== undefined) params.set(key, String(value));
  }
  return `</trades?${params}>; rel="next"`;
}

/** What a claimed ledger answers to others (app/ledger-claims.ts): 401 for a wrong key, 403 for another's or none. */
const claimedLedgerAnswers = { 401: invalidKey, 403: forbiddenAnswer };

/**
 * The ledger is append-only: trades are never modified or deleted, so no route does. `accessOf` gives
 * each request the ledger-claim rule (ledgers.ts accessFor).
 */
export function tradeRoutes(ledger: TradeLedger, once: TradeOnce, accessOf: (request: FastifyRequest) => LedgerAccess): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/trades',
      {
        schema: {
          summary: 'Record a trade (once per Idempotency-Key, when one is sent)',
          operationId: 'createTrade',
          tags: ['trades'],
          headers: IdempotencyHeaderSchema,
          body: NewTradeSchema,
          response: {
            201: TradeSchema,
            400: invalid(
              { detail: 'shares: must be an integer from 1 to 100', field: 'shares' },
              { detail: 'id: must not be sent; the server assigns ids', field: 'id' },
              { detail: 'body: must be a JSON object', field: 'body' },
              { detail: 'Malformed JSON body: Unexpected end of JSON input' },
              idempotencyKeyInvalid,
            ),
            ...claimedLedgerAnswers,
            ...idempotencyConflicts,
            413: tooLarge,
            415: unsupportedMediaType('Unsupported media type; send the body as application/json.'),
          },
        },
      },
      async (request, reply) => {
        const key = idempotencyKeyOf(request);
        const mayUse = accessOf(request);
        if (key === undefined) return reply.code(201).send(await recordTrade(ledger, request.body, mayUse));
        const { trade, replayed } = await recordTradeOnce(once, key, request.body, mayUse);
        markReplayed(reply, replayed);
        return reply.code(201).send(trade);
      },
    );

    app.get(
      '/trades',
      {
        // The unpaged list may be the whole ledger (55 MB and over a second for 500,000 trades): a page is not.
        config: { expensive: (request) => (request.query as { limit?: number }).limit === undefined },
        schema: {
          summary: 'List trades in id order (streamed; paged when `limit` is given)',
          operationId: 'listTrades',
          tags: ['trades'],
          querystring: TradeListQuerySchema,
          response: {
            200: Type.Array(TradeSchema),
            400: invalid({ detail: 'user_id: must be an integer from 0 to 9007199254740991', field: 'user_id' }),
            ...claimedLedgerAnswers,
          },
        },
      },
      async (request, reply) => {
        const { limit, after_id: afterId = 0, ...filter } = request.query;
        const tradeFilter: TradeFilter = await clientTradeFilter(filter, accessOf(request));
        if (limit !== undefined) {
          const page = await getTradePage(ledger, tradeFilter, afterId, limit);
          if (page.nextAfterId !== undefined) reply.header('link', nextPageLink(request.query, page.nextAfterId));
          return page.trades;
        }
        // The first batch is read before the status is sent, so a storage failure
        // is still a clean error response rather than a truncated 200.
        const first = await ledger.listAfter(tradeFilter, afterId, ALL_TRADES_BATCH);
        // A list that fits in one batch (a user's trades, mostly) is whole already: sent as one
        // array, the same bytes, from one query, without a generator, a stream's machinery or chunked writes.
        if (first.length < ALL_TRADES_BATCH) return first;
        // A longer list costs by its rows (costOfRows), charged before its status is sent: the rows left are
        // counted by one query first (an index scan, far cheaper than the list). Trades recorded between that
        // count and the stream's end are sent too, uncharged: the cost is of the ledger as it was asked.
        const lastRead = first[first.length - 1]!.id;
        await chargeForRows(request, reply, async () => first.length + (await ledger.countAfter(tradeFilter, lastRead)), 'limit');
        const batches = listAllTrades(ledger, tradeFilter, lastRead, ALL_TRADES_BATCH);
        const body = Readable.from(jsonArray(first, batches));
        // The stream is the array the 200 schema documents, written as it is read.
        return reply.type('application/json; charset=utf-8').send(body as unknown as Trade[]);
      },
    );

    app.get(
      '/trades/:id',
      {
        // Read as text, so that an id that is not a number is 404 like any unknown URL (parseTradeId).
        config: { swaggerTransform: documentedAs({ params: { id: TradeSchema.properties.id } }) },
        schema: {
          summary: 'One trade by id',
          operationId: 'getTrade',
          tags: ['trades'],
          params: Type.Object({ id: Type.String() }),
          response: {
            200: TradeSchema,
            400: invalid({ detail: 'id: must not contain NUL (\\u0000) characters', field: 'id' }),
            ...claimedLedgerAnswers,
            404: notFound('Not found.'),
          },
        },
      },
      async (request) => getTrade(ledger, parseTradeId(request.params.id), accessOf(request)),
    );
  };
}
