import { describe, expect, it, vi } from 'vitest';
import { createLocalFetchLease, createRefreshCoordinator, type FetchLease, NobodyWaitsError } from '../../../src/app/market-data/refresh.js';

/**
 * Two instances' coordinators over one lease and one store (here, a flag:
 * refreshed or not). Each "instance" counts its own upstream calls.
 */
function twoInstances(lease: FetchLease, leaseMs = 10_000) {
  const now = () => new Date('2026-11-20T22:00:00Z');
  let refreshed = false;
  const instance = () => {
    const coordinator = createRefreshCoordinator({ refreshIntervalMs: 3_600_000, lease, leaseMs, now });
    const calls: (() => void)[] = [];
    const refresh = () =>
      coordinator.refresh('IBM', coordinator.checkpoint(), { client: 'c', network: 'n', refresh: true }, {
        // Upstream answers when the test says so, then the answer is stored.
        fetch: () => new Promise<void>((resolve) => calls.push(() => ((refreshed = true), resolve()))),
        refreshedElsewhere: async () => refreshed,
      });
    return { refresh, calls };
  };
  return { a: instance(), b: instance() };
}

/** A lease that reports each refusal, so a test can wait until an instance is waiting on it. */
function watchedLease() {
  const inner = createLocalFetchLease();
  let refusals = 0;
  const lease: FetchLease = {
    async acquire(key, ttlMs) {
      const release = await inner.acquire(key, ttlMs);
      if (!release) refusals++;
      return release;
    },
  };
  return { lease, refusals: () => refusals };
}

describe('the refresh coordinator across instances', () => {
  it('when another instance holds the lease, then this one waits for its result instead of calling upstream', async () => {
    const { lease, refusals } = watchedLease();
    const { a, b } = twoInstances(lease);
    const first = a.refresh();
    await vi.waitFor(() => expect(a.calls).toHaveLength(1));
    const second = b.refresh();
    await vi.waitFor(() => expect(refusals()).toBeGreaterThan(0));

    a.calls[0]!();
    expect(await Promise.all([first, second])).toEqual(['MISS', 'MISS']);
    expect(b.calls).toHaveLength(0);
  });

  it('when the lease comes free just as the other finished, then this one finds the store refreshed and does not call upstream', async () => {
    const lease = createLocalFetchLease();
    const { a, b } = twoInstances(lease);
    const first = a.refresh();
    await vi.waitFor(() => expect(a.calls).toHaveLength(1));
    a.calls[0]!();
    await first;
    // b read the store before a's answer was stored, and takes the lease after it was released.
    expect(await b.refresh()).toBe('MISS');
    expect(b.calls).toHaveLength(0);
  });

  it('when the holder never finishes (it crashed), then this one calls upstream once the lease expires', async () => {
    const lease = createLocalFetchLease();
    const { a, b } = twoInstances(lease, 300);
    void a.refresh();
    await vi.waitFor(() => expect(a.calls).toHaveLength(1));
    const second = b.refresh();
    await vi.waitFor(() => expect(b.calls).toHaveLength(1), { timeout: 5_000 });
    b.calls[0]!();
    expect(await second).toBe('MISS');
  });
});

describe('the refresh coordinator, when its clients give up', () => {
  /** One coordinator whose fetch reports the signal it was given, and answers when the test says so. */
  function coordinatorWithHeldFetch() {
    const coordinator = createRefreshCoordinator({ refreshIntervalMs: 3_600_000, now: () => new Date('2026-11-20T22:00:00Z') });
    const fetches: { signal: AbortSignal; answer(): void }[] = [];
    const refresh = (signal: AbortSignal | undefined) =>
      coordinator.refresh('IBM', coordinator.checkpoint(), { client: 'c', signal }, {
        fetch: (asked) => new Promise<void>((resolve) => fetches.push({ signal: asked.signal!, answer: resolve })),
        refreshedElsewhere: async () => false,
      });
    return { refresh, fetches };
  }

  it('when one of two clients waiting for a fetch gives up, then the fetch goes on; when both have, its signal says nobody waits', async () => {
    const { refresh, fetches } = coordinatorWithHeldFetch();
    const [first, second] = [new AbortController(), new AbortController()];
    const asked = [refresh(first.signal), refresh(second.signal)];
    await vi.waitFor(() => expect(fetches).toHaveLength(1));
    first.abort();
    expect(fetches[0]!.signal.aborted).toBe(false);
    second.abort();
    expect(fetches[0]!.signal.reason).toBeInstanceOf(NobodyWaitsError);
    // A fetch already made runs on: its answer is had (and stored) all the same.
    fetches[0]!.answer();
    expect(await Promise.all(asked)).toEqual(['MISS', 'MISS']);
  });

  it('when a client without a signal waits (the prefetch), then the fetch is never given up', async () => {
    const { refresh, fetches } = coordinatorWithHeldFetch();
    const client = new AbortController();
    const asked = [refresh(client.signal), refresh(undefined)];
    await vi.waitFor(() => expect(fetches).toHaveLength(1));
    client.abort();
    expect(fetches[0]!.signal.aborted).toBe(false);
    fetches[0]!.answer();
    await Promise.all(asked);
  });

  it('when a fetch was given up as a client joins it, then that client gets a fetch of its own, not the failure', async () => {
    const coordinator = createRefreshCoordinator({ refreshIntervalMs: 3_600_000, now: () => new Date('2026-11-20T22:00:00Z') });
    let calls = 0;
    const refresh = (signal: AbortSignal | undefined) =>
      coordinator.refresh('IBM', coordinator.checkpoint(), { client: 'c', signal }, {
        // The first call is dropped as nobody waits (as a queued call is); the second answers.
        fetch: (asked) => (++calls === 1 ? new Promise<void>((_, reject) => asked.signal!.addEventListener('abort', () => reject(asked.signal!.reason))) : Promise.resolve()),
        refreshedElsewhere: async () => false,
      });
    const gaveUp = new AbortController();
    const first = refresh(gaveUp.signal);
    await vi.waitFor(() => expect(calls).toBe(1));
    // Given up, and joined before the dropped fetch has settled.
    gaveUp.abort();
    const joined = refresh(new AbortController().signal);
    await expect(first).rejects.toBeInstanceOf(NobodyWaitsError);
    expect(await joined).toBe('MISS');
    expect(calls).toBe(2);
  });
});
