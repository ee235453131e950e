import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountService, Authenticated } from '../../app/accounts.js';
import { InvalidCredentialsError, NotAuthenticatedError } from '../../domain/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, when it sent a valid API key; null for anonymous calls. */
    auth: Authenticated | null;
  }
}

/**
 * The key a request carries: `Authorization: Token <key>` (DRF),
 * `Authorization: Bearer <key>`, or `X-API-Key: <key>`. Other Authorization
 * schemes are not ours and count as no credentials, as in DRF.
 */
export function presentedKey(request: FastifyRequest): string | undefined {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim();
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, ...rest] = header.trim().split(/\s+/);
  if (!/^(token|bearer)$/i.test(scheme ?? '')) return undefined;
  if (rest.length === 0) throw new InvalidCredentialsError('Invalid token header. No credentials provided.');
  if (rest.length > 1) throw new InvalidCredentialsError('Invalid token header. Token string should not contain spaces.');
  return rest[0];
}

/** Resolves `request.auth` on every request of the scope; a wrong key is 401 even where none is required (as in DRF). */
export function installAuthentication(app: FastifyInstance, accounts: AccountService): void {
  app.addHook('onRequest', async (request) => {
    const key = presentedKey(request);
    request.auth = key === undefined ? null : await accounts.authenticate(key);
  });
}

export function requireAccount(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new NotAuthenticatedError();
  return request.auth;
}
