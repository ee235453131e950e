import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { SearchService } from '../../app/market-data/search.js';
import { SEARCH_QUERY_MAX_CHARACTERS } from '../../domain/search.js';
import { requesterOf, sayCacheState } from './quotes.js';
import { invalid, upstreamAnswers } from './schemas/answers.js';
import { SearchSchema } from './schemas/market.js';

/** GET /api/v1/search/?q=…: the providers' symbol search, through the search cache. */
export function searchRoutes(search: SearchService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/search',
      {
        schema: {
          summary: 'Symbols whose ticker or company name matches q, best first',
          operationId: 'searchSymbols',
          tags: ['market data'],
          querystring: Type.Object({
            // The length rule is the domain's (characters after folding); this bound only stops a huge value early.
            q: Type.String({ maxLength: SEARCH_QUERY_MAX_CHARACTERS * 4, description: `A name or ticker, 1 to ${SEARCH_QUERY_MAX_CHARACTERS} characters` }),
          }),
          response: {
            200: SearchSchema,
            400: invalid({ detail: 'q: give a company name or ticker to search for', field: 'q' }, { detail: "q: may hold letters, digits, spaces and . , & ' ( ) - only", field: 'q' }),
            ...upstreamAnswers,
          },
        },
      },
      async (request, reply) => {
        const { query, matches, cache } = await search.search(request.query.q, requesterOf(request));
        sayCacheState(reply, cache);
        return {
          query,
          matches: matches.map(({ symbol, name, type, region, exchange, currency, provider }) => ({ symbol, name, type, region, exchange, currency, provider })),
        };
      },
    );
  };
}
