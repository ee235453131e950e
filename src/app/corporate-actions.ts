/**
 * Splits and cash dividends per symbol: the ports the actions use cases need.
 * The adjustment itself is domain/corporate-actions.ts.
 */
import type { Dividend, Split } from './market-data.js';

/** A symbol's actions, each list ascending by date. */
export interface CorporateActions {
  splits: Split[];
  dividends: Dividend[];
}

/** Where saved actions came from. */
export interface ActionsProvenance {
  /** A provider's name, or the import's. */
  source: string;
  /** Epoch ms. */
  fetchedAt: number;
  /** True when asked of a provider: the attempt is recorded, and lastAttempt says so. An import is not one. */
  upstreamAttempt: boolean;
}

export type ActionsOutcome = 'actions' | 'unknown';

/** Port: the service's own store of splits and dividends. */
export interface ActionStore {
  /** Ascending by date; empty lists when none are stored. */
  actions(symbol: string): Promise<CorporateActions>;
  /** Upserts by (symbol, date) and (symbol, ex-date), in one transaction; an upstream attempt is recorded in it too. */
  saveActions(symbol: string, actions: CorporateActions, provenance: ActionsProvenance): Promise<void>;
  /** When the symbol's actions were last asked upstream, and with what outcome. */
  lastAttempt(symbol: string): Promise<{ at: number; outcome: ActionsOutcome } | undefined>;
  /** Records that every provider said the symbol does not exist. */
  recordUnknown(symbol: string, at: number): Promise<void>;
}
