import { describe, expect, it } from 'vitest';
import { createServedRequests, type ServedRequestsStore } from '../../src/app/served-requests.js';

/** A store in memory that can be told to fail, standing in for the shared table. */
function memoryStore() {
  const days = new Map<number, number>();
  let failing = false;
  const store: ServedRequestsStore = {
    async add(day, requests) {
      if (failing) throw new Error('database down');
      days.set(day, (days.get(day) ?? 0) + requests);
    },
    count: async (day) => days.get(day) ?? 0,
  };
  return { store, days, fail: (yes: boolean) => void (failing = yes) };
}

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

describe('requests served, counted in memory and flushed', () => {
  it('when requests are counted, then nothing is written until a flush, which writes one increment, and today counts both', async () => {
    const { store, days } = memoryStore();
    const served = createServedRequests(store, { now: () => new Date('2026-11-23T15:00:00Z') });
    served.count();
    served.count(3);
    expect(days.size).toBe(0);
    expect(await served.today()).toBe(4);
    await served.flush();
    expect(days).toEqual(new Map([[day('2026-11-23'), 4]]));
    served.count();
    expect(await served.today()).toBe(5);
  });

  it('when counts straddle midnight UTC, then each lands on its own day', async () => {
    const { store, days } = memoryStore();
    let now = new Date('2026-11-23T23:59:59Z');
    const served = createServedRequests(store, { now: () => now });
    served.count(2);
    now = new Date('2026-11-24T00:00:01Z');
    served.count();
    expect(await served.today()).toBe(1);
    await served.flush();
    expect(days).toEqual(new Map([[day('2026-11-23'), 2], [day('2026-11-24'), 1]]));
  });

  it('when a flush fails, then its counts are kept for the next one: none lost, none counted twice', async () => {
    const { store, days, fail } = memoryStore();
    const served = createServedRequests(store, { now: () => new Date('2026-11-23T15:00:00Z') });
    served.count(2);
    fail(true);
    await expect(served.flush()).rejects.toThrow('database down');
    served.count();
    fail(false);
    await served.flush();
    await served.flush();
    expect(days).toEqual(new Map([[day('2026-11-23'), 3]]));
  });
});
