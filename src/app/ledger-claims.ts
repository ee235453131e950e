/**
 * Ledger claims (issue 18): an account claims a user_id of the trade ledger, and from then on that
 * user_id's trades are written and read with the owner's key only. A user_id nobody has claimed
 * stays as the seed has it: open, with no key.
 *
 * `checkLedgerAccess` is the one rule; every route that writes or reads one user_id's trades
 * (POST /trades, GET /trades?user_id=, GET /trades/{id}, the portfolio and its history) calls it.
 */
import { ForbiddenError, LedgerClaimedError, NotFoundError, ValidationError } from '../domain/errors.js';

/** At most this many claims per account: one account cannot squat on the seed's whole user_id space. */
export const CLAIMS_PER_ACCOUNT = 100;

export interface LedgerClaim {
  user_id: number;
  /** Epoch ms. */
  claimed_at: number;
  /** The ledger's last trade id when the claim was made: this user_id's trades with ids up to it were recorded before the claim. */
  after_trade_id: number;
}

/** Port: the claims, shared by every instance through the database. */
export interface LedgerClaims {
  /** The owning account's id, or undefined when nobody has claimed the user_id. One primary-key read. */
  ownerOf(userId: number): Promise<number | undefined>;
  /**
   * Inserts the claim unless the user_id is claimed already (the primary key decides a race: one
   * insert wins on either engine), then reads who holds it.
   */
  insert(claim: LedgerClaim & { account_id: number }): Promise<{ inserted: boolean; account_id: number; claim: LedgerClaim }>;
  /** Deletes the account's claim on the user_id; false when it held none. */
  remove(userId: number, accountId: number): Promise<boolean>;
  /** The account's claims, by user_id. */
  listOf(accountId: number): Promise<LedgerClaim[]>;
}

/** Who is asking: resolves to the caller's account id, or undefined when anonymous. Lazy, so an unclaimed ledger never reads a key. */
export type Caller = () => Promise<number | undefined>;

export const forbiddenLedger = () =>
  new ForbiddenError("user_id: this ledger is claimed; only its owner's key (Authorization: Token …) may write or read its trades.");

/**
 * The rule: a claimed ledger is written and read by its owner only. One indexed look-up per
 * request, no cache, so a claim or a release holds on every instance the moment it commits.
 */
export async function checkLedgerAccess(claims: LedgerClaims, userId: number, caller: Caller): Promise<void> {
  const owner = await claims.ownerOf(userId);
  if (owner === undefined) return;
  if ((await caller()) !== owner) throw forbiddenLedger();
}

/** The rule bound to one request's caller: throws ForbiddenError when `userId` is claimed by someone else. */
export type LedgerAccess = (userId: number) => Promise<void>;

export function ledgerAccess(claims: LedgerClaims, caller: Caller): LedgerAccess {
  return (userId) => checkLedgerAccess(claims, userId, caller);
}

export interface ClaimOptions {
  now: () => Date;
  /** The ledger's last trade id (TradeLedger.lastId). */
  lastTradeId: () => Promise<number>;
}

/** Claims `userId` for the account: `created` false when the account held it already (idempotent). */
export async function claimLedger(
  claims: LedgerClaims,
  options: ClaimOptions,
  accountId: number,
  userId: number,
): Promise<{ claim: LedgerClaim; created: boolean }> {
  const owner = await claims.ownerOf(userId);
  if (owner === accountId) {
    const held = (await claims.listOf(accountId)).find((c) => c.user_id === userId);
    // Gone meanwhile (the owner released it at the same moment): claimed afresh below.
    if (held) return { claim: held, created: false };
  } else if (owner !== undefined) {
    throw new LedgerClaimedError();
  }
  // Checked before the insert: claims by one account at the same moment may pass it together (a few over, at most).
  if ((await claims.listOf(accountId)).length >= CLAIMS_PER_ACCOUNT) {
    throw new ValidationError('user_id', `an account may claim at most ${CLAIMS_PER_ACCOUNT} ledgers; release one first`);
  }
  const wanted = { user_id: userId, account_id: accountId, claimed_at: options.now().getTime(), after_trade_id: await options.lastTradeId() };
  const held = await claims.insert(wanted);
  if (held.account_id !== accountId) throw new LedgerClaimedError();
  // Another request of the same account may have inserted first: that claim is the one kept.
  return { claim: held.claim, created: held.inserted };
}

export async function releaseLedger(claims: LedgerClaims, accountId: number, userId: number): Promise<void> {
  if (!(await claims.remove(userId, accountId))) throw new NotFoundError('You have no claim on this ledger.');
}

export async function listClaims(claims: LedgerClaims, accountId: number): Promise<LedgerClaim[]> {
  return claims.listOf(accountId);
}
