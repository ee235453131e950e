import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it, vi } from 'vitest';
import type { Trade } from '../src/domain/trade.js';
import { register } from './support/api.js';
import { createTestDatabase, type Engine, testEngines, testRedisEnv } from './support/engines.js';
import { seedTrades } from './support/ledger.js';
import { PROCESS_TEST_TIMEOUT_MS, runEntry } from './support/process.js';
import { startService } from './support/service.js';

// Every test here runs the CLI as a process: slow to start on a busy machine.
vi.setConfig({ testTimeout: PROCESS_TEST_TIMEOUT_MS });

const COMMANDS = ['migrate', 'accounts list', 'accounts find', 'accounts set-allowance', 'accounts revoke-key', 'keys revoke', 'trades export', 'import-prices', 'delete-prices'];

/** Runs the CLI to its end; its exit code, stdout and stderr apart. */
async function cli(env: Record<string, string>, ...args: string[]) {
  const run = runEntry('src/cli.ts', env, args);
  let stdout = '';
  let stderr = '';
  run.child.stdout?.on('data', (chunk) => (stdout += chunk));
  run.child.stderr?.on('data', (chunk) => (stderr += chunk));
  const code = await run.exited;
  return { code, stdout, stderr };
}

const sqliteEnv = (name: string) => ({ DATABASE_URL: `sqlite:${join(inject('sqliteDir'), `${name}.db`)}` });

/** Asks until `check` passes or `timeoutMs` runs out: for what another process or instance does in its own time. */
async function eventually<T>(ask: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await ask();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm run cli -- --help', () => {
  it('when --help is asked of the CLI, a group or any command, then its usage is on stdout and the exit code is 0', async () => {
    const asked = [['--help'], ['-h'], ['accounts', '--help'], ...COMMANDS.map((name) => [...name.split(' '), '--help'])];
    const runs = await Promise.all(asked.map((args) => cli({}, ...args)));
    runs.forEach((run, i) => {
      const args = asked[i]!.join(' ');
      expect(run.code, args).toBe(0);
      expect(run.stderr, args).toBe('');
    });
    for (const name of COMMANDS) expect(runs[0]!.stdout).toContain(`  ${name}`);
    COMMANDS.forEach((name, i) => expect(runs[3 + i]!.stdout).toMatch(new RegExp(`^Usage: npm run cli -- ${name}`)));
    expect(runs[2]!.stdout).toMatch(/Usage: npm run cli -- accounts list[\s\S]*Usage: npm run cli -- accounts set-allowance/);
  });

  it.each([
    [[], /^No command given/],
    [['frobnicate'], /^Unknown command "frobnicate"/],
    [['accounts'], /^"accounts" needs a command: accounts list, accounts find/],
    [['accounts', 'list', '--bogus'], /^accounts list: Unknown option '--bogus'/],
    [['accounts', 'find'], /^accounts find takes one EMAIL/],
    [['accounts', 'set-allowance', 'dave@example.com', '5000/fortnight'], /^accounts set-allowance: RATE must be a rate as N\/second, N\/minute, N\/hour or N\/day with N ≥ 1 \(got "5000\/fortnight"\)/],
    [['accounts', 'set-allowance', 'dave@example.com', '5/day', '--clear'], /^accounts set-allowance takes EMAIL and RATE, or EMAIL --clear/],
    [['keys', 'revoke'], /^keys revoke takes one EMAIL/],
    [['trades', 'export', '--format', 'xml'], /^trades export: --format must be one of csv, json, ndjson \(got "xml"\)/],
    [['trades', 'export', '--user-id=-3'], /^trades export: --user-id must be an integer from 0 to 9007199254740991 \(got "-3"\)/],
    [['trades', 'export', '--user-id', '-3'], /^trades export: Option '--user-id' argument is ambiguous: To specify an option argument starting with a dash use '--user-id=-XYZ'/],
    [['trades', 'export', '--output'], /^trades export: Option '--output <value>' argument missing/],
    [['delete-prices'], /^delete-prices takes --symbol SYMBOL/],
  ])('when the arguments are %j, then one line names the problem and the exit code is 2', async (args, message) => {
    const run = await cli(sqliteEnv('bad-arguments'), ...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe.each(testEngines())('the operator CLI on %s', (engine: Engine) => {
  it('when accounts are listed or found, then they come newest first, and an email in another case or form finds its account', async () => {
    const { app, db, database } = await startService(engine);
    const daveKey = await register(app, 'Dave@Example.com');
    await register(app, 'ann@example.com');
    const revoked = await register(app, 'gone@example.com');
    expect((await app.inject({ method: 'POST', url: '/api/v1/keys/revoke/', headers: { 'x-api-key': revoked } })).statusCode).toBe(204);
    const env = { DATABASE_URL: database.url, THROTTLE_USER: '700/day' };

    const listed = await cli(env, 'accounts', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const accounts = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(accounts.map((a) => [a.email, a.has_working_key, a.allowance, a.rate])).toEqual([
      ['gone@example.com', false, null, '700/day'],
      ['ann@example.com', true, null, '700/day'],
      ['Dave@Example.com', true, null, '700/day'],
    ]);
    expect(accounts[2]).toMatchObject({ name: 'Dave', last_name: 'Mustaine', key_prefix: daveKey.slice(0, 8) });
    expect(accounts[0]!.key_prefix).toBe(revoked.slice(0, 8));

    const table = await cli(env, 'accounts', 'list');
    expect(table.stdout.split('\n')[0]).toMatch(/^id\s+created_at\s+key\s+working\s+rate\s+email\s+name$/);
    expect(table.stdout).toMatch(new RegExp(`${daveKey.slice(0, 8)}\\s+yes\\s+700/day \\(default\\)\\s+Dave@Example.com Dave Mustaine`));

    // Upper case, and fullwidth letters: registration's comparison (domain/account.ts emailKey) finds Dave.
    for (const email of ['DAVE@EXAMPLE.COM', ' ｄａｖｅ@example.com ']) {
      const found = await cli(env, 'accounts', 'find', email, '--json');
      expect(found.code, found.stderr).toBe(0);
      expect(JSON.parse(found.stdout)).toEqual(accounts[2]);
    }
    const plain = await cli(env, 'accounts', 'find', 'dave@example.com');
    expect(plain.stdout).toMatch(/^email\s+Dave@Example.com$/m);
    expect(plain.stdout).toMatch(/^rate\s+700\/day \(THROTTLE_USER\)$/m);
    const missing = await cli(env, 'accounts', 'find', 'nobody@example.com');
    expect([missing.code, missing.stderr]).toEqual([1, 'No account is registered with the email nobody@example.com.\n']);

    // Past one of the list's 500-account batches: every account once, newest first.
    const seeded = Array.from({ length: 1200 }, (_, i) => ({ id: 1000 + i, name: 'N', last_name: 'L', email: `n${i}@example.com`, email_key: `n${i}@example.com`, created_at: i, allowance: null }));
    for (let i = 0; i < seeded.length; i += 400) await db.insertInto('accounts').values(seeded.slice(i, i + 400)).execute();
    const all = JSON.parse((await cli(env, 'accounts', 'list', '--json')).stdout) as { id: number }[];
    expect(all.map((a) => a.id)).toEqual([...seeded.map((a) => a.id).reverse(), ...accounts.map((a) => a.id as number)]);
  });

  it('when a key is revoked by email, then a running instance sharing Redis answers it 401 at once, and a second revocation is refused', async () => {
    const redis = testRedisEnv();
    const { app, database } = await startService(engine, redis);
    const key = await register(app, 'dave@example.com');
    const other = await register(app, 'ann@example.com');
    const me = (k: string) => app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': k } });
    // Cached now, for AUTH_CACHE_SECONDS (30 by default): only the announcement can drop it sooner.
    expect((await me(key)).statusCode).toBe(200);

    const revoked = await cli({ DATABASE_URL: database.url, ...redis }, 'keys', 'revoke', 'DAVE@example.com');
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^Revoked the key ${key.slice(0, 8)}… of dave@example.com \\(account \\d+\\): every instance sharing Redis drops the cached account at once\\.`));
    // The instance hears it on its own subscription, in its own time: well within the cache's 30 s.
    const answer = await eventually(() => me(key), (r) => r.statusCode === 401);
    expect(answer.statusCode).toBe(401);
    expect(answer.json()).toEqual({ detail: 'Invalid token.' });
    expect((await me(other)).statusCode).toBe(200);

    const again = await cli({ DATABASE_URL: database.url, ...redis }, 'accounts', 'revoke-key', 'dave@example.com');
    expect([again.code, again.stderr]).toEqual([1, 'The account dave@example.com has no working key: it was revoked already.\n']);
  });

  it.each([
    ['memory', { AUTH_CACHE_SECONDS: '0' }],
    ['Redis', testRedisEnv()],
  ])('when an account is given 3/day (%s store), then /me shows it and its fourth request is 429 in DRF words; other accounts keep THROTTLE_USER', async (_store, env) => {
    const { app, database } = await startService(engine, { ...env, THROTTLE_USER: '1000/day' });
    const key = await register(app, 'dave@example.com');
    const otherKey = await register(app, 'ann@example.com');
    const set = await cli({ DATABASE_URL: database.url, ...env }, 'accounts', 'set-allowance', 'Dave@example.com', '3/day');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^Account \d+ \(dave@example.com\): its own rate is 3\/day; /);

    const me = (k: string) => app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': k } });
    const first = await me(key);
    expect(first.json().usage).toMatchObject({ rate: '3/day', used: 1, remaining: 2 });
    expect((await me(key)).statusCode).toBe(200);
    expect((await me(key)).statusCode).toBe(200);
    const fourth = await me(key);
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds\.$/);
    expect((await me(otherKey)).json().usage).toMatchObject({ rate: '1000/day', used: 1 });

    const listed = JSON.parse((await cli({ DATABASE_URL: database.url }, 'accounts', 'list', '--json')).stdout) as Record<string, unknown>[];
    expect(listed.map((a) => [a.email, a.allowance])).toEqual([['ann@example.com', null], ['dave@example.com', '3/day']]);
  });

  it('when an account cached by an instance sharing Redis gets an allowance, then the instance applies it at once; --clear gives THROTTLE_USER back', async () => {
    const redis = testRedisEnv();
    const { app, database } = await startService(engine, { ...redis, THROTTLE_USER: '1000/day' });
    const key = await register(app);
    const rate = async () => (await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } })).json().usage.rate as string;
    expect(await rate()).toBe('1000/day'); // cached for AUTH_CACHE_SECONDS (30)

    expect((await cli({ DATABASE_URL: database.url, ...redis }, 'accounts', 'set-allowance', 'dave@example.com', '5000/day')).code).toBe(0);
    expect(await eventually(rate, (r) => r === '5000/day')).toBe('5000/day');
    const cleared = await cli({ DATABASE_URL: database.url, ...redis }, 'accounts', 'set-allowance', 'dave@example.com', '--clear');
    expect(cleared.stdout).toMatch(/: it has THROTTLE_USER's rate again \(1000\/day\); /);
    expect(await eventually(rate, (r) => r === '1000/day')).toBe('1000/day');

    const missing = await cli({ DATABASE_URL: database.url }, 'accounts', 'set-allowance', 'nobody@example.com', '5/day');
    expect([missing.code, missing.stderr]).toEqual([1, 'No account is registered with the email nobody@example.com.\n']);
  });

  it('when the ledger is exported, then CSV, JSON and NDJSON hold the trades GET /trades answers, in id order, across many batches', async () => {
    const { app, db, database } = await startService(engine);
    const key = await register(app);
    // Past two of the export's 1000-trade batches, and a symbol a spreadsheet would run as a formula.
    await seedTrades(db, 2345, (i) => ({ type: i % 3 ? 'buy' : 'sell', user_id: i % 7, symbol: i === 5 ? '=SUM(A1)' : `S${i % 11}`, shares: 1 + (i % 100), price: 100 + i, timestamp: 1_531_522_701_000 + i }));
    const api = async (query = '') => (await app.inject({ method: 'GET', url: `/trades${query}`, headers: { 'x-api-key': key } })).body;
    const env = { DATABASE_URL: database.url };

    const json = await cli(env, 'trades', 'export', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).toBe(`${await api()}\n`);
    const oneUser = await cli(env, 'trades', 'export', '--format', 'json', '--user-id', '3');
    expect(oneUser.stdout).toBe(`${await api('?user_id=3')}\n`);

    const trades = JSON.parse(await api()) as Trade[];
    const ndjson = await cli(env, 'trades', 'export', '--format', 'ndjson');
    expect(ndjson.stdout.trimEnd().split('\n').map((line) => JSON.parse(line))).toEqual(trades);

    const file = join(inject('sqliteDir'), `ledger-${engine}-${Date.now()}.csv`);
    const csv = await cli(env, 'trades', 'export', '--output', file);
    expect([csv.code, csv.stdout]).toEqual([0, '']);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).toBe('id,type,user_id,symbol,shares,price,timestamp');
    expect(lines.at(-1)).toBe('');
    const field = (value: string | number) => (value === '=SUM(A1)' ? `'=SUM(A1)` : String(value));
    expect(lines.slice(1, -1)).toEqual(trades.map((t) => [t.id, t.type, t.user_id, t.symbol, t.shares, t.price, t.timestamp].map(field).join(',')));
  });

  it("when a ledger is claimed, then the operator's export still holds its trades, which GET /trades without user_id leaves out", async () => {
    const { app, database } = await startService(engine);
    const owner = await register(app);
    for (const user_id of [3, 4]) {
      const trade = { type: 'buy', user_id, symbol: 'IBM', shares: 1, price: 100, timestamp: 1_531_522_701_000 };
      expect((await app.inject({ method: 'POST', url: '/trades', payload: trade })).statusCode).toBe(201);
    }
    expect((await app.inject({ method: 'POST', url: '/api/v1/ledgers/3/claim/', headers: { 'x-api-key': owner } })).statusCode).toBe(201);
    const listed = (await app.inject({ method: 'GET', url: '/trades' })).json() as Trade[];
    expect(listed.map((t) => t.user_id)).toEqual([4]);
    const exported = await cli({ DATABASE_URL: database.url }, 'trades', 'export', '--format', 'json');
    expect((JSON.parse(exported.stdout) as Trade[]).map((t) => t.user_id)).toEqual([3, 4]);
  });
});

describe('import-prices on a terminal', () => {
  it('when stderr is a terminal, then the import shows a bar with its percentage and the time left', async () => {
    const lines = ['Date,Open,High,Low,Close,Volume'];
    const day = new Date('1950-01-02T00:00:00Z');
    for (let i = 0; i < 5000; i++) {
      lines.push(`${day.toISOString().slice(0, 10)},1.0,2.0,0.5,1.5,${i}`);
      day.setUTCDate(day.getUTCDate() + 1);
    }
    const file = join(inject('sqliteDir'), `tty-${Date.now()}.csv`);
    writeFileSync(file, lines.join('\n'));
    // script(1) runs the CLI on a pseudo-terminal, as an operator's shell does.
    const command = `${process.execPath} --import tsx src/cli.ts import-prices ${file} --symbol TTY`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...sqliteEnv(`tty-${Date.now()}`) } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const [code] = await once(child, 'exit');
    expect(code, output).toBe(0);
    expect(output).toMatch(/reading \S+ 100% \| 5000 rows \| \S+ left/);
    expect(output).toMatch(/Imported 5000 daily bars of TTY/);
  });
});
