/**
 * Group commit: writes that arrive while a commit is running wait, and go
 * together in the next one. N concurrent writers then cost one transaction —
 * one counter-row lock, one round trip and one fsync on PostgreSQL — instead
 * of N taking turns. A write that arrives when no commit is running starts
 * one without waiting for any timer: batching never holds a lone request
 * back, and the batch size follows the load by itself.
 *
 * "Without waiting for any timer" is setImmediate, not a direct call: a
 * better-sqlite3 transaction runs synchronously, start to commit, so started
 * from the first request's callback it would always be alone (the other
 * sockets' callbacks cannot run during it). Started after the event loop's
 * ready I/O callbacks, it takes every request that arrived in the same turn.
 *
 * It lives beside the stores, not in app/: it is how a store spends
 * transactions, invisible through the port (a caller awaits its own write,
 * answered once the batch holding it has committed).
 */

export interface GroupCommitOptions<I, O> {
  /** Writes `items` in one transaction; resolves, once committed, with one result per item, in order. */
  commit(items: I[]): Promise<O[]>;
  /** The most items one transaction takes; more wait for the next. */
  maxBatch: number;
  /**
   * Whether, after a batch of several failed with `error`, each of its items is
   * tried again in a transaction of its own. A row the database refuses then
   * fails only its own write; a database that is away fails them all at once
   * rather than once per item.
   */
  retryAlone(error: unknown): boolean;
}

interface Pending<I, O> {
  item: I;
  resolve(result: O): void;
  reject(error: unknown): void;
}

/** A function that writes one item through group commit: it resolves once that item's batch committed. */
export function groupCommit<I, O>(options: GroupCommitOptions<I, O>): (item: I) => Promise<O> {
  const queue: Pending<I, O>[] = [];
  let committing = false;

  async function drain(): Promise<void> {
    while (queue.length > 0) await commitBatch(queue.splice(0, options.maxBatch));
    committing = false;
  }

  async function commitBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await options.commit(batch.map((pending) => pending.item));
      batch.forEach((pending, i) => pending.resolve(results[i] as O));
    } catch (error) {
      if (batch.length > 1 && options.retryAlone(error)) await commitOneByOne(batch);
      else for (const pending of batch) pending.reject(error);
    }
  }

  /** In batch order, so ids stay in the order the batch had. */
  async function commitOneByOne(batch: Pending<I, O>[]): Promise<void> {
    for (const [i, pending] of batch.entries()) {
      try {
        const [result] = await options.commit([pending.item]);
        pending.resolve(result as O);
      } catch (error) {
        pending.reject(error);
        if (options.retryAlone(error)) continue;
        for (const rest of batch.slice(i + 1)) rest.reject(error);
        return;
      }
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (committing) return;
      committing = true;
      setImmediate(() => void drain());
    });
}
