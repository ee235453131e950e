import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService, Authenticated } from '../../app/accounts.js';
import type { ThrottleScope, ThrottleScopes } from '../../app/throttle.js';
import { InvalidCredentialsError, NotAuthenticatedError } from '../../domain/errors.js';
import { documentAnswers, documentSecurity } from './openapi.js';
import { noKey } from './schemas/answers.js';
import { KEY_OPTIONAL, KEY_REQUIRED } from './schemas/security.js';
import { beyondAnyAllowance, type RequestCounter } from './throttle.js';
import type { ShareTaker } from './work-shares.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, when it sent a valid API key; null for anonymous calls. */
    auth: Authenticated | null;
    /** The client's address as the throttle counts it (IPv6 grouped by prefix); set by the /api/v1 gate. */
    clientAddress?: string;
  }
  interface FastifyContextConfig {
    /** Registration: counted against the client address, whatever key is sent. */
    registration?: boolean;
    /** A key rotation or revocation: counted against the account's rate and its own (THROTTLE_KEYS). */
    keyChange?: boolean;
    /** What the route costs an account, in requests, when more than one. */
    cost?: RouteCost;
    /** A query parameter that may carry the key too (the Alpha Vantage gateway's `apikey`). */
    keyParameter?: string;
  }
}

export interface RouteCost {
  /** May read what the request will answer from (a portfolio's trades); the route keeps it for its answer. */
  of: (request: FastifyRequest) => number | Promise<number>;
  /** The input that sets the cost, named when it exceeds a whole allowance. */
  field: string;
  /**
   * The cost is only known by reading storage (a portfolio folds its trades),
   * not from the request as a batch's is. Then one request is counted first,
   * so a client whose allowance is spent is refused before anything is read,
   * and the rest once the cost is known; a request refused for the rest has
   * been read, and still counts as that one. All or nothing, as a batch is,
   * would let a client with one request left have the ledger read for free,
   * again and again.
   */
  readsStorage?: boolean;
}

/**
 * The key a request carries: `Authorization: Token <key>` (DRF),
 * `Authorization: Bearer <key>`, or `X-API-Key: <key>`; on a route that
 * declares a `keyParameter`, that query parameter as a last resort. Other
 * Authorization schemes are not ours and count as no credentials, as in DRF.
 */
export function presentedKey(request: FastifyRequest): string | undefined {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim();
  const header = request.headers.authorization;
  if (!header) return keyInQuery(request);
  const [scheme, ...rest] = header.trim().split(/\s+/);
  if (!/^(token|bearer)$/i.test(scheme ?? '')) return keyInQuery(request);
  if (rest.length === 0) throw new InvalidCredentialsError('Invalid token header. No credentials provided.');
  if (rest.length > 1) throw new InvalidCredentialsError('Invalid token header. Token string should not contain spaces.');
  return rest[0];
}

/** The route's key parameter; sent twice, the last one counts, as Django reads a query. */
function keyInQuery(request: FastifyRequest): string | undefined {
  const name = request.routeOptions.config.keyParameter;
  if (name === undefined) return undefined;
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  const key = (Array.isArray(value) ? value[value.length - 1] : value)?.trim();
  return key === '' ? undefined : key;
}

/**
 * The gate of /api/v1 (and of the Alpha Vantage gateway): who is calling, and which allowances it spends, in
 * this order — an unknown route counts against the account of a valid key,
 * else the address; a wrong key counts against the address, then is 401 (429 once that
 * allowance is spent); a valid key counts against its account only, whatever
 * its address has spent, as DRF's throttles do; then the request counts
 * against its scopes (app/throttle.ts), at the route's declared cost. A flood
 * of made-up keys costs no database look-ups: they fail the key's tag first
 * (app/api-keys.ts).
 */
export function installApiGate(
  api: FastifyInstance,
  deps: { accounts: AccountService; counter: RequestCounter; scopes: ThrottleScopes; takeShare?: ShareTaker },
): void {
  const { accounts, counter, scopes, takeShare } = deps;
  // A key is read wherever one is sent; routes that need one say so (requireKey, the gateway).
  documentSecurity(api, KEY_OPTIONAL, 'default');

  /** The caller behind the key, if one is sent. */
  async function identify(request: FastifyRequest, reply: FastifyReply, anonymous: ThrottleScope): Promise<Authenticated | null> {
    try {
      const key = presentedKey(request);
      if (key === undefined) return null;
      return await accounts.authenticate(key);
    } catch (error) {
      if (error instanceof InvalidCredentialsError) await counter.count(request, reply, [anonymous]);
      throw error;
    }
  }

  /** Counts the request against the scopes it spends, at the route's cost; throws why it is refused, if it is. */
  async function charge(request: FastifyRequest, reply: FastifyReply, address: string): Promise<void> {
    const { registration, cost, keyChange } = request.routeOptions.config;
    if (registration) return counter.count(request, reply, scopes.registration(address));
    if (!request.auth) return counter.count(request, reply, [scopes.anonymous(address)]);
    if (keyChange) return counter.count(request, reply, scopes.keyChange(request.auth.account));
    const account = scopes.account(request.auth.account);
    if (!cost) return counter.count(request, reply, [account]);
    // Counted (429 when spent) before a cost that reads storage is worked out.
    if (cost.readsStorage) await counter.count(request, reply, [account]);
    // Reading storage for the cost is the expensive part (a portfolio's fold): it runs in the client's share.
    if (cost.readsStorage) await takeShare?.(request, reply);
    const counted = cost.readsStorage ? 1 : 0;
    const units = await cost.of(request);
    if (units > account.rate.limit) {
      if (counted === 0) await counter.count(request, reply, [account]);
      throw beyondAnyAllowance(account.rate, cost.field, units);
    }
    if (units > counted) await counter.count(request, reply, [account], units - counted);
  }

  /** The caller of an unknown route, if its key is valid: the route is still a 404, whatever the key. */
  async function ownerOf(request: FastifyRequest): Promise<Authenticated | null> {
    try {
      const key = presentedKey(request);
      return key === undefined ? null : await accounts.authenticate(key);
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return null;
      throw error;
    }
  }

  api.addHook('onRequest', async (request, reply) => {
    const address = scopes.addressOf(request.ip);
    request.clientAddress = address;
    if (request.is404) {
      // Counted against the account when the key is valid, as every request with it is; else the address.
      request.auth = await ownerOf(request);
      return counter.count(request, reply, [request.auth ? scopes.account(request.auth.account) : scopes.anonymous(address)]);
    }
    request.auth = await identify(request, reply, scopes.anonymous(address));
    await charge(request, reply, address);
  });
  // A scope spent only by one answer (registration: an account created) is given back on any other.
  api.addHook('onSend', async (request, reply, payload) => {
    if (request.counted) await counter.settle(request, reply);
    return payload;
  });
}

/** Every route of `scope` needs a key: without one, 401 — before a 405, as DRF checks permissions before the method. */
export function requireKey(scope: FastifyInstance): void {
  documentSecurity(scope, KEY_REQUIRED, 'replace');
  documentAnswers(scope, { 401: noKey });
  // A callback hook, not an async one: no promise to make and await on every keyed request.
  scope.addHook('onRequest', (request, _reply, done) => done(request.auth ? undefined : new NotAuthenticatedError()));
}

/** The caller of a route under requireKey. */
export function accountOf(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new NotAuthenticatedError();
  return request.auth;
}
