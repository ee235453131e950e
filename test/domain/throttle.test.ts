import { describe, expect, it } from 'vitest';
import { createMemoryRateLimitStore } from '../../src/adapters/ratelimit/memory.js';
import { type Bucket, bucketSizeMs, hitWindow, parseRate, throttledDetail } from '../../src/domain/throttle.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('parseRate', () => {
  it("reads DRF's syntax", () => {
    expect(parseRate('100/day')).toEqual({ limit: 100, windowMs: DAY, text: '100/day' });
    expect(parseRate('1000/d')).toMatchObject({ limit: 1000, windowMs: DAY });
    expect(parseRate('5/second')).toMatchObject({ limit: 5, windowMs: 1000 });
    expect(parseRate('60/minute')).toMatchObject({ limit: 60, windowMs: 60_000 });
    expect(parseRate('10/hour')).toMatchObject({ limit: 10, windowMs: HOUR });
  });

  it.each(['', '100', '/day', '0/day', '-1/day', '100/week', '1.5/day', 'lots/day'])('refuses %j', (text) => {
    expect(parseRate(text)).toBeUndefined();
  });
});

describe('hitWindow (rolling window over minute buckets)', () => {
  const rate = parseRate('3/day')!;
  const t0 = Date.UTC(2026, 0, 5, 12, 0, 0);

  it('lets N through, then refuses until the oldest counted request is a day old (within a minute, never past the window)', () => {
    const buckets = new Map<number, Bucket>();
    for (let i = 0; i < 3; i++) expect(hitWindow(buckets, rate, t0 + i * 1000).allowed).toBe(true);
    const refused = hitWindow(buckets, rate, t0 + 5000);
    expect(refused.allowed).toBe(false);
    expect(refused.remaining).toBe(0);
    expect(refused.retryAfterMs).toBeGreaterThan(DAY - 5000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(DAY);
    expect(hitWindow(buckets, rate, t0 + 12 * HOUR).allowed).toBe(false);
    expect(hitWindow(buckets, rate, t0 + DAY - 1000).allowed).toBe(false);
    expect(hitWindow(buckets, rate, t0 + DAY + 60_000).allowed).toBe(true);
  });

  it('never lets 2N through across a fixed day boundary, as a fixed window would', () => {
    const buckets = new Map<number, Bucket>();
    const beforeMidnight = Date.UTC(2026, 0, 5, 23, 59, 0);
    const afterMidnight = Date.UTC(2026, 0, 6, 0, 1, 0);
    const passed = [beforeMidnight, beforeMidnight, beforeMidnight, afterMidnight, afterMidnight, afterMidnight].filter(
      (at) => hitWindow(buckets, rate, at).allowed,
    );
    expect(passed).toHaveLength(3);
  });

  it('in any 24 h window, never more than N pass, whatever the spacing', () => {
    const buckets = new Map<number, Bucket>();
    const limit = parseRate('10/day')!;
    const passedAt: number[] = [];
    for (let at = t0; at < t0 + 5 * DAY; at += 7 * 60_000 + 13_000) {
      if (hitWindow(buckets, limit, at).allowed) passedAt.push(at);
    }
    for (const start of passedAt) {
      expect(passedAt.filter((at) => at >= start && at < start + DAY).length).toBeLessThanOrEqual(10);
    }
    expect(passedAt.length).toBeGreaterThanOrEqual(40); // and the limit is not stricter than asked
  });

  it('in any window, never more than N units pass when requests cost several, and no wait or reset exceeds the window', () => {
    const buckets = new Map<number, Bucket>();
    const limit = parseRate('20/hour')!;
    const passed: { at: number; cost: number }[] = [];
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let at = t0; at < t0 + 10 * HOUR; at += next() % 240_000) {
      const cost = 1 + (next() % 6);
      const decision = hitWindow(buckets, limit, at, cost);
      expect(decision.resetMs).toBeLessThanOrEqual(HOUR);
      expect(decision.retryAfterMs).toBeLessThanOrEqual(HOUR);
      if (decision.allowed) passed.push({ at, cost });
    }
    for (const { at: start } of passed) {
      const inWindow = passed.filter(({ at }) => at >= start && at < start + HOUR);
      expect(inWindow.reduce((sum, { cost }) => sum + cost, 0)).toBeLessThanOrEqual(20);
    }
    expect(passed.length).toBeGreaterThan(20);
  });

  it('keeps at most one counter per minute of the window, whatever the rate', () => {
    const buckets = new Map<number, Bucket>();
    const huge = parseRate('1000000/day')!;
    for (let at = t0; at < t0 + 2 * DAY; at += 10_000) hitWindow(buckets, huge, at);
    expect(buckets.size).toBeLessThanOrEqual(DAY / bucketSizeMs(DAY) + 1);
    expect(bucketSizeMs(DAY)).toBe(60_000);
  });

  it('reports remaining and reset', () => {
    const buckets = new Map<number, Bucket>();
    const first = hitWindow(buckets, rate, t0);
    expect(first).toMatchObject({ allowed: true, limit: 3, remaining: 2 });
    expect(first.resetMs).toBeGreaterThan(DAY - 60_000);
  });
});

describe('the memory store', () => {
  it('keeps clients apart, and forgets one whose window has passed', async () => {
    let now = Date.UTC(2026, 0, 5);
    const store = createMemoryRateLimitStore({ now: () => now });
    const rate = parseRate('1/minute')!;
    expect((await store.hit('a', rate)).allowed).toBe(true);
    expect((await store.hit('a', rate)).allowed).toBe(false);
    expect((await store.hit('b', rate)).allowed).toBe(true);
    now += 62_000;
    expect((await store.hit('a', rate)).allowed).toBe(true);
  });
});

describe("DRF's refusal wording", () => {
  it('says "seconds", and "second" for one', () => {
    expect(throttledDetail(86399)).toBe('Request was throttled. Expected available in 86399 seconds.');
    expect(throttledDetail(1)).toBe('Request was throttled. Expected available in 1 second.');
  });
});
