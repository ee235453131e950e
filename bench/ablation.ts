/**
 * Ablation of the quote's per-request duties: the built service (dist/) against throwaway copies of it,
 * each with one duty patched out, plus bare Fastify and bare node:http answering the quote's own bytes.
 * CPU per answer (utime + stime ÷ answers), interleaved rounds, the median and the spread of the rounds.
 *
 *   npm run build && npx tsx bench/ablation.ts base=dist/main.js log=dist/main.js:LOG_LEVEL=warn \
 *     metrics=/tmp/abl/metrics/dist/main.js …
 *
 * Each argument is name=entry[:ENV=value,…]. The patched copies are not kept in the repository
 * (bench/ablation.md says what each removes).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IBM_BARS, startUpstream } from '../test/support/stand-in.js';
import { measure, median, WARM_SECONDS, ROUNDS, type Load, type Target } from './load.js';
import { register } from './scenarios.js';
import { freePort, startService, type Service } from './service.js';

const FLOOR = (kind: 'fastify' | 'http') => `
const answer = JSON.parse(process.env.ABL_ANSWER);
const body = Buffer.from(answer.body, 'base64');
const port = Number(process.env.PORT);
if (${JSON.stringify(kind)} === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false, keepAliveTimeout: 72_000 });
  app.get('/*', (request, reply) => reply.code(200).headers(answer.headers).send(body));
  await app.listen({ port, host: '127.0.0.1' });
} else {
  const { createServer } = await import('node:http');
  const server = createServer({ keepAliveTimeout: 72_000 }, (request, response) => { response.writeHead(200, answer.headers); response.end(body); });
  server.listen(port, '127.0.0.1');
}`;

async function startFloor(kind: 'fastify' | 'http', answer: { headers: Record<string, string>; body: string }): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--input-type=module', '-e', FLOOR(kind)], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PORT: String(port), ABL_ANSWER: JSON.stringify(answer) } });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await (await fetch(base + '/')).arrayBuffer();
      break;
    } catch {
      if (i > 100) throw new Error(`floor ${kind} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { base, pid: child.pid!, rssMb: () => NaN, peakRssMb: () => NaN, stop: async () => void (child.kill('SIGTERM'), await once(child, 'exit')) };
}

const upstream = await startUpstream();
upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
const folder = mkdtempSync(join(tmpdir(), 'sms-abl-'));
const dbPath = join(folder, 'shared.db');
const variants = process.argv.slice(2).map((arg) => {
  const [name, spec] = arg.split(/=(.*)/s) as [string, string];
  const [entry, envText] = spec.split(/:(.*)/s) as [string, string | undefined];
  const env = Object.fromEntries((envText ?? '').split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]));
  return { name, entry, env };
});
const targets: { name: string; service: Service }[] = [];
for (const [i, v] of variants.entries()) {
  targets.push({ name: v.name, service: await startService({ databaseUrl: `sqlite:${dbPath}`, upstreamUrl: upstream.url, apiCallsLog: join(folder, `a${i}.log`), entry: v.entry, env: v.env }) });
}
const key = await register(targets[0]!.service.base);
const quote: Load = { paths: ['/api/v1/symbol/IBM/'], headers: { authorization: `Token ${key}` } };
let sample: { headers: Record<string, string>; body: string } | undefined;
for (const { name, service } of targets) {
  const response = await fetch(`${service.base}/api/v1/symbol/IBM/`, { headers: quote.headers });
  const body = Buffer.from(await response.arrayBuffer());
  console.log(name, response.status, body.length, 'bytes', [...response.headers.keys()].length, 'headers');
  if (!sample) {
    const headers = Object.fromEntries([...response.headers].filter(([n]) => !['date', 'connection', 'keep-alive', 'content-length'].includes(n)));
    sample = { headers, body: body.toString('base64') };
  }
}
targets.push({ name: 'floor-fastify', service: await startFloor('fastify', sample!) });
targets.push({ name: 'floor-node-http', service: await startFloor('http', sample!) });

const list: Target[] = targets.map(({ service }) => ({ base: service.base, pid: service.pid }));
for (const target of list) await measure(target, quote, WARM_SECONDS);
const rounds: number[][] = list.map(() => []);
const errors: number[] = list.map(() => 0);
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, target] of list.entries()) {
    const m = await measure(target, quote);
    rounds[i]!.push(m.cpuUs!);
    errors[i]! += m.errors;
  }
  console.error(`round ${round + 1}/${ROUNDS} done`);
}
const baseMedian = median(rounds[0]!);
console.log('| variant | µs CPU/answer (median) | rounds min–max | vs first | errors |');
console.log('|---|---|---|---|---|');
for (const [i, { name }] of targets.entries()) {
  const r = rounds[i]!;
  const m = median(r);
  console.log(`| ${name} | ${m.toFixed(1)} | ${Math.min(...r).toFixed(1)}–${Math.max(...r).toFixed(1)} | ${(m - baseMedian).toFixed(1)} | ${errors[i]} |`);
}
console.log('raw', JSON.stringify(Object.fromEntries(targets.map(({ name }, i) => [name, rounds[i]!.map((x) => +x.toFixed(1))]))));
for (const { service } of targets) await service.stop();
await upstream.close();
rmSync(folder, { recursive: true, force: true });
