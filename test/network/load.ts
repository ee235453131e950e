import { randomUUID } from 'node:crypto';

/** What one HTTP call came to: a status, or why there was none. */
export interface Answer {
  status: number | 'timeout' | 'error';
  body: unknown;
  ms: number;
  /** `Idempotent-Replayed: true`: the answer of an earlier write, nothing written now. */
  replayed: boolean;
}

export interface Instance {
  name: 'a' | 'b';
  base: string;
}

/** Every call has a deadline: a silent link must show as a timeout, never as a load generator stuck for ever. */
export async function call(on: Instance, method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Token ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  try {
    const response = await fetch(`${on.base}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 3000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as text for the report.
    }
    return { status: response.status, body, ms: performance.now() - started, replayed: response.headers.get('idempotent-replayed') === 'true' };
  } catch (error) {
    const timedOut = error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { status: timedOut ? 'timeout' : 'error', body: String(error), ms: performance.now() - started, replayed: false };
  }
}

export async function register(on: Instance, email: string): Promise<string> {
  const answer = await call(on, 'POST', '/api/v1/register/', { body: { name: 'Net', last_name: 'Work', email } });
  if (answer.status !== 201) throw new Error(`register ${email} on ${on.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as string;
}

/** One trade as a client means it: its Idempotency-Key stays the same across every retry. */
export interface TradeIntent {
  worker: number;
  /** Unique per intent: how the stored row is found again. */
  timestamp: number;
  idempotencyKey: string;
  attempts: { instance: string; status: Answer['status']; replayed: boolean; at: number }[];
  /** The id of the 201 the client finally got, if any. */
  acknowledgedId?: number;
  /** Every id any 201 for this intent named (a replay must name the same one). */
  idsSeen: number[];
}

/** Status counts and latencies per instance within a time window, for the report. */
export interface Sample {
  at: number;
  instance: string;
  kind: 'trade' | 'quote' | 'rotate';
  status: Answer['status'];
  ms: number;
}

export interface LoadOptions {
  instances: Instance[];
  clock: () => number;
  tradeWorkers: number;
  quoteKeys: string[];
  /** An account rotated over and over, checking that each old key is refused on every instance. */
  rotationKey: string;
}

const RETRY_FOR_MS = 120_000;

/**
 * A mixed load until stopped: trades retried with their Idempotency-Key (on the other instance after a
 * failure, as a client behind a load balancer would), quotes with keys, and key rotations.
 */
export function startLoad(options: LoadOptions) {
  const intents: TradeIntent[] = [];
  const samples: Sample[] = [];
  const rotationFailures: string[] = [];
  let lostKeys = 0;
  let stopped = false;
  let nextTimestamp = 1_700_000_000;
  const pick = (i: number) => options.instances[i % options.instances.length]!;

  async function tradeWorker(worker: number) {
    for (let n = 0; !stopped; n++) {
      const intent: TradeIntent = { worker, timestamp: nextTimestamp++, idempotencyKey: randomUUID(), attempts: [], idsSeen: [] };
      intents.push(intent);
      const body = { type: 'buy', user_id: 9000 + worker, symbol: 'IBM', shares: 1 + (n % 100), price: 100, timestamp: intent.timestamp };
      const giveUpAt = options.clock() + RETRY_FOR_MS;
      for (let attempt = 0; options.clock() < giveUpAt; attempt++) {
        const on = pick(worker + n + attempt);
        const answer = await call(on, 'POST', '/trades', { body, headers: { 'idempotency-key': intent.idempotencyKey } });
        samples.push({ at: options.clock(), instance: on.name, kind: 'trade', status: answer.status, ms: answer.ms });
        intent.attempts.push({ instance: on.name, status: answer.status, replayed: answer.replayed, at: options.clock() });
        if (answer.status === 201) {
          const id = (answer.body as { id: number }).id;
          intent.idsSeen.push(id);
          intent.acknowledgedId = id;
          // Sometimes retry an acknowledged trade anyway, as a client whose answer was lost would.
          if (n % 7 === 0) {
            const again = await call(pick(worker + n + attempt + 1), 'POST', '/trades', { body, headers: { 'idempotency-key': intent.idempotencyKey } });
            if (again.status === 201) intent.idsSeen.push((again.body as { id: number }).id);
          }
          break;
        }
        if (typeof answer.status === 'number' && answer.status < 500 && answer.status !== 409 && answer.status !== 429) break;
        await pause(100);
      }
      if (stopped) break;
    }
  }

  async function quoteWorker(key: string, index: number) {
    for (let n = 0; !stopped; n++) {
      const on = pick(index + n);
      const answer = await call(on, 'GET', `/api/v1/symbol/${['IBM', 'AAPL', 'MSFT', 'KO'][n % 4]}/`, { key });
      samples.push({ at: options.clock(), instance: on.name, kind: 'quote', status: answer.status, ms: answer.ms });
      if (typeof answer.status !== 'number') await pause(100);
    }
  }

  async function rotationWorker() {
    let key = options.rotationKey;
    for (let n = 0; !stopped; n++) {
      const on = pick(n);
      const answer = await call(on, 'POST', '/api/v1/keys/rotate/', { key });
      samples.push({ at: options.clock(), instance: on.name, kind: 'rotate', status: answer.status, ms: answer.ms });
      if (answer.status === 401) {
        // A rotation whose answer was lost (a timeout) may have been made: its new key is lost with it, as
        // a client's would be. A fresh account goes on rotating.
        lostKeys++;
        key = await register(on, `rotation-${n}@example.com`).catch(() => key);
      }
      if (answer.status === 201) {
        const old = key;
        key = answer.body as string;
        // On the instance that rotated, the old key is refused before the answer (documented: at once).
        const check = await call(on, 'GET', '/api/v1/me/', { key: old });
        if (typeof check.status === 'number' && check.status !== 401) rotationFailures.push(`old key answered ${check.status} on ${on.name}, the instance that rotated it`);
      }
      await pause(1000);
    }
  }

  const running = Promise.all([
    ...Array.from({ length: options.tradeWorkers }, (_, w) => tradeWorker(w)),
    ...options.quoteKeys.map((key, i) => quoteWorker(key, i)),
    rotationWorker(),
  ]);
  return {
    intents,
    samples,
    rotationFailures,
    lostKeys: () => lostKeys,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
