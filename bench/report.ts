/** The results table: printed, and written to bench/results.md with the machine line. */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { CONNECTIONS, ROUNDS, SECONDS, type Measurement } from './load.js';

export interface Row {
  scenario: string;
  service?: Measurement;
  ceiling?: Measurement;
  /** The bare Fastify app answering the same bytes (./floor-server.ts). */
  floor?: Measurement;
  /** service req/s ÷ ceiling req/s, both medians of the same interleaved rounds. */
  ratio?: number;
  /** floor req/s ÷ ceiling req/s: what Fastify alone leaves of the ceiling. */
  floorRatio?: number;
  /** The service's peak RSS (VmHWM) after the scenario, MB. */
  rssMb?: number;
  /** A result that is not a request rate (a scaling factor, a streamed list). */
  value?: string;
  target?: string;
  met?: boolean;
}

const whole = (n: number) => Math.round(n).toLocaleString('en');
const mb = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(0));

const micros = (m: Measurement | undefined) => (m?.cpuUs === undefined ? '—' : m.cpuUs.toFixed(0));
/** The CPU each process spent per answer: what the service costs beside node:http and bare Fastify, whoever the load generator starves. */
const cpu = (row: Row) => (row.service?.cpuUs === undefined ? '—' : [row.service, row.ceiling, row.floor].filter(Boolean).map(micros).join(' / '));

export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} cores (${cpu}), Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${CONNECTIONS} connections, ${SECONDS} s per measurement, medians of ${ROUNDS} interleaved rounds against the ceiling`;
}

export function table(rows: Row[]): string {
  const lines = [
    '| scenario | req/s | p50 / p99 ms | errors | peak RSS MB | ceiling req/s | ratio / result | Fastify floor req/s | floor ÷ ceiling | CPU µs/req service / ceiling / floor | target | |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|',
  ];
  for (const row of rows) {
    const s = row.service;
    const result = [row.ratio !== undefined ? `${row.ratio.toFixed(2)}×` : undefined, row.value].filter(Boolean).join('; ') || '—';
    const verdict = row.met === undefined ? '' : row.met ? 'met' : '**missed**';
    lines.push(
      `| ${row.scenario} | ${s ? whole(s.rps) : '—'} | ${s ? `${s.p50} / ${s.p99}` : '—'} | ${s ? whole(s.errors) : '—'} | ${mb(row.rssMb)} | ${row.ceiling ? whole(row.ceiling.rps) : '—'} | ${result} | ${row.floor ? whole(row.floor.rps) : '—'} | ${row.floorRatio !== undefined ? `${row.floorRatio.toFixed(2)}×` : '—'} | ${cpu(row)} | ${row.target ?? ''} | ${verdict} |`,
    );
  }
  return lines.join('\n');
}

export function writeResults(path: string, rows: Row[], notes: string[]): string {
  const text = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts). Ratios are service ÷ ceiling (bare node:http) measured in the same run; the Fastify floor (a bare Fastify app, no hooks, logger off) is measured in the same interleaved rounds; see bench/README.md; every round so far is in bench/rounds.md.',
    '',
    `Machine: ${machineLine()}.`,
    '',
    table(rows),
    '',
    ...notes.map((note) => `- ${note}`),
    '',
  ].join('\n');
  writeFileSync(path, text);
  return text;
}
