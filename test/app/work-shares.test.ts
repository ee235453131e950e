import { describe, expect, it } from 'vitest';
import { type Release, ShareRefused, type Timer, workShares } from '../../src/app/work-shares.js';

/** Timers the test fires itself: nothing waits on a clock. */
function manualTimers() {
  const pending = new Set<() => void>();
  const timer: Timer = (run) => {
    pending.add(run);
    return () => pending.delete(run);
  };
  return { timer, fireAll: () => [...pending].forEach((run) => (pending.delete(run), run())), count: () => pending.size };
}

const LIMITS = { perClient: 2, anonymous: 2, queuePerClient: 1, queueWaitMs: 2000 };
const keyed = (client: string) => ({ client, anonymous: false });
const anonymous = (client: string) => ({ client, anonymous: true });

/** Whether a promise has settled, once the microtasks before it have run. */
async function settled<T>(promise: Promise<T>): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('work shares', () => {
  it('when a client has its share running, then one more waits, a further one is refused, and the waiter starts when a place frees', async () => {
    const { timer, count } = manualTimers();
    const shares = workShares(LIMITS, timer);
    const first = await shares.enter(keyed('a'));
    await shares.enter(keyed('a'));
    const third = shares.enter(keyed('a'));
    expect(await settled(third)).toBe(false);
    await expect(shares.enter(keyed('a'))).rejects.toEqual(new ShareRefused(2000));
    // Another client has its own share.
    await shares.enter(keyed('b'));
    first();
    const started = await third;
    expect(typeof started).toBe('function');
    expect(count()).toBe(0); // the admitted waiter's timeout was cancelled
    expect(shares.state()).toEqual({ running: 3, anonymousRunning: 0, waiting: 0 });
  });

  it('when a waiter waits past its bound, then it is refused and leaves the queue', async () => {
    const { timer, fireAll } = manualTimers();
    const shares = workShares(LIMITS, timer);
    await shares.enter(keyed('a'));
    await shares.enter(keyed('a'));
    const waiting = shares.enter(keyed('a'));
    fireAll();
    await expect(waiting).rejects.toBeInstanceOf(ShareRefused);
    expect(shares.state().waiting).toBe(0);
    const again = shares.enter(keyed('a')); // the queue has room again
    expect(await settled(again)).toBe(false);
  });

  it('when anonymous clients fill their common share, then another address waits while keyed clients still start, and keyed waiters go first', async () => {
    const { timer } = manualTimers();
    const shares = workShares({ ...LIMITS, perClient: 1 }, timer);
    const one = await shares.enter(anonymous('198.51.100.1'));
    await shares.enter(anonymous('198.51.100.2'));
    const third = shares.enter(anonymous('198.51.100.3'));
    expect(await settled(third)).toBe(false);
    const key = await shares.enter(keyed('a')); // keyed work is not held back by anonymous work
    const keyWaiter = shares.enter(keyed('a'));
    expect(await settled(keyWaiter)).toBe(false);
    // One place frees on each side: the keyed waiter starts, and the anonymous one in its turn.
    key();
    expect(await settled(keyWaiter)).toBe(true);
    expect(await settled(third)).toBe(false);
    one();
    expect(await settled(third)).toBe(true);
    expect(shares.state()).toEqual({ running: 3, anonymousRunning: 2, waiting: 0 });
  });

  it('when a place is given back twice, then it frees one place only', async () => {
    const shares = workShares({ ...LIMITS, perClient: 1, queuePerClient: 0 }, manualTimers().timer);
    const release: Release = await shares.enter(keyed('a'));
    release();
    release();
    await shares.enter(keyed('a'));
    await expect(shares.enter(keyed('a'))).rejects.toBeInstanceOf(ShareRefused);
  });
});
