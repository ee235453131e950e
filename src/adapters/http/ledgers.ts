import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { AccountService } from '../../app/accounts.js';
import {
  CLAIMS_PER_ACCOUNT,
  claimLedger,
  type ClaimOptions,
  forbiddenLedger,
  type LedgerAccess,
  ledgerAccess,
  type LedgerClaims,
  listClaims,
  releaseLedger,
} from '../../app/ledger-claims.js';
import { userIdOf } from '../../app/portfolio.js';
import { LedgerClaimedError } from '../../domain/errors.js';
import { accountOf, presentedKey } from './auth.js';
import { documentedAs } from './openapi.js';
import { errorAnswer, invalid, notFound } from './schemas/answers.js';
import { DocumentedPortfolioParams } from './schemas/portfolio.js';

export const LedgerClaimSchema = Type.Object({
  user_id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'The ledger user_id claimed' }),
  claimed_at: Type.Integer({ description: 'When it was claimed, epoch milliseconds' }),
  after_trade_id: Type.Integer({
    description: "The ledger's last trade id when the claim was made: this user_id's trades with ids up to it were recorded before the claim, by anyone",
  }),
});

// Read as text, as the portfolio reads it: a bad user_id is the same 400 there and here.
const Params = Type.Object({ user_id: Type.String({ description: 'The ledger user_id, a non-negative integer' }) });
const badUserId = { detail: 'user_id: must be a non-negative integer', field: 'user_id' };
export const forbiddenAnswer = errorAnswer("The ledger is claimed and the key is not its owner's (or no key was sent)", [{ detail: forbiddenLedger().message }]);

/**
 * The claim rule for one request. The ledger's routes have no gate (the seed's clients send no key),
 * so the key is read only when the user_id asked about is claimed: an unclaimed ledger never costs a
 * key look-up, and a wrong key there is ignored as before. On a claimed one, a wrong key is 401.
 */
export function accessFor(claims: LedgerClaims, accounts: AccountService): (request: FastifyRequest) => LedgerAccess {
  return (request) =>
    ledgerAccess(claims, async () => {
      if (request.auth) return request.auth.account.id;
      const key = presentedKey(request);
      return key === undefined ? undefined : (await accounts.authenticate(key)).account.id;
    });
}

/** /api/v1/ledgers: an account's claims on user_ids of the trade ledger (app/ledger-claims.ts). Under requireKey. */
export function ledgerRoutes(claims: LedgerClaims, options: ClaimOptions): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/ledgers/:user_id/claim',
      {
        config: { swaggerTransform: documentedAs(DocumentedPortfolioParams) },
        schema: {
          summary: "Claim a ledger user_id for the key's account: from then on only that account's key writes or reads its trades and portfolio",
          operationId: 'claimLedger',
          tags: ['trades'],
          params: Params,
          response: {
            200: { ...LedgerClaimSchema, description: 'The account held this claim already; it is unchanged' },
            201: { ...LedgerClaimSchema, description: 'Claimed' },
            400: invalid(badUserId, { detail: `user_id: an account may claim at most ${CLAIMS_PER_ACCOUNT} ledgers; release one first`, field: 'user_id' }),
            409: errorAnswer('Another account holds this ledger', [{ detail: new LedgerClaimedError().message }]),
          },
        },
      },
      async (request, reply) => {
        const { claim, created } = await claimLedger(claims, options, accountOf(request).account.id, userIdOf(request.params.user_id));
        return reply.code(created ? 201 : 200).send(claim);
      },
    );

    app.delete(
      '/ledgers/:user_id/claim',
      {
        config: { swaggerTransform: documentedAs(DocumentedPortfolioParams) },
        schema: {
          summary: 'Release a claim: the ledger is open again, as the seed has it, to anyone without a key',
          operationId: 'releaseLedger',
          tags: ['trades'],
          params: Params,
          response: {
            204: Type.Null({ description: 'Released' }),
            400: invalid(badUserId),
            404: notFound('You have no claim on this ledger.'),
          },
        },
      },
      async (request, reply) => {
        await releaseLedger(claims, accountOf(request).account.id, userIdOf(request.params.user_id));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/ledgers',
      {
        schema: {
          summary: "The key's account's claimed ledgers, by user_id",
          operationId: 'listLedgerClaims',
          tags: ['trades'],
          response: { 200: Type.Array(LedgerClaimSchema) },
        },
      },
      async (request) => listClaims(claims, accountOf(request).account.id),
    );
  };
}
