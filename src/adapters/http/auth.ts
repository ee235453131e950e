import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountService, Authenticated } from '../../app/accounts.js';
import type { ThrottleScopes } from '../../app/throttle.js';
import { InvalidCredentialsError, NotAuthenticatedError, ValidationError } from '../../domain/errors.js';
import type { RequestCounter } from './throttle.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, when it sent a valid API key; null for anonymous calls. */
    auth: Authenticated | null;
  }
  interface FastifyContextConfig {
    /** Registration: counted against the client address, whatever key is sent. */
    registration?: boolean;
    /** What the route costs an account, in requests, when more than one; `field` is the input that sets it. */
    cost?: { of: (request: FastifyRequest) => number; field: string };
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

/**
 * The gate of /api/v1: who is calling, and which allowances it spends, in
 * this order — an unknown route counts against the address and looks no key
 * up; a key is looked up only while the address has anonymous allowance left
 * (a key either cache knows needs no look-up); a wrong key counts against the
 * address, then is 401 (429 once that allowance is spent); then the request
 * counts against its scopes (app/throttle.ts), at the route's declared cost.
 */
export function installApiGate(
  api: FastifyInstance,
  deps: { accounts: AccountService; counter: RequestCounter; scopes: ThrottleScopes },
): void {
  const { accounts, counter, scopes } = deps;
  api.addHook('onRequest', async (request, reply) => {
    const address = scopes.addressOf(request.ip);
    if (request.is404) return counter.count(request, reply, scopes.anonymous(address));
    try {
      const key = presentedKey(request);
      const refuseSpentAddress = () => counter.refuseIfSpent(request, reply, scopes.anonymous(address)[0]!);
      request.auth = key === undefined ? null : await accounts.authenticate(key, refuseSpentAddress);
    } catch (error) {
      if (error instanceof InvalidCredentialsError) await counter.count(request, reply, scopes.anonymous(address));
      throw error;
    }
    const { registration, cost } = request.routeOptions.config;
    if (registration) return counter.count(request, reply, scopes.registration(address));
    if (!request.auth) return counter.count(request, reply, scopes.anonymous(address));
    const [accountScope] = scopes.account(request.auth.account.id);
    const units = cost ? cost.of(request) : 1;
    if (cost && units > accountScope!.rate.limit) {
      throw new ValidationError(cost.field, `costs ${units} requests, more than the whole allowance of ${accountScope!.rate.text}; ask for fewer at a time`);
    }
    return counter.count(request, reply, [accountScope!], units);
  });
}

/** Every route of `scope` needs a key: without one, 401 — before a 405, as DRF checks permissions before the method. */
export function requireKey(scope: FastifyInstance): void {
  scope.addHook('onRequest', async (request) => {
    if (!request.auth) throw new NotAuthenticatedError();
  });
}

/** The caller of a route under requireKey. */
export function accountOf(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new NotAuthenticatedError();
  return request.auth;
}
