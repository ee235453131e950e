import type { Rate, ThrottleDecision } from '../domain/throttle.js';

/** Port: where request counts live — in-process, or Redis shared by every instance. */
export interface RateLimitStore {
  /**
   * Counts a request costing `cost` units (default 1) for `key` if `rate` allows
   * all of it; otherwise counts nothing. Rejects when the store is unreachable.
   */
  hit(key: string, rate: Rate, cost?: number): Promise<ThrottleDecision>;
  /** What one more request for `key` would be told, counting nothing. */
  peek(key: string, rate: Rate): Promise<ThrottleDecision>;
  /** 'ok', or why the store cannot be used right now. */
  health(): 'ok' | 'unreachable';
  close(): Promise<void>;
}

/** Which limit a request counts against, DRF's scopes: per account, or per client address. */
export interface ThrottleScope {
  name: 'user' | 'anon' | 'trades';
  key: string;
  rate: Rate;
}
