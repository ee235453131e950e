/**
 * An Alpha Vantage–compatible gateway, `GET /query?function=…&symbol=…&apikey=…`:
 * the price store's data in Alpha Vantage's documented shapes, so a program
 * written for Alpha Vantage works by changing only its base URL. What is
 * served, and what it costs, is the quote use cases' (app/market-data/quotes.ts); this
 * file knows only Alpha Vantage's format. Every other function Alpha Vantage has is
 * passed through to it (app/market-data/pass-through.ts), its answer sent as Alpha
 * Vantage wrote it; domain/alpha-vantage-functions.ts lists which is which.
 *
 * Every refusal is Alpha Vantage's HTTP 200 with an "Error Message" or an
 * "Information" body, not our 4xx/5xx with `detail`: Alpha Vantage answers its
 * errors so, and its clients tell success from failure by the body's keys
 * (many never read the status). Headers keep their meaning (Retry-After,
 * RateLimit, X-Cache), for clients that do read them.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { PassThroughService } from '../../app/market-data/pass-through.js';
import type { Interval, QuoteService } from '../../app/market-data/quotes.js';
import type { SearchService } from '../../app/market-data/search.js';
import type { CacheState, Requester } from '../../app/market-data/refresh.js';
import { ALPHA_VANTAGE_FUNCTIONS, type PassThroughAnswer } from '../../domain/alpha-vantage-functions.js';
import { DomainError, type ErrorCode, symbolNotFound, ThrottledError, ValidationError } from '../../domain/errors.js';
import type { Period } from '../../domain/periods.js';
import { dailyChange, type DailyBar } from '../../domain/quote.js';
import { csvTable } from './csv.js';
import { httpStatusOf } from './errors.js';
import { INDICATOR_FUNCTIONS, INTRADAY_INTERVALS, STORED_INTERVALS } from './gateway-indicators.js';
import { passThroughCall } from './gateway-pass-through.js';
import { requesterOf, sayCacheState } from './quotes.js';
import { GATEWAY_KEY } from './schemas/security.js';

/** The use cases the gateway answers from; a new function's service joins here. */
export interface GatewayServices {
  quotes: QuoteService;
  search: SearchService;
  passThrough: PassThroughService;
}

type Query = Record<string, string | string[] | undefined>;

/** One call, as a function of the gateway reads it. */
interface Call {
  /** A query parameter's text; sent twice, the last one, as `apikey` is read (auth.ts). */
  parameter(name: string): string | undefined;
  /** Every query parameter in the order sent, a repeated one once per value: what a passed-through call forwards (once normalised). */
  parameters(): [string, string][];
  requester: Requester;
}

/** An answer in both of Alpha Vantage's data types; `datatype` picks one. Or Alpha Vantage's own, passed through as it wrote it. */
type Answer = { cache: CacheState; json: object; csv: string } | { cache: CacheState; passed: PassThroughAnswer };

type GatewayFunction = (services: GatewayServices, call: Call) => Promise<Answer>;

/** Alpha Vantage's `outputsize=compact`: the latest 100 sessions. */
const COMPACT_SESSIONS = 100;

const GLOBAL_QUOTE_KEYS = [
  '01. symbol', '02. open', '03. high', '04. low', '05. price', '06. volume',
  '07. latest trading day', '08. previous close', '09. change', '10. change percent',
] as const;
const GLOBAL_QUOTE_CSV_COLUMNS = ['symbol', 'open', 'high', 'low', 'price', 'volume', 'latestDay', 'previousClose', 'change', 'changePercent'];
const DAILY_KEYS = ['1. open', '2. high', '3. low', '4. close', '5. volume'] as const;
const DAILY_CSV_COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'volume'];
const ADJUSTED_KEYS = ['1. open', '2. high', '3. low', '4. close', '5. adjusted close', '6. volume', '7. dividend amount', '8. split coefficient'] as const;
const ADJUSTED_CSV_COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'adjusted_close', 'volume', 'dividend_amount', 'split_coefficient'];
const SEARCH_KEYS = ['1. symbol', '2. name', '3. type', '4. region', '5. marketOpen', '6. marketClose', '7. timezone', '8. currency', '9. matchScore'] as const;
const SEARCH_CSV_COLUMNS = ['symbol', 'name', 'type', 'region', 'marketOpen', 'marketClose', 'timezone', 'currency', 'matchScore'];

/** Alpha Vantage's numbered keys, each with its value, in order. */
function keyed(keys: readonly string[], values: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((key, i) => [key, values[i]!]));
}

/**
 * Alpha Vantage's CSV: a header line, then rows, each line ended by CRLF (csv.ts quotes and guards
 * them). The symbol and the vendors' words (a company's name, its type and region) are text.
 */
function csv(columns: string[], rows: string[][]): string {
  return csvTable(columns, rows, { lineEnd: '\r\n', textColumns: ['symbol', 'name', 'type', 'region', 'marketOpen', 'marketClose', 'timezone', 'currency'] });
}

/** The symbol a function needs; missing, it is Alpha Vantage's "Invalid API call", as an invalid one is. */
function requiredSymbol(call: Call): string {
  const symbol = call.parameter('symbol');
  if (symbol === undefined || symbol === '') throw new ValidationError('symbol', 'is required');
  return symbol;
}

/** GLOBAL_QUOTE: the latest session, with the previous close and the change computed in decimal (domain/quote.ts). */
const globalQuote: GatewayFunction = async ({ quotes }, call) => {
  const { symbol, bars, cache } = await quotes.getHistory(requiredSymbol(call), { sessions: 2 }, call.requester);
  const latest = bars[bars.length - 1]; // oldest first
  if (!latest) throw symbolNotFound(symbol);
  const { previousClose, change, changePercent } = dailyChange(latest, bars[bars.length - 2]);
  const values = [symbol, latest.open, latest.high, latest.low, latest.close, String(latest.volume), latest.date, previousClose, change, `${changePercent}%`];
  return {
    cache,
    json: { 'Global Quote': keyed(GLOBAL_QUOTE_KEYS, values) },
    csv: csv(GLOBAL_QUOTE_CSV_COLUMNS, [values]),
  };
};

/** TIME_SERIES_DAILY: `outputsize=full` is every stored session, anything else the compact 100; newest first. */
const dailySeries: GatewayFunction = async ({ quotes }, call) => {
  const { full, sessions } = seriesRange(call);
  const history = await quotes.getHistory(requiredSymbol(call), { sessions }, call.requester);
  const bars = [...history.bars].reverse();
  if (!bars[0]) throw symbolNotFound(history.symbol);
  const valuesOf = (bar: DailyBar) => [bar.open, bar.high, bar.low, bar.close, String(bar.volume)];
  return {
    cache: history.cache,
    json: {
      'Meta Data': {
        '1. Information': 'Daily Prices (open, high, low, close) and Volumes',
        '2. Symbol': history.symbol,
        '3. Last Refreshed': bars[0].date,
        '4. Output Size': full ? 'Full size' : 'Compact',
        '5. Time Zone': 'US/Eastern',
      },
      'Time Series (Daily)': Object.fromEntries(bars.map((bar) => [bar.date, keyed(DAILY_KEYS, valuesOf(bar))])),
    },
    csv: csv(DAILY_CSV_COLUMNS, bars.map((bar) => [bar.date, ...valuesOf(bar)])),
  };
};

/** The series of `call`'s symbol, newest first: compact (100 sessions) unless `outputsize=full`. */
function seriesRange(call: Call): { full: boolean; sessions: 'all' | number } {
  const full = call.parameter('outputsize') === 'full';
  return { full, sessions: full ? 'all' : COMPACT_SESSIONS };
}

/** A split factor as Alpha Vantage writes its coefficient: "4.0", "0.1", "1.0" on a day without a split. */
const coefficient = (factor: string) => (factor.includes('.') ? factor : `${factor}.0`);

/**
 * TIME_SERIES_DAILY_ADJUSTED (premium at Alpha Vantage): the daily series as traded, with the close adjusted
 * for splits and dividends (app/market-data/quotes.ts, domain/corporate-actions.ts) and each session's dividend and split.
 */
const dailyAdjustedSeries: GatewayFunction = async ({ quotes }, call) => {
  const { full, sessions } = seriesRange(call);
  const history = await quotes.getHistory(requiredSymbol(call), { sessions, adjusted: true }, call.requester);
  const adjusted = history.adjusted!;
  const dividendOn = new Map(adjusted.dividends.map((d) => [d.exDate, d.amount]));
  const splitOn = new Map(adjusted.splits.map((split) => [split.date, split.factor]));
  const rows = history.bars.map((bar, i) => ({ bar, adjustedClose: adjusted.bars[i]!.close })).reverse();
  if (!rows[0]) throw symbolNotFound(history.symbol);
  const valuesOf = ({ bar, adjustedClose }: (typeof rows)[number]) => [
    bar.open, bar.high, bar.low, bar.close, adjustedClose, String(bar.volume), dividendOn.get(bar.date) ?? '0.0000', coefficient(splitOn.get(bar.date) ?? '1'),
  ];
  return {
    cache: history.cache,
    json: {
      'Meta Data': {
        '1. Information': 'Daily Time Series with Splits and Dividend Events',
        '2. Symbol': history.symbol,
        '3. Last Refreshed': rows[0].bar.date,
        '4. Output Size': full ? 'Full size' : 'Compact',
        '5. Time Zone': 'US/Eastern',
      },
      'Time Series (Daily)': Object.fromEntries(rows.map((row) => [row.bar.date, keyed(ADJUSTED_KEYS, valuesOf(row))])),
    },
    csv: csv(ADJUSTED_CSV_COLUMNS, rows.map((row) => [row.bar.date, ...valuesOf(row)])),
  };
};

const PERIOD_SERIES: Record<Period, { name: string; adjustedName: string; information: string; adjustedInformation: string }> = {
  week: {
    name: 'Weekly Time Series',
    adjustedName: 'Weekly Adjusted Time Series',
    information: 'Weekly Prices (open, high, low, close) and Volumes',
    adjustedInformation: 'Weekly Adjusted Prices and Volumes',
  },
  month: {
    name: 'Monthly Time Series',
    adjustedName: 'Monthly Adjusted Time Series',
    information: 'Monthly Prices (open, high, low, close) and Volumes',
    adjustedInformation: 'Monthly Adjusted Prices and Volumes',
  },
};
const PERIOD_ADJUSTED_KEYS = ['1. open', '2. high', '3. low', '4. close', '5. adjusted close', '6. volume', '7. dividend amount'] as const;
const PERIOD_ADJUSTED_CSV_COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'adjusted_close', 'volume', 'dividend_amount'];
const INTERVAL_OF: Record<Period, Interval> = { week: '1week', month: '1month' };

/**
 * TIME_SERIES_WEEKLY(_ADJUSTED) and TIME_SERIES_MONTHLY(_ADJUSTED): every stored period, newest first, as
 * the history use case gives them (app/market-data/quotes.ts) — made from the daily bars, and before the
 * oldest stored session the vendor's own. Adjusted: the period's bar as traded, its adjusted close, and the
 * dividends that went ex in it.
 */
function periodSeries(period: Period, adjusted: boolean): GatewayFunction {
  const names = PERIOD_SERIES[period];
  return async ({ quotes }, call) => {
    const history = await quotes.getHistory(requiredSymbol(call), { sessions: 'all', adjusted, interval: INTERVAL_OF[period] }, call.requester);
    const rows = history.bars
      .map((bar, i) => {
        const prices = [bar.open, bar.high, bar.low, bar.close];
        if (!history.adjusted) return { date: bar.date, values: [...prices, String(bar.volume)] };
        const dividend = history.adjusted.dividendsPerBar?.[i] ?? '0.0000';
        return { date: bar.date, values: [...prices, history.adjusted.bars[i]!.close, String(bar.volume), dividend] };
      })
      .reverse();
    if (!rows[0]) throw symbolNotFound(history.symbol);
    const keys = adjusted ? PERIOD_ADJUSTED_KEYS : DAILY_KEYS;
    return {
      cache: history.cache,
      json: {
        'Meta Data': {
          '1. Information': adjusted ? names.adjustedInformation : names.information,
          '2. Symbol': history.symbol,
          '3. Last Refreshed': rows[0]!.date,
          '4. Time Zone': 'US/Eastern',
        },
        [adjusted ? names.adjustedName : names.name]: Object.fromEntries(rows.map((row) => [row.date, keyed(keys, row.values)])),
      },
      csv: csv(adjusted ? PERIOD_ADJUSTED_CSV_COLUMNS : DAILY_CSV_COLUMNS, rows.map((row) => [row.date, ...row.values])),
    };
  };
}

/**
 * SYMBOL_SEARCH over the service's symbol search (app/market-data/search.ts). Fields a provider does not give are
 * empty; a match score it does not give is the rank in its answer, 1.0000 for the first falling evenly,
 * so clients sorting by it keep the provider's order.
 */
const symbolSearch: GatewayFunction = async ({ search }, call) => {
  const keywords = call.parameter('keywords');
  if (keywords === undefined) throw new ValidationError('keywords', 'is required');
  const { matches, cache } = await search.search(keywords, call.requester);
  const rankScore = (i: number) => ((matches.length - i) / matches.length).toFixed(4);
  const rows = matches.map((m, i) => [
    m.symbol, m.name, m.type, m.region ?? m.exchange ?? '', m.marketOpen ?? '', m.marketClose ?? '', m.timezone ?? '', m.currency, m.matchScore ?? rankScore(i),
  ]);
  return { cache, json: { bestMatches: rows.map((row) => keyed(SEARCH_KEYS, row)) }, csv: csv(SEARCH_CSV_COLUMNS, rows) };
};

/**
 * The functions served, by Alpha Vantage's name. A name not here is passed
 * through if Alpha Vantage has it (fallbackFor), and otherwise answered as
 * Alpha Vantage answers a function it does not have.
 */
const FUNCTIONS = new Map<string, GatewayFunction>([
  ['GLOBAL_QUOTE', globalQuote],
  ['TIME_SERIES_DAILY', dailySeries],
  ['TIME_SERIES_DAILY_ADJUSTED', dailyAdjustedSeries],
  ['TIME_SERIES_WEEKLY', periodSeries('week', false)],
  ['TIME_SERIES_WEEKLY_ADJUSTED', periodSeries('week', true)],
  ['TIME_SERIES_MONTHLY', periodSeries('month', false)],
  ['TIME_SERIES_MONTHLY_ADJUSTED', periodSeries('month', true)],
  ['SYMBOL_SEARCH', symbolSearch],
  ...INDICATOR_FUNCTIONS,
]);

const DOCUMENTATION = 'https://www.alphavantage.co/documentation/';

const errorMessage = (text: string) => ({ 'Error Message': text });
const invalidCall = (name: string) => errorMessage(`Invalid API call. Please retry or visit the documentation (${DOCUMENTATION}) for ${name}.`);
const unknownFunction = (name: string) => errorMessage(`This API function (${name}) does not exist.`);
const notOffered = (name: string, reason: string) => errorMessage(`This API function (${name}) is not offered by this service: ${reason}.`);
// Alpha Vantage's error shape, for its answer too large to keep: asking again would give the same.
const tooLarge = (name: string) =>
  errorMessage(`The answer to this call of ${name} is larger than this service passes through; ask for less of it (outputsize=compact, one month, fewer symbols).`);

// Alpha Vantage's first sentence, which clients match; the rest points at this service, not at Alpha Vantage's sign-up.
const invalidKey = () => errorMessage('the parameter apikey is invalid or missing. Register for a key of this service with POST /api/v1/register/.');
/** "Information" is what Alpha Vantage says when a call may succeed later: its rate limits. Ours, and upstream's, are said so too. */
const information = (error: DomainError) => ({ Information: error.message });

/** Each refusal as Alpha Vantage words its kind; a new error code must be given one here. */
const ANSWER_TO: Record<ErrorCode, (error: DomainError, name: string) => object> = {
  validation: (_, name) => invalidCall(name),
  not_found: (_, name) => invalidCall(name),
  conflict: (_, name) => invalidCall(name),
  // The gateway only reads; no write there takes an Idempotency-Key.
  idempotency_in_flight: information,
  idempotency_key_reused: (_, name) => invalidCall(name),
  idempotency_answer_not_kept: (_, name) => invalidCall(name),
  not_authenticated: invalidKey,
  invalid_credentials: invalidKey,
  // Ledger claims are not the gateway's: it never raises these.
  forbidden: (_, name) => invalidCall(name),
  ledger_claimed: (_, name) => invalidCall(name),
  throttled: information,
  upstream_fair_share: information,
  upstream_rate_limited: information,
  upstream_unavailable: information,
  still_fetching: information,
  rate_limit_store_unavailable: information,
  database_unavailable: information,
};

function parameterOf(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Query)[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function parametersOf(request: FastifyRequest): [string, string][] {
  return Object.entries(request.query as Query).flatMap(([name, value]) => (value === undefined ? [] : [value].flat().map((v): [string, string] => [name, v])));
}

/** What a function the gateway does not serve itself comes to: passed through if Alpha Vantage has it, else refused in its words. */
function fallbackFor(name: string): GatewayFunction | { refusal: object } {
  const known = ALPHA_VANTAGE_FUNCTIONS.get(name);
  if (known?.class === 'not_offered') return { refusal: notOffered(name, known.reason ?? 'neither its store nor Alpha Vantage can serve it') };
  // A store function (or an indicator) only reaches here when not registered above: Alpha Vantage still answers it.
  return known ? passThroughCall : { refusal: unknownFunction(name) };
}

/** The body of a passed-through answer, as Alpha Vantage wrote it; CSV only where Alpha Vantage gave CSV. */
function sendPassed(reply: FastifyReply, name: string, answer: PassThroughAnswer) {
  if (answer.kind === 'too_large') return tooLarge(name);
  return reply.type(answer.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8').send(answer.body);
}

const text = (description: string) => Type.Optional(Type.String({ description }));
const oneOf = (values: readonly string[], description: string) => Type.Optional(Type.Enum([...values], { description }));

/** The functions a call may name: every one Alpha Vantage documents that the store or the pass-through serves (domain/alpha-vantage-functions.ts). */
const OFFERED_FUNCTIONS = [...ALPHA_VANTAGE_FUNCTIONS.values()].filter((f) => f.class !== 'not_offered').map((f) => f.name);
const NOT_OFFERED = [...ALPHA_VANTAGE_FUNCTIONS.values()].filter((f) => f.class === 'not_offered').map((f) => f.name);

/**
 * Documentation only: the route validates nothing (every refusal is Alpha Vantage's 200 body). The
 * enums are what the gateway answers; any other value is refused in that body, or (outputsize,
 * datatype) read as the default.
 */
const GatewayQuery = Type.Object(
  {
    function: Type.Enum(OFFERED_FUNCTIONS, {
      description: `${[...FUNCTIONS.keys()].join(', ')} from the store; any other Alpha Vantage function is passed through to it, ${NOT_OFFERED.join(', ')} aside`,
    }),
    symbol: text('e.g. IBM'),
    apikey: text("a key of this service (or send it as the API's usual headers)"),
    keywords: text('SYMBOL_SEARCH: a name or ticker'),
    outputsize: oneOf(['compact', 'full'], 'TIME_SERIES_DAILY(_ADJUSTED): compact (the latest 100 sessions, the default) or full (every stored session)'),
    interval: oneOf(
      [...INTRADAY_INTERVALS, ...Object.keys(STORED_INTERVALS)],
      "indicators: daily, weekly or monthly from the store, an intraday one passed through; the intraday series' own (1min to 60min). Each indicator's own parameters (time_period, series_type…) as Alpha Vantage documents them",
    ),
    datatype: oneOf(['json', 'csv'], 'json (the default) or csv'),
  },
  { additionalProperties: true },
);

/** Every answer is a 200, as Alpha Vantage's are: its data, or its error body. */
const GatewayAnswer = {
  description: "Alpha Vantage's shapes: the function's data, or (still 200) an \"Error Message\" or \"Information\" body",
  content: {
    'application/json': {
      schema: Type.Object({}, { additionalProperties: true }),
      examples: {
        GLOBAL_QUOTE: { value: { 'Global Quote': keyed(GLOBAL_QUOTE_KEYS, ['IBM', '129.5200', '131.0000', '129.3100', '130.7900', '4612500', '2022-07-29', '129.2200', '1.5700', '1.2150%']) } },
        'no key': { value: invalidKey() },
        'unknown function': { value: unknownFunction('NOPE') },
        throttled: { summary: 'Also carries Retry-After', value: information(new ThrottledError(3600)) },
      },
    },
    'text/csv': {
      schema: Type.String({ description: 'datatype=csv: a header line, then rows, CRLF-ended' }),
      example: `${GLOBAL_QUOTE_CSV_COLUMNS.join(',')}\r\nIBM,129.5200,131.0000,129.3100,130.7900,4612500,2022-07-29,129.2200,1.5700,1.2150%\r\n`,
    },
  },
};

export function alphaVantageGatewayRoutes(services: GatewayServices): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.setErrorHandler((error, request, reply) => {
      if (!(error instanceof DomainError)) throw error; // our bug: the service's own 500
      const retryAfter = httpStatusOf(error).headers['retry-after'];
      if (retryAfter !== undefined) reply.header('retry-after', retryAfter);
      return reply.code(200).send(ANSWER_TO[error.code](error, parameterOf(request, 'function') ?? ''));
    });

    app.get(
      '/query',
      {
        config: { keyParameter: 'apikey' },
        schema: {
          summary:
            "Alpha Vantage–compatible gateway: GLOBAL_QUOTE, the daily, weekly and monthly series (adjusted too) and SYMBOL_SEARCH in its shapes; every other function passed through to Alpha Vantage and kept; errors as its HTTP 200 bodies",
          operationId: 'queryAlphaVantage',
          tags: ['alpha vantage gateway'],
          querystring: GatewayQuery,
          security: GATEWAY_KEY,
          response: { 200: GatewayAnswer },
        },
        // The schema documents the parameters; the handler reads them, so every refusal is Alpha Vantage's
        // body (not our 400), unknown parameters are ignored as Alpha Vantage ignores them, and the key is
        // checked before anything else.
        validatorCompiler: () => () => true,
      },
      async (request, reply) => {
        const requester = requesterOf(request);
        const name = parameterOf(request, 'function') ?? '';
        const run = FUNCTIONS.get(name) ?? fallbackFor(name);
        if ('refusal' in run) return run.refusal;
        const answer = await run(services, { parameter: (parameter) => parameterOf(request, parameter), parameters: () => parametersOf(request), requester });
        sayCacheState(reply, answer.cache);
        if ('passed' in answer) return sendPassed(reply, name, answer.passed);
        if (parameterOf(request, 'datatype') === 'csv') return reply.type('text/csv; charset=utf-8').send(answer.csv);
        return answer.json;
      },
    );
  };
}
