/**
 * `npm run test:network`: two instances, PostgreSQL and Redis on four hosts (network namespaces) joined by
 * a bridge, under a mixed load from the root namespace, through four network faults on instance a's links.
 * Prints what held and how long each recovery took; exits 1 if any check failed. Root only.
 * NETWORK_TEST_SHORT=1: 12 s per fault (about 75 s in all); otherwise 30 s each (about 3.5 minutes). See docs/operations/many-instances.md.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { type HostProcess, buildNetwork, dropOnLink, host, partition, spawnIn, startPostgres, startRedis, tearDownNetwork, tempFolder } from './hosts.js';
import { type Answer, type Instance, call, pause, register, startLoad } from './load.js';

const SHORT = process.env.NETWORK_TEST_SHORT === '1';
const FAULT_MS = SHORT ? 12_000 : 30_000;
/** Longer than DATABASE_CONNECT_TIMEOUT_MS (5 s), the longest the docs say a request waits for the database. */
const PROBE_TIMEOUT_MS = 6_000;
const STEADY_MS = SHORT ? 2_000 : 10_000;
/** How long an instance may take to be healthy and serving again after a heal before it counts as failed. */
const RECOVERY_LIMIT_MS = 60_000;
/** Short here so the documented bound (AUTH_CACHE_SECONDS after a rotation an instance missed) is seen within the run. */
const AUTH_CACHE_SECONDS = 5;
const THROTTLE_PROBE_ALLOWANCE = 20;

const started = performance.now();
const clock = () => Math.round(performance.now() - started);
const checks: { what: string; held: boolean; detail: string }[] = [];
const check = (what: string, held: boolean, detail = '') => {
  checks.push({ what, held, detail });
  console.log(`${held ? 'held  ' : 'FAILED'} ${what}${detail ? `: ${detail}` : ''}`);
};

const [pgHost, redisHost, hostA, hostB] = [host('pg'), host('redis'), host('a'), host('b')];
const a: Instance = { name: 'a', base: `http://${hostA.address}:8000` };
const b: Instance = { name: 'b', base: `http://${hostB.address}:8000` };

interface Probe {
  sentAt: number;
  at: number;
  instance: string;
  health: Answer['status'];
  healthStatus?: string;
  ready: Answer['status'];
}

/**
 * /health and /ready of both instances, twice a second for the whole run, each pair sent on time whether
 * or not the previous one was answered (a hung probe must not hide the ones after it).
 */
function monitor() {
  const probes: Probe[] = [];
  const inFlight = new Set<Promise<void>>();
  const probe = async (on: Instance) => {
    const sentAt = clock();
    const [health, ready] = await Promise.all([call(on, 'GET', '/health', { timeoutMs: PROBE_TIMEOUT_MS }), call(on, 'GET', '/ready', { timeoutMs: PROBE_TIMEOUT_MS })]);
    probes.push({ sentAt, at: clock(), instance: on.name, health: health.status, healthStatus: (health.body as { status?: string } | null)?.status, ready: ready.status });
  };
  const timer = setInterval(() => {
    for (const on of [a, b]) {
      const sent = probe(on);
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
    }
  }, 500);
  return { probes, stop: async () => (clearInterval(timer), await Promise.all(inFlight)) };
}

function startInstance(h: typeof hostA, env: Record<string, string>, logFolder: string): HostProcess {
  return spawnIn(h, process.execPath, ['--import', 'tsx', 'src/main.ts'], { ...env, APICALLS_LOG: join(logFolder, `apicalls-${h.name}.log`) }, process.cwd());
}

async function waitUntil(what: string, condition: () => Promise<boolean>, limitMs: number): Promise<number> {
  const from = clock();
  while (clock() - from < limitMs) {
    if (await condition()) return clock() - from;
    await pause(100);
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

const healthy = async (on: Instance) => {
  const [health, ready] = await Promise.all([call(on, 'GET', '/health', { timeoutMs: 1000 }), call(on, 'GET', '/ready', { timeoutMs: 1000 })]);
  return health.status === 200 && (health.body as { status: string }).status === 'ok' && ready.status === 200;
};

let probeTrade = 0;
/** A fresh trade acknowledged by the instance: it serves the ledger. */
const servesTrades = async (on: Instance) =>
  (await call(on, 'POST', '/trades', { body: { type: 'sell', user_id: 8000, symbol: 'KO', shares: 1, price: 1, timestamp: ++probeTrade }, timeoutMs: 1000 })).status === 201;

interface Fault {
  name: string;
  /** The instance whose links fail. */
  target: 'a' | 'b';
  apply: () => () => void;
  /** What the target's /health and /ready should say once the fault has held for a few seconds. */
  truthDuring: (p: Probe) => boolean;
  expected: string;
  /** Probes of their own, started with the fault; they may go on after the heal. */
  during?: (context: FaultContext) => Promise<void>;
}

interface FaultContext {
  faultAt: number;
  healAt: number;
  keys: { revocation: string; throttle: string };
}

const recoveries: { fault: string; target: string; faultAt: number; healAt: number; healthyMs: number; servingMs: number }[] = [];

async function main() {
  buildNetwork();
  const folder = tempFolder();
  const postgres = startPostgres(pgHost);
  const redis = startRedis(redisHost);
  const env = {
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    HOST: '0.0.0.0',
    PORT: '8000',
    LOG_LEVEL: 'warn',
    PREFETCH: 'off',
    AUTH_CACHE_SECONDS: String(AUTH_CACHE_SECONDS),
    THROTTLE_ANON: '1000000/day',
    THROTTLE_USER: '1000000/day',
    THROTTLE_REGISTER: '1000000/day',
    THROTTLE_KEYS: '1000000/day',
    // The load writes more trades than THROTTLE_TRADES's default allows one address (10000/day): this suite is about faults, not that limit.
    THROTTLE_TRADES: 'off',
  };
  // a reaches PostgreSQL and Redis through a relay in its own host, which can delay them (delay-relay.ts).
  const relay = spawnIn(hostA, process.execPath, ['--import', 'tsx', 'test/network/delay-relay.ts', `15432=${pgHost.address}:5432`, `16379=${redisHost.address}:6379`], {}, process.cwd());
  const envA = { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:15432/postgres', REDIS_URL: 'redis://127.0.0.1:16379' };
  await waitUntil('relay listening', async () => relay.output().split('relaying').length === 3, 60_000);
  // One after the other: the first applies the migrations.
  const instanceA = startInstance(hostA, envA, folder);
  await waitUntil('instance a ready', () => healthy(a), 120_000).catch((error) => fail(error, instanceA));
  const instanceB = startInstance(hostB, env, folder);
  await waitUntil('instance b ready', () => healthy(b), 120_000).catch((error) => fail(error, instanceB));

  const quoteKeys = [await register(a, 'quotes1@example.com'), await register(b, 'quotes2@example.com')];
  const keys = { revocation: await register(a, 'revocation@example.com'), throttle: await register(b, 'throttle@example.com') };
  execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'accounts', 'set-allowance', 'throttle@example.com', `${THROTTLE_PROBE_ALLOWANCE}/day`], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: postgres.url, REDIS_URL: redis.url, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });

  const watching = monitor();
  const load = startLoad({ instances: [a, b], clock, tradeWorkers: 4, quoteKeys, rotationKey: await register(b, 'rotation@example.com') });
  await pause(STEADY_MS);

  const processes = { a: instanceA, b: instanceB };
  for (const fault of faults(relay)) {
    const on = fault.target === 'a' ? a : b;
    console.log(`-- ${fault.name}`);
    const faultAt = clock();
    const heal = fault.apply();
    const context: FaultContext = { faultAt, healAt: 0, keys };
    // The fault's own probes run on past the heal (they judge what happens after it).
    const probing = fault.during?.(context);
    await pause(FAULT_MS);
    heal();
    context.healAt = clock();
    const healthyMs = await waitUntil(`${fault.name}: healthy again`, () => healthy(on), RECOVERY_LIMIT_MS).catch(() => Number.NaN);
    const servingMs = await waitUntil(`${fault.name}: serves trades again`, () => servesTrades(on), RECOVERY_LIMIT_MS).catch(() => Number.NaN);
    recoveries.push({ fault: fault.name, target: fault.target, faultAt, healAt: context.healAt, healthyMs, servingMs: healthyMs + servingMs });
    check(`${fault.name}: ${on.name} healthy and serving again without a restart`, Number.isFinite(servingMs) && !processes[fault.target].exited, `healthy ${healthyMs} ms after the heal, a trade acknowledged ${servingMs} ms after that`);
    // /ready's truth after the heal: an instance that says ready serves writes within the time the docs
    // give a request for a database connection.
    check(`${fault.name}: once ${on.name} said ready again, it acknowledged a trade within DATABASE_CONNECT_TIMEOUT_MS (5 s)`, servingMs <= 5000, `${servingMs} ms`);
    await probing;
    judgeHealthReports(fault, watching.probes, context);
    await pause(STEADY_MS);
  }

  await load.stop();
  await watching.stop();
  check('both processes ran throughout (no restart)', !instanceA.exited && !instanceB.exited);
  check('both instances serve at the end', (await servesTrades(a)) && (await servesTrades(b)) && (await healthy(a)) && (await healthy(b)));
  check('each rotation refused the old key at once on the instance that did it', load.rotationFailures.length === 0, load.rotationFailures.slice(0, 3).join('; '));
  console.log(`rotations whose answer was lost with their new key (a fresh account went on): ${load.lostKeys()}`);
  await checkLedger(postgres.url, load.intents);
  report(load.samples);
}

function faults(relay: HostProcess): Fault[] {
  const delay = (on: boolean) => relay.child.kill(on ? 'SIGUSR1' : 'SIGUSR2');
  return [
    {
      name: 'Redis partitioned from a',
      target: 'a',
      apply: () => partition(hostA, redisHost),
      truthDuring: (p) => p.health === 200 && p.healthStatus === 'degraded' && p.ready === 200,
      expected: '/health 200 degraded, /ready 200',
      during: (context) => Promise.all([revokeWhileCutOff(context), overshootWhileCutOff(context)]).then(() => undefined),
    },
    {
      name: 'PostgreSQL partitioned from a',
      target: 'a',
      apply: () => partition(hostA, pgHost),
      truthDuring: (p) => p.health === 503 && p.ready === 503,
      expected: '/health 503 down, /ready 503',
    },
    {
      name: "200 ms delay and 5% loss on a's link",
      target: 'a',
      apply: () => {
        delay(true);
        const heal = dropOnLink(hostA, 0.05);
        return () => (delay(false), heal());
      },
      // Slow, not broken: a Redis command may miss its 500 ms timeout and say degraded.
      truthDuring: (p) => p.health === 'timeout' || (p.health === 200 && p.ready === 200),
      expected: '/health 200 (ok or degraded), /ready 200, or too slow to answer in 6 s',
    },
    {
      // b's connections to PostgreSQL and Redis are direct (no relay): their own TCP keep-alive is what is tried.
      name: "b's link silent (every packet dropped, connections left open)",
      target: 'b',
      apply: () => dropOnLink(hostB, 1),
      truthDuring: (p) => p.health === 'timeout' && p.ready === 'timeout',
      expected: 'no answer (nothing reaches b)',
    },
  ];
}

/**
 * /health and /ready told the truth: the target as expected in the probes sent from 3 s into the fault
 * until the heal was a probe's timeout away, the other instance ok throughout.
 */
function judgeHealthReports(fault: Fault, probes: Probe[], context: FaultContext) {
  const other = fault.target === 'a' ? 'b' : 'a';
  const settled = probes.filter((p) => p.instance === fault.target && p.sentAt >= context.faultAt + 3000 && p.sentAt <= context.healAt - PROBE_TIMEOUT_MS);
  const wrong = settled.filter((p) => !fault.truthDuring(p));
  check(`${fault.name}: ${fault.target}'s /health and /ready said ${fault.expected}`, settled.length > 0 && wrong.length === 0, summary(settled, wrong));
  const fromOther = probes.filter((p) => p.instance === other && p.at >= context.faultAt && p.at < context.healAt);
  const wrongOther = fromOther.filter((p) => !(p.health === 200 && p.healthStatus === 'ok' && p.ready === 200));
  check(`${fault.name}: ${other}'s /health and /ready said ok throughout`, wrongOther.length === 0, summary(fromOther, wrongOther));
}

function summary(probes: Probe[], wrong: Probe[]): string {
  const said = new Map<string, number>();
  for (const p of probes) said.set(`${p.health} ${p.healthStatus ?? ''} / ready ${p.ready}`, (said.get(`${p.health} ${p.healthStatus ?? ''} / ready ${p.ready}`) ?? 0) + 1);
  return `${probes.length - wrong.length}/${probes.length} probes as expected; said ${[...said].map(([what, n]) => `${n} × ${what}`).join(', ')}`;
}

/**
 * a cannot hear the revocation message while Redis is cut off: its cached key must still expire within
 * AUTH_CACHE_SECONDS of the rotation (security.md), and b must refuse it at once.
 */
async function revokeWhileCutOff(context: FaultContext) {
  const oldKey = context.keys.revocation;
  const cached = await call(a, 'GET', '/api/v1/me/', { key: oldKey });
  const rotation = await call(b, 'POST', '/api/v1/keys/rotate/', { key: oldKey });
  const rotatedAt = clock();
  if (rotation.status !== 201) return check('revocation while a is cut off from Redis: rotated on b', false, `${rotation.status} ${JSON.stringify(rotation.body)}`);
  const onB = await call(b, 'GET', '/api/v1/me/', { key: oldKey });
  check('revocation while a is cut off from Redis: b refuses the old key at once', onB.status === 401, String(onB.status));
  let refusedOnA = Number.NaN;
  while (clock() - rotatedAt < (AUTH_CACHE_SECONDS + 10) * 1000) {
    const answer = await call(a, 'GET', '/api/v1/me/', { key: oldKey });
    if (answer.status === 401) {
      refusedOnA = clock() - rotatedAt;
      break;
    }
    await pause(200);
  }
  const bound = AUTH_CACHE_SECONDS * 1000 + 1000;
  check(
    `revocation while a is cut off from Redis: a refuses the old key within AUTH_CACHE_SECONDS (${AUTH_CACHE_SECONDS} s) + 1 s of the rotation`,
    refusedOnA <= bound,
    `a had it cached (${cached.status}); refused ${refusedOnA} ms after the rotation`,
  );
}

/**
 * An account whose allowance is spent gets nothing more from b, which reaches Redis; a serves it uncounted
 * while its Redis is unreachable (RATE_LIMIT_ON_STORE_FAILURE=allow, throttling.md), and counts again
 * within the 2 s reconnect period plus the 500 ms command timeout after the heal.
 */
async function overshootWhileCutOff(context: FaultContext) {
  const key = context.keys.throttle;
  // Spend the allowance (before the fault's effects: b reaches Redis throughout).
  let served = 0;
  for (let i = 0; i < THROTTLE_PROBE_ALLOWANCE + 5; i++) if ((await call(b, 'GET', '/api/v1/me/', { key })).status === 200) served++;
  check(`throttle: exactly the allowance (${THROTTLE_PROBE_ALLOWANCE}) served before the overshoot probe`, served === THROTTLE_PROBE_ALLOWANCE, `${served} served`);
  const answers: { at: number; instance: string; status: Answer['status'] }[] = [];
  while (context.healAt === 0 || clock() < context.healAt + 6000) {
    for (const on of [a, b]) answers.push({ at: clock(), instance: on.name, status: (await call(on, 'GET', '/api/v1/me/', { key })).status });
    await pause(100);
  }
  const bServed = answers.filter((x) => x.instance === 'b' && x.status === 200).length;
  const aServed = answers.filter((x) => x.instance === 'a' && x.status === 200);
  const boundAfterHeal = context.healAt + 2500;
  const late = aServed.filter((x) => x.at > boundAfterHeal);
  check('throttle: b served nothing past the allowance during a\'s partition', bServed === 0, `${bServed} served`);
  check(
    'throttle: a\'s overshoot confined to the partition and 2.5 s after the heal',
    late.length === 0,
    `a served ${aServed.length} uncounted while cut off (last ${aServed.length ? aServed.at(-1)!.at - context.healAt : 0} ms from the heal); ${late.length} later`,
  );
}

/** Every acknowledged trade stored exactly once under its id; no retry wrote twice; ids increase per client. */
async function checkLedger(url: string, intents: ReturnType<typeof startLoad>['intents']) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; timestamp: string; user_id: string }>('select id, timestamp, user_id from trades where user_id between 9000 and 9099');
    const byTimestamp = new Map<number, number[]>();
    for (const row of rows) byTimestamp.set(Number(row.timestamp), [...(byTimestamp.get(Number(row.timestamp)) ?? []), Number(row.id)]);
    const acknowledged = intents.filter((i) => i.acknowledgedId !== undefined);
    const wrong = acknowledged.filter((i) => {
      const stored = byTimestamp.get(i.timestamp) ?? [];
      return stored.length !== 1 || stored[0] !== i.acknowledgedId;
    });
    check('every acknowledged trade stored exactly once, under the id its 201 named', wrong.length === 0, `${acknowledged.length} acknowledged, ${wrong.length} not so${wrong.length ? `; e.g. ${JSON.stringify(wrong[0])} stored as ${JSON.stringify(byTimestamp.get(wrong[0]!.timestamp))}` : ''}`);
    const twice = [...byTimestamp.values()].filter((ids) => ids.length > 1);
    const retried = intents.filter((i) => i.attempts.length > 1 || i.idsSeen.length > 1);
    check('no idempotent retry wrote twice', twice.length === 0, `${retried.length} trades retried; ${twice.length} stored more than once`);
    const replaysDiffer = intents.filter((i) => new Set(i.idsSeen).size > 1);
    check('every replay named the id of the first write', replaysDiffer.length === 0, `${intents.reduce((n, i) => n + i.idsSeen.length - (i.idsSeen.length ? 1 : 0), 0)} replays`);
    const unacknowledgedStored = intents.filter((i) => i.acknowledgedId === undefined && byTimestamp.has(i.timestamp)).length;
    const ids = rows.map((r) => Number(r.id));
    check('trade ids unique', new Set(ids).size === ids.length, `${ids.length} stored (${unacknowledgedStored} never acknowledged, e.g. in flight at the end)`);
    const decreasing = [0, 1, 2, 3].filter((w) => {
      const mine = acknowledged.filter((i) => i.worker === w).map((i) => i.acknowledgedId!);
      return mine.some((id, k) => k > 0 && id <= mine[k - 1]!);
    });
    check('ids increase in the order each client had its trades acknowledged', decreasing.length === 0, decreasing.length ? `clients ${decreasing.join(', ')}` : '');
  } finally {
    await client.end();
  }
}

function report(samples: ReturnType<typeof startLoad>['samples']) {
  console.log('\n| fault | healthy again after the heal | acknowledging trades again |');
  console.log('|---|---|---|');
  for (const r of recoveries) console.log(`| ${r.fault} | ${r.healthyMs} ms | ${r.servingMs} ms |`);
  console.log('\n| fault | what the load got from the faulted instance meanwhile (its answers; the slowest) |');
  console.log('|---|---|');
  for (const r of recoveries) {
    const during = samples.filter((x) => x.instance === r.target && x.at >= r.faultAt && x.at <= r.healAt);
    const kinds = ['trade', 'quote'].map((kind) => {
      const mine = during.filter((x) => x.kind === kind);
      return `${kind}s: ${countStatuses(mine)}; slowest ${Math.round(Math.max(0, ...mine.map((x) => x.ms)))} ms`;
    });
    console.log(`| ${r.fault} | ${kinds.join(' · ')} |`);
  }
  const byKind = new Map<string, Map<string, number>>();
  for (const s of samples) {
    const key = `${s.kind} on ${s.instance}`;
    const counts = byKind.get(key) ?? new Map<string, number>();
    counts.set(String(s.status), (counts.get(String(s.status)) ?? 0) + 1);
    byKind.set(key, counts);
  }
  console.log('\n| requests | answers |');
  console.log('|---|---|');
  for (const [kind, counts] of [...byKind].sort()) console.log(`| ${kind} | ${[...counts].map(([s, n]) => `${n} × ${s}`).join(', ')} |`);
  const failed = checks.filter((c) => !c.held);
  console.log(`\n${checks.length - failed.length}/${checks.length} checks held (${SHORT ? 'short' : 'whole'} form, ${FAULT_MS / 1000} s per fault, ${Math.round(clock() / 1000)} s in all)`);
  if (failed.length) process.exitCode = 1;
}

function countStatuses(samples: { status: Answer['status'] }[]): string {
  const counts = new Map<string, number>();
  for (const x of samples) counts.set(String(x.status), (counts.get(String(x.status)) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} × ${status}`).join(', ') || 'none';
}

function fail(error: unknown, instance: HostProcess): never {
  throw new Error(`${String(error)}\n${instance.output()}`);
}

if (process.getuid?.() !== 0) {
  console.error('npm run test:network needs root (it creates network namespaces).');
  process.exit(2);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (tearDownNetwork(), process.exit(130)));
try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  tearDownNetwork();
}
