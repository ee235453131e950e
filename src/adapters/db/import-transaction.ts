import type { Kysely } from 'kysely';
import type { ImportTransaction } from '../../app/market-data/import-prices.js';
import { createActionStore } from './action-store.js';
import type { Database } from './database.js';
import { createPriceStore, type PriceStoreOptions } from './price-store.js';

/** An import's bars and actions in one database transaction (the stores write within it, see transaction.ts). */
export function createImportTransaction(db: Kysely<Database>, prices: PriceStoreOptions): ImportTransaction {
  return (work) => db.transaction().execute((trx) => work({ prices: createPriceStore(trx, prices), actions: createActionStore(trx, prices) }));
}
