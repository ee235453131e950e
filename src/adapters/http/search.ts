import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { SearchService } from '../../app/search.js';
import { SEARCH_QUERY_MAX_CHARACTERS } from '../../domain/search.js';
import { requesterOf, sayCacheState } from './quotes.js';
import { invalid, upstreamAnswers } from './schemas/answers.js';

const MatchSchema = Type.Object({
  symbol: Type.String(),
  name: Type.String(),
  type: Type.String({ description: 'As the provider words it: "Equity", "ETF", "Common Stock"…' }),
  region: Type.Optional(Type.String({ description: 'Where it trades, when the provider says by region ("United States")' })),
  exchange: Type.Optional(Type.String({ description: 'Where it trades, when the provider says by exchange ("NASDAQ")' })),
  currency: Type.String(),
  provider: Type.String({ description: 'The provider that answered the search' }),
});

const SearchSchema = Type.Object({
  query: Type.String({ description: 'The query as searched: NFKC-folded, lower-cased, spaces collapsed' }),
  matches: Type.Array(MatchSchema, { description: 'Best first; empty when nothing matches' }),
});

/** GET /api/v1/search/?q=…: the providers' symbol search, through the search cache. */
export function searchRoutes(search: SearchService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/search',
      {
        schema: {
          summary: 'Symbols whose ticker or company name matches q, best first',
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
