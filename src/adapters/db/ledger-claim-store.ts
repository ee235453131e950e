import type { Kysely } from 'kysely';
import type { LedgerClaim, LedgerClaims } from '../../app/ledger-claims.js';
import type { Database } from './database.js';

const CLAIM_COLUMNS = ['user_id', 'claimed_at', 'after_trade_id'] as const;

/** The ledger claims on SQLite or PostgreSQL, through one code path. */
export function createLedgerClaimStore(db: Kysely<Database>): LedgerClaims {
  async function ownerOf(userId: number): Promise<number | undefined> {
    const row = await db.selectFrom('ledger_claims').select('account_id').where('user_id', '=', userId).executeTakeFirst();
    return row === undefined ? undefined : Number(row.account_id);
  }
  return {
    ownerOf,

    async insert(claim) {
      // ON CONFLICT DO NOTHING: of two claimants, the second's insert waits for the first's commit
      // (PostgreSQL) or for the write lock (SQLite), then inserts nothing; the read after it sees the winner.
      // A claim its holder released between the two statements leaves nothing to read: claim it once more.
      for (let attempt = 1; ; attempt++) {
        const result = await db.insertInto('ledger_claims').values(claim).onConflict((oc) => oc.column('user_id').doNothing()).executeTakeFirst();
        const held = await db.selectFrom('ledger_claims').select(['account_id', ...CLAIM_COLUMNS]).where('user_id', '=', claim.user_id).executeTakeFirst();
        if (held === undefined && attempt < 3) continue;
        if (held === undefined) throw new Error(`ledger ${claim.user_id}: claimed and released over and over while being claimed`);
        const { account_id, ...kept } = held;
        return { inserted: Number(result.numInsertedOrUpdatedRows ?? 0n) === 1, account_id: Number(account_id), claim: numbers(kept) };
      }
    },

    async remove(userId, accountId) {
      const result = await db.deleteFrom('ledger_claims').where('user_id', '=', userId).where('account_id', '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    async listOf(accountId) {
      const rows = await db.selectFrom('ledger_claims').select(CLAIM_COLUMNS).where('account_id', '=', accountId).orderBy('user_id').execute();
      return rows.map(numbers);
    },
  };
}

/** SQLite's driver may give bigint columns as numbers or bigints; the API speaks numbers (all are below 2^53). */
function numbers(row: LedgerClaim): LedgerClaim {
  return { user_id: Number(row.user_id), claimed_at: Number(row.claimed_at), after_trade_id: Number(row.after_trade_id) };
}
