import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type AccountService, type RegisterOnce, registerOnce } from '../../app/accounts.js';
import type { ProviderStatus } from '../../app/provider-status.js';
import { secondsUp } from '../../domain/throttle.js';
import { accountOf } from './auth.js';
import { idempotencyKeyOf } from './idempotency.js';
import { ErrorSchema, IdempotencyHeaderSchema } from './schemas/common.js';
import { AccountSchema, ApiKeySchema } from './schemas/market.js';
import { prefers } from './negotiation.js';
import { multipartTextFields, parseUrlencodedForm } from './strict-utf8.js';

const RegistrationSchema = Type.Object({
  name: Type.String({ description: 'First name, up to 100 characters' }),
  last_name: Type.String({ description: 'Last name, up to 100 characters' }),
  email: Type.String({ description: 'Unique, case-insensitively' }),
});

/** A key as the original service answers it: a JSON string, or the bare key for `Accept: text/plain`. */
function sendKey(request: FastifyRequest, reply: FastifyReply, status: number, key: string) {
  if (prefers(request, 'text/plain')) return reply.code(status).type('text/plain; charset=utf-8').send(key);
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(key));
}

/** POST /register: open to anyone, counted against the client address (route config `registration`). */
export function registrationRoutes(accounts: AccountService, once: RegisterOnce): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Registration takes the seed's multipart form, a urlencoded form, or JSON — in this scope only.
    // Both forms' values are decoded as strict UTF-8 (strict-utf8.ts): bytes that are not are a 400 on their field.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, parseUrlencodedForm);
    const textFields = multipartTextFields(1024, 10);
    await app.register(multipart, { ...textFields, attachFieldsToBody: 'keyValues', limits: { ...textFields.limits, parts: 10 } });

    app.post(
      '/register',
      {
        config: { registration: true },
        schema: {
          summary: 'Register and receive an API key',
          tags: ['accounts'],
          consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
          headers: IdempotencyHeaderSchema,
          body: RegistrationSchema,
          response: { 201: ApiKeySchema, 400: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema },
        },
      },
      async (request, reply) => {
        const idempotencyKey = idempotencyKeyOf(request);
        const { key } = idempotencyKey === undefined ? await accounts.register(request.body) : await registerOnce(once, idempotencyKey, request.body);
        return sendKey(request, reply, 201, key);
      },
    );
  };
}

/**
 * The account's fair share of each provider, kept by account id as the quote routes spend it (requesterOf);
 * absent, like `usage`, when the database cannot be asked: /me answers from the key cache without it.
 */
async function upstreamLookupsOf(request: FastifyRequest, providers: ProviderStatus, client: string) {
  try {
    return await providers.shareOf(client);
  } catch (error) {
    request.log.warn({ err: error }, 'upstream lookups of the account could not be read');
    return undefined;
  }
}

/** The account behind the key, and its key: for callers with a key only (app.ts puts them behind requireKey). */
export function accountRoutes(accounts: AccountService, providers: ProviderStatus): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/me',
      { schema: { summary: 'The account behind the key', tags: ['accounts'], response: { 200: AccountSchema, 401: ErrorSchema } } },
      async (request) => {
        const { account, prefix } = accountOf(request);
        // Usage is the throttle's count for this request (absent when the store could not be asked).
        const counted = request.rateLimit;
        const shares = await upstreamLookupsOf(request, providers, String(account.id));
        return {
          name: account.name,
          last_name: account.last_name,
          email: account.email,
          created_at: new Date(account.created_at).toISOString(),
          key_prefix: prefix,
          usage: counted && {
            rate: counted.scope.rate.text,
            used: counted.decision.limit - counted.decision.remaining,
            remaining: counted.decision.remaining,
            resets_in_seconds: secondsUp(counted.decision.resetMs),
          },
          upstream_lookups: shares && Object.fromEntries(shares.map((s) => [s.provider, { lookups_today: s.lookupsToday, fair_share_left: s.lookupsLeft }])),
        };
      },
    );

    app.post(
      '/keys/rotate',
      { schema: { summary: 'Replace the key; the old one stops working at once', tags: ['accounts'], response: { 201: ApiKeySchema, 401: ErrorSchema } } },
      async (request, reply) => sendKey(request, reply, 201, await accounts.rotateKey(accountOf(request))),
    );

    app.post(
      '/keys/revoke',
      { schema: { summary: 'Revoke the key; the account keeps no working key', tags: ['accounts'], response: { 204: Type.Null(), 401: ErrorSchema } } },
      async (request, reply) => {
        await accounts.revokeKey(accountOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}
