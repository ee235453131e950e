import { appendFileSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import type { Trade } from '../src/domain/trade.js';
import { codePoints, emailIdentity, generalAnswerProblem, hasFormatCharacter, hasLoneSurrogate, show } from './support/answers.js';
import { register } from './support/api.js';
import { type Engine, testEngines } from './support/engines.js';
import {
  authHeader, describeRequest, type Expectation, FUZZ_METRICS_TOKEN, type FuzzRequest, gatewayRequest, headerSafe, issueCorpus, ledgerCorpus, ledgerFuzzRequest, newRouteRequest, opsCorpus, opsRequest, portfolioCorpus, portfolioFuzzRequest, type Registration, request, type Route, searchCorpus, serialize,
} from './support/fuzz-requests.js';
import { fuzzSeed } from './support/hostile-values.js';
import { describeExchange, exchange, type RawResponse } from './support/raw-http.js';
import { startService } from './support/service.js';

/**
 * Hostile requests against every route, sent as HTTP/1.1 over a real socket
 * to the service listening on 127.0.0.1: first issue 7's corpus (every
 * 32/53/64-bit boundary in every id, filter and trade field; NUL, lone
 * surrogates, invisible and look-alike strings in every string field; every
 * look-alike email, and emails that outgrow 254 characters once normalised),
 * each with the answer the issue requires; then generated ones with random
 * methods, paths, headers, encodings and bodies drawn from the same classes.
 *
 * Every answer is judged (no 5xx, errors are JSON with `detail`, documented
 * non-JSON answers only where documented), every accepted write is checked
 * against what was sent, and at the end the database, apicalls.log and
 * /health are checked against what the answers said. All violations of a run
 * are collected and reported together, each with the seed and request.
 * (Parser-level bytes are in fuzz-protocol.test.ts; slow clients in fuzz-slow-clients.test.ts.)
 */
/** Generated requests per engine; `FUZZ_RUNS=<n>` sends more (or fewer) on every engine, to explore. */
const RUNS: Record<Engine, number> = process.env.FUZZ_RUNS ? { sqlite: Number(process.env.FUZZ_RUNS), postgres: Number(process.env.FUZZ_RUNS) } : { sqlite: 2000, postgres: 1000 };
/** Generous against a loaded CI machine; a hang is forever. */
const DEADLINE_MS = 10_000;

/** Whether an answer is one the issue allows for this input: its status, and for a 400 the field it names. */
function expectationProblem(expected: Expectation, answer: RawResponse): string | undefined {
  const allowed = `${expected.statuses.join('/')}${expected.field ? ` (a 400 naming "${expected.field}")` : ''}`;
  if (!expected.statuses.includes(answer.status)) return `an issue-7 input answered ${answer.status}; required: ${allowed}`;
  if (answer.status !== 400 || !expected.field) return undefined;
  let field: unknown;
  try {
    field = (JSON.parse(answer.body.toString('utf8')) as { field?: unknown }).field;
  } catch {
    field = undefined;
  }
  return field === expected.field ? undefined : `an issue-7 input answered 400 naming ${JSON.stringify(field ?? null)}; required: ${allowed}`;
}

/** JSON with its keys sorted, to compare objects whatever the order of their fields. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** What a 201 from POST /trades must say: the trade exactly as sent, and the next id. */
function tradeAnswerProblem(r: FuzzRequest, answer: RawResponse, expectedId: number): string | undefined {
  let sent: unknown;
  try {
    sent = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(r.body ?? Buffer.alloc(0)));
  } catch {
    return 'a body that is not UTF-8 JSON was accepted as a trade (201)';
  }
  const symbol = (sent as { symbol?: unknown }).symbol;
  if (typeof symbol === 'string' && symbol.includes('\u0000')) return 'a symbol with NUL was accepted (201)';
  if (typeof symbol === 'string' && hasLoneSurrogate(symbol)) return 'a symbol with a lone surrogate was accepted (201)';
  let stored: unknown;
  try {
    stored = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return 'the 201 body is not JSON';
  }
  const expected = { ...(sent as object), id: expectedId };
  if (canonical(stored) !== canonical(expected)) return 'a 201 trade differs from what was sent, or skips an id';
  return undefined;
}

/** A registration the issue says must be refused, or the look-alike of an account already made. */
function registrationProblem(r: Registration, accepted: Set<string>): string | undefined {
  for (const [field, value] of Object.entries(r)) {
    if (typeof value !== 'string') continue;
    if (value.includes('\u0000')) return `${field} with NUL was accepted (201)`;
    if (hasLoneSurrogate(value)) return `${field} with a lone surrogate was accepted (201)`;
    if (hasFormatCharacter(value.trim())) return `${field} with an invisible/format character was accepted (201)`;
  }
  if (typeof r.email === 'string' && codePoints(emailIdentity(r.email)) > 254) return 'an email over 254 characters once normalised (NFKC, case folded) was accepted (201)';
  if (typeof r.email === 'string' && accepted.has(emailIdentity(r.email))) return 'a look-alike (same after NFKC and case folding) of a registered email made a new account (201)';
  return undefined;
}

/** What a 2xx must be: JSON, or one of the documented non-JSON answers, recognised by content type and route. */
function successProblem(r: FuzzRequest, answer: RawResponse, accept: string | undefined): string | undefined {
  if (r.method === 'HEAD') return undefined;
  if (answer.status === 204) return answer.body.length === 0 ? undefined : 'a 204 with a body';
  const type = answer.headers['content-type'] ?? '';
  const text = answer.body.toString('utf8');
  // GET / is the dashboard's page once it is built (src/adapters/http/dashboard.ts): HTML.
  if (/^text\/html\b/i.test(type) && r.target.split('?', 1)[0] === '/' && answer.status === 200) return undefined;
  if (/^text\/plain\b/i.test(type)) {
    if (!(r.route === 'register' || r.route === 'rotate') || !/text\/plain/.test(accept ?? '')) return `a text/plain ${answer.status} where JSON is documented`;
    return /^[0-9a-f]{40}$/.test(text) ? undefined : `a text/plain key that is not 40 hex digits: ${show(text)}`;
  }
  if (/^text\/csv\b/i.test(type) && r.route === 'query') {
    if (!/[?&]datatype=csv(&|$)/.test(r.target)) return `a text/csv ${answer.status} from the gateway where JSON was asked`;
    return /^(timestamp,open,high,low,close,volume|symbol,open,high,low,price,volume,latestDay,previousClose,change,changePercent|timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient|symbol,name,type,region,marketOpen,marketClose,timezone,currency,matchScore)\r\n/.test(text)
      ? undefined
      : `a gateway CSV without its header line: ${show(text)}`;
  }
  if (/^text\/csv\b/i.test(type)) {
    if (!(r.route === 'history' || r.route === 'portfolio') || !/text\/csv/.test(accept ?? '')) return `a text/csv ${answer.status} where JSON is documented`;
    const header = r.route === 'portfolio' ? 'symbol,shares,side,' : 'date,open,high,low,close,volume\n';
    return text.startsWith(header) ? undefined : `a CSV without its header line: ${show(text)}`;
  }
  if (!/^application\/json\b/i.test(type)) return `a ${answer.status} of content-type ${JSON.stringify(type)}`;
  try {
    JSON.parse(text);
  } catch {
    return `a ${answer.status} that says JSON does not parse: ${show(text)}`;
  }
  if ((r.route === 'register' || r.route === 'rotate') && answer.status === 201 && !/^"[0-9a-f]{40}"$/.test(text)) return `a key that is not 40 hex digits: ${show(text)}`;
  if (r.route === 'query') return gatewayAnswerProblem(text);
  return undefined;
}

/** What /metrics and /docs may answer besides JSON: Prometheus text for the token only, and the Swagger UI's own files — never one from outside its directory. */
function operationsProblem(r: FuzzRequest, answer: RawResponse): string | undefined {
  const type = answer.headers['content-type'] ?? '';
  const text = answer.body.toString('utf8');
  if (r.route === 'metrics' && answer.status === 200) {
    const sent = r.headers.filter(([name]) => name.toLowerCase() === 'authorization').map(([, value]) => value);
    if (!sent.some((value) => value.trim().split(/\s+/)[1] === FUZZ_METRICS_TOKEN)) return `/metrics answered 200 without its token (Authorization: ${show(sent.join(' | '), 80)})`;
    if (!/^text\/plain; version=0\.0\.4/.test(type) || !text.startsWith('# HELP ')) return `a /metrics 200 that is not Prometheus text: ${show(type)} ${show(text)}`;
    return undefined;
  }
  if (r.route !== 'docs') return undefined;
  if (/"(devDependencies|dependencies)"\s*:|root:x:0:0|DATABASE_URL/.test(text)) return `/docs served a file from outside its directory: ${show(text)}`;
  if (!/^(text\/html|application\/javascript|text\/javascript|text\/css|image\/png|application\/json|application\/x-yaml)\b/.test(type)) return `a /docs ${answer.status} of content-type ${JSON.stringify(type)}`;
  return undefined;
}

const WELL_FORMED_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * X-Request-Id on the answer: always safe to log (well-formed), and never the client's: the fuzzed
 * service trusts no proxy (TRUST_PROXY=0), so it names every request itself, whatever is sent.
 * (Through a trusted proxy, a well-formed id is kept: test/http/ops.test.ts.)
 */
function requestIdProblem(r: FuzzRequest, answer: RawResponse): string | undefined {
  const id = answer.headers['x-request-id'];
  if (id === undefined) return answer.status === 400 || answer.status === 431 ? undefined : `a ${answer.status} without X-Request-Id`;
  if (!WELL_FORMED_ID.test(id)) return `an X-Request-Id that is not well-formed: ${show(id, 80)}`;
  const sent = r.headers.filter(([name]) => name.toLowerCase() === 'x-request-id').map(([, value]) => value);
  if (sent.includes(id)) return `the client's X-Request-Id was taken though no proxy is trusted: ${show(id, 80)}`;
  return undefined;
}

/** A gateway answer is one of Alpha Vantage's shapes: data, or an "Error Message" or "Information" body — each a string. */
function gatewayAnswerProblem(text: string): string | undefined {
  const body = JSON.parse(text) as Record<string, unknown>;
  const keys = Object.keys(body).sort().join(',');
  if (keys === 'Error Message' || keys === 'Information') return typeof Object.values(body)[0] === 'string' ? undefined : `a gateway refusal whose text is not a string: ${show(text)}`;
  if (['Global Quote', 'Meta Data,Time Series (Daily)', 'bestMatches'].includes(keys)) return undefined;
  return `a gateway 200 in none of Alpha Vantage's shapes: ${show(text)}`;
}

/** Whatever apicalls.log holds must be printable: no control, format or separator characters, one line per request. */
function logLineProblem(line: string): string | undefined {
  if (!/^\[\d\d\/[A-Z][a-z]{2}\/\d{4} \d\d:\d\d:\d\d\] \[INFO\] \[API_REQUEST\] /.test(line)) return 'not in the log format';
  if (/[\p{C}\u2028\u2029]|(?! )\s/u.test(line)) return 'holds a character that is not printable (unescaped)';
  return undefined;
}

describe.each(testEngines())('fuzzing every route over a socket on %s', (engine) => {
  it(`when issue 7's inputs and ${RUNS[engine]} generated requests arrive, then none is a 5xx or hangs, each is answered as the issue requires, errors are JSON with detail, and only accepted writes are stored`, async () => {
    const seed = fuzzSeed();
    const logPath = join(inject('sqliteDir'), `apicalls-fuzz-${randomBytes(4).toString('hex')}.log`);
    // THROTTLE_REGISTER: generous, as every other allowance here, should the service grow that scope.
    const service = await startService(engine, { APICALLS_LOG: logPath, THROTTLE_REGISTER: '1000000/day', METRICS_TOKEN: FUZZ_METRICS_TOKEN });
    const { app, db } = service;
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;

    // Keys stay valid across the run: a generated rotate or revoke must not lock the fuzzer out.
    let fuzzerAccounts = 0;
    const fuzzerEmail = () => `fuzzer${++fuzzerAccounts}@example.com`;
    let email = fuzzerEmail();
    let key = await register(app, email);
    const acceptedEmails = new Set<string>([emailIdentity(email)]);
    let accounts = 1;
    const trades: Trade[] = [];
    const violations: { kind: string; text: string }[] = [];
    const answered = new Map<Route, { sent: number; ok: number }>();

    // The issue's corpus first (#0…), then the generated requests, then a tenth as many to the Alpha Vantage gateway,
    // then issue 8's search corpus and a fifth as many to its routes (each sample after the others: their draws stay).
    const gatewayRuns = Math.ceil(RUNS[engine] / 10);
    const newRouteRuns = Math.ceil(RUNS[engine] / 5);
    const opsRuns = Math.ceil(RUNS[engine] / 5);
    const portfolioRuns = Math.ceil(RUNS[engine] / 10);
    const drafts = [
      ...issueCorpus(),
      ...fc.sample(request, { seed, numRuns: RUNS[engine] }),
      ...fc.sample(gatewayRequest, { seed, numRuns: gatewayRuns }),
      ...searchCorpus(),
      ...fc.sample(newRouteRequest, { seed, numRuns: newRouteRuns }),
      // Issue 9: /ready, /metrics, /docs, hostile X-Request-Id and Idempotency-Key values — last, so every older draw stays.
      ...opsCorpus(),
      ...fc.sample(opsRequest, { seed, numRuns: opsRuns }),
      // Issue 11: the portfolio and its history — last again.
      ...portfolioCorpus(),
      ...fc.sample(portfolioFuzzRequest, { seed, numRuns: portfolioRuns }),
      // Issue 18: ledger claims — last again.
      ...ledgerCorpus(),
      ...fc.sample(ledgerFuzzRequest, { seed, numRuns: portfolioRuns }),
    ];
    for (const [index, drawnRequest] of drafts.entries()) {
      const { contentType, accept, forwardedFor, extraHeaders, ...rest } = drawnRequest;
      const headers: [string, string][] = [];
      const auth = authHeader(rest.auth, key);
      if (auth) headers.push(auth);
      if (rest.body !== undefined && contentType) headers.push(['Content-Type', contentType]);
      if (accept) headers.push(['Accept', accept]);
      if (forwardedFor) headers.push(['X-Forwarded-For', headerSafe(forwardedFor)]);
      headers.push(...(extraHeaders ?? []));
      const r: FuzzRequest = { ...rest, headers };
      const isHead = r.method === 'HEAD';

      const result = await exchange(port, [serialize(r)], { deadlineMs: DEADLINE_MS, expectResponses: 1, heads: [isHead] });
      const report = (kind: string) => violations.push({ kind, text: `#${index} ${describeRequest(r)}\n    → ${describeExchange(result)}` });
      const answer = result.responses[0];
      const tally = answered.get(r.route) ?? { sent: 0, ok: 0 };
      answered.set(r.route, tally);
      tally.sent++;
      if (!answer) {
        report(result.timedOut ? 'no answer within the deadline' : result.parseError ? 'an answer that is not HTTP' : 'closed without an answer');
        continue;
      }
      // /docs/static/index.html redirects to /docs (and a cached file may be 304): no JSON there, as documented.
      const docsRedirect = r.route === 'docs' && [301, 302, 304, 307, 308].includes(answer.status);
      const general = docsRedirect ? undefined : generalAnswerProblem(answer, isHead);
      if (general) report(general);
      const idProblem = requestIdProblem(r, answer);
      if (idProblem) report(idProblem);
      const operations = isHead ? undefined : operationsProblem(r, answer);
      if (operations) report(operations);
      const unexpected = r.expected && expectationProblem(r.expected, answer);
      if (unexpected) report(unexpected);
      if (answer.status < 200 || answer.status >= 300) continue;
      tally.ok++;
      const success = r.route === 'metrics' || r.route === 'docs' ? undefined : successProblem(r, answer, accept);
      if (success) report(success);

      if (r.route === 'trades' && r.method === 'POST' && answer.status === 201 && answer.headers['idempotent-replayed'] === 'true') {
        // A replay: the answer of a trade already acknowledged, word for word, and no new trade.
        const keyed = r.headers.some(([name]) => name.toLowerCase() === 'idempotency-key');
        let replayed: Trade | undefined;
        try {
          replayed = JSON.parse(answer.body.toString('utf8')) as Trade;
        } catch {
          replayed = undefined;
        }
        const first = replayed && trades[replayed.id - 1];
        if (!keyed || !first || canonical(first) !== canonical(replayed)) report('a replayed trade that is not one acknowledged before (or a replay without Idempotency-Key)');
        else if (canonical({ ...(JSON.parse(r.body!.toString('utf8')) as object), id: first.id }) !== canonical(first)) report('a replay answered a request whose trade differs from the one first recorded');
      } else if (r.route === 'trades' && r.method === 'POST' && answer.status === 201) {
        const problem = tradeAnswerProblem(r, answer, trades.length + 1);
        if (problem) report(problem);
        try {
          trades.push(JSON.parse(answer.body.toString('utf8')) as Trade);
        } catch {
          // reported above
        }
      }
      if (r.route === 'register' && answer.status === 201) {
        accounts++;
        const problem = r.registration ? registrationProblem(r.registration, acceptedEmails) : 'a registration the suite did not send as one was accepted';
        if (problem) report(problem);
        if (r.registration?.email !== undefined) acceptedEmails.add(emailIdentity(String(r.registration.email)));
        // The new account makes one keyed request, so its email reaches apicalls.log (checked at the end).
        const text = answer.body.toString('utf8');
        const newKey = /^text\/plain/.test(answer.headers['content-type'] ?? '') ? text : (JSON.parse(text) as string);
        const me = await exchange(port, [`GET /api/v1/me/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${newKey}\r\n\r\n`], { deadlineMs: DEADLINE_MS, expectResponses: 1 });
        if (me.responses[0]?.status !== 200) report(`the new account's key does not work on /api/v1/me/: ${describeExchange(me)}`);
      }
      if (r.route === 'rotate' && answer.status === 201) {
        const text = answer.body.toString('utf8');
        key = /^text\/plain/.test(answer.headers['content-type'] ?? '') ? text : (JSON.parse(text) as string);
      }
      if (r.route === 'revoke' && answer.status === 204) {
        email = fuzzerEmail();
        key = await register(app, email);
        acceptedEmails.add(emailIdentity(email));
        accounts++;
      }
    }

    // The process is still serving: /health over a fresh socket.
    const health = await exchange(port, ['GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], { deadlineMs: DEADLINE_MS, expectResponses: 1 });
    if (health.responses[0]?.status !== 200) violations.push({ kind: '/health is not 200 after the run', text: describeExchange(health) });

    // /metrics after the run: one series per route pattern (never a URL), and nothing a client sent in a header.
    const scrape = await exchange(port, [`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${FUZZ_METRICS_TOKEN}\r\n\r\n`], { deadlineMs: DEADLINE_MS, expectResponses: 1 });
    const exposition = scrape.responses[0]?.body.toString('utf8') ?? '';
    const series = exposition.split('\n').filter((line) => line.startsWith('http_requests_total{'));
    const routes = new Set(series.map((line) => /route="([^"]*)"/.exec(line)?.[1] ?? ''));
    for (const route of routes) {
      if (route !== 'unmatched' && !/^\/[A-Za-z0-9_./:*-]*$/.test(route)) violations.push({ kind: 'a metrics route label that is not a route pattern', text: show(route) });
    }
    if (series.length > 400) violations.push({ kind: 'http_requests_total grew past 400 series', text: `${series.length} series, ${routes.size} routes` });
    for (const secret of ['corpus-a', 'order-1', 'abc-123', 'trace:1.2_3', key]) {
      if (exposition.includes(secret)) violations.push({ kind: 'a client-sent value (Idempotency-Key, X-Request-Id or API key) reached /metrics', text: secret });
    }

    // The database holds exactly what the answers acknowledged.
    const storedTrades = await db.selectFrom('trades').selectAll().orderBy('id').execute();
    const plain = (t: Trade) => JSON.stringify({ id: Number(t.id), type: t.type, user_id: Number(t.user_id), symbol: t.symbol, shares: Number(t.shares), price: Number(t.price), timestamp: Number(t.timestamp) });
    if (storedTrades.length !== trades.length) violations.push({ kind: 'stored trades ≠ acknowledged trades', text: `${storedTrades.length} stored, ${trades.length} acknowledged with 201` });
    for (const [i, stored] of storedTrades.entries()) {
      const acknowledged = trades[i];
      if (!acknowledged || plain(stored as Trade) !== plain(acknowledged)) {
        violations.push({ kind: 'a stored trade differs from its 201', text: `stored ${show(plain(stored as Trade))}, acknowledged ${acknowledged ? show(plain(acknowledged)) : 'none'}` });
      }
    }
    const storedAccounts = await db.selectFrom('accounts').select(['email', 'name', 'last_name']).execute();
    if (storedAccounts.length !== accounts) violations.push({ kind: 'stored accounts ≠ acknowledged registrations', text: `${storedAccounts.length} stored, ${accounts} acknowledged with 201` });
    const identities = new Map<string, string>();
    for (const account of storedAccounts) {
      for (const [field, value] of Object.entries(account)) {
        if (value.includes('\u0000') || hasLoneSurrogate(value) || hasFormatCharacter(value)) {
          violations.push({ kind: `a stored ${field} holds NUL, a lone surrogate or an invisible character`, text: show(value) });
        }
      }
      if (codePoints(account.email) > 254) violations.push({ kind: 'a stored email is over 254 characters', text: `${codePoints(account.email)}: ${show(account.email)}` });
      for (const field of ['name', 'last_name'] as const) {
        if (codePoints(account[field]) > 100) violations.push({ kind: `a stored ${field} is over 100 characters`, text: show(account[field]) });
      }
      const identity = emailIdentity(account.email);
      const twin = identities.get(identity);
      if (twin !== undefined) violations.push({ kind: 'two accounts whose emails are the same after NFKC and case folding', text: `${show(twin)} and ${show(account.email)}` });
      identities.set(identity, account.email);
    }

    // apicalls.log: flushed on close; nothing unprintable reaches it raw.
    await service.close();
    const logLines = readFileSync(logPath, 'utf8').split('\n').filter((line) => line !== '');
    for (const line of logLines) {
      const problem = logLineProblem(line);
      if (problem) violations.push({ kind: `an apicalls.log line ${problem}`, text: show(line, 300) });
    }

    // The run reached every route, and every route but the unknown ones answered 2xx at least once.
    const coverage = [...answered].map(([route, t]) => `${route} ${t.ok}/${t.sent}`).join(', ');
    for (const route of ['portfolio', 'portfolio-history', 'trades', 'trade', 'api-root', 'register', 'symbol', 'symbols', 'history', 'actions', 'search', 'providers', 'me', 'rotate', 'revoke', 'query', 'health', 'openapi', 'ready', 'metrics', 'docs', 'claim', 'ledgers', 'unknown'] as Route[]) {
      const t = answered.get(route);
      if (!t || t.sent < RUNS[engine] / 100) violations.push({ kind: 'a route the run hardly reached', text: `${route}: ${coverage}` });
      else if (route !== 'unknown' && t.ok === 0) violations.push({ kind: 'a route that never answered 2xx (the generator does not reach its handler)', text: `${route}: ${coverage}` });
    }

    // FUZZ_REPORT=<file> keeps every violation, not only the examples the assertion prints.
    if (process.env.FUZZ_REPORT) appendFileSync(process.env.FUZZ_REPORT, violations.map((v) => `[${engine}] ${v.kind}\n  ${v.text}\n`).join(''));
    expect(violations.length === 0 ? 'no violations' : summarise(violations, seed, engine)).toBe('no violations');
  }, 240_000);
});

/** Violations grouped by kind, a few examples each, with what replays them. */
function summarise(violations: { kind: string; text: string }[], seed: number, engine: string): string {
  const byKind = new Map<string, string[]>();
  for (const v of violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), v.text]);
  const groups = [...byKind].map(([kind, texts]) => `● ${kind} (${texts.length}×), e.g.:\n  ${texts.slice(0, 4).join('\n  ')}`);
  return `${violations.length} violations on ${engine}; replay with FUZZ_SEED=${seed} TEST_ENGINES=${engine}\n${groups.join('\n')}`;
}
