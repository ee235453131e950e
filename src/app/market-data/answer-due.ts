/**
 * A request's market data is waited for only as long as its client waits: `signal` (the requester's)
 * aborts when the request's time budget runs out or its client goes away. What was not had by then is a
 * StillFetchingError for that symbol, and the request answers with the rest; the fetch itself goes on
 * for whoever else waits for it, and is dropped while still queued when nobody does (refresh.ts).
 */
import { StillFetchingError } from '../../domain/errors.js';

/** `work`, or a StillFetchingError for `symbol` once `signal` aborts first; nothing is started once it has. */
export function beforeAnswerDue<T>(symbol: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  if (!signal) return work();
  if (signal.aborted) return Promise.reject(new StillFetchingError(symbol));
  return new Promise<T>((resolve, reject) => {
    const giveUp = () => reject(new StillFetchingError(symbol));
    signal.addEventListener('abort', giveUp, { once: true });
    work()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', giveUp));
  });
}
