import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

/** Where each endpoint lives, relative to the host (right behind any proxy). */
const ENDPOINTS = {
  register: '/api/v1/register/',
  symbol: '/api/v1/symbol/{symbol}/',
  symbols: '/api/v1/symbols/?symbols={symbol},{symbol}',
  history: '/api/v1/symbol/{symbol}/history/?from={YYYY-MM-DD}&to={YYYY-MM-DD}&adjusted={true|false}&interval={1day|1week|1month}',
  indicators: '/api/v1/symbol/{symbol}/indicators/{name}/?interval={1day|1week|1month}&time_period={n}&series_type={close|open|high|low}',
  actions: '/api/v1/symbol/{symbol}/actions/',
  search: '/api/v1/search/?q={name or ticker}',
  portfolio: '/api/v1/portfolio/{user_id}/?as_of={YYYY-MM-DD}',
  portfolio_history: '/api/v1/portfolio/{user_id}/history/?from={YYYY-MM-DD}&to={YYYY-MM-DD}',
  ledger_claim: '/api/v1/ledgers/{user_id}/claim/',
  ledgers: '/api/v1/ledgers/',
  me: '/api/v1/me/',
  providers: '/api/v1/providers/',
  rotate_key: '/api/v1/keys/rotate/',
  revoke_key: '/api/v1/keys/revoke/',
  alpha_vantage: '/query?function={function}&symbol={symbol}&apikey={key}',
  openapi: '/openapi.json',
};

const ApiRootSchema = Type.Object(Object.fromEntries(Object.keys(ENDPOINTS).map((name) => [name, Type.String()])));

/**
 * GET /api/v1/: the entry point the original service's readme sends people
 * to, as DRF's browsable root does: a map of the endpoints. No key needed.
 */
export function apiRootRoute(): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/', { schema: { summary: 'The endpoints of the API', operationId: 'getApiRoot', tags: ['api'], response: { 200: ApiRootSchema } } }, async () => ENDPOINTS);
  };
}
