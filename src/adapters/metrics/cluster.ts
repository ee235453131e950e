/**
 * /metrics across cluster workers. A scrape reaches one worker, whose own
 * counters are a fraction of the truth; prom-client's AggregatorRegistry, in
 * the primary, asks every worker for its metrics and sums them. So a worker
 * answering /metrics asks the primary over the cluster's IPC channel and
 * serves what it sends back.
 *
 * Each worker calls shareWorkerMetrics with its registries (it answers the
 * primary from then on), and its /metrics route renders with
 * clusterMetricsRenderer().
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'sms:cluster-metrics-request';
const RESPONSE = 'sms:cluster-metrics-response';

/** Longer than prom-client's own wait for every worker (5 s), so its error is the one reported. */
const DEFAULT_TIMEOUT_MS = 6000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: string;
}

interface MetricsResponse {
  type: typeof RESPONSE;
  id: string;
  metrics?: string;
  error?: string;
}

const isRequest = (message: unknown): message is MetricsRequest => (message as MetricsRequest | null)?.type === REQUEST;
const isResponse = (message: unknown): message is MetricsResponse => (message as MetricsResponse | null)?.type === RESPONSE;

/**
 * In the primary: answers workers' requests with every worker's metrics,
 * aggregated. Returns a function that stops answering.
 */
export function serveClusterMetrics(): () => void {
  const aggregator = new AggregatorRegistry();
  const answer = (worker: { send(message: MetricsResponse): boolean }, message: unknown) => {
    if (!isRequest(message)) return;
    aggregator.clusterMetrics().then(
      (metrics) => worker.send({ type: RESPONSE, id: message.id, metrics }),
      (error: unknown) => worker.send({ type: RESPONSE, id: message.id, error: (error as Error).message }),
    );
  };
  cluster.on('message', answer);
  return () => void cluster.off('message', answer);
}

/**
 * In a worker: what it contributes to the cluster's metrics (prom-client's
 * global registry unless given). prom-client answers the primary only in a
 * worker that has built an AggregatorRegistry, hence the one built here.
 */
export function shareWorkerMetrics(registries?: Registry[]): void {
  if (registries) AggregatorRegistry.setRegistries(registries);
  new AggregatorRegistry();
}

/**
 * In a worker: a render() for the /metrics route that returns the whole
 * cluster's metrics, or rejects when the primary does not answer within
 * `timeoutMs`. Every worker must share its metrics (shareWorkerMetrics) for the sum to be whole.
 */
export function clusterMetricsRenderer(options: { timeoutMs?: number } = {}): () => Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return () =>
    new Promise((resolve, reject) => {
      if (!process.send) return reject(new Error('not a cluster worker: there is no primary to aggregate metrics'));
      const id = randomUUID();
      const settle = (message: unknown) => {
        if (!isResponse(message) || message.id !== id) return;
        clearTimeout(timer);
        process.off('message', settle);
        if (message.metrics !== undefined) resolve(message.metrics);
        else reject(new Error(`cluster metrics: ${message.error ?? 'no answer'}`));
      };
      const timer = setTimeout(() => {
        process.off('message', settle);
        reject(new Error(`cluster metrics: the primary did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      process.on('message', settle);
      process.send({ type: REQUEST, id } satisfies MetricsRequest);
    });
}
