/**
 * A buy or sell trade in the ledger. Field names are the public contract's
 * (snake_case), so the same shape travels from HTTP to storage unchanged.
 */

import { ValidationError } from './errors.js';
import { characterCount } from './text.js';

export const TRADE_TYPES = ['buy', 'sell'] as const;
export type TradeType = (typeof TRADE_TYPES)[number];

/** The accepted range of `shares` (the seed's "10 to 30" only describes typical data). */
export const SHARES_MIN = 1;
export const SHARES_MAX = 100;
/** Symbols are stored as given; the cap only bounds what one row may hold. */
export const TRADE_SYMBOL_MAX_LENGTH = 32;

export interface NewTrade {
  type: TradeType;
  user_id: number;
  symbol: string;
  shares: number;
  price: number;
  timestamp: number;
}

export interface Trade extends NewTrade {
  id: number;
}

export interface TradeFilter {
  user_id?: number;
  type?: TradeType;
  symbol?: string;
  /** Leave out every claimed ledger's trades (app/ledger-claims.ts): what a list not narrowed to one user_id shows a client. */
  unclaimedOnly?: boolean;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Throws a ValidationError naming the first field that breaks the ledger's rules. */
export function checkNewTrade(trade: NewTrade): void {
  if (!TRADE_TYPES.includes(trade.type)) {
    throw new ValidationError('type', `must be one of ${TRADE_TYPES.join(', ')}`);
  }
  if (!Number.isInteger(trade.shares) || trade.shares < SHARES_MIN || trade.shares > SHARES_MAX) {
    throw new ValidationError('shares', `must be an integer from ${SHARES_MIN} to ${SHARES_MAX}`);
  }
  for (const field of ['user_id', 'price', 'timestamp'] as const) {
    if (!isCount(trade[field])) throw new ValidationError(field, 'must be a non-negative integer');
  }
  const symbolLength = characterCount(trade.symbol);
  if (symbolLength === 0 || symbolLength > TRADE_SYMBOL_MAX_LENGTH) {
    throw new ValidationError('symbol', `must be 1 to ${TRADE_SYMBOL_MAX_LENGTH} characters`);
  }
}
