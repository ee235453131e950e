/**
 * Runs tasks at most `concurrency` at a time, taking turns between clients
 * (round-robin per client) instead of first come, first served: a client with
 * 100 queued tasks and one with a single task alternate, so the single task
 * waits for at most the tasks already running.
 *
 * No maintained package does this (p-limit and p-queue are first-come or
 * priority-ordered; Bottleneck's groups give each key its own limit rather
 * than sharing one), hence this small one.
 *
 * Turns are counted in rounds: each client with waiting tasks gets one start
 * per round. A client that had nothing waiting joins the current round (so it
 * goes before anyone's second turn); one just served joins the next. Within a
 * round, clients go in the order they entered it, except that a client with
 * nothing waiting or running goes first; a client's own tasks run in the
 * order it queued them.
 *
 * A task may wait for several clients (one upstream call shared by everyone
 * who asked for the symbol): it sits in each one's lane and runs at the
 * earliest of their turns, using only that client's turn.
 *
 * It lives in app/ because the rule is about the service's clients, not about
 * any vendor: app/market-data/failover.ts applies it with each vendor's
 * concurrency.
 */
export interface FairQueue {
  /**
   * Runs `task` once a slot is free and it is the turn of one of `clients`. Once `signal` aborts, a task
   * still waiting is dropped (rejected with the signal's reason); one running runs on.
   */
  run<T>(clients: ReadonlySet<string> | readonly string[], task: () => Promise<T>, key?: string, signal?: AbortSignal): Promise<T>;
  /** `client` waits too for the tasks still queued under `key`: each then also runs at `client`'s turn. */
  join(key: string, client: string): void;
  /** Tasks waiting for their turn (not counting those running). */
  readonly size: number;
  /** Clients with a task waiting. */
  readonly waitingClients: number;
}

interface Job {
  start(lane: Lane): void;
  key: string | undefined;
  clients: Set<string>;
  started: boolean;
}

interface Lane {
  /** Oldest first; may still hold jobs started through another client's lane, skipped when met. */
  jobs: Job[];
  /** The round of this client's next turn. */
  round: number;
  /** Order of entry into that round, to break ties. */
  entered: number;
  /** This client's tasks running now, started at its turns. */
  running: number;
}

/**
 * Entries of idle clients sort before every other entry of their round: a
 * client none of whose tasks waits or runs goes ahead of clients taking turn
 * after turn, so its one task waits only for the tasks already running.
 */
const IDLE_ENTRY = -Number.MAX_SAFE_INTEGER;

export function createFairQueue(concurrency: number): FairQueue {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const lanes = new Map<string, Lane>();
  const waitingByKey = new Map<string, Set<Job>>();
  let running = 0;
  let waiting = 0;
  let currentRound = 0;
  let entries = 0;

  function enqueue(client: string, job: Job): void {
    if (job.clients.has(client)) return;
    job.clients.add(client);
    let lane = lanes.get(client);
    if (!lane) {
      lane = { jobs: [], round: currentRound, entered: entries++, running: 0 };
      lanes.set(client, lane);
    } else if (!hasWaitingJob(lane)) {
      // Nothing waiting until now: back in the current round, unless already served in it.
      lane.round = Math.max(lane.round, currentRound);
      lane.entered = (lane.running === 0 ? IDLE_ENTRY : 0) + entries++;
    }
    lane.jobs.push(job);
  }

  function hasWaitingJob(lane: Lane): boolean {
    while (lane.jobs[0]?.started) lane.jobs.shift();
    return lane.jobs.length > 0;
  }

  /** The lane whose turn it is; forgets idle lanes that no longer hold back their client. */
  function nextLane(): Lane | undefined {
    let next: Lane | undefined;
    // A scan over the clients with queued work: a handful at a time, so no heap is needed.
    for (const [client, lane] of lanes) {
      if (!hasWaitingJob(lane)) {
        if (lane.round <= currentRound && lane.running === 0) lanes.delete(client);
        continue;
      }
      if (!next || lane.round < next.round || (lane.round === next.round && lane.entered < next.entered)) next = lane;
    }
    return next;
  }

  function startNext(): boolean {
    const lane = nextLane();
    if (!lane) return false;
    const job = lane.jobs.shift()!;
    currentRound = lane.round;
    lane.round += 1;
    lane.entered = entries++;
    start(job, lane);
    return true;
  }

  function start(job: Job, lane: Lane): void {
    leaveWaiting(job);
    running += 1;
    job.start(lane);
  }

  /** Out of the waiting jobs (started, or dropped): the lanes skip it from now on. */
  function leaveWaiting(job: Job): void {
    job.started = true;
    waiting -= 1;
    const sameKey = job.key === undefined ? undefined : waitingByKey.get(job.key);
    sameKey?.delete(job);
    if (sameKey?.size === 0) waitingByKey.delete(job.key!);
  }

  function drain(): void {
    while (running < concurrency && startNext());
  }

  return {
    run(clients, task, key, signal) {
      return new Promise((resolve, reject) => {
        signal?.throwIfAborted();
        const drop = () => {
          if (job.started) return;
          leaveWaiting(job);
          reject(signal!.reason);
        };
        const job: Job = {
          key,
          clients: new Set(),
          started: false,
          start: (lane) => {
            signal?.removeEventListener('abort', drop);
            lane.running += 1;
            (async () => task())()
              .then(resolve, reject)
              .finally(() => {
                running -= 1;
                lane.running -= 1;
                drain();
              });
          },
        };
        for (const client of clients) enqueue(client, job);
        if (job.clients.size === 0) throw new RangeError('a task needs at least one client');
        waiting += 1;
        if (key !== undefined) waitingByKey.set(key, (waitingByKey.get(key) ?? new Set()).add(job));
        signal?.addEventListener('abort', drop, { once: true });
        drain();
      });
    },
    join(key, client) {
      for (const job of waitingByKey.get(key) ?? []) enqueue(client, job);
    },
    get size() {
      return waiting;
    },
    get waitingClients() {
      return [...lanes.values()].filter(hasWaitingJob).length;
    },
  };
}
