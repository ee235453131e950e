import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AccountService, RegisterOnce } from '../../app/accounts.js';
import type { ProviderStatus } from '../../app/market-data/provider-status.js';
import { secondsUp } from '../../domain/throttle.js';
import { accountOf } from './auth.js';
import { idempotencyKeyOf, markReplayed } from './idempotency.js';
import { errorAnswer, idempotencyConflicts, idempotencyKeyInvalid, invalid, mergeAnswers, tooLarge, unsupportedMediaType } from './schemas/answers.js';
import { IdempotencyHeaderSchema } from './schemas/common.js';
import { AccountSchema, ApiKeySchema } from './schemas/market.js';
import { prefers } from './negotiation.js';
import { multipartTextFields, parseUrlencodedForm } from './strict-utf8.js';

const RegistrationSchema = Type.Object({
  name: Type.String({ description: 'First name, up to 100 characters' }),
  last_name: Type.String({ description: 'Last name, up to 100 characters' }),
  email: Type.String({ description: 'Unique, case-insensitively' }),
});

/** A registration retried with its Idempotency-Key cannot be replayed: its key was shown once (app/accounts.ts). */
const registrationConflicts = {
  ...idempotencyConflicts,
  409: mergeAnswers(
    idempotencyConflicts[409],
    errorAnswer('A registration with this Idempotency-Key and these fields was already answered', [
      {
        detail:
          'An account was already registered with this Idempotency-Key and these fields; its API key was shown once, in that answer, and is not kept, so it cannot be shown again.',
      },
    ]),
  ),
};

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
          operationId: 'register',
          tags: ['accounts'],
          consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
          headers: IdempotencyHeaderSchema,
          body: RegistrationSchema,
          response: {
            201: ApiKeySchema,
            400: invalid(
              { detail: 'email: An account with this email is already registered.', field: 'email' },
              { detail: 'email: Enter a valid email address.', field: 'email' },
              { detail: 'last_name: this field is required', field: 'last_name' },
              { detail: 'name: must be UTF-8 text (it has bytes that are not valid UTF-8)', field: 'name' },
              idempotencyKeyInvalid,
            ),
            ...registrationConflicts,
            413: tooLarge,
            415: unsupportedMediaType('Unsupported media type; send the body as application/json.'),
          },
        },
      },
      async (request, reply) => {
        const idempotencyKey = idempotencyKeyOf(request);
        const { key } = idempotencyKey === undefined ? await accounts.register(request.body) : await accounts.registerOnce(once, idempotencyKey, request.body);
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
      { schema: { summary: 'The account behind the key', operationId: 'getMe', tags: ['accounts'], response: { 200: AccountSchema } } },
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
      { config: { keyChange: true }, schema: { summary: 'Replace the key; the old one stops working at once', operationId: 'rotateKey', tags: ['accounts'], response: { 201: ApiKeySchema } } },
      async (request, reply) => sendKey(request, reply, 201, await accounts.rotateKey(accountOf(request))),
    );

    app.post(
      '/keys/revoke',
      { config: { keyChange: true }, schema: { summary: 'Revoke the key; the account keeps no working key', operationId: 'revokeKey', tags: ['accounts'], response: { 204: Type.Null({ description: 'Revoked; no body' }) } } },
      async (request, reply) => {
        await accounts.revokeKey(accountOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}
