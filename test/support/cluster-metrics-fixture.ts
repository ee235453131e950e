/**
 * A two-worker cluster serving only what src/adapters/metrics/cluster.ts
 * renders: each worker counts its own id into one counter, so the sum over
 * the workers (1 + 2) shows the answer is the cluster's, not one worker's.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { Counter } from 'prom-client';
import { clusterMetricsRenderer, serveClusterMetrics, shareWorkerMetrics } from '../../src/adapters/metrics/cluster.js';

if (cluster.isPrimary) {
  serveClusterMetrics();
  cluster.fork();
  cluster.fork();
} else {
  new Counter({ name: 'fixture_worker_ids_total', help: 'each worker adds its id' }).inc(cluster.worker!.id);
  shareWorkerMetrics();
  const render = clusterMetricsRenderer();
  createServer((_request, response) => {
    render().then(
      (text) => response.writeHead(200).end(text),
      (error: Error) => response.writeHead(500).end(error.message),
    );
  }).listen(Number(process.env.PORT), '127.0.0.1');
}
