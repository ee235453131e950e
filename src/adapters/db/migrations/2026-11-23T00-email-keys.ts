/**
 * Email keys were the lower-cased email, so look-alikes (composed and
 * decomposed é, fullwidth letters, the Kelvin sign, ß and ss) were different
 * accounts. This recomputes every key the new way. Where existing accounts now
 * share a key, the oldest holds it and each younger one keeps working under the
 * key `#<id>` — no registration can take that key, since every email has an @.
 * So does an account whose new key would not fit the column. Their emails are
 * left as they are.
 *
 * Frozen in time: this file never imports application code.
 */

import type { Kysely, Transaction } from 'kysely';

const KEY_MAX_LENGTH = 254;

/** The email key as of this migration: NFKC, lower, upper, lower, NFKC. */
function emailKey(email: string): string {
  return email.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}

interface Row {
  id: number;
  email: string;
  email_key: string;
}

/** The key each account ends with: the oldest account of a key holds it. */
function planKeys(accounts: Row[]): Map<number, string> {
  const held = new Set<string>();
  const plan = new Map<number, string>();
  for (const { id, email } of accounts) {
    const key = emailKey(email);
    const fits = [...key].length <= KEY_MAX_LENGTH;
    plan.set(id, fits && !held.has(key) ? key : `#${id}`);
    if (fits) held.add(key);
  }
  return plan;
}

async function recompute(trx: Kysely<any>): Promise<void> {
  const accounts: Row[] = await trx.selectFrom('accounts').select(['id', 'email', 'email_key']).orderBy('id').execute();
  const plan = planKeys(accounts);
  const changed = accounts.filter((a) => plan.get(a.id) !== a.email_key);
  // Two passes, so no row takes a key that another still holds: first each
  // changed row parks on its own `#<id>`, then the holders take their keys.
  for (const { id } of changed) {
    await trx.updateTable('accounts').set({ email_key: `#${id}` }).where('id', '=', id).execute();
  }
  for (const { id } of changed) {
    const key = plan.get(id);
    if (key !== `#${id}`) await trx.updateTable('accounts').set({ email_key: key }).where('id', '=', id).execute();
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  // PostgreSQL runs each migration in a transaction already; SQLite's does not.
  if (db.isTransaction) await recompute(db);
  else await db.transaction().execute((trx: Transaction<any>) => recompute(trx));
}

/** The keys stay unique, and the earlier code works with them: nothing to undo. */
export async function down(): Promise<void> {}
