/**
 * A sandbox ticker's synthetic daily history: a random walk, the same on every machine and every run.
 *
 * Each session's randomness is drawn from a hash of the ticker and the session's number (counted from
 * 2000-01-03), not from a sequence, so a session's draw never depends on when history was generated and
 * extending it by a day changes no earlier bar. The walk starts from the ticker's close on GUIDE_ANCHOR
 * (IBM's seed sessions, exactly) and runs outward both ways; each day it is pulled a little toward the
 * line through the ticker's guide, so it keeps to plausible levels over 26 years. A split divides the
 * price by its factor on its date and a dividend lowers it by its amount on its ex-date, as traded bars do.
 *
 * Only + − × ÷ and rounding are used: IEEE 754 fixes their results exactly, where Math.exp, log or pow may
 * differ in the last bit between engines and Node versions. Prices are kept as integers of 1/10,000 of a
 * dollar (Alpha Vantage's four decimals) and formatted from the integer, not by toFixed.
 */
import { isTradingDay, nextTradingDay } from '../../../domain/market-calendar.js';
import type { DailyBar } from '../../../domain/quote.js';
import { ANCHORED_BARS, type DividendSchedule, GUIDE_ANCHOR, type SplitRatio, type Ticker } from './universe.js';

/** The first session any history holds. */
export const FIRST_SESSION = '2000-01-03';
const UNITS = 10_000;
/** How much of the gap to its guide the walk closes each day: deviations last weeks, not years. */
const PULL = 0.015;

/** Every session from FIRST_SESSION through `last`, oldest first. */
export function sessionsThrough(last: string): string[] {
  const days: string[] = [];
  for (let day = FIRST_SESSION; day <= last; day = nextTradingDay(day)) days.push(day);
  return days;
}

/** The first session on or after `date`. */
export function sessionOnOrAfter(date: string): string {
  return isTradingDay(date) ? date : nextTradingDay(date);
}

// --- deterministic randomness --------------------------------------------------------------------------

/** FNV-1a of the text: a ticker's seed. */
function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** A 32-bit integer hash with good avalanche (Chris Wellons' lowbias32). */
function mix(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Uniform draws in [0, 1) for one session of one ticker; `stream` tells the draws of a day apart. */
function drawsFor(seed: number, session: number) {
  const base = mix(seed ^ mix(session * 0x9e3779b1));
  const uniform = (stream: number) => mix(base + Math.imul(stream + 1, 0x85ebca6b)) / 4294967296;
  // Irwin–Hall: the sum of twelve uniforms, less six, is close to a standard normal draw.
  let sum = 0;
  for (let stream = 0; stream < 12; stream++) sum += uniform(stream);
  return { normal: sum - 6, uniform: (stream: number) => uniform(12 + stream) };
}

// --- the ticker's events and guide -----------------------------------------------------------------------

/** Dollars as a decimal string to integer units: exact, no floating point. */
export function toUnits(amount: string): number {
  const [whole, fraction = ''] = amount.split('.');
  return Number(whole) * UNITS + Number(fraction.padEnd(4, '0').slice(0, 4));
}

export function formatUnits(units: number): string {
  return `${Math.floor(units / UNITS)}.${String(units % UNITS).padStart(4, '0')}`;
}

/** Ex-dates and amounts of a quarterly payer, from its first amount's date through `last`. */
export function dividendsOf(schedule: DividendSchedule, first: string, last: string): Array<{ exDate: string; amount: string }> {
  const start = schedule.amounts[0]![0] > first ? schedule.amounts[0]![0] : first;
  const paid: Array<{ exDate: string; amount: string }> = [];
  for (let year = +start.slice(0, 4); year <= +last.slice(0, 4); year++) {
    for (const monthDay of schedule.quarterDays) {
      const exDate = sessionOnOrAfter(`${year}-${monthDay}`);
      if (exDate < start || exDate > last) continue;
      const amount = schedule.amounts.filter(([from]) => from <= exDate).at(-1)![1];
      paid.push({ exDate, amount });
    }
  }
  return paid;
}

/** Splits as factors (new shares per old), the form vendors give: 4-for-1 is "4", 1-for-8 is "0.125". */
export function splitFactor([, newShares, oldShares]: SplitRatio): string {
  return String(newShares / oldShares);
}

/** The guide's close at every session, in today's shares: straight lines between its points, flat beyond them. */
function guideCloses(guide: Ticker['guide'], days: readonly string[]): number[] {
  const closes: number[] = [];
  let next = 0;
  for (let i = 0; i < days.length; i++) {
    while (next < guide.length && guide[next]![0] <= days[i]!) next++;
    const before = guide[next - 1];
    const after = guide[next];
    if (!before) closes.push(after![1]);
    else if (!after) closes.push(before[1]);
    else {
      const span = Date.parse(after[0]) - Date.parse(before[0]);
      const share = (Date.parse(days[i]!) - Date.parse(before[0])) / span;
      closes.push(before[1] + (after[1] - before[1]) * share);
    }
  }
  return closes;
}

// --- the walk ----------------------------------------------------------------------------------------------

/** A ticker's bars, oldest first, in integer units; `days` are the sessions they are of. */
export interface History {
  days: readonly string[];
  open: Int32Array;
  high: Int32Array;
  low: Int32Array;
  close: Int32Array;
  volume: Float64Array;
}

/** What happens on each session: the split factor (1 when none) and the dividend (units, 0 when none). */
function eventsOf(ticker: Ticker, days: readonly string[]) {
  const index = new Map(days.map((day, i) => [day, i]));
  const factor = new Float64Array(days.length).fill(1);
  const dividend = new Int32Array(days.length);
  for (const split of ticker.splits ?? []) {
    const at = index.get(split[0]);
    if (at !== undefined) factor[at] = split[1] / split[2];
  }
  if (ticker.dividends) {
    for (const { exDate, amount } of dividendsOf(ticker.dividends, days[0]!, days.at(-1)!)) dividend[index.get(exDate)!] = toUnits(amount);
  }
  // Today's shares per share as traded on each day: the product of the factors of later splits.
  const later = new Float64Array(days.length);
  let product = 1;
  for (let i = days.length - 1; i >= 0; i--) {
    later[i] = product;
    product *= factor[i]!;
  }
  return { factor, dividend, later };
}

/** The history of `ticker` for the sessions `days` (oldest first, its first session through the latest). */
export function generateHistory(ticker: Ticker, days: readonly string[]): History {
  const n = days.length;
  const seed = seedOf(ticker.symbol);
  const { factor, dividend, later } = eventsOf(ticker, days);
  // The guide as traded: a traded share was `later` of today's shares (4 before a 4-for-1).
  const guide = guideCloses(ticker.guide, days).map((close, i) => close * UNITS * later[i]!);
  const sessionNumber = (i: number) => i + sessionsBefore(days[0]!);
  const draws = (i: number) => drawsFor(seed, sessionNumber(i));
  const close = new Float64Array(n);
  const anchored = ANCHORED_BARS[ticker.symbol] ?? [];
  const first = anchored.length > 0 ? days.indexOf(anchored[0]!.date) : days.indexOf(GUIDE_ANCHOR);
  const last = anchored.length > 0 ? first + anchored.length - 1 : first;
  if (first < 0) throw new Error(`sandbox: ${ticker.symbol}'s anchor is not among its sessions`);
  if (anchored.length > 0) anchored.forEach((bar, k) => (close[first + k] = toUnits(bar.close)));
  else close[first] = Math.round(guide[first]!);

  const moveOf = (i: number) => clamp(ticker.volatility * draws(i).normal, -0.4, 0.4);
  for (let i = last + 1; i < n; i++) {
    const reference = close[i - 1]! / factor[i]! - dividend[i]!;
    const walked = reference * (1 + moveOf(i));
    close[i] = Math.max(1, Math.round(walked + PULL * (guide[i]! - walked)));
  }
  for (let i = first - 1; i >= 0; i--) {
    const walked = (close[i + 1]! / (1 + moveOf(i + 1)) + dividend[i + 1]!) * factor[i + 1]!;
    close[i] = Math.max(1, Math.round(walked + PULL * (guide[i]! - walked)));
  }
  return barsAround(ticker, days, close, { factor, dividend, later }, draws, anchored.length > 0 ? [first, last] : undefined);
}

/** Opens, highs, lows and volumes around the closes; the anchored sessions as given. */
function barsAround(
  ticker: Ticker,
  days: readonly string[],
  close: Float64Array,
  { factor, dividend, later }: ReturnType<typeof eventsOf>,
  draws: (i: number) => ReturnType<typeof drawsFor>,
  anchoredRange: [number, number] | undefined,
): History {
  const n = days.length;
  const history: History = { days, open: new Int32Array(n), high: new Int32Array(n), low: new Int32Array(n), close: new Int32Array(n), volume: new Float64Array(n) };
  const anchored = ANCHORED_BARS[ticker.symbol] ?? [];
  const spread = ticker.volatility;
  for (let i = 0; i < n; i++) {
    const { normal, uniform } = draws(i);
    const previous = i === 0 ? close[0]! : close[i - 1]! / factor[i]! - dividend[i]!;
    const open = Math.max(1, Math.round(previous * (1 + spread * 0.35 * (uniform(0) - 0.5))));
    const top = Math.max(open, close[i]!);
    const bottom = Math.min(open, close[i]!);
    history.open[i] = open;
    history.close[i] = close[i]!;
    history.high[i] = Math.round(top * (1 + spread * 0.6 * uniform(1)));
    history.low[i] = Math.max(1, Math.round(bottom * (1 - spread * 0.6 * uniform(2))));
    // Busier on big moves; fewer shares traded before a split made more of them.
    const busy = 0.6 + 0.8 * uniform(3) + Math.abs(normal) * 0.4;
    history.volume[i] = Math.max(100, Math.round((ticker.volume * busy) / later[i]!));
  }
  if (anchoredRange) {
    anchored.forEach((bar, k) => {
      const i = anchoredRange[0] + k;
      history.open[i] = toUnits(bar.open);
      history.high[i] = toUnits(bar.high);
      history.low[i] = toUnits(bar.low);
      history.close[i] = toUnits(bar.close);
      history.volume[i] = bar.volume;
    });
  }
  return history;
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/** How many sessions come before `day` since FIRST_SESSION: the session's number, the same in every history. */
const sessionCounts = new Map<string, number>();
function sessionsBefore(day: string): number {
  let count = sessionCounts.get(day);
  if (count === undefined) {
    count = 0;
    for (let d = FIRST_SESSION; d < day; d = nextTradingDay(d)) count++;
    sessionCounts.set(day, count);
  }
  return count;
}

/** Bar `i` of a history, as the port's DailyBar. */
export function barAt(history: History, i: number): DailyBar {
  return {
    date: history.days[i]!,
    open: formatUnits(history.open[i]!),
    high: formatUnits(history.high[i]!),
    low: formatUnits(history.low[i]!),
    close: formatUnits(history.close[i]!),
    volume: history.volume[i]!,
  };
}

