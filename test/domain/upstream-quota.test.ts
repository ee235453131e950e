import { describe, expect, it } from 'vitest';
import { lookupsLeft, mayLookUp, mayLookUpThisMinute, secondsUntilReset, windowStart } from '../../src/domain/upstream-quota.js';

describe('quota windows', () => {
  it('when it is 23:59:30 UTC, then the day resets in 30 s and the minute too; a new day starts at 00:00 UTC', () => {
    const at = new Date('2026-11-23T23:59:30Z');
    expect(secondsUntilReset('day', at)).toBe(30);
    expect(secondsUntilReset('minute', at)).toBe(30);
    expect(windowStart('day', at)).toBe(Date.parse('2026-11-23T00:00:00Z'));
    expect(windowStart('day', new Date('2026-11-24T00:00:00Z'))).toBe(Date.parse('2026-11-24T00:00:00Z'));
    expect(windowStart('minute', at)).toBe(Date.parse('2026-11-23T23:59:00Z'));
  });
});

describe('the fair share of new-symbol lookups', () => {
  it('when a client has looked up fewer than a fifth of the calls left, then it may look up one more', () => {
    expect(mayLookUp(4, 25, 0.2)).toBe(true); // 4 < 5
    expect(mayLookUp(5, 25, 0.2)).toBe(false);
    expect(mayLookUp(3, 15, 0.2)).toBe(false); // 0.2 × 15 is exactly 3, not 3.0000000000000004
    expect(mayLookUp(2, 15, 0.2)).toBe(true);
  });

  it("when a minute's calls are shared, then half of those left each, and its last call too (no minute keeps one for refreshes)", () => {
    expect([0, 1, 2].map((made) => mayLookUpThisMinute(made, 6 - made, 0.5))).toEqual([true, true, false]); // 0 < 3, 1 < 2.5, 2 < 2
    expect(mayLookUpThisMinute(0, 1, 0.5)).toBe(true); // a limit of 1 a minute still serves a lookup
    expect(mayLookUpThisMinute(0, 0, 1)).toBe(false);
  });

  it('when two calls are left, then a client with no lookup may make one; with one left, nobody may', () => {
    expect(mayLookUp(0, 2, 0.2)).toBe(true);
    expect(mayLookUp(0, 1, 1)).toBe(false);
    expect(mayLookUp(0, 0, 1)).toBe(false);
  });

  it('when a client has made none of 25, then it has 5 lookups left; past its share, none; with one call left, none', () => {
    expect(lookupsLeft(0, 25, 0.2)).toBe(5);
    expect(lookupsLeft(5, 20, 0.2)).toBe(0);
    expect(lookupsLeft(0, 1, 1)).toBe(0);
    expect(lookupsLeft(0, 3, 1)).toBe(2); // 0 < 3, 1 < 2, then 2 < 1 fails (and one call stays)
  });
});
