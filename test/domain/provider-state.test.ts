import { describe, expect, it } from 'vitest';
import { type CallRecord, providerState, recordOutcome, savedRatio } from '../../src/domain/provider-state.js';

const at = new Date('2026-11-23T15:00:30Z');
const later = (seconds: number) => new Date(at.getTime() + seconds * 1000);
const unlimited = { callsToday: 3, dailyLimit: 0, callsThisMinute: 1, minuteLimit: 0 };

describe("a provider's state", () => {
  it('when nothing failed and its windows have room, then it is ok', () => {
    expect(providerState({ callsToday: 24, dailyLimit: 25, callsThisMinute: 4, minuteLimit: 5 }, {}, at)).toEqual({ state: 'ok' });
    expect(providerState(undefined, {}, at)).toEqual({ state: 'ok' });
    expect(providerState(unlimited, {}, at)).toEqual({ state: 'ok' });
  });

  it("when the day's calls are spent, then it is rate limited until 00:00 UTC, even if the minute resets sooner", () => {
    const spent = { callsToday: 25, dailyLimit: 25, callsThisMinute: 5, minuteLimit: 5 };
    expect(providerState(spent, {}, at)).toEqual({ state: 'rate_limited', until: new Date('2026-11-24T00:00:00Z') });
  });

  it("when the minute's calls are spent, then it is rate limited until the next minute", () => {
    const spent = { callsToday: 6, dailyLimit: 800, callsThisMinute: 8, minuteLimit: 8 };
    expect(providerState(spent, {}, at)).toEqual({ state: 'rate_limited', until: new Date('2026-11-23T15:01:00Z') });
  });

  it("when the vendor refused for 20 s, then it is rate limited for those 20 s and not after", () => {
    const record = recordOutcome({}, 'rate_limited', at, 20);
    expect(providerState(unlimited, record, at)).toEqual({ state: 'rate_limited', until: later(20) });
    expect(providerState(unlimited, record, later(20))).toEqual({ state: 'ok' });
  });

  it('when calls keep failing, then it is failing since the first failure, with its kind; an answer ends it', () => {
    let record: CallRecord = recordOutcome({}, 'unavailable', at);
    record = recordOutcome(record, 'unavailable', later(5));
    expect(providerState(unlimited, record, later(10))).toEqual({ state: 'failing', since: at, lastError: 'unavailable' });
    expect(providerState(unlimited, recordOutcome(record, 'answered', later(15)), later(15))).toEqual({ state: 'ok' });
    // "No such symbol" is the vendor working.
    expect(providerState(unlimited, recordOutcome(record, 'unknown_symbol', later(15)), later(15))).toEqual({ state: 'ok' });
  });

  it('when a failing provider is also rate limited, then it shows rate limited (it says when it returns), then failing again', () => {
    const record = recordOutcome(recordOutcome({}, 'unavailable', at), 'rate_limited', at, 30);
    expect(providerState(unlimited, record, later(1))).toMatchObject({ state: 'rate_limited' });
    expect(providerState(unlimited, record, later(31))).toEqual({ state: 'failing', since: at, lastError: 'unavailable' });
  });
});

describe('the ratio saved', () => {
  it('when 10 requests cost 1 upstream call, then 0.9 was saved; nothing served is null; more calls than requests is 0', () => {
    expect(savedRatio(10, 1)).toBe(0.9);
    expect(savedRatio(3, 1)).toBe(0.6667);
    expect(savedRatio(0, 0)).toBeNull();
    expect(savedRatio(2, 5)).toBe(0);
    expect(savedRatio(7, 0)).toBe(1);
  });
});
