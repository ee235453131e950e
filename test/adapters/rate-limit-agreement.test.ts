import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryRateLimitStore } from '../../src/adapters/ratelimit/memory.js';
import { connectRedisRateLimitStore } from '../../src/adapters/ratelimit/redis.js';
import type { RateLimitStore } from '../../src/app/throttle.js';
import { parseRate, type Rate, type ThrottleDecision } from '../../src/domain/throttle.js';
import { testRedisEnv } from '../support/engines.js';

/**
 * The Redis store runs the throttle window in Lua; the memory store runs domain/throttle.ts.
 * One instance counts with one, several with the other: for the same hits at the same times,
 * they must give the same answers.
 */

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const quiet = { error: () => undefined, info: () => undefined };
const RATES = { '3/second': parseRate('3/second')!, '5/minute': parseRate('5/minute')!, '10/day': parseRate('10/day')! };
type RateName = keyof typeof RATES;

/** One step: at a time (ms after T0), a hit of `cost` units for a client under a rate. */
interface Step {
  at: number;
  key: string;
  rate: RateName;
  cost: number;
}

const opened: RateLimitStore[] = [];
afterEach(async () => {
  while (opened.length > 0) await opened.pop()!.close();
});

async function replay(kind: 'memory' | 'redis', steps: Step[]): Promise<ThrottleDecision[]> {
  let now = T0;
  const clock = () => now;
  const { REDIS_URL, REDIS_KEY_PREFIX } = testRedisEnv();
  const store = kind === 'memory' ? createMemoryRateLimitStore({ now: clock }) : await connectRedisRateLimitStore(REDIS_URL!, REDIS_KEY_PREFIX!, quiet, { now: clock });
  opened.push(store);
  const answers: ThrottleDecision[] = [];
  for (const step of steps) {
    now = T0 + step.at;
    const rate: Rate = RATES[step.rate];
    const key = `${step.rate}:${step.key}`;
    answers.push(await store.hit(key, rate, step.cost));
  }
  return answers;
}

/** Each step beside both stores' answers, so a disagreement names its step. */
async function bothStores(steps: Step[]) {
  const [memory, redis] = await Promise.all([replay('memory', steps), replay('redis', steps)]);
  return {
    memory: steps.map((step, i) => ({ step, answer: memory[i] })),
    redis: steps.map((step, i) => ({ step, answer: redis[i] })),
  };
}

describe('the Lua and TypeScript throttle windows', () => {
  it('when one scripted sequence (window and bucket edges, batches, refusals) runs through both, then every answer is the same', async () => {
    const day = (at: number, cost = 1): Step => ({ at, key: 'user:1', rate: '10/day', cost });
    // Time only moves on: each part of the script starts after the one before.
    const second = (at: number, cost = 1): Step => ({ at: 2 * DAY + at, key: 'anon:a', rate: '3/second', cost });
    const minute = (at: number, cost = 1): Step => ({ at: 3 * DAY + at, key: 'anon:b', rate: '5/minute', cost });
    const steps: Step[] = [
      // A day's window, minute buckets: a batch late in one bucket, another just into the next.
      day(59_500, 4),
      day(60_100, 3),
      day(3_600_000, 5), // refused whole: only 3 left
      day(3_600_001, 3),
      day(3_600_002), // refused: spent
      day(3_600_003, 11), // more than the limit: never fits
      day(59_500 + DAY - 1), // the first batch leaves a millisecond later
      day(59_500 + DAY, 4), // ... now: exactly its 4 are back
      day(59_500 + DAY + 1),
      day(60_100 + DAY, 3),
      // A second's window, buckets of 16 ms: across a bucket edge, then exactly as buckets leave.
      second(0),
      second(15), // the same bucket, which now counts until 15 + 1000
      second(16),
      second(17), // refused
      second(1000), // refused: the first bucket leaves with its latest request, at 1015 (late by less than a bucket)
      second(1014), // refused
      second(1015),
      second(1016, 2), // the 16 ms bucket leaves: room for two
      second(1017), // refused
      second(2016, 3),
      // A minute's window, buckets of a second: a batch of the whole limit, refusals at the edge.
      minute(10_000, 5),
      minute(10_001),
      minute(69_999), // refused: the batch leaves at 70,000
      minute(70_000, 2),
      minute(70_500, 3),
      minute(70_999, 1),
      minute(71_000, 6),
    ];
    const { memory, redis } = await bothStores(steps);
    expect(redis).toEqual(memory);

    // And the answers are the window's, not merely the same on both sides.
    const allowed = memory.map(({ answer }) => answer!.allowed);
    expect(allowed).toEqual([
      true, true, false, true, false, false, false, true, false, true,
      true, true, true, false, false, false, true, true, false, true,
      true, false, false, true, true, false, false,
    ]);
    expect(memory[2]!.answer).toEqual({ allowed: false, limit: 10, remaining: 3, resetMs: DAY - 3_600_000 + 59_500, retryAfterMs: DAY - 3_600_000 + 59_500 });
    expect(memory[5]!.answer).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: DAY });
  });

  it('when 400 generated steps run through both, then every answer is the same', async () => {
    const advance = fc.oneof(
      fc.constantFrom(0, 1, 15, 16, 999, 1000, 59_999, 60_000, 3_600_000, DAY - 1, DAY),
      fc.integer({ min: 0, max: 120_000 }),
    );
    const draw = fc.array(
      fc.record({
        advance,
        key: fc.constantFrom('x', 'y'),
        rate: fc.constantFrom<RateName>('3/second', '5/minute', '10/day'),
        cost: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 12 })),
      }),
      { minLength: 400, maxLength: 400 },
    );
    const seed = Number(process.env.FUZZ_SEED ?? 20261123);
    const [drawn] = fc.sample(draw, { seed, numRuns: 1 });
    let at = 0;
    const steps = drawn!.map(({ advance, ...step }) => ({ ...step, at: (at += advance) }));
    const { memory, redis } = await bothStores(steps);
    expect(redis, `replay with FUZZ_SEED=${seed}`).toEqual(memory);
    // The sequence reaches refusals and passes alike.
    expect(memory.filter(({ answer }) => !answer!.allowed).length).toBeGreaterThan(40);
    expect(memory.filter(({ answer }) => answer!.allowed).length).toBeGreaterThan(40);
  });
});
