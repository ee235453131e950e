import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { checkNewTrade, type NewTrade } from '../../src/domain/trade.js';

const valid: NewTrade = { type: 'sell', user_id: 1, symbol: 'AC', shares: 10, price: 5, timestamp: 0 };

describe('checkNewTrade', () => {
  it('accepts shares at both ends of [1, 100] and either type', () => {
    for (const shares of [1, 100]) expect(() => checkNewTrade({ ...valid, shares })).not.toThrow();
    // 32 characters, 64 UTF-16 code units: the limit counts characters, as the schema and PostgreSQL do.
    expect(() => checkNewTrade({ ...valid, symbol: '\u{1d538}'.repeat(32) })).not.toThrow();
    expect(() => checkNewTrade({ ...valid, type: 'buy' })).not.toThrow();
  });

  it.each([
    [{ shares: 0 }, 'shares'],
    [{ shares: 101 }, 'shares'],
    [{ shares: 2.5 }, 'shares'],
    [{ type: 'hold' }, 'type'],
    [{ price: -1 }, 'price'],
    [{ user_id: 1.5 }, 'user_id'],
    [{ timestamp: Number.MAX_SAFE_INTEGER + 2 }, 'timestamp'],
    [{ symbol: '' }, 'symbol'],
    [{ symbol: 'X'.repeat(33) }, 'symbol'],
    [{ symbol: '\u{1d538}'.repeat(33) }, 'symbol'],
  ])('refuses %j, naming %s', (change, field) => {
    const trade = { ...valid, ...change } as NewTrade;
    expect(() => checkNewTrade(trade)).toThrow(ValidationError);
    try {
      checkNewTrade(trade);
    } catch (error) {
      expect((error as ValidationError).field).toBe(field);
    }
  });
});
