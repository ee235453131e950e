/**
 * The ways a client sends its key (auth.ts, presentedKey), as OpenAPI security
 * schemes, and the requirements routes document with them.
 */

export type SecurityRequirement = Record<string, string[]>;

export const KEY_SCHEMES = {
  token: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: 'The original service\'s form: `Authorization: Token <key>` (type "Token " before the key)',
  },
  bearer: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <key>`' },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: '`X-API-Key: <key>`' },
  apikeyQuery: {
    type: 'apiKey',
    in: 'query',
    name: 'apikey',
    description: "Alpha Vantage's form, on the /query gateway only: `?apikey=<key>` (the headers work there too, and win)",
  },
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description: '/metrics only, when METRICS_TOKEN is set (unset by default: /metrics is open): `Authorization: Bearer <METRICS_TOKEN>`',
  },
} as const;

/** No key: the operation is open to anyone (an empty list of requirements, as OpenAPI says it). */
export const PUBLIC: SecurityRequirement[] = [];

/** Any one of the three header forms. */
export const KEY_REQUIRED: SecurityRequirement[] = [{ token: [] }, { bearer: [] }, { apiKey: [] }];

/** No key needed; one that is sent is checked all the same (a wrong key is 401). */
export const KEY_OPTIONAL: SecurityRequirement[] = [{}, ...KEY_REQUIRED];

/** Open unless METRICS_TOKEN is set, then for its bearer only. */
export const METRICS_SECURITY: SecurityRequirement[] = [{}, { metricsToken: [] }];

/** The gateway reads the key as Alpha Vantage clients send it too. */
export const GATEWAY_KEY: SecurityRequirement[] = [...KEY_REQUIRED, { apikeyQuery: [] }];
