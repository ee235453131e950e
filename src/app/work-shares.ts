/**
 * Concurrency shares of expensive work (issue 18): one unit of allowance can cost a second of CPU (a full
 * adjusted history, a 500,000-trade list, a large portfolio), so the allowance alone does not keep one client
 * from taking the whole machine. Each client — an account, or an address for anonymous requests — runs at
 * most `perClient` expensive requests at a time; anonymous requests together run at most `anonymous`, so
 * keyed clients keep the rest when the service is busy. A request over its share waits in a short queue
 * (at most `queuePerClient` per client, at most `queueWaitMs`), keyed waiters first when a place frees;
 * past either bound it is refused, and the client is told to try again shortly.
 *
 * Hand-written rather than a library's semaphore (p-limit, async-sema): those queue one line first come,
 * first served, and the rule here is per client, with a shared cap on anonymous work and keyed clients first.
 * In-process: each instance shares its own CPU.
 */

export interface WorkShareLimits {
  /** Expensive requests one client runs at once (EXPENSIVE_PER_CLIENT). */
  perClient: number;
  /** Expensive anonymous requests run at once, all anonymous clients together (EXPENSIVE_ANONYMOUS). */
  anonymous: number;
  /** Requests one client may have waiting for its share (EXPENSIVE_QUEUE). */
  queuePerClient: number;
  /** How long a request waits for its share before it is refused (EXPENSIVE_QUEUE_WAIT_MS). */
  queueWaitMs: number;
}

/** Who runs a request: an account's id, or an anonymous client's address. */
export interface Worker {
  client: string;
  anonymous: boolean;
}

/** Gives back the place a request held; calling it again does nothing. */
export type Release = () => void;

/** Runs `run` after `ms` unless cancelled: a timer, injected so tests fire it themselves. */
export type Timer = (run: () => void, ms: number) => () => void;

const realTimer: Timer = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

/** A request refused its share: how long until the client should try again. */
export class ShareRefused extends Error {
  constructor(readonly retryAfterMs: number) {
    super('too many expensive requests at once');
  }
}

interface Waiter {
  worker: Worker;
  admit: (release: Release) => void;
  cancelTimeout: () => void;
}

export function workShares(limits: WorkShareLimits, timer: Timer = realTimer) {
  const running = new Map<string, number>();
  const queued = new Map<string, number>();
  let anonymousRunning = 0;
  const waiting: Waiter[] = []; // in arrival order

  const mayStart = ({ client, anonymous }: Worker) =>
    (running.get(client) ?? 0) < limits.perClient && (!anonymous || anonymousRunning < limits.anonymous);

  function start(worker: Worker): Release {
    running.set(worker.client, (running.get(worker.client) ?? 0) + 1);
    if (worker.anonymous) anonymousRunning++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = running.get(worker.client)! - 1;
      if (left === 0) running.delete(worker.client);
      else running.set(worker.client, left);
      if (worker.anonymous) anonymousRunning--;
      admitWaiting();
    };
  }

  function unqueue(waiter: Waiter): void {
    waiting.splice(waiting.indexOf(waiter), 1);
    const left = queued.get(waiter.worker.client)! - 1;
    if (left === 0) queued.delete(waiter.worker.client);
    else queued.set(waiter.worker.client, left);
  }

  /** Keyed waiters first, then anonymous ones, each in arrival order, as long as places are free. */
  function admitWaiting(): void {
    for (const anonymous of [false, true]) {
      for (const waiter of waiting.filter((w) => w.worker.anonymous === anonymous)) {
        if (!mayStart(waiter.worker)) continue;
        unqueue(waiter);
        waiter.cancelTimeout();
        waiter.admit(start(waiter.worker));
      }
    }
  }

  return {
    /** A place for one expensive request of `worker`, now or after a wait; rejects with ShareRefused. */
    enter(worker: Worker): Promise<Release> {
      if (mayStart(worker)) return Promise.resolve(start(worker));
      const queuedNow = queued.get(worker.client) ?? 0;
      if (queuedNow >= limits.queuePerClient) return Promise.reject(new ShareRefused(limits.queueWaitMs));
      return new Promise<Release>((admit, refuse) => {
        const waiter: Waiter = { worker, admit, cancelTimeout: () => {} };
        waiter.cancelTimeout = timer(() => {
          unqueue(waiter);
          refuse(new ShareRefused(limits.queueWaitMs));
        }, limits.queueWaitMs);
        waiting.push(waiter);
        queued.set(worker.client, queuedNow + 1);
      });
    },
    /** Requests running and waiting now, for tests and metrics. */
    state: () => ({ running: [...running.values()].reduce((a, b) => a + b, 0), anonymousRunning, waiting: waiting.length }),
  };
}

export type WorkShares = ReturnType<typeof workShares>;
